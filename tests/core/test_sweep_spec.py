"""A sweep job read as a search (scripts/jobspec/sweep.py), in-process and seeded: each
distribution means what it means on Azure ML, the same seed draws the same trials, grid
takes every combination, and what Azure ML refuses is refused in one line."""

import math
from pathlib import Path
from typing import Any

import pytest

from scripts.console.errors import UsageError
from scripts.jobspec.sweep import read_sweep, trial_job, trial_values

FILE = Path("sweep.yml")


def sweep_of(space: dict[str, Any], **job: Any) -> Any:
    document = {
        "type": "sweep",
        "trial": {"command": "python train.py"},
        "search_space": space,
        "sampling_algorithm": {"type": "random", "seed": 7},
        "objective": {"goal": "maximize", "primary_metric": "accuracy"},
        "limits": {"max_total_trials": 500},
        **job,
    }
    return read_sweep(document, FILE)


def drawn(spec: dict[str, Any]) -> list[Any]:
    return [trial["x"] for trial in trial_values(sweep_of({"x": spec}))]


def test_loguniform_bounds_are_exponents() -> None:
    values = drawn({"type": "loguniform", "min_value": -7, "max_value": -2})

    assert all(-7 <= math.log(value) <= -2 for value in values)
    assert min(values) < math.exp(-6) and max(values) > math.exp(-3)  # not U(-7, -2) itself


def test_randint_is_a_whole_number_from_zero_below_upper() -> None:
    assert set(drawn({"type": "randint", "upper": 4})) == {0, 1, 2, 3}


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "quniform", "min_value": 0, "max_value": 100, "q": 10},
        {"type": "qloguniform", "min_value": 0, "max_value": 5, "q": 5},
        {"type": "qnormal", "mu": 50, "sigma": 20, "q": 10},
        {"type": "qlognormal", "mu": 2, "sigma": 1, "q": 3},
    ],
)
def test_q_distributions_round_to_multiples_of_q(spec: dict[str, Any]) -> None:
    assert all(value % spec["q"] == 0 for value in drawn(spec))


