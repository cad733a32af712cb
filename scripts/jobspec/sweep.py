"""An Azure ML sweep job (`type: sweep`) read as a typed search: its search space, each
distribution with Azure ML's exact meaning (`loguniform`'s bounds are exponents:
exp(U(min_value, max_value)); `q*` rounds to a multiple of `q`; `randint(upper)` is in
[0, upper)), its sampling algorithm, objective, early-termination policy and limits; the
trials' values it draws, and each trial as the command job it runs. Pure: trials are run
elsewhere.
"""

import copy
import itertools
import math
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any

from scripts.console.errors import UsageError
from scripts.jobspec.job import JobDict

DEFAULT_MAX_TOTAL_TRIALS = 1000  # Azure ML's, when limits.max_total_trials is not set
VALUE_VARIABLE_PREFIX = "AZUREML_SWEEP_"  # a trial's value NAME is also AZUREML_SWEEP_NAME
_VALUE_REFERENCE = re.compile(r"\$\{\{\s*search_space\.([A-Za-z0-9_]+)\s*\}\}")
# What a trial takes from the sweep job besides its `trial:` (a command job's own fields).
_TRIAL_FIELDS_OF_SWEEP = ("inputs", "outputs", "experiment_name", "compute")
# Each distribution's fields, as the sweep-job schema names them.
_FIELDS = {
    "choice": ("values",),
    "randint": ("upper",),
    "uniform": ("min_value", "max_value"),
    "quniform": ("min_value", "max_value", "q"),
    "loguniform": ("min_value", "max_value"),
    "qloguniform": ("min_value", "max_value", "q"),
    "normal": ("mu", "sigma"),
    "qnormal": ("mu", "sigma", "q"),
    "lognormal": ("mu", "sigma"),
    "qlognormal": ("mu", "sigma", "q"),
}
RANDOM, GRID, BAYESIAN = "random", "grid", "bayesian"
_ALGORITHMS = (RANDOM, GRID, BAYESIAN)
_BAYESIAN_TYPES = ("choice", "uniform", "quniform")  # Azure ML's limits for bayesian

Value = int | float | str | bool


@dataclass(frozen=True)
class Distribution:
    """One search-space entry: its type and its fields (`values` for a choice)."""

    name: str
    type: str
    fields: dict[str, Any]

    def draw(self, rng: random.Random) -> Value:
        """One value, as Azure ML (hyperopt's formulas) draws it."""
        f, kind = self.fields, self.type
        if kind == "choice":
            chosen: Value = rng.choice(f["values"])
            return chosen
        if kind == "randint":
            return rng.randrange(int(f["upper"]))
        if kind in _UNIFORM:
            value = rng.uniform(float(f["min_value"]), float(f["max_value"]))
        else:
            value = rng.gauss(float(f["mu"]), float(f["sigma"]))
        return self._finished(value)

    def at(self, u: float) -> Value:
        """The value at `u` in [0, 1) of this distribution's inverse CDF: where a point of a
        quasi-random sequence (Sobol) lands."""
        f, kind = self.fields, self.type
        if kind in ("choice", "randint"):
            count = len(f["values"]) if kind == "choice" else int(f["upper"])
            index = min(int(u * count), count - 1)
            chosen: Value = f["values"][index] if kind == "choice" else index
            return chosen
        if kind in _UNIFORM:
            low, high = float(f["min_value"]), float(f["max_value"])
            return self._finished(low + u * (high - low))
        inside = min(max(u, 1e-12), 1 - 1e-12)  # the normal's inverse CDF is infinite at 0, 1
        return self._finished(NormalDist(float(f["mu"]), float(f["sigma"])).inv_cdf(inside))

    def rounded(self, value: Value) -> Value:
        """`value` rounded to a multiple of `q` for a q distribution, else as it is."""
        if not self.type.startswith("q") or not isinstance(value, int | float):
            return value
        q = int(self.fields["q"])
        return round(value / q) * q

    def _finished(self, value: float) -> Value:
        """A value drawn on the underlying uniform or normal scale: exp() of it for a log
        distribution (its bounds are exponents), then rounded to `q`."""
        return self.rounded(math.exp(value) if "log" in self.type else value)


