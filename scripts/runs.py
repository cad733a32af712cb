"""`just runs [EXP]`: the local runs, newest first, read from their run.json files.

Nothing is re-run and MLflow is not imported, so the table is quick for hundreds of runs.
"""

from collections.abc import Sequence

from scripts.console import report
from scripts.console.cli import ArgumentParser, run_cli
from scripts.project.experiments import check_name
from scripts.project.layout import Project
from scripts.runfolder.layout import MANIFEST
from scripts.runfolder.manifest import Manifest, read_manifests
from scripts.runner.disk import environment_size, environments, megabytes, run_folders, size_of
from scripts.runner.orphans import settle_orphans

METRICS_SHOWN = 3
HEADER = ["RUN", "EXPERIMENT", "STATUS", "DURATION", "METRICS"]


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{rest:04.1f}s" if minutes else f"{rest:.1f}s"


def metrics(values: dict[str, float]) -> str:
    shown = sorted(values)[:METRICS_SHOWN]
    return "  ".join(f"{name}={values[name]:.4g}" for name in shown)


def row(manifest: Manifest) -> list[str]:
    return [
        manifest.run_name,
        manifest.experiment,
        manifest.status,
        duration(manifest.duration_seconds),
        metrics(manifest.metrics),
    ]


def parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="just runs",
        description="List local runs, newest first: run, experiment, status, duration and "
        f"the final value of up to {METRICS_SHOWN} metrics (from each run folder's run.json).",
    )
    parser.add_argument("experiment", metavar="EXP", nargs="?", help="only this experiment")
    return parser


def main(argv: Sequence[str], project: Project) -> int:
    args = parser().parse_args(argv)
    if args.experiment:
        check_name(args.experiment)
    found, unreadable = read_manifests(project.runs, args.experiment)
    settle_orphans(project, found)
    for folder in unreadable:
        report.warning(f"{folder} has no readable {MANIFEST}; skipped")
    if not found:
        report.note("no local runs yet: start one with `just local EXP`")
        return 0
    report.result(report.table([HEADER, *(row(manifest) for manifest in found)]))
    report.note(disk_use(project, args.experiment))
    return 0


def disk_use(project: Project, experiment: str | None) -> str:
    folders = [f for f in run_folders(project) if experiment in (None, f.parent.name)]
    built = environments(project)
    folders_size = sum(size_of(folder) for folder in folders)
    environments_size = sum(environment_size(project, path) for path in built)
    return (
        f"disk: {len(folders)} run folders {megabytes(folders_size)}, {len(built)} local "
        f"environments {megabytes(environments_size)} (`just clean --help` to free space)"
    )


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
