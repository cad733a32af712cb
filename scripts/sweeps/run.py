"""Running a prepared sweep: trials start as their values are drawn, as many at the same
time as the sweep's `limits.max_concurrent_trials` and the machine (`--max-parallel`)
allow, each a command job run by scripts.runner under one Supervisor (which passes
Ctrl-C, SIGTERM and SIGHUP to every running trial). While they run, the primary metric's
history of each is followed and the early-termination policy applied (termination.py);
a trial it stops ends KILLED. A failing trial does not stop the sweep; `limits.timeout`
stops it whole. At the end the best FINISHED trial is recorded: its MLflow run id, score
and the primary metric's config as tags of the sweep's MLflow run (Azure ML's names), and
its outputs as the sweep's."""

import json
import os
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from scripts.console import report
from scripts.console.cli import INTERRUPTED
from scripts.console.errors import ToolingError
from scripts.jobspec.sweep import BAYESIAN, Value
from scripts.runfolder.layout import CODE, JOB_LOG, MANIFEST, step_folder
from scripts.runfolder.manifest import Manifest, timestamp
from scripts.runfolder.sweep import place_best_outputs, trial_index, trial_name
from scripts.runner.prepare import LocalRun, record_started
from scripts.runner.process import Supervisor
from scripts.runner.run import (
    count_statuses,
    record_parent_outcome,
    run_child,
    say_log_end,
    start_tracking,
    tracking_step,
)
from scripts.sweeps.plan import describe_trial
from scripts.sweeps.prepare import SweepRun
from scripts.sweeps.sampling import BAYESIAN_DIFFERS, sampling_name
from scripts.sweeps.termination import judge
from scripts.tracking.store import TrackedRun

FINISHED = "FINISHED"
# The tags Azure ML's sweep job records its best trial by.
BEST_CHILD_TAG, SCORE_TAG, METRIC_CONFIG_TAG = "best_child_run_id", "score", "primary_metric_config"
_POLL_SECONDS = 0.25  # how often the metrics are read, and the main thread looks up


@dataclass
class _Progress:
    """What has happened to the trials so far."""

    histories: dict[str, list[float]] = field(default_factory=dict)  # primary metric's
    checked: dict[str, int] = field(default_factory=dict)  # the last interval judged at
    stopped_early: int = 0
    first_failure: str | None = None  # the first trial to end FAILED
    timed_out: bool = False
    cannot_start: bool = False  # a trial's folder could not be made


def concurrency(run: SweepRun, max_parallel: int) -> int:
    """How many trials run at the same time: `limits.max_concurrent_trials`, at most
    `max_parallel` (the machine's), at most the trials there are."""
    sweep = run.sweep
    wanted = sweep.max_concurrent_trials or sweep.max_total_trials
    return max(1, min(wanted, max_parallel, sweep.max_total_trials))


def run_sweep(run: SweepRun, max_parallel: int) -> int:
    """Run the sweep's trials and record its outcome; 0 when a trial finished with a
    score, else the first failed trial's exit code, or 1 (130 when told to stop)."""
    with Supervisor() as supervisor:
        progress = _supervised(run, supervisor, max_parallel)
    _say_outcome(run, progress)
    return run.manifest.exit_code or 0


def run_sweep_step(run: SweepRun, supervisor: Supervisor, max_parallel: int) -> int:
    """A pipeline's sweep step (on a worker thread, under the pipeline's `supervisor`):
    run.json written as it starts, its trials run and its outcome recorded as a sweep's;
    its exit code, as run_sweep's. Its best trial is named in one line."""
    record_started(run.folder, run.manifest)
    _supervised(run, supervisor, max_parallel)
    best = run.trials.get(run.manifest.best_trial or "")
    if best is not None:
        report.note(
            f"step {run.step}: best trial {best.manifest.run_name}, {run.sweep.primary_metric} "
            f"{best.manifest.score:.6g}: {describe_trial(best.manifest.trial_values)}"
        )
    return run.manifest.exit_code or 0


def _supervised(run: SweepRun, supervisor: Supervisor, max_parallel: int) -> _Progress:
    started = time.perf_counter()
    progress = _Progress()
    at_once = concurrency(run, max_parallel)
    _say_plan(run, at_once, max_parallel)
    tracked = tracking_step(
        "the sweep's MLflow run not started", lambda: start_tracking(run.store, run.manifest)
    )
    try:
        _run_trials(run, supervisor, at_once, progress)
    finally:
        _record(run, progress, supervisor.stopping, time.perf_counter() - started, tracked)
    return progress


