"""The trials of a sweep job as `just local --dry-run` lists them: the sweep checked and
read as `just local` runs it (prepare.check_sweep), and each trial's values drawn. A
Bayesian sweep's trials after the first ones depend on their scores: only those drawn
before any score is known are listed (as many as run at once)."""

from collections.abc import Sequence

from scripts.jobspec.sweep import BAYESIAN, Sweep, Value
from scripts.project.layout import Project
from scripts.sweeps.prepare import check_sweep
from scripts.sweeps.sampling import ensure_sampling, sampler_for


def plan_sweep(
    project: Project, experiment: str, job_file: str, overrides: Sequence[str]
) -> tuple[Sweep, list[dict[str, Value]]]:
    """The sweep in `job_file` of `experiment` with `overrides`, and each trial's values
    that can be known before the sweep runs."""
    sweep = check_sweep(project, experiment, job_file, overrides).sweep
    ensure_sampling(project, sweep)
    sampler = sampler_for(sweep)
    known = sweep.max_total_trials
    if sweep.sampling.algorithm == BAYESIAN:
        known = min(known, sweep.max_concurrent_trials or 1)
    trials = []
    for index in range(1, known + 1):
        values = sampler.draw(index)
        if values is None:
            break
        trials.append(values)
    return sweep, trials


def describe_trial(values: dict[str, Value]) -> str:
    """`learning_rate=0.0123 hidden_units=64`, as `just local` shows a trial's values."""
    return " ".join(f"{name}={_shown(value)}" for name, value in values.items())


def _shown(value: Value) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)
