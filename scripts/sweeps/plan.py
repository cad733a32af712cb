"""The trials of a sweep job as `just local --dry-run` lists them: the job file checked by
azure-ai-ml with its `--set`s (typed as the SDK types them), read as a search, and each
trial's values drawn."""

from collections.abc import Sequence

from scripts.jobspec.overrides import apply_overrides, parse_override
from scripts.jobspec.sweep import Sweep, Value, read_sweep, trial_values
from scripts.project.layout import Project
from scripts.runfolder.isolate import check_source
from scripts.runner.prepare import check_as_aml_does


def plan_sweep(
    project: Project, experiment: str, job_file: str, overrides: Sequence[str]
) -> tuple[Sweep, list[dict[str, Value]]]:
    """The sweep in `job_file` of `experiment` with `overrides`, and each trial's values."""
    parsed = [parse_override(text) for text in overrides]
    source = check_source(project, experiment, job_file, any_job=True)
    given = apply_overrides(source.job, parsed, source.job_file)
    typed = check_as_aml_does(project, source, given, parsed, source.code(given))
    sweep = read_sweep(apply_overrides(source.job, typed, source.job_file), source.job_file)
    return sweep, list(trial_values(sweep))


def describe_trial(index: int, values: dict[str, Value]) -> str:
    """`trial 3: learning_rate=0.0123 hidden_units=64`, as `just local --dry-run` says it."""
    shown = " ".join(f"{name}={_shown(value)}" for name, value in values.items())
    return f"trial {index}: {shown}"


def _shown(value: Value) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)
