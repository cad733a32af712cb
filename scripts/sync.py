"""`just sync [NAME]`: the tooling's environment (.venv), or a member's own (NAME/.venv)."""

from collections.abc import Sequence

from scripts.console import report
from scripts.console.cli import ArgumentParser, run_cli
from scripts.members.environments import sync_member
from scripts.members.testing import member_dir
from scripts.project.experiments import read_package
from scripts.project.layout import Project
from scripts.project.uv import CHECK_GROUP, SWEEP_GROUP, UI_GROUP, run_uv


def parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="just sync",
        description="Without NAME: install the tooling into .venv with all its groups (`uv "
        "sync --group ui --group check --group sweep`; `uv run` installs dev, the rest come "
        "when a recipe "
        "first needs them). With NAME (an "
        "experiment or `shared`): create or update its own environment, <member>/.venv, with "
        "its locked dependencies and its dev group; prints the interpreter for your editor.",
    )
    parser.add_argument("name", metavar="NAME", nargs="?", help="an experiment, or shared")
    return parser


def main(argv: Sequence[str], project: Project) -> int:
    args = parser().parse_args(argv)
    if args.name is None:
        groups = [f"--group={group}" for group in (UI_GROUP, CHECK_GROUP, SWEEP_GROUP)]
        run_uv(project, "sync", *groups, show_progress=True)
        report.result(str(project.root / ".venv" / "bin" / "python"))
        return 0
    folder = member_dir(project, args.name)
    report.result(str(sync_member(project, folder, read_package(project, folder).name)))
    return 0


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
