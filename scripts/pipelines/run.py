"""Running a prepared pipeline: each step starts once every step it is bound to has
FINISHED, as many at the same time as `max_parallel` allows, each a command job run by
scripts.runner (a sweep step: its trials, by scripts.sweeps) under one Supervisor, which
passes Ctrl-C, SIGTERM and SIGHUP to every running step. A failed step stops the running
ones and skips the rest, unless `settings.continue_on_step_failure`, when only the steps
bound to it are skipped. The pipeline's MLflow run is the parent of its steps' runs."""

import dataclasses
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from scripts.console import report
from scripts.console.cli import INTERRUPTED
from scripts.console.errors import UsageError
from scripts.jobspec.command import render_command
from scripts.jobspec.pipeline import Pipeline, Step
from scripts.pipelines.prepare import PipelineRun, StepRun
from scripts.pipelines.reuse import key_without
from scripts.runfolder.layout import JOB_LOG, MANIFEST, output_folder, step_folder
from scripts.runfolder.manifest import read_manifest, timestamp
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
from scripts.sweeps.prepare import SweepRun
from scripts.sweeps.run import run_sweep_step
from scripts.tracking.store import TrackedRun

FINISHED, SKIPPED = "FINISHED", "SKIPPED"
REUSED_TAG, REUSED_RUN_TAG = "azureml.isreused", "azureml.reusedrunid"  # Azure ML's names
_POLL_SECONDS = 0.25  # how often the main thread looks up from waiting (signals run there)


@dataclass
class _Progress:
    """What has happened to the steps so far."""

    status: dict[str, str] = field(default_factory=dict)
    first_failure: str | None = None


def run_pipeline(run: PipelineRun, max_parallel: int) -> int:
    """Run the pipeline's steps and record its outcome; the first failed step's exit code,
    else 0."""
    started = time.perf_counter()
    progress = _Progress()
    with Supervisor() as supervisor:
        tracked = tracking_step(
            "the pipeline's MLflow run not started",
            lambda: start_tracking(run.store, run.manifest),
        )
        for step in run.steps.values():  # a server gives the pipeline's run its id now
            step.manifest.parent_run_id = run.manifest.tracking_run_id
        try:
            _run_steps(run, supervisor, max_parallel, progress)
        finally:
            _record_skipped(run, progress)
            _record(run, progress, supervisor.signalled, time.perf_counter() - started, tracked)
    _say_outcome(run, progress)
    return run.manifest.exit_code or 0


def _run_steps(
    run: PipelineRun, supervisor: Supervisor, max_parallel: int, progress: _Progress
) -> None:
    pipeline = run.pipeline
    pending = deque(pipeline.order)
    running: dict[Future[int], str] = {}
    with ThreadPoolExecutor(max_parallel, thread_name_prefix="step") as pool:
        try:
            while pending or running:
                stopping = supervisor.signalled or (
                    progress.first_failure is not None and not pipeline.continue_on_step_failure
                )
                for name in [] if stopping else list(pending):
                    step = pipeline.steps[name]
                    lost = _lost_inputs(step, progress)
                    required = [i for i in lost if not _may_go_without(pipeline, step, i)]
                    states = {progress.status.get(upstream) for upstream in step.upstream}
                    if required:  # bound to a step that did not finish
                        pending.remove(name)
                        progress.status[name] = SKIPPED
                        report.note(f"step {name}: skipped (a step it is bound to did not finish)")
                    elif None in states:
                        continue  # waiting for a step it is bound to
                    elif lost:
                        try:
                            run.steps[name] = _without(run.steps[name], step, lost)
                        except UsageError as error:  # its command needs what it lost
                            pending.remove(name)
                            progress.status[name] = SKIPPED
                            report.note(f"step {name}: skipped ({error})")
                            continue
                        run.plans[name] = (
                            f"runs without its optional input(s) {', '.join(lost)}, whose step "
                            "did not finish, as Azure ML runs it"
                        )
                    if name not in pending:
                        continue
                    if run.steps[name].manifest.reused_from:
                        pending.remove(name)
                        progress.status[name] = _record_reused(run.steps[name])
                        report.note(f"step {name}: {run.plans[name]}")
                    elif len(running) < max_parallel:
                        pending.remove(name)
                        report.note(f"step {name}: started, {run.plans[name]}")
                        running[_started(pool, run.steps[name], supervisor, max_parallel)] = name
                if stopping and not running:
                    break
                done, _ = wait(running, timeout=_POLL_SECONDS, return_when=FIRST_COMPLETED)
                for future in done:
                    _ended(run, running.pop(future), future.result(), progress, supervisor)
        except BaseException:  # a bug: the running steps must not run on alone
            supervisor.stop_all()
            raise


def _started(
    pool: ThreadPoolExecutor, run: StepRun, supervisor: Supervisor, max_parallel: int
) -> "Future[int]":
    """The step's run started on a worker thread: a command step's, or a sweep step's,
    whose trials run as many at once as its limits and `max_parallel` allow."""
    if isinstance(run, SweepRun):
        return pool.submit(run_sweep_step, run, supervisor, max_parallel)
    return pool.submit(run_child, run, supervisor, "step")


def _lost_inputs(step: Step, progress: _Progress) -> list[str]:
    """The inputs of `step` bound to the output of a step that ended and did not finish."""
    return [
        name
        for name, given in step.given.items()
        if given.binding is not None
        and given.binding.step is not None
        and given.binding.side == "outputs"
        and progress.status.get(given.binding.step) not in (None, FINISHED)
    ]


