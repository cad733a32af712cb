"""`just runs [EXP]`: the local runs, newest first, read from their run.json files.

Nothing is re-run and MLflow is not imported, so the table is quick for hundreds of runs.
"""

from collections.abc import Sequence

from scripts.console import report
from scripts.console.cli import ArgumentParser, run_cli
from scripts.project.experiments import check_name
from scripts.project.layout import Project
from scripts.runfolder.layout import MANIFEST, step_folder
from scripts.runfolder.manifest import PIPELINE, Manifest, Recorded, read_manifest, read_manifests
from scripts.runner.disk import Survey, environment_size, megabytes, size_of, survey
from scripts.runner.orphans import settle_orphans

METRICS_SHOWN = 3
HEADER = ["RUN", "EXPERIMENT", "STATUS", "DURATION", "METRICS"]
STEP_MARK = "└"  # before each step of a pipeline, under the pipeline's row


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{rest:04.1f}s" if minutes else f"{rest:.1f}s"


def metrics(values: dict[str, float]) -> str:
    shown = sorted(values)[:METRICS_SHOWN]
    return "  ".join(f"{name}={values[name]:.4g}" for name in shown)


def row(manifest: Manifest, name: str | None = None) -> list[str]:
    return [
        name or manifest.run_name,
        manifest.experiment,
        manifest.status,
        "reused" if manifest.reused_from else duration(manifest.duration_seconds),
        metrics(manifest.metrics),
    ]


def rows(run: Recorded) -> list[list[str]]:
    """A run's row; a pipeline's, then one per step, in the order they started (a step
    that never started: SKIPPED)."""
    if run.manifest.kind != PIPELINE:
        return [row(run.manifest)]
    found = [row(run.manifest)]
    for step in run.manifest.steps:
        name = f"  {STEP_MARK} {step}"
        try:
            found.append(row(read_manifest(run.folder / step_folder(step)), name))
        except FileNotFoundError:
            found.append([name, run.manifest.experiment, "SKIPPED", "-", ""])
        except (OSError, ValueError, TypeError):
            found.append([name, run.manifest.experiment, f"(no readable {MANIFEST})", "-", ""])
    return found


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
    found = survey(project, args.experiment)
    found.say_links(project)
    recorded, unreadable = read_manifests(found.run_folders)
    settle_orphans(project, recorded)
    for folder in unreadable:
        report.warning(f"{folder} has no readable {MANIFEST}; skipped")
    if not recorded:
        report.note("no local runs yet: start one with `just local EXP`")
        return 0
    report.result(report.table([HEADER, *(line for run in recorded for line in rows(run))]))
    report.note(disk_use(project, found))
    return 0


def disk_use(project: Project, found: Survey) -> str:
    folders_size = sum(size_of(folder) for folder in found.run_folders)
    environments_size = sum(environment_size(project, path) for path in found.environments)
    return (
        f"disk: {len(found.run_folders)} run folders {megabytes(folders_size)}, "
        f"{len(found.environments)} local environments {megabytes(environments_size)} "
        "(`just clean --help` to free space)"
    )


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
