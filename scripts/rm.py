"""`just rm NAME [--yes]`: remove an experiment; its past runs and MLflow records stay."""

import sys
from collections.abc import Sequence

from scripts.console import report
from scripts.console.cli import ArgumentParser, run_cli
from scripts.console.errors import UsageError
from scripts.members.lifecycle import check_removable, remove_experiment
from scripts.project.layout import Project


def parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="just rm",
        description="Remove experiments/NAME, its independence declaration and its uv.lock "
        "entries. Run folders in runs/NAME/ and MLflow records are kept. Asks first.",
    )
    parser.add_argument("name", metavar="NAME", help="a folder name in experiments/")
    parser.add_argument("--yes", action="store_true", help="do not ask (needed without a terminal)")
    return parser


def confirmed(name: str) -> bool:
    if not sys.stdin.isatty():
        raise UsageError(f"no terminal to ask on: run `just rm {name} --yes` to remove it")
    answer = input(f"remove experiments/{name} (its runs stay in runs/{name}/)? [y/N] ")
    return answer.strip().lower() in {"y", "yes"}


def main(argv: Sequence[str], project: Project) -> int:
    args = parser().parse_args(argv)
    check_removable(project, args.name)  # refused before anything is asked
    if not args.yes and not confirmed(args.name):
        report.note("nothing removed")
        return 1
    remove_experiment(project, args.name)
    report.result(f"removed experiments/{args.name}")
    return 0


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
