"""`just runs [EXP]`: the local runs, newest first, read from their run.json files.

Nothing is re-run and MLflow is not imported, so the table is quick for hundreds of runs.
"""

import sys
from collections.abc import Sequence
from pathlib import Path

from scripts.cli import ArgumentParser, run_cli
from scripts.manifest import MANIFEST, Manifest, read_manifest
from scripts.project import RUNS_DIR, check_name

METRICS_SHOWN = 3


def manifests(experiment: str | None) -> tuple[list[Manifest], list[Path]]:
    """Every readable manifest, newest first (run names start with their time), and the
    run folders whose manifest could not be read."""
    pattern = f"{experiment or '*'}/*/{MANIFEST}"
    found: list[Manifest] = []
    unreadable: list[Path] = []
    for path in RUNS_DIR.glob(pattern):
        try:
            found.append(read_manifest(path.parent))
        except (OSError, ValueError, TypeError):
            unreadable.append(path.parent)
    found.sort(key=lambda manifest: manifest.run_name, reverse=True)
    return found, unreadable


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{rest:04.1f}s" if minutes else f"{rest:.1f}s"


def metrics(values: dict[str, float]) -> str:
    shown = sorted(values)[:METRICS_SHOWN]
    return "  ".join(f"{name}={values[name]:.4g}" for name in shown)


def table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def main(argv: Sequence[str]) -> int:
    parser = ArgumentParser(
        prog="just runs",
        description="List local runs, newest first: run, experiment, status, duration and "
        f"the final value of up to {METRICS_SHOWN} metrics (from each run folder's run.json).",
    )
    parser.add_argument("experiment", metavar="EXP", nargs="?", help="only this experiment")
    args = parser.parse_args(argv)
    if args.experiment:
        check_name(args.experiment)
    found, unreadable = manifests(args.experiment)
    for folder in unreadable:
        print(f"warning: {folder} has no readable {MANIFEST}; skipped", file=sys.stderr)
    if not found:
        print("no local runs yet: start one with `just local EXP`", file=sys.stderr)
        return 0
    header = ["RUN", "EXPERIMENT", "STATUS", "DURATION", "METRICS"]
    rows = [
        [m.run_name, m.experiment, m.status, duration(m.duration_seconds), metrics(m.metrics)]
        for m in found
    ]
    print(table([header, *rows]))
    return 0


if __name__ == "__main__":
    run_cli(main)
