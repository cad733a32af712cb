"""`just fetch RUN_DIR|JOB_NAME`: a cloud job (and its child jobs) recorded at home: its
status, parameters, every metric's history and its logs in the run folder's cloud/ part
and in the local MLflow store, its named outputs downloaded on request."""

from collections.abc import Sequence

from scripts.cloud.workspace import connect
from scripts.console import report
from scripts.console.cli import ArgumentParser, run_cli
from scripts.project.layout import Project
from scripts.results.fetch import Asked, fetch, target


def parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="just fetch",
        description="Bring an Azure ML job home: its status (as MLflow's), parameters, "
        "every metric's full history and its logs, for it and each child job (a pipeline's "
        "steps, a sweep's trials), into the run folder's cloud/ part and into the local "
        "MLflow store (`just runs`, `just ui`). Fetching again updates the same records. "
        "Authenticates with `az login`.",
    )
    parser.add_argument(
        "job",
        metavar="RUN_DIR|JOB_NAME",
        help="a run folder `just aml` made (runs/EXP/<run>: the job is named after it), or "
        "the name of any job of the workspace",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--outputs",
        metavar="NAME",
        nargs="+",
        default=[],
        help="also download these named outputs into cloud/outputs/NAME (resumable, verified)",
    )
    which.add_argument(
        "--all",
        action="store_true",
        help="also download every named output, and the job's ./outputs",
    )
    parser.add_argument(
        "--wait",
        action="store_true",
        help="follow a job that has not ended (asking at growing intervals) and fetch it "
        "when it ends",
    )
    return parser


def main(argv: Sequence[str], project: Project) -> int:
    args = parser().parse_args(argv)
    asked = Asked(outputs=args.outputs, all_outputs=args.all, wait=args.wait)
    found = target(project, args.job)  # refused before the workspace is needed
    fetched = fetch(project, connect(project), found, asked)
    top = fetched.manifests[0]
    children = len(fetched.manifests) - 1
    metrics = len(top.metrics)
    report.note(
        f"job {top.job_name}: {top.cloud_status} ({top.status}), {metrics} metrics"
        + (f", {children} child jobs" if children else "")
        + (f"; studio: {top.studio_url}" if top.studio_url else "")
    )
    report.result(str(fetched.record.relative_to(project.root)))
    return 0


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
