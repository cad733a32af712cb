"""Sobol and Bayesian sampling (scripts/sweeps/sampling.py), in-process and seeded, with
the libraries they draw with (scipy, optuna: the tooling's sweep group)."""

from pathlib import Path
from typing import Any

from scripts.jobspec.sweep import Sweep, read_sweep
from scripts.sweeps.sampling import sampler_for

SPACE = {
    "lr": {"type": "uniform", "min_value": 0, "max_value": 1},
    "units": {"type": "choice", "values": [16, 32, 64, 128]},
}


def sweep_of(sampling: dict[str, Any], trials: int, goal: str = "maximize") -> Sweep:
    return read_sweep(
        {
            "trial": {"command": "train"},
            "search_space": SPACE,
            "sampling_algorithm": sampling,
            "objective": {"goal": goal, "primary_metric": "accuracy"},
            "limits": {"max_total_trials": trials},
        },
        Path("sweep.yml"),
    )


def drawn(sweep: Sweep) -> list[dict[str, Any]]:
    sampler = sampler_for(sweep)
    values: list[dict[str, Any]] = []
    while (found := sampler.draw(len(values) + 1)) is not None:
        values.append(found)
    return values


def test_sobol_covers_the_space_evenly_and_its_seed_repeats_it() -> None:
    sobol = sweep_of({"type": "random", "rule": "sobol", "seed": 5}, 16)

    first, again = drawn(sobol), drawn(sobol)
    other = drawn(sweep_of({"type": "random", "rule": "sobol", "seed": 6}, 16))

    assert first == again != other and len(first) == 16
    assert sorted(int(trial["lr"] * 16) for trial in first) == list(range(16))  # one per 1/16
    assert {trial["units"] for trial in first} == {16, 32, 64, 128}


def test_bayesian_learns_from_scores_and_the_same_scores_give_the_same_trials() -> None:
    """After its random start, TPE draws near the best scores told: here lr close to 0.8."""
    bayesian = sweep_of({"type": "bayesian"}, 60)

    def run() -> list[dict[str, Any]]:
        sampler = sampler_for(bayesian)
        values = []
        for index in range(1, 61):
            trial = sampler.draw(index)
            assert trial is not None and isinstance(trial["lr"], float)
            sampler.tell(index, -abs(trial["lr"] - 0.8))
            values.append(trial)
        assert sampler.draw(61) is None
        return values

    first = run()

    assert first == run()

    def near(trials: list[dict[str, Any]]) -> int:
        return sum(abs(trial["lr"] - 0.8) < 0.1 for trial in trials)

    assert near(first[-10:]) >= near(first[:10]) + 5  # the last ten, the first ten (random)


def test_a_failed_trial_told_to_bayesian_is_not_a_score() -> None:
    sampler = sampler_for(sweep_of({"type": "bayesian"}, 3))

    for index in (1, 2):
        assert sampler.draw(index) is not None
    sampler.tell(2, None)
    sampler.tell(1, 0.5)

    assert sampler.draw(3) is not None
