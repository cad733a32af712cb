"""Early termination (scripts/sweeps/termination.py) as Azure ML defines each policy, on
metric histories given in-process: who is stopped, at which interval, and who is not."""

from pathlib import Path
from typing import Any

import pytest

from scripts.jobspec.sweep import Sweep, read_sweep
from scripts.sweeps.termination import judge, verdict


def sweep_with(policy: dict[str, Any], goal: str = "maximize") -> Sweep:
    return read_sweep(
        {
            "trial": {"command": "train"},
            "search_space": {"x": {"type": "choice", "values": [1, 2]}},
            "sampling_algorithm": "random",
            "objective": {"goal": goal, "primary_metric": "accuracy"},
            "early_termination": policy,
        },
        Path("sweep.yml"),
    )


def stopped(sweep: Sweep, histories: dict[str, list[float]], trial: str) -> list[int]:
    """The intervals at which `trial` would be stopped, each judged on its own."""
    assert sweep.policy is not None
    return [
        interval
        for interval in range(1, len(histories[trial]) + 1)
        if verdict(sweep, sweep.policy, histories, trial, interval) is not None
    ]


def test_bandit_slack_factor_cuts_below_best_over_one_plus_the_factor() -> None:
    """Azure ML's example: the best 0.8, slack_factor 0.2: trials below 0.667 stop."""
    sweep = sweep_with({"type": "bandit", "slack_factor": 0.2})
    histories = {"best": [0.8], "inside": [0.67], "outside": [0.66]}

    assert stopped(sweep, histories, "inside") == []
    assert stopped(sweep, histories, "outside") == [1]
    stop = verdict(sweep, sweep.policy, histories, "outside", 1)  # type: ignore[arg-type]
    assert str(stop) == (
        "bandit policy at interval 1 (its best 0.66 is outside the slack of the best 0.8: "
        "cut-off 0.666667)"
    )


def test_bandit_compares_best_values_so_far_at_the_same_interval() -> None:
    """A trial that was good early is judged on its best so far; one that is ahead of the
    others' interval is compared with those that reached it only."""
    sweep = sweep_with({"type": "bandit", "slack_amount": 0.1})
    histories = {"older": [0.5, 0.9, 0.95], "younger": [0.45, 0.7]}

    assert stopped(sweep, histories, "younger") == [2]  # 0.7 < 0.9 - 0.1; at 1, 0.45 ≥ 0.4
    assert stopped(sweep, {"older": [0.5, 0.9, 0.95], "lucky": [0.9, 0.1]}, "lucky") == []


def test_minimizing_mirrors_the_cut_off() -> None:
    sweep = sweep_with({"type": "bandit", "slack_factor": 0.5}, goal="minimize")
    histories = {"best": [1.0], "inside": [1.5], "outside": [1.6]}

    assert (stopped(sweep, histories, "inside"), stopped(sweep, histories, "outside")) == (
        [],
        [1],
    )


def test_delay_and_interval_choose_the_intervals_a_policy_applies_at() -> None:
    sweep = sweep_with(
        {"type": "bandit", "slack_amount": 0.1, "delay_evaluation": 3, "evaluation_interval": 2}
    )
    histories = {"best": [1.0] * 8, "bad": [0.0] * 8}

    assert stopped(sweep, histories, "bad") == [4, 6, 8]


def test_median_stopping_cuts_a_trial_worse_than_the_median_of_running_averages() -> None:
    sweep = sweep_with({"type": "median_stopping"})
    histories = {"a": [0.6, 0.8], "b": [0.5, 0.7], "c": [0.2, 0.3]}

    assert stopped(sweep, histories, "c") == [1, 2]  # 0.3 < median(0.7, 0.6, 0.25)
    assert stopped(sweep, histories, "b") == []  # its best 0.7 ≥ 0.6
    assert stopped(sweep, {"alone": [0.1]}, "alone") == []


@pytest.mark.parametrize(
    ("percentage", "expected"), [(25, {"d"}), (50, {"c", "d"}), (99, {"b", "c", "d"})]
)
def test_truncation_selection_cuts_the_worst_percentage_and_keeps_one(
    percentage: int, expected: set[str]
) -> None:
    sweep = sweep_with({"type": "truncation_selection", "truncation_percentage": percentage})
    histories = {"a": [0.9], "b": [0.7], "c": [0.5], "d": [0.3]}

    assert {name for name in histories if stopped(sweep, histories, name)} == expected


def test_a_trial_ahead_of_every_other_is_judged_once_another_reaches_its_intervals() -> None:
    sweep = sweep_with({"type": "bandit", "slack_amount": 0.5})
    assert sweep.policy is not None
    ahead = [0.1, 0.1, 0.1, 0.1]

    alone = judge(sweep, sweep.policy, {"ahead": ahead, "late": []}, "ahead", 0)
    caught_up = judge(sweep, sweep.policy, {"ahead": ahead, "late": [0.2, 0.3]}, "ahead", 0)
    stopped = judge(sweep, sweep.policy, {"ahead": ahead, "late": [1.0, 1.0]}, "ahead", 0)

    assert alone == (0, None)  # nobody to compare with: not judged yet
    assert caught_up == (2, None)  # judged at 1 and 2, where the other is; 3 and 4 wait
    assert stopped[0] == 1 and str(stopped[1]).startswith("bandit policy at interval 1 ")
