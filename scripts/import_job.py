"""`just import JOB_FILE [NAME]`: a new experiment from a job written the way Azure ML's
public examples write them (scripts/members/importing.py), then what is left to do."""

from collections.abc import Sequence
from pathlib import Path

from scripts.console import report
from scripts.console.cli import ArgumentParser, run_cli
from scripts.members.importing import import_job
from scripts.project.layout import Project


def parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="just import",
        description="Make experiments/NAME from an Azure ML command job YAML and the code "
        "beside it (`code:`, copied as it is): its conda_file's packages become the "
        "experiment's uv dependencies, its environment the scaffolding's build context. A "
        "pipeline job brings its component files and their code, at the same places. "
        "Prints what is left to do.",
    )
    parser.add_argument(
        "job_file",
        metavar="JOB_FILE",
        help="e.g. ../azureml-examples/cli/jobs/single-step/scikit-learn/iris/job.yml",
    )
    parser.add_argument(
        "name",
        metavar="NAME",
        nargs="?",
        help="the experiment's name (default: the job file's folder)",
    )
    return parser


def main(argv: Sequence[str], project: Project) -> int:
    args = parser().parse_args(argv)
    imported = import_job(project, Path(args.job_file).absolute(), args.name)
    folder = imported.folder.relative_to(project.root)
    report.note(
        f"imported {folder}: depends on {', '.join(imported.dependencies) or 'nothing yet'}"
    )
    for step in imported.left_to_do:
        report.note(f"to do: {step}")
    report.result(str(folder))
    return 0


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