_UNIFORM = ("uniform", "quniform", "loguniform", "qloguniform")


@dataclass(frozen=True)
class Sampling:
    algorithm: str  # random, grid or bayesian
    seed: int | None = None
    rule: str = "random"  # random's: random or sobol


BANDIT, MEDIAN_STOPPING, TRUNCATION_SELECTION = "bandit", "median_stopping", "truncation_selection"


@dataclass(frozen=True)
class Policy:
    """`early_termination:` as Azure ML applies it: at every multiple of
    `evaluation_interval` (0 counts as 1) that is at least `delay_evaluation`, an interval
    being one logged value of the primary metric."""

    type: str  # bandit, median_stopping or truncation_selection
    evaluation_interval: int
    delay_evaluation: int
    slack_factor: float | None = None  # bandit: one of these two
    slack_amount: float | None = None
    truncation_percentage: int | None = None  # truncation_selection: 1 to 99

    def applies_at(self, interval: int) -> bool:
        every = self.evaluation_interval or 1
        return interval >= self.delay_evaluation and interval % every == 0


@dataclass(frozen=True)
class Sweep:
    space: dict[str, Distribution]
    sampling: Sampling
    goal: str  # maximize or minimize
    primary_metric: str
    max_total_trials: int
    max_concurrent_trials: int | None
    policy: Policy | None
    timeout_seconds: int | None  # limits.timeout: the whole sweep
    trial_timeout_seconds: int | None  # limits.trial_timeout: each trial

    @property
    def maximize(self) -> bool:
        return self.goal == "maximize"

    def best(self, values: Iterable[float]) -> float:
        return best_of(values, self.goal)

    def better(self, score: float, than: float) -> bool:
        return score > than if self.maximize else score < than


def best_of(values: Iterable[float], goal: str) -> float:
    """The best of `values` (there is one at least) for `goal` (maximize or minimize): a
    trial's score, as Azure ML ranks trials, is the best of every value it logged of the
    primary metric."""
    return max(values) if goal == "maximize" else min(values)


def read_sweep(job: JobDict, file: Path) -> Sweep:
    """The sweep job `job` (of `file`, after `--set`) as a search; a UsageError in one line
    for what Azure ML refuses (in the SDK's words where it has them)."""
    space = job.get("search_space")
    if not isinstance(space, dict) or not space:
        raise UsageError(f"{file.name} has no `search_space:`: a sweep needs one")
    distributions = {
        str(name): _distribution(str(name), spec, file) for name, spec in space.items()
    }
    sampling = _sampling(job.get("sampling_algorithm"), file)
    objective = job.get("objective") or {}
    goal = str(objective.get("goal", "")).lower() if isinstance(objective, dict) else ""
    metric = objective.get("primary_metric") if isinstance(objective, dict) else None
    if goal not in ("maximize", "minimize") or not metric:
        raise UsageError(
            f"{file.name}: objective needs `goal: maximize` or `minimize` and a `primary_metric`"
        )
    early = job.get("early_termination")
    _check_combination(sampling, distributions, early, file)
    _check_references(job, distributions, file)
    limits = job.get("limits") or {}
    return Sweep(
        space=distributions,
        sampling=sampling,
        goal=goal,
        primary_metric=str(metric),
        max_total_trials=_count(limits, "max_total_trials", file) or DEFAULT_MAX_TOTAL_TRIALS,
        max_concurrent_trials=_count(limits, "max_concurrent_trials", file),
        policy=_policy(early, file) if early else None,
        timeout_seconds=_count(limits, "timeout", file),
        trial_timeout_seconds=_count(limits, "trial_timeout", file),
    )


