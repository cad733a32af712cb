"""The trials of a sweep job as `just local --dry-run` lists them: the sweep checked and
read as `just local` runs it (prepare.check_sweep), and each trial's values drawn."""

from collections.abc import Sequence

from scripts.jobspec.sweep import Sweep, Value, trial_values
from scripts.project.layout import Project
from scripts.sweeps.prepare import check_sweep


def plan_sweep(
    project: Project, experiment: str, job_file: str, overrides: Sequence[str]
) -> tuple[Sweep, list[dict[str, Value]]]:
    """The sweep in `job_file` of `experiment` with `overrides`, and each trial's values."""
    sweep = check_sweep(project, experiment, job_file, overrides).sweep
    return sweep, list(trial_values(sweep))


def describe_trial(values: dict[str, Value]) -> str:
    """`learning_rate=0.0123 hidden_units=64`, as `just local` shows a trial's values."""
    return " ".join(f"{name}={_shown(value)}" for name, value in values.items())


def _shown(value: Value) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)
