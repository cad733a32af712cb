"""`just runs [EXP] [--compare RUN RUN...]`: the runs, local and fetched from the cloud,
newest first, read from their run.json files; or chosen runs' parameters and final
metrics side by side.

Nothing is re-run and MLflow is not imported, so the table is quick for hundreds of runs.
"""

from collections.abc import Sequence
from pathlib import Path

from scripts.console import report
from scripts.console.cli import ArgumentParser, run_cli
from scripts.console.errors import UsageError
from scripts.project.experiments import check_name
from scripts.project.layout import Project
from scripts.runfolder.layout import MANIFEST, step_folder
from scripts.runfolder.manifest import (
    LOCAL,
    PARENTS,
    SWEEP,
    Manifest,
    Recorded,
    read_manifest,
    read_records,
)
from scripts.runner.disk import Survey, environment_size, megabytes, size_of, survey
from scripts.runner.orphans import settle_orphans

METRICS_SHOWN = 3
HEADER = ["RUN", "EXPERIMENT", "WHERE", "STATUS", "DURATION", "METRICS"]
STEP_MARK = "└"  # before each step of a pipeline (trial of a sweep), under its row
BEST_MARK = " (best)"  # after a sweep's best trial
SAME_MARK = "(the same in all)"  # `--compare`: above what does not differ


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{rest:04.1f}s" if minutes else f"{rest:.1f}s"


def metrics(values: dict[str, float], first: str | None = None) -> str:
    """Up to METRICS_SHOWN final values, by name; `first` (a sweep's primary metric) first."""
    shown = sorted(values, key=lambda name: (name != first, name))[:METRICS_SHOWN]
    return "  ".join(f"{name}={values[name]:.4g}" for name in shown)


def row(manifest: Manifest, name: str | None = None, first: str | None = None) -> list[str]:
    status = manifest.status
    if manifest.stopped_by:  # by an early-termination policy
        status += " (stopped early)"
    return [
        name or manifest.run_name,
        manifest.experiment,
        manifest.where,
        status,
        "reused" if manifest.reused_from else duration(manifest.duration_seconds),
        metrics(manifest.metrics, first),
    ]


def rows(run: Recorded, parent: Manifest | None = None, depth: int = 0) -> list[list[str]]:
    """A run's row; a pipeline's, then one per step, in the order they started (a step
    that never started: SKIPPED); a sweep's (a sweep step's too), then one per trial, ranked
    by its score (the best first, the best trial marked; trials without a score last, as
    they started). Each child is indented under its `parent`."""
    manifest = run.manifest
    name = f"{'  ' * depth}{STEP_MARK} {manifest.run_name}" if depth else manifest.run_name
    if parent is not None and parent.best_trial == manifest.run_name:
        name += BEST_MARK
    sweep = manifest if manifest.kind == SWEEP else parent
    primary = sweep.objective.get("primary_metric") if sweep else None
    found = [row(manifest, name, primary)]
    if manifest.kind not in PARENTS:
        return found
    children = [(child, _child(run.folder, child)) for child in manifest.steps]
    if manifest.kind == SWEEP:
        children = _ranked(children, manifest.objective.get("goal") == "maximize")
    for child, recorded in children:
        if isinstance(recorded, str):
            shown = f"{'  ' * (depth + 1)}{STEP_MARK} {child}"
            found.append([shown, manifest.experiment, manifest.where, recorded, "-", ""])
        else:
            found += rows(Recorded(run.folder / step_folder(child), recorded), manifest, depth + 1)
    return found


def _child(folder: Path, name: str) -> Manifest | str:
    """The manifest of the child `name` of the run in `folder`, or the status shown
    instead: SKIPPED (a step that never started), or that it cannot be read."""
    try:
        return read_manifest(folder / step_folder(name))
    except FileNotFoundError:
        return "SKIPPED"
    except (OSError, ValueError, TypeError):
        return f"(no readable {MANIFEST})"


def _ranked(
    trials: list[tuple[str, Manifest | str]], maximize: bool
) -> list[tuple[str, Manifest | str]]:
    """Trials by score, the best first; those without one after them, in their order."""
    scores = {
        name: trial.score
        for name, trial in trials
        if isinstance(trial, Manifest) and trial.score is not None
    }
    sign = -1 if maximize else 1
    scored = sorted((t for t in trials if t[0] in scores), key=lambda t: sign * scores[t[0]])
    return scored + [trial for trial in trials if trial[0] not in scores]


def compared(runs: list[Manifest]) -> list[list[str]]:
    """The rows of `--compare`: where and how each run ended, then its parameters and final
    metrics, those that differ between the runs first, then those that do not."""
    names = [run.run_name for run in runs]
    header = ["", *names]
    facts = [
        ["where", *(run.where for run in runs)],
        ["status", *(run.status for run in runs)],
        ["duration", *(duration(run.duration_seconds) for run in runs)],
    ]
    values: list[list[str]] = []
    for kind, of in (("param", lambda r: r.params), ("metric", lambda r: _shown(r.metrics))):
        keys = sorted({key for run in runs for key in of(run)})
        values += [[f"{kind} {key}", *(of(run).get(key, "-") for run in runs)] for key in keys]
    differ = [line for line in values if len(set(line[1:])) > 1]
    same = [line for line in values if len(set(line[1:])) == 1]
    rows = [header, *facts, *differ]
    if same:
        rows += [[SAME_MARK, *("" for _ in runs)], *same]
    return rows


def _shown(metrics: dict[str, float]) -> dict[str, str]:
    return {key: f"{value:.6g}" for key, value in metrics.items()}


def chosen(recorded: list[Recorded], names: list[str]) -> list[Manifest]:
    """The runs named (each a run's name, as `just runs` lists it: a local run's folder,
    a cloud job's name); a UsageError naming one that is not there."""
    by_name = {run.manifest.run_name: run.manifest for run in recorded}
    for name in names:
        if name not in by_name:
            raise UsageError(
                f"no run {name!r} here: pass run names as `just runs` lists them (fetch a "
                "cloud job first with `just fetch JOB_NAME`)"
            )
    return [by_name[name] for name in names]


def parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="just runs",
        description="List the runs, newest first, those run here and cloud jobs brought home "
        "by `just fetch`: run, experiment, where it ran, status, duration and the final "
        f"value of up to {METRICS_SHOWN} metrics (from each run folder's run.json).",
    )
    parser.add_argument("experiment", metavar="EXP", nargs="?", help="only this experiment")
    parser.add_argument(
        "--compare",
        metavar="RUN",
        nargs="+",
        help="print these runs' parameters and final metrics side by side, differences first",
    )
    return parser


def main(argv: Sequence[str], project: Project) -> int:
    args = parser().parse_args(argv)
    if args.experiment:
        check_name(args.experiment)
    if args.compare is not None and len(args.compare) < 2:
        raise UsageError("--compare takes two runs or more: `just runs --compare RUN RUN`")
    found = survey(project, args.experiment)
    found.say_links(project)
    recorded, unreadable = read_records(found.run_folders)
    settle_orphans(project, [run for run in recorded if run.manifest.where == LOCAL])
    for folder in unreadable:
        report.warning(f"{folder} has no readable {MANIFEST}; skipped")
    if args.compare:
        report.result(report.table(compared(chosen(recorded, args.compare))))
        return 0
    if not recorded:
        report.note("no runs yet: start one with `just local EXP`, or `just fetch` a cloud job")
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
