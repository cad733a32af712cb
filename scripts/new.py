"""`just new NAME [--from EXP]`: a new experiment that runs, submits and tests as it is."""

from collections.abc import Sequence

from scripts.console import report
from scripts.console.cli import ArgumentParser, run_cli
from scripts.members.lifecycle import create_experiment
from scripts.project.layout import Project


def parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="just new",
        description="Create experiments/NAME from templates/experiment/ (or from experiment "
        "EXP's files), declare it independent of the other experiments and update uv.lock. "
        "On any failure or Ctrl-C nothing is left changed.",
    )
    parser.add_argument(
        "name", metavar="NAME", help="lowercase letters, digits and '_', starting with a letter"
    )
    parser.add_argument("--from", dest="source", metavar="EXP", help="copy this experiment")
    return parser


def main(argv: Sequence[str], project: Project) -> int:
    args = parser().parse_args(argv)
    folder = create_experiment(project, args.name, args.source)
    report.note(
        f"next: uv run just local {args.name}   (add packages: uv add --package "
        f"{args.name.replace('_', '-')} NAME; editor interpreter: uv run just sync {args.name})"
    )
    report.result(str(folder.relative_to(project.root)))
    return 0


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