def _say_plan(run: SweepRun, at_once: int, max_parallel: int) -> None:
    sweep = run.sweep
    limit = sweep.max_concurrent_trials
    capped = (
        f" (limits.max_concurrent_trials {limit}, capped by --max-parallel {max_parallel}: "
        f"this machine has {os.cpu_count() or 1} cores)"
        if limit and limit > at_once and at_once == max_parallel
        else ""
    )
    policy = f"; early termination: {sweep.policy.type}" if sweep.policy else ""
    head = f"step {run.step}: trials" if run.step else "trials:     "
    report.note(
        f"{head} up to {sweep.max_total_trials} ({sampling_name(sweep)} sampling), "
        f"{at_once} at a time{capped}, ranked by {sweep.primary_metric} ({sweep.goal}){policy}"
    )
    if sweep.sampling.algorithm == BAYESIAN:
        report.note(BAYESIAN_DIFFERS)


def _run_trials(run: SweepRun, supervisor: Supervisor, at_once: int, progress: _Progress) -> None:
    timeout = run.sweep.timeout_seconds
    deadline = None if timeout is None else time.monotonic() + timeout
    running: dict[Future[int], str] = {}
    with ThreadPoolExecutor(at_once, thread_name_prefix="trial") as pool:
        try:
            while True:
                stopping = supervisor.stopping or progress.timed_out or progress.cannot_start
                while not stopping and len(running) < at_once:
                    index = len(run.trials) + 1
                    values = run.sampler.draw(index)
                    if values is None:
                        break
                    trial = _new_trial(run, index, values, progress)
                    if trial is None:
                        break
                    label = run.label(trial.manifest.run_name)
                    report.note(f"{label}: started, {describe_trial(values)}")
                    running[pool.submit(run_child, trial, supervisor, "trial")] = (
                        trial.manifest.run_name
                    )
                if not running:
                    break
                done, _ = wait(running, timeout=_POLL_SECONDS, return_when=FIRST_COMPLETED)
                ended = [running.pop(future) for future in done]
                if run.sweep.policy is not None or ended:
                    _follow_metrics(run, [*running.values(), *ended], progress)
                for name in ended:
                    _ended(run, name, progress)
                if run.sweep.policy is not None:
                    _apply_policy(run, list(running.values()), progress, supervisor)
                if deadline is not None and time.monotonic() >= deadline and not progress.timed_out:
                    progress.timed_out = True
                    report.warning(
                        f"the sweep ran past its limits.timeout ({timeout} s): stopping its "
                        "running trials and starting no more, as Azure ML does"
                    )
                    _stop(run, list(running.values()), supervisor)
        except BaseException:  # a bug: the running trials must not run on alone
            _stop(run, list(running.values()), supervisor)
            raise


def _stop(run: SweepRun, names: list[str], supervisor: Supervisor) -> None:
    """Stop the trials `names` (not the other jobs of the supervisor: a pipeline's steps)."""
    for name in names:
        supervisor.stop(run.trials[name].folder / CODE)  # where it runs


def _new_trial(
    run: SweepRun, index: int, values: dict[str, Value], progress: _Progress
) -> LocalRun | None:
    """Trial `index`'s run, or None (said) when its folder cannot be made: no more start."""
    try:
        return run.new_trial(index, values)
    except (OSError, ToolingError) as error:
        label = run.label(trial_name(run.folder.name, index))
        report.warning(f"{label} not started, nor any after it: {error}")
        progress.cannot_start = True
        return None


def _follow_metrics(run: SweepRun, names: list[str], progress: _Progress) -> None:
    """The primary metric's history of the trials `names`, read again from the store."""
    ids = {run.trials[name].manifest.tracking_run_id or "": name for name in names}
    read = tracking_step(
        "the trials' metrics not read",
        lambda: run.store.metric_histories(list(ids), run.sweep.primary_metric),
    )
    for run_id, history in (read or {}).items():
        progress.histories[ids[run_id]] = history


def _apply_policy(
    run: SweepRun, names: list[str], progress: _Progress, supervisor: Supervisor
) -> None:
    """The policy applied to each running trial at each interval it reached since it was
    last judged (see termination.judge); a trial it stops is told to stop (and ends
    KILLED)."""
    policy = run.sweep.policy
    assert policy is not None
    for name in names:
        trial = run.trials[name].manifest
        if trial.stopped_by is not None or name not in progress.histories:
            continue
        judged = progress.checked.get(name, 0)
        progress.checked[name], stop = judge(run.sweep, policy, progress.histories, name, judged)
        if stop is not None:
            trial.stopped_by = str(stop)
            progress.stopped_early += 1
            report.note(f"{run.label(name)}: stopped by the {stop}")
            _stop(run, [name], supervisor)