def trial_job(job: JobDict, values: dict[str, Value]) -> JobDict:
    """The command job one trial of the sweep `job` runs with `values`: its `trial:` with
    `${{search_space.NAME}}` replaced by the value, each value also in the variable
    AZUREML_SWEEP_NAME, the sweep's inputs, outputs and compute, `limits.trial_timeout` as
    its `limits.timeout`."""
    trial = job["trial"]
    command: JobDict = {"type": "command"}
    command |= {key: copy.deepcopy(job[key]) for key in _TRIAL_FIELDS_OF_SWEEP if key in job}
    command |= {key: copy.deepcopy(value) for key, value in trial.items() if key != "type"}
    command["command"] = _VALUE_REFERENCE.sub(
        lambda match: value_text(values[match[1]]), str(trial["command"])
    )
    variables = dict(command.get("environment_variables") or {})
    variables |= {f"{VALUE_VARIABLE_PREFIX}{name}": value_text(v) for name, v in values.items()}
    command["environment_variables"] = variables
    timeout = (job.get("limits") or {}).get("trial_timeout")
    if timeout is not None:
        command["limits"] = {"timeout": timeout}
    return command


def value_text(value: Value) -> str:
    """A trial's value as Azure ML writes it into the command (or gives it as an input)."""
    return str(value)


def trial_values(sweep: Sweep) -> Iterator[dict[str, Value]]:
    """The values of each trial of a grid or (pseudo-)random sweep, in order, at most
    `max_total_trials`: every combination for grid (in the order the search space lists
    them), drawn for random (the same seed gives the same trials). Sobol and Bayesian
    sampling take libraries: scripts.sweeps.sampling draws them."""
    assert sweep.sampling.algorithm != BAYESIAN and sweep.sampling.rule != "sobol"
    names = list(sweep.space)
    if sweep.sampling.algorithm == GRID:
        combinations = itertools.product(*(sweep.space[n].fields["values"] for n in names))
        for values in itertools.islice(combinations, sweep.max_total_trials):
            yield dict(zip(names, values, strict=True))
        return
    rng = random.Random(sweep.sampling.seed)
    for _ in range(sweep.max_total_trials):
        yield {name: sweep.space[name].draw(rng) for name in names}


def _distribution(name: str, spec: Any, file: Path) -> Distribution:
    where = f"{file.name}: search_space.{name}"
    if not isinstance(spec, dict) or spec.get("type") not in _FIELDS:
        raise UsageError(f"{where} needs a `type:` of {', '.join(_FIELDS)}")
    kind = str(spec["type"])
    missing = [field for field in _FIELDS[kind] if spec.get(field) is None]
    if missing:
        raise UsageError(f"{where} ({kind}) needs {', '.join(missing)}")
    fields = {field: spec[field] for field in _FIELDS[kind]}
    if kind == "choice" and (not isinstance(fields["values"], list) or not fields["values"]):
        raise UsageError(f"{where}: `values` must be a non-empty list")
    for field, value in fields.items():
        if field == "values":
            continue
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or (field in ("q", "upper") and (not isinstance(value, int) or value < 1)):
            need = "a whole number, at least 1" if field in ("q", "upper") else "a number"
            raise UsageError(f"{where}: `{field}` must be {need} (got {value!r})")
    if "min_value" in fields and fields["min_value"] > fields["max_value"]:
        raise UsageError(f"{where}: min_value is above max_value")
    return Distribution(name, kind, fields)


def _sampling(spec: Any, file: Path) -> Sampling:
    """`sampling_algorithm: random` or `{type: random, seed: 7, rule: sobol}`."""
    fields = spec if isinstance(spec, dict) else {"type": spec}
    algorithm = str(fields.get("type") or "").lower()
    if algorithm not in _ALGORITHMS:
        raise UsageError(
            f"{file.name}: sampling_algorithm must be one of {', '.join(_ALGORITHMS)} "
            f"(got {fields.get('type')!r})"
        )
    seed = fields.get("seed")
    if seed is not None and algorithm != RANDOM:
        raise UsageError(f"{file.name}: {algorithm} sampling takes no seed (random's only)")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise UsageError(f"{file.name}: sampling_algorithm.seed must be a whole number")
    rule = str(fields.get("rule") or "random").lower()
    if rule not in ("random", "sobol"):
        raise UsageError(f"{file.name}: sampling_algorithm.rule must be random or sobol")
    return Sampling(algorithm, seed, rule)


