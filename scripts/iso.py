"""`just iso EXP`: pack an experiment into a new run folder and print its path."""

from collections.abc import Sequence

from scripts.console import report
from scripts.console.cli import ArgumentParser, experiment_parser, run_cli
from scripts.project.layout import Project
from scripts.runfolder.isolate import check_source, create_run_folder


def parser() -> ArgumentParser:
    return experiment_parser(
        "iso",
        "Copy EXP (honouring its .amlignore), shared code and its Docker build context into "
        "runs/EXP/<run>/, exactly what an Azure ML job receives. Prints the run folder last.",
    )


def main(argv: Sequence[str], project: Project) -> int:
    args = parser().parse_args(argv)
    report.result(str(create_run_folder(check_source(project, args.experiment))))
    return 0


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