def _ended(run: SweepRun, name: str, progress: _Progress) -> None:
    """A trial ended: its score recorded in its run.json, one line said."""
    trial = run.trials[name]
    manifest = trial.manifest
    history = progress.histories.get(name, [])
    manifest.score = run.sweep.best(history) if history else None
    run.sampler.tell(trial_index(name), _counted(manifest))
    try:
        manifest.write(trial.folder)
    except OSError as error:
        report.warning(f"{run.label(name)}: {MANIFEST} not completed: {error}")
    seconds = manifest.duration_seconds or 0.0
    score = "" if manifest.score is None else f", {run.sweep.primary_metric} {manifest.score:.6g}"
    code = manifest.exit_code
    report.note(f"{run.label(name)}: {manifest.status} (exit code {code}, {seconds:.3f} s){score}")
    if manifest.status == "FAILED" and progress.first_failure is None:
        progress.first_failure = name


def _counted(trial: Manifest) -> float | None:
    """The score a trial counts with: a FINISHED trial's."""
    return trial.score if trial.status == FINISHED else None


def best_trial(run: SweepRun) -> LocalRun | None:
    """The FINISHED trial with the best score, the first of equals; None if none has one."""
    best: tuple[float, LocalRun] | None = None
    for trial in run.trials.values():
        score = trial.manifest.score
        if trial.manifest.status != FINISHED or score is None:
            continue
        if best is None or run.sweep.better(score, best[0]):
            best = (score, trial)
    return best[1] if best else None


def _record(
    run: SweepRun, progress: _Progress, stopped: bool, seconds: float, tracked: TrackedRun | None
) -> None:
    """The sweep's MLflow run ended and its run.json completed, whatever happened: its best
    trial, its outputs (the best trial's), its status (KILLED when it was `stopped`: a stop
    signal, or its pipeline stopping every step)."""
    manifest = run.manifest
    best = best_trial(run)
    if best is not None:
        manifest.best_trial = best.manifest.run_name
        manifest.metrics = dict(best.manifest.metrics)
        outputs = tracking_step(
            "the best trial's outputs not placed as the sweep's",
            lambda: place_best_outputs(run.folder, best.folder, run.output_names),
        )
        manifest.pipeline_outputs = outputs or {}
    if stopped:
        manifest.status, manifest.exit_code = "KILLED", INTERRUPTED
    elif best is None:
        failed = run.trials.get(progress.first_failure or "")
        manifest.status = "FAILED"
        manifest.exit_code = (failed.manifest.exit_code if failed else None) or 1
    else:
        manifest.status, manifest.exit_code = FINISHED, 0
    manifest.ended = timestamp()
    manifest.duration_seconds = round(seconds, 3)
    tags: dict[str, str] = {}
    if best is not None:  # as Azure ML tags a sweep job
        tags = {
            BEST_CHILD_TAG: best.manifest.tracking_run_id or "",
            SCORE_TAG: str(best.manifest.score),
            METRIC_CONFIG_TAG: json.dumps(
                {"name": run.sweep.primary_metric, "goal": run.sweep.goal}
            ),
        }
    record_parent_outcome(run.store, run.folder, manifest, tracked, tags)


def _say_outcome(run: SweepRun, progress: _Progress) -> None:
    """The last lines: the best trial, its values and its folder (or, when no trial
    finished with a score, why, and the end of the first failed trial's log), then the
    sweep's end."""
    manifest, sweep = run.manifest, run.sweep
    best = run.trials.get(manifest.best_trial or "")
    if best is not None:
        values = describe_trial(best.manifest.trial_values)
        report.note(
            f"best trial: {best.manifest.run_name}, {sweep.primary_metric} "
            f"{best.manifest.score:.6g} ({sweep.goal}): {values}\n"
            f"  its run folder: {best.folder} (the sweep's outputs are its outputs)"
        )
    elif manifest.status != "KILLED":
        _say_why_no_best(run, progress)
    counts = count_statuses(trial.manifest.status for trial in run.trials.values())
    early = f" ({progress.stopped_early} stopped early)" if progress.stopped_early else ""
    report.note(
        f"sweep {run.folder.name} ended {manifest.status} (exit code {manifest.exit_code}) "
        f"after {manifest.duration_seconds:.3f} s: {counts or 'no trial ran'}{early}"
    )


def _say_why_no_best(run: SweepRun, progress: _Progress) -> None:
    sweep = run.sweep
    finished = [t for t in run.trials.values() if t.manifest.status == FINISHED]
    if finished:
        report.warning(
            f"no trial logged {sweep.primary_metric!r} (objective.primary_metric), so there "
            "is no best trial: log it with mlflow.log_metric under that name"
        )
        return
    failed = progress.first_failure
    if failed is not None:
        say_log_end(run.label(failed), run.folder / step_folder(failed) / JOB_LOG)