def _check_combination(
    sampling: Sampling, space: dict[str, Distribution], early: Any, file: Path
) -> None:
    """What Azure ML refuses of an algorithm with a search space and a policy."""
    kinds = {d.name: d.type for d in space.values()}
    if sampling.algorithm == GRID:
        other = [name for name, kind in kinds.items() if kind != "choice"]
        if other:
            raise UsageError(
                f"{file.name}: grid sampling takes choice distributions only, not "
                f"{', '.join(f'{n} ({kinds[n]})' for n in other)}"
            )
    if sampling.algorithm == BAYESIAN:
        other = [name for name, kind in kinds.items() if kind not in _BAYESIAN_TYPES]
        if other:
            raise UsageError(
                f"{file.name}: bayesian sampling takes choice, uniform and quniform only, not "
                f"{', '.join(f'{n} ({kinds[n]})' for n in other)}"
            )
        if early:
            raise UsageError(
                f"{file.name}: bayesian sampling takes no early_termination policy: drop it"
            )


def _check_references(job: JobDict, space: dict[str, Distribution], file: Path) -> None:
    """Every `${{search_space.NAME}}` of the trial's command names a search-space entry."""
    trial = job.get("trial")
    if not isinstance(trial, dict) or not isinstance(trial.get("command"), str):
        raise UsageError(f"{file.name}: `trial:` needs a `command:` (a trial is a command job)")
    unknown = sorted({m[1] for m in _VALUE_REFERENCE.finditer(trial["command"])} - set(space))
    if unknown:
        raise UsageError(
            f"{file.name}: the trial's command uses ${{{{search_space.{unknown[0]}}}}} but "
            "the search space has no such entry: add it under `search_space:`"
        )


_POLICY_FIELDS = {
    BANDIT: ("slack_factor", "slack_amount"),
    MEDIAN_STOPPING: (),
    TRUNCATION_SELECTION: ("truncation_percentage",),
}


def _policy(spec: Any, file: Path) -> Policy:
    """`early_termination:`, with what Azure ML refuses of it refused in one line."""
    where = f"{file.name}: early_termination"
    kind = str(spec.get("type") or "") if isinstance(spec, dict) else ""
    if kind not in _POLICY_FIELDS:
        raise UsageError(f"{where} needs a `type:` of {', '.join(_POLICY_FIELDS)}")
    counts = {key: spec.get(key) or 0 for key in ("evaluation_interval", "delay_evaluation")}
    for key, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise UsageError(f"{where}.{key} must be a whole number, at least 0")
    fields = {key: spec.get(key) for key in _POLICY_FIELDS[kind] if spec.get(key) is not None}
    if kind == BANDIT and len(fields) != 1:
        raise UsageError(f"{where}: a bandit policy takes one of slack_factor or slack_amount")
    for key, value in fields.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise UsageError(f"{where}.{key} must be a number above 0 (got {value!r})")
    percentage = fields.get("truncation_percentage")
    if kind == TRUNCATION_SELECTION and not (isinstance(percentage, int) and 1 <= percentage <= 99):
        raise UsageError(f"{where}.truncation_percentage must be a whole number from 1 to 99")
    return Policy(kind, counts["evaluation_interval"], counts["delay_evaluation"], **fields)


def _count(limits: Any, key: str, file: Path) -> int | None:
    value = limits.get(key) if isinstance(limits, dict) else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{file.name}: limits.{key} must be a whole number, at least 1")
    return value