def _may_go_without(pipeline: Pipeline, step: Step, name: str) -> bool:
    """Whether `step` runs without its input `name` when the step it is bound to failed, as
    Azure ML runs it: when the input is optional and the others are let go on."""
    return pipeline.continue_on_step_failure and step.inputs[name].optional and not step.sweep


def _without(run: StepRun, step: Step, lost: list[str]) -> LocalRun:
    """The step's run with no value for its inputs `lost`: its command rendered again (its
    `$[[...]]` parts using them dropped), its reuse key saying so."""
    assert isinstance(run, LocalRun), "a sweep step goes without none of its inputs"
    manifest = run.manifest
    manifest.inputs = {
        name: None if name in lost else value for name, value in manifest.inputs.items()
    }
    outputs = {output: output_folder(output) for output in step.outputs}
    manifest.command = render_command(step.component, manifest.inputs, outputs)
    manifest.read_only_inputs = [name for name in manifest.read_only_inputs if name not in lost]
    key = key_without(manifest.reuse_parts, lost)
    manifest.reuse_key, manifest.reuse_parts = key.digest, key.parts
    return dataclasses.replace(run, command=manifest.command)


def _record_reused(run: StepRun) -> str:
    """The record of a step reused, not run: its run.json and a FINISHED child MLflow run
    saying so (Azure ML's `azureml.isreused` and `azureml.reusedrunid`), with the original's
    final metrics; its status."""
    manifest = run.manifest
    assert manifest.reused_from is not None, "reused steps only"
    record_started(run.folder, manifest)
    try:
        original = read_manifest(Path(manifest.reused_from)).tracking_run_id or ""
    except (OSError, ValueError, TypeError):  # removed since it was chosen: named by folder
        original = manifest.reused_from
    tags = {REUSED_TAG: "true", REUSED_RUN_TAG: original}
    store = run.store
    tracked = tracking_step(
        "the reused step's MLflow run not made", lambda: start_tracking(store, manifest, tags)
    )
    if tracked is not None:
        inputs, run_id = manifest.params, tracked.run_id
        tracking_step("inputs not logged", lambda: store.record_params(run_id, inputs))
        tracking_step(
            "the original's metrics not logged",
            lambda: store.record_metrics(run_id, manifest.metrics, time.time()),
        )
        tracking_step(
            "MLflow run not ended", lambda: store.finish_run(run_id, FINISHED, time.time())
        )
    manifest.ended = timestamp()
    manifest.write(run.folder)
    return FINISHED


def _record_skipped(run: PipelineRun, progress: _Progress) -> None:
    """The run.json of each step that never started: SKIPPED, with what it would have run
    (so that `just rerun` can repeat it); it has no MLflow run."""
    for name, step in run.steps.items():
        if progress.status.get(name, SKIPPED) == SKIPPED:
            progress.status[name] = SKIPPED
            step.manifest.status, step.manifest.tracking_run_id = SKIPPED, None
            try:
                step.manifest.write(step.folder)
            except OSError as error:
                report.warning(f"step {name}: {MANIFEST} not written: {error}")


def _ended(
    run: PipelineRun, name: str, code: int, progress: _Progress, supervisor: Supervisor
) -> None:
    status = run.steps[name].manifest.status
    progress.status[name] = status
    seconds = run.steps[name].manifest.duration_seconds or 0.0
    report.note(f"step {name}: {status} (exit code {code}, {seconds:.3f} s)")
    if status == FINISHED or progress.first_failure is not None:
        return
    progress.first_failure = name
    run.manifest.exit_code = code
    if not run.pipeline.continue_on_step_failure and not supervisor.signalled:
        report.warning(
            f"step {name} {status.lower()}: stopping the running steps and skipping the rest, "
            "as Azure ML does (settings.continue_on_step_failure: true lets the others go on)"
        )
        supervisor.stop_all()


def _record(
    run: PipelineRun,
    progress: _Progress,
    signalled: bool,
    seconds: float,
    tracked: TrackedRun | None,
) -> None:
    """The pipeline's MLflow run ended and its run.json completed, whatever happened."""
    manifest = run.manifest
    if signalled:
        manifest.status = "KILLED"
        manifest.exit_code = manifest.exit_code or INTERRUPTED
    elif progress.first_failure is not None or len(progress.status) < len(run.steps):
        manifest.status = "FAILED"
        manifest.exit_code = manifest.exit_code or 1
    else:
        manifest.status, manifest.exit_code = FINISHED, 0
    manifest.ended = timestamp()
    manifest.duration_seconds = round(seconds, 3)
    record_parent_outcome(run.store, run.folder, manifest, tracked, {})


def _say_outcome(run: PipelineRun, progress: _Progress) -> None:
    """The last lines: the failed step and the end of its log (unless the pipeline was told
    to stop), then the pipeline's end."""
    manifest = run.manifest
    failed = None if manifest.status == "KILLED" else progress.first_failure  # told to stop
    if failed is not None:
        say_log_end(f"step {failed}", run.folder / step_folder(failed) / JOB_LOG)
    counts = count_statuses(progress.status.values())
    where = f" at step {failed}" if failed else ""
    report.note(
        f"pipeline {run.folder.name} ended {manifest.status}{where} (exit code "
        f"{manifest.exit_code}) after {manifest.duration_seconds:.3f} s: {counts}"
    )
