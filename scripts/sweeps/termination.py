"""Early termination as Azure ML applies it to a sweep's trials: each value a trial logs
of the primary metric is one interval; at each interval the policy applies to (see
Policy.applies_at), the trial is compared with every trial that has reached that
interval, itself included: a younger trial with the older trials' values at the same
interval (a trial ahead of every other is judged at an interval once another reaches
it). Pure: the runner reads the metric histories and stops the trial.

- bandit: stopped when its best value so far is outside the slack of the best trial's at
  that interval (maximizing: below best / (1 + slack_factor), or best - slack_amount).
- median_stopping: stopped when its best value so far is worse than the median of the
  trials' running averages up to that interval.
- truncation_selection: stopped when it is among the worst truncation_percentage % of
  the trials at that interval (by their best values so far; at least one trial stays).
"""

import statistics
from dataclasses import dataclass

from scripts.jobspec.sweep import BANDIT, MEDIAN_STOPPING, Policy, Sweep


@dataclass(frozen=True)
class Stop:
    """Why a trial is stopped: the policy, the interval, and the comparison, in words."""

    policy: str
    interval: int
    reason: str

    def __str__(self) -> str:
        return f"{self.policy} policy at interval {self.interval} ({self.reason})"


def judge(
    sweep: Sweep, policy: Policy, histories: dict[str, list[float]], trial: str, judged: int
) -> tuple[int, Stop | None]:
    """`trial` judged at each interval after `judged` (the last it was judged at) that it
    has reached and another trial has reached too: a trial ahead of every other waits to be
    compared. The last interval judged now, and the Stop, if one stops it."""
    reached = len(histories[trial])
    for interval in range(judged + 1, reached + 1):
        if not any(len(h) >= interval for name, h in histories.items() if name != trial):
            return interval - 1, None
        stop = verdict(sweep, policy, histories, trial, interval)
        if stop is not None:
            return interval, stop
    return reached, None


def verdict(
    sweep: Sweep, policy: Policy, histories: dict[str, list[float]], trial: str, interval: int
) -> Stop | None:
    """Whether `trial` is stopped at `interval` (1-based: its `interval`-th value), given
    every trial's values so far (`histories`, by trial)."""
    if not policy.applies_at(interval):
        return None
    reached = {name: values[:interval] for name, values in histories.items()}
    reached = {name: values for name, values in reached.items() if len(values) == interval}
    best = {name: sweep.best(values) for name, values in reached.items()}
    own = best[trial]
    if policy.type == BANDIT:
        leader = sweep.best(best.values())
        cutoff = _cutoff(sweep, policy, leader)
        if not sweep.better(cutoff, own):
            return None
        reason = (
            f"its best {own:.6g} is outside the slack of the best {leader:.6g}: cut-off "
            f"{cutoff:.6g}"
        )
    elif policy.type == MEDIAN_STOPPING:
        median = statistics.median(statistics.fmean(values) for values in reached.values())
        if not sweep.better(median, own):
            return None
        reason = (
            f"its best {own:.6g} is worse than the median {median:.6g} of the running "
            f"averages of {len(reached)} trials"
        )
    else:
        assert policy.truncation_percentage is not None, "read_sweep checks it"
        worst_first = sorted(best, key=best.__getitem__, reverse=not sweep.maximize)
        cut = min(len(worst_first) * policy.truncation_percentage // 100, len(worst_first) - 1)
        if trial not in worst_first[:cut]:
            return None
        reason = (
            f"its best {own:.6g} is among the worst {policy.truncation_percentage}% of "
            f"{len(worst_first)} trials"
        )
    return Stop(policy.type, interval, reason)


def _cutoff(sweep: Sweep, policy: Policy, leader: float) -> float:
    """The worst value a trial may have at an interval where the best is `leader`."""
    sign = 1 if sweep.maximize else -1
    if policy.slack_amount is not None:
        return leader - sign * policy.slack_amount
    assert policy.slack_factor is not None, "read_sweep checks it"
    factor = 1 + policy.slack_factor
    return leader / factor if sweep.maximize else leader * factor
