"""The trials' values as a local sweep draws them, one trial at a time, each trial's score
told back when it ends:

- `random` and `grid`: as `scripts.jobspec.sweep.trial_values` draws them (scores unused);
- `random` with `rule: sobol`: a scrambled Sobol sequence (scipy's `qmc.Sobol`, seeded by
  `seed`), each point mapped through every distribution's inverse CDF;
- `bayesian`: optuna's TPE sampler (Bayesian optimisation by tree-structured Parzen
  estimators), which learns from the scores told; seeded with BAYESIAN_SEED (Azure ML's
  bayesian sampling takes no seed), so the same scores give the same trials. Azure ML's
  Bayesian algorithm is not public: its values will differ from these.

scipy and optuna are the tooling's `sweep` group, installed the first time a sweep needs
them (`ensure_sampling`) and imported only then.
"""

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from scripts.jobspec.sweep import BAYESIAN, Sweep, Value, trial_values
from scripts.project.layout import Project
from scripts.project.uv import SWEEP_GROUP, ensure_groups

if TYPE_CHECKING:
    import optuna

BAYESIAN_SEED = 0
BAYESIAN_DIFFERS = (
    "bayesian sampling: values drawn by optuna's TPE sampler, which learns from each "
    "trial's score; Azure ML's algorithm is not public, so the cloud's trials will differ"
)


class Sampler(Protocol):
    def draw(self, index: int) -> dict[str, Value] | None:
        """Trial `index`'s values (from 1, in order); None when there are no more."""

    def tell(self, index: int, score: float | None) -> None:
        """Trial `index` ended with `score` (None: it failed, or logged no score)."""


def needs_libraries(sweep: Sweep) -> bool:
    return sweep.sampling.algorithm == BAYESIAN or sweep.sampling.rule == "sobol"


def ensure_sampling(project: Project, sweep: Sweep) -> None:
    """What the sweep's sampling imports, installed into the tooling's environment (once)."""
    if needs_libraries(sweep):
        ensure_groups(project, [SWEEP_GROUP], f"what {sampling_name(sweep)} sampling draws with")


def sampler_for(sweep: Sweep) -> Sampler:
    """The sampler of `sweep` (its libraries installed: see ensure_sampling)."""
    if sweep.sampling.algorithm == BAYESIAN:
        return _Bayesian(sweep)
    if sweep.sampling.rule == "sobol":
        return _Drawn(_sobol(sweep))
    return _Drawn(trial_values(sweep))


def sampling_name(sweep: Sweep) -> str:
    """`random`, `sobol`, `grid` or `bayesian`."""
    return "sobol" if sweep.sampling.rule == "sobol" else sweep.sampling.algorithm


class _Drawn:
    """Values drawn in advance of any score: random, grid, sobol."""

    def __init__(self, values: Iterator[dict[str, Value]]) -> None:
        self._values = values

    def draw(self, index: int) -> dict[str, Value] | None:
        return next(self._values, None)

    def tell(self, index: int, score: float | None) -> None:
        """Scores do not change what comes next."""


def _sobol(sweep: Sweep) -> Iterator[dict[str, Value]]:
    """`max_total_trials` points of a scrambled Sobol sequence over the search space."""
    from scipy.stats import qmc

    names = list(sweep.space)
    sequence = qmc.Sobol(len(names), scramble=True, seed=sweep.sampling.seed)
    points = sequence.random_base2(max(0, math.ceil(math.log2(sweep.max_total_trials))))
    for point in points[: sweep.max_total_trials]:
        yield {name: sweep.space[name].at(float(u)) for name, u in zip(names, point, strict=True)}


class _Bayesian:
    """optuna's TPE sampler, asked for each trial and told its score."""

    def __init__(self, sweep: Sweep) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._sweep = sweep
        self._study = optuna.create_study(
            direction="maximize" if sweep.maximize else "minimize",
            sampler=optuna.samplers.TPESampler(seed=BAYESIAN_SEED),
        )
        self._space = {name: _distribution(d.type, d.fields) for name, d in sweep.space.items()}
        self._asked: dict[int, optuna.trial.Trial] = {}

    def draw(self, index: int) -> dict[str, Value] | None:
        if index > self._sweep.max_total_trials:
            return None
        trial = self._study.ask(self._space)
        self._asked[index] = trial
        return {name: self._sweep.space[name].rounded(trial.params[name]) for name in self._space}

    def tell(self, index: int, score: float | None) -> None:
        from optuna.trial import TrialState

        trial = self._asked.pop(index)
        if score is None:
            self._study.tell(trial, state=TrialState.FAIL)
        else:
            self._study.tell(trial, score)


def _distribution(kind: str, fields: dict[str, Any]) -> "optuna.distributions.BaseDistribution":
    """The optuna distribution of a bayesian sweep's `choice`, `uniform` or `quniform`
    (quniform's rounding is applied to the value drawn, as Azure ML rounds it)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    if kind == "choice":
        return CategoricalDistribution(fields["values"])
    return FloatDistribution(float(fields["min_value"]), float(fields["max_value"]))