def test_normal_and_lognormal_center_on_mu() -> None:
    normal = drawn({"type": "normal", "mu": 10, "sigma": 1})
    lognormal = drawn({"type": "lognormal", "mu": 1, "sigma": 0.5})

    assert abs(sum(normal) / len(normal) - 10) < 0.3
    assert all(value > 0 for value in lognormal)
    assert abs(sorted(math.log(v) for v in lognormal)[len(lognormal) // 2] - 1) < 0.15


def test_the_same_seed_draws_the_same_trials() -> None:
    space = {"lr": {"type": "uniform", "min_value": 0, "max_value": 1}}
    seeded = {"sampling_algorithm": {"type": "random", "seed": 3}}

    first = list(trial_values(sweep_of(space, **seeded)))
    again = list(trial_values(sweep_of(space, **seeded)))
    other = list(trial_values(sweep_of(space, sampling_algorithm={"type": "random", "seed": 4})))

    assert first == again != other


def test_grid_takes_every_combination_up_to_the_trial_limit() -> None:
    space = {
        "a": {"type": "choice", "values": [1, 2]},
        "b": {"type": "choice", "values": ["x", "y", "z"]},
    }

    every = list(trial_values(sweep_of(space, sampling_algorithm="grid")))
    capped = sweep_of(space, sampling_algorithm="grid", limits={"max_total_trials": 4})

    assert every == [{"a": a, "b": b} for a in (1, 2) for b in ("x", "y", "z")]
    assert len(list(trial_values(capped))) == 4


@pytest.mark.parametrize(
    ("space", "job", "message"),
    [
        (
            {"lr": {"type": "uniform", "min_value": 0, "max_value": 1}},
            {"sampling_algorithm": "grid"},
            "sweep.yml: grid sampling takes choice distributions only, not lr (uniform)",
        ),
        (
            {"n": {"type": "randint", "upper": 5}},
            {"sampling_algorithm": "bayesian"},
            "sweep.yml: bayesian sampling takes choice, uniform and quniform only, not n (randint)",
        ),
        (
            {"lr": {"type": "uniform", "min_value": 0, "max_value": 1}},
            {"sampling_algorithm": "bayesian", "early_termination": {"type": "bandit"}},
            "sweep.yml: bayesian sampling takes no early_termination policy: drop it",
        ),
        (
            {"lr": {"type": "loguniform", "min_value": -2}},
            {},
            "sweep.yml: search_space.lr (loguniform) needs max_value",
        ),
        (
            {"q": {"type": "quniform", "min_value": 0, "max_value": 9, "q": 0.5}},
            {},
            "sweep.yml: search_space.q: `q` must be a whole number, at least 1 (got 0.5)",
        ),
        (
            {"lr": {"type": "gamma"}},
            {},
            "sweep.yml: search_space.lr needs a `type:` of choice, randint, uniform",
        ),
        (
            {"lr": {"type": "choice", "values": [1]}},
            {"objective": {"goal": "best"}},
            "sweep.yml: objective needs `goal: maximize` or `minimize` and a `primary_metric`",
        ),
        (
            {"lr": {"type": "choice", "values": [1]}},
            {"sampling_algorithm": "hyperband"},
            "sweep.yml: sampling_algorithm must be one of random, grid, bayesian",
        ),
        (
            {"lr": {"type": "choice", "values": [1]}},
            {"trial": {"command": "train --lr ${{search_space.lr}} --n ${{search_space.n}}"}},
            "sweep.yml: the trial's command uses ${{search_space.n}} but the search space has "
            "no such entry: add it under `search_space:`",
        ),
        (
            {"lr": {"type": "choice", "values": [1]}},
            {"early_termination": {"type": "bandit", "slack_factor": 0.1, "slack_amount": 1}},
            "sweep.yml: early_termination: a bandit policy takes one of slack_factor or "
            "slack_amount",
        ),
        (
            {"lr": {"type": "choice", "values": [1]}},
            {"early_termination": {"type": "truncation_selection", "truncation_percentage": 100}},
            "sweep.yml: early_termination.truncation_percentage must be a whole number from 1 "
            "to 99",
        ),
        (
            {"lr": {"type": "choice", "values": [1]}},
            {"early_termination": {"type": "median_stopping", "delay_evaluation": -1}},
            "sweep.yml: early_termination.delay_evaluation must be a whole number, at least 0",
        ),
        (
            {"lr": {"type": "choice", "values": [1]}},
            {"sampling_algorithm": {"type": "grid", "seed": 1}},
            "sweep.yml: grid sampling takes no seed (random's only)",
        ),
        (
            {"lr": {"type": "choice", "values": [1]}},
            {"limits": {"trial_timeout": 0}},
            "sweep.yml: limits.trial_timeout must be a whole number, at least 1",
        ),
    ],
)
def test_what_azure_ml_refuses_is_refused_in_one_line(
    space: dict[str, Any], job: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError) as refused:
        sweep_of(space, **job)

    assert str(refused.value).startswith(message)


def test_a_trial_is_the_command_job_of_its_values_with_the_sweeps_inputs_and_limits() -> None:
    document: dict[str, Any] = {
        "type": "sweep",
        "trial": {
            "code": "src",
            "command": "train --lr ${{search_space.lr}} --units ${{ search_space.units }} "
            "--epochs ${{inputs.epochs}} --out ${{outputs.model}}",
            "environment_variables": {"MODE": "fast"},
            "environment": {"build": {"path": "environment"}},
        },
        "inputs": {"epochs": 3},
        "outputs": {"model": {"type": "uri_folder"}},
        "limits": {"max_total_trials": 4, "trial_timeout": 60, "timeout": 600},
    }

    job = trial_job(document, {"lr": 0.025, "units": 64})

    assert job == {
        "type": "command",
        "inputs": {"epochs": 3},
        "outputs": {"model": {"type": "uri_folder"}},
        "code": "src",
        "command": "train --lr 0.025 --units 64 --epochs ${{inputs.epochs}} "
        "--out ${{outputs.model}}",
        "environment_variables": {
            "MODE": "fast",
            "AZUREML_SWEEP_lr": "0.025",
            "AZUREML_SWEEP_units": "64",
        },
        "environment": {"build": {"path": "environment"}},
        "limits": {"timeout": 60},
    }
    assert document["trial"]["environment_variables"] == {"MODE": "fast"}  # left as it was


@pytest.mark.parametrize(
    ("spec", "u", "expected"),
    [
        ({"type": "choice", "values": ["a", "b", "c"]}, 0.5, "b"),
        ({"type": "choice", "values": ["a", "b", "c"]}, 0.999, "c"),
        ({"type": "randint", "upper": 4}, 0.26, 1),
        ({"type": "uniform", "min_value": 2, "max_value": 4}, 0.25, 2.5),
        ({"type": "loguniform", "min_value": -2, "max_value": 2}, 0.5, 1.0),
        ({"type": "quniform", "min_value": 0, "max_value": 100, "q": 10}, 0.33, 30),
        ({"type": "normal", "mu": 5, "sigma": 2}, 0.5, 5.0),
        ({"type": "lognormal", "mu": 0, "sigma": 1}, 0.5, 1.0),
    ],
)
def test_a_point_of_the_unit_interval_maps_through_the_inverse_cdf(
    spec: dict[str, Any], u: float, expected: Any
) -> None:
    """Where a Sobol point lands in each distribution."""
    distribution = sweep_of({"x": spec}).space["x"]

    assert distribution.at(u) == pytest.approx(expected)
