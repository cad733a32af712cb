"""`just clean [--envs] [--runs-older-than DAYS] [--dry-run]`: free the disk local runs use."""

import math
from collections.abc import Sequence
from datetime import datetime

from scripts.console import report
from scripts.console.cli import ArgumentParser, run_cli
from scripts.project.layout import Project
from scripts.project.parking import remove
from scripts.runner.disk import (
    interrupted_removals,
    megabytes,
    old_run_folders,
    survey,
    unneeded_environments,
)


def parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="just clean",
        description="Remove local environments (runs/.venvs/) that no current experiment "
        "needs, and with --runs-older-than, run folders older than DAYS. Never MLflow "
        "records (runs/mlflow.db, runs/mlartifacts/, a run folder with its own store) and "
        "never a running run. Without options: --envs.",
    )
    parser.add_argument("--envs", action="store_true", help="unneeded local environments")
    parser.add_argument(
        "--runs-older-than", type=float, metavar="DAYS", help="run folders started before then"
    )
    parser.add_argument("--dry-run", action="store_true", help="list, remove nothing")
    return parser


def main(argv: Sequence[str], project: Project) -> int:
    arguments = parser()
    args = arguments.parse_args(argv)
    days = args.runs_older_than
    if days is not None and not (math.isfinite(days) and days >= 0):
        arguments.error(f"--runs-older-than must be a number of days, 0 or more (got {days})")
    found = survey(project)
    found.say_links(project)
    chosen = interrupted_removals(project)
    if args.envs or days is None:
        chosen += unneeded_environments(project, found)
    if days is not None:
        chosen += old_run_folders(found, days, datetime.now())
    for item in chosen:
        if not args.dry_run:
            remove(project, item.path)
        verb = "would remove" if args.dry_run else "removed"
        report.result(
            f"{verb} {item.path.relative_to(project.root)}  {megabytes(item.size)}  ({item.reason})"
        )
    total = megabytes(sum(item.size for item in chosen))
    report.note(f"{'would free' if args.dry_run else 'freed'} {total}")
    return 0


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
