"""Running a prepared local run and recording its outcome: the job's MLflow run finished
with its outputs and logs attached, and run.json completed, whatever happened."""

import contextlib
import dataclasses
import errno
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from pathlib import Path
from typing import TypeVar

from scripts.console import report
from scripts.console.cli import INTERRUPTED, LOCALHOST, free_port, stop_signals_as_ctrl_c
from scripts.console.errors import CommandError, StoreError, ToolingError, from_os_error
from scripts.jobspec.distribution import process_variables
from scripts.jobspec.inputs import input_path
from scripts.runfolder.layout import (
    ATTACHED,
    CODE,
    JOB_LOG,
    MANIFEST,
    TRACKING_SERVER_LOG,
    process_log,
)
from scripts.runfolder.manifest import Manifest, timestamp
from scripts.runner.debugging import SETTING as DEBUG_SETTING
from scripts.runner.environments import bytecode_compiled_alongside
from scripts.runner.orphans import identity
from scripts.runner.prepare import LocalRun, record_started
from scripts.runner.process import JobProcess, Supervisor, shell_command
from scripts.runner.read_only import Snapshot, first_change, snapshot
from scripts.tracking.project_store import PARENT_RUN_TAG, TRACKING_URI_VARIABLE, run_tags
from scripts.tracking.store import TrackedRun, new_run_id
from scripts.tracking.trackers import CREDENTIAL_VARIABLES, LocalStore, TeamServer, Tracker

T = TypeVar("T")
# On a run completed in the local store when its team server stopped answering: the id of
# its run on the server, where what the job logged stays.
SERVER_RUN_TAG = "tooling.server_run_id"
KILLED_EXIT_CODES = {129, 130, 137, 143}  # a shell's report of SIGHUP, SIGINT, SIGKILL, SIGTERM
LOG_LINES_SHOWN = 10  # of a failed job's log, when its parent (pipeline, sweep) ends


class JobNotStarted(CommandError):
    """The system refused to start the job's command (exec failed)."""

    exit_code = 126  # what a shell reports for a command it found but could not run


def run_tracked(run: LocalRun) -> int:
    """Execute the job, stop signals going to it (see Supervisor), then record its
    outcome; the job's exit code (128+N for signal N)."""
    with Supervisor() as supervisor:
        code = run_supervised(run, supervisor)
    seconds = run.manifest.duration_seconds or 0.0
    report.note(f"run {run.folder.name} ended with exit code {code} after {seconds:.3f} s")
    return code


def run_supervised(run: LocalRun, supervisor: Supervisor) -> int:
    """Execute the job under `supervisor` (from any thread), then record its outcome; the
    job's exit code.

    The record is written so that it can always be completed or settled: run.json first
    (prepare wrote it, RUNNING, naming this process), then the MLflow run, then the job;
    at the end MLflow first, then run.json. A runner killed at any point leaves a run.json
    that `just runs` settles from what exists. Stop signals never cut the record short:
    the supervisor passes them on to the job, it never raises them here."""
    tracked: TrackedRun | None = None
    code, stopped, seconds = 1, False, 0.0
    failure: BaseException | None = None
    try:
        run, tracked = _started(run)
        code, stopped, seconds = _execute_job(run, supervisor)
    except KeyboardInterrupt:  # a served job's tracking server, interrupted as it started
        code, stopped = INTERRUPTED, True
    except BaseException as error:  # recorded FAILED, then said
        failure = error
    code = JobNotStarted.exit_code if isinstance(failure, JobNotStarted) else code
    _record_outcome(run, tracked, status_of(code, stopped), code, seconds)
    if failure is not None:
        raise failure
    return code


def run_child(run: LocalRun, supervisor: Supervisor, kind: str) -> int:
    """A pipeline's step or a sweep's trial (`kind`) run on a worker thread: its run.json
    written as it starts, then run as a command job is; its exit code. What stops it from
    starting is said in one line and recorded FAILED: its parent goes on."""
    record_started(run.folder, run.manifest)
    try:
        return run_supervised(run, supervisor)
    except ToolingError as error:
        report.warning(f"{kind} {run.manifest.run_name}: {error}")
        return run.manifest.exit_code or error.exit_code


def start_tracking(
    store: Tracker, manifest: Manifest, tags: dict[str, str] | None = None
) -> TrackedRun:
    """The MLflow run of the run `manifest` records, RUNNING in `store` before the job
    starts (every run is one, whether or not the job uses MLflow), with `tags` besides the
    usual ones; a pipeline step's is a child of its pipeline's (`mlflow.parentRunId`, which
    MLflow's UI nests by). A local store's run has the id run.json names; a server gives
    its own, which run.json then names."""
    assert manifest.tracking_run_id is not None, "prepare chose the run's id"
    tags = run_tags(manifest.run_name, manifest.git) | (tags or {})
    if manifest.parent_run_id:
        tags[PARENT_RUN_TAG] = manifest.parent_run_id
    tracked = store.create_run(
        manifest.mlflow_experiment, manifest.tracking_run_id, manifest.run_name, tags
    )
    manifest.tracking_store, manifest.tracking_run_id = store.where, tracked.run_id
    return tracked


def _started(run: LocalRun) -> tuple[LocalRun, TrackedRun]:
    """The run's MLflow run started, and the run as it goes on: the job's variables naming
    that MLflow run; on a team server that does not answer, in its local store instead."""
    try:
        tracked = start_tracking(run.store, run.manifest)
    except StoreError as error:
        if not isinstance(run.store, TeamServer):
            raise
        report.warning(f"{error}; this run is tracked in {run.store.fallback.where} instead")
        run = _tracked_locally(run)
        tracked = start_tracking(run.store, run.manifest)
    manifest = run.manifest
    assert manifest.tracking_run_id is not None
    run.environment.update(run.store.job_variables(manifest.mlflow_experiment, tracked.run_id))
    return run, tracked


def _tracked_locally(run: LocalRun) -> LocalRun:
    """`run` tracked in its team server's local store from now on: the server's
    credentials taken out of the job's variables."""
    assert isinstance(run.store, TeamServer)
    local = run.store.fallback
    local.ensure_experiment(run.manifest.mlflow_experiment)
    for name in CREDENTIAL_VARIABLES:
        run.environment.pop(name, None)
    return dataclasses.replace(run, store=local)


def _execute_job(run: LocalRun, supervisor: Supervisor) -> tuple[int, bool, float]:
    """The job run: its exit code, whether it was told to stop, and its time."""

    def job_started(pid: int) -> None:
        run.manifest.job = identity(pid)
        with contextlib.suppress(OSError):  # a full disk: the job must run all the same
            run.manifest.write(run.folder)

    guarded = _read_only_inputs(run)
    try:
        with _job_environment(run) as environment, _compiling(run, environment):
            started = time.perf_counter()  # the job's time, not its tracking server's
            try:
                code, stopped = supervisor.execute(
                    run.folder / CODE,
                    _processes(run, environment),
                    job_started,
                    run.manifest.timeout_seconds,
                )
            except OSError as error:
                raise JobNotStarted(
                    f"the job's command could not be started: {from_os_error(error)}"
                    + _too_long(run.command, error)
                ) from None
            seconds = time.perf_counter() - started
    except CommandError as error:
        if isinstance(error, JobNotStarted):
            raise
        report.warning(f"{error}; the job was not started")  # its tracking server did not
        return 1, False, 0.0
    _report_writes(guarded)
    return code, stopped, seconds


def _compiling(run: LocalRun, environment: dict[str, str]) -> AbstractContextManager[None]:
    """The local environment's bytecode compiled alongside the job if need be (not an
    image's: its build compiled it)."""
    if run.venv is None:
        return contextlib.nullcontext()
    return bytecode_compiled_alongside(run.venv, environment)


def _too_long(command: str, error: OSError) -> str:
    if error.errno != errno.E2BIG:
        return ""
    return (
        f" (the rendered command is {len(command.encode()):,} bytes): pass long values "
        "through a file input, not the command line"
    )


@contextmanager
def _job_environment(run: LocalRun) -> Iterator[dict[str, str]]:
    """The job's environment; when its MLflow is another version than the tooling's, with a
    tracking server over the store to log to (started now, stopped when the job has ended)."""
    if not (run.served and isinstance(run.store, LocalStore)):  # a server speaks REST to any
        yield run.environment
        return
    from scripts.tracking.server import HOST, serving  # its imports cost ~10 ms

    report.note(f"starting an MLflow server on {HOST} for the job's MLflow ...")
    log = run.folder / TRACKING_SERVER_LOG
    log.parent.mkdir(exist_ok=True)
    with contextlib.ExitStack() as stack:
        with stop_signals_as_ctrl_c():  # SIGTERM while it starts: as Ctrl-C, it is stopped
            store = run.store
            server = stack.enter_context(serving(store.path, store.artifacts, free_port(), log))
        yield run.environment | {TRACKING_URI_VARIABLE: server.url}


def _processes(run: LocalRun, environment: dict[str, str]) -> list[JobProcess]:
    """The job's process, or one per rank of a distributed job: each with its variables
    and its own log, the terminal showing the first; a debugger waits in the first only."""
    distribution = run.manifest.distribution
    if distribution is None:
        return [_process(run, 0, environment, run.folder / JOB_LOG)]
    ranks = process_variables(distribution, free_port)
    report.note(
        f"distribution: {distribution['type']}, {len(ranks)} processes on {LOCALHOST}; the "
        f"terminal shows process 0, each one's output is in {process_log('N')}"
    )
    if distribution["type"] == "mpi":
        report.note(
            "mpi: each process has Open MPI's OMPI_COMM_WORLD_* variables, but no mpirun "
            "starts them: code that calls MPI itself (mpi4py, Horovod) does not connect here"
        )
    undebugged = {name: value for name, value in environment.items() if name != DEBUG_SETTING}
    return [
        _process(
            run,
            rank,
            (undebugged if rank else environment) | variables,
            run.folder / process_log(rank),
        )
        for rank, variables in enumerate(ranks)
    ]


def _process(run: LocalRun, rank: int, environment: dict[str, str], log: Path) -> JobProcess:
    """Process `rank` of the job: its command through a shell here, or in a container of
    the job's image with `environment`, the job's own variables, passed in."""
    if run.container is None:
        shown = run.shown and rank == 0
        return JobProcess(shell_command(run.command), environment, log, shown=shown)
    from scripts.containers.jobs import send_signal  # only --docker runs need it

    argv = run.container.run_argv(rank, list(environment), run.command)
    name = run.container.process_name(rank)
    return JobProcess(
        argv,
        os.environ | environment,
        log,
        shown=run.shown and rank == 0,
        deliver=lambda signum: send_signal(name, signum),
    )


def _read_only_inputs(run: LocalRun) -> dict[str, tuple[Path, Snapshot]]:
    """Each input Azure ML gives the job read-only, its local path and what is there now."""
    guarded = {}
    for name in run.manifest.read_only_inputs:
        value = run.manifest.inputs.get(name)
        if value is not None:
            path = input_path(value)
            guarded[name] = (path, snapshot(path))
    return guarded


def _report_writes(guarded: dict[str, tuple[Path, Snapshot]]) -> None:
    """A warning for each read-only input the job changed."""
    for name, (path, before) in guarded.items():
        changed = first_change(before, path)
        if changed:
            report.warning(
                f"the job changed its input {name!r} ({changed}), which Azure ML gives it "
                "read-only (mounted, the write fails; downloaded, it is lost): write to "
                "./outputs or a declared output instead"
            )


def status_of(code: int, stopped: bool) -> str:
    """MLflow's final status for a job that exited with `code`."""
    if code == 0:
        return "FINISHED"
    if stopped or code in KILLED_EXIT_CODES:
        return "KILLED"
    return "FAILED"


def _record_outcome(
    run: LocalRun, tracked: TrackedRun | None, status: str, code: int, seconds: float
) -> None:
    """Finish the MLflow run (outputs and logs attached, the resolved inputs logged as
    parameters where the job logged none of that name, its final status) and then write
    run.json. Each step that fails is one warning and the others still happen: the MLflow
    run always gets its status and end, and run.json is complete regardless."""
    manifest = run.manifest
    manifest.status, manifest.exit_code = status, code
    manifest.ended = timestamp()
    manifest.duration_seconds = round(seconds, 3)
    if tracked is not None and isinstance(run.store, TeamServer):
        run, tracked = _answering(run, tracked)
    if tracked is not None:
        store, run_id = run.store, tracked.run_id
        attached = [
            tracking_step(
                f"{folder} not attached to the MLflow run",
                partial(store.attach_artifacts, tracked, run.folder / folder, artifact_path),
            )
            for folder, artifact_path in ATTACHED
            if (run.folder / folder).is_dir()
        ]
        if False in attached:
            report.warning(
                f"outputs and logs not attached: {store.where} takes no artifacts through "
                "its REST API (an MLflow server does when started with --serve-artifacts)"
            )
        inputs = manifest.params
        tracking_step(
            "inputs not logged as parameters", lambda: store.record_params(run_id, inputs)
        )
        tracking_step("MLflow run not ended", lambda: store.finish_run(run_id, status, time.time()))
        manifest.metrics = (
            tracking_step("metrics not read back", lambda: store.latest_metrics(run_id)) or {}
        )
    try:
        manifest.write(run.folder)
    except OSError as error:  # the job's exit code still stands
        report.warning(f"{MANIFEST} not completed: {from_os_error(error)}")


def _answering(run: LocalRun, tracked: TrackedRun) -> tuple[LocalRun, TrackedRun | None]:
    """The run and its MLflow run where its outcome can be recorded: on its team server if
    that still answers, else a new one in the server's local store, said in one line."""
    assert isinstance(run.store, TeamServer)
    try:
        run.store.check()
        return run, tracked
    except StoreError as error:
        local = run.store.fallback
        report.warning(
            f"{error}; the run is completed in {local.where} instead (what the job logged "
            "to the server stays there)"
        )
    local_run = tracking_step("its local MLflow run not made", lambda: _tracked_locally(run))
    if local_run is None:
        return run, None
    manifest = local_run.manifest
    manifest.tracking_run_id = new_run_id()
    tags = {SERVER_RUN_TAG: tracked.run_id}
    started = tracking_step(
        "its local MLflow run not made", lambda: start_tracking(local_run.store, manifest, tags)
    )
    return local_run, started


def record_parent_outcome(
    store: Tracker,
    folder: Path,
    manifest: Manifest,
    tracked: TrackedRun | None,
    tags: dict[str, str],
) -> None:
    """A pipeline's or sweep's MLflow run, in `store`, ended (its inputs as parameters,
    `tags` set, its final status), then its run.json in `folder` completed; each part that
    fails is one warning and the others still happen."""
    kind, run_id = manifest.kind, manifest.tracking_run_id
    if tracked is not None and run_id is not None:
        params = manifest.params
        tracking_step(
            f"the {kind}'s inputs not logged as parameters",
            lambda: store.record_params(run_id, params),
        )
        if tags:
            tracking_step(f"the {kind}'s tags not set", lambda: store.record_tags(run_id, tags))
        tracking_step(
            f"the {kind}'s MLflow run not ended",
            lambda: store.finish_run(run_id, manifest.status, time.time()),
        )
    try:
        manifest.write(folder)
    except OSError as error:
        report.warning(f"{MANIFEST} not completed: {from_os_error(error)}")


def tracking_step(failed: str, step: Callable[[], T]) -> T | None:
    """`step()`, or None after a one-line warning that `failed` when the store or the disk
    refuses it."""
    try:
        return step()
    except StoreError as error:
        report.warning(f"{failed}: {error}")
    except OSError as error:
        report.warning(f"{failed}: {_one_line(error)}")
    return None


def _one_line(error: OSError) -> str:
    """An OSError as one line; a failed copy (shutil.Error, a list of them) by its first."""
    if isinstance(error, shutil.Error) and error.args and isinstance(error.args[0], list):
        failures = error.args[0]
        _, destination, why = failures[0]
        return f"{len(failures)} file(s) not copied, the first {destination}: {why}"
    return str(from_os_error(error))


def say_log_end(whose: str, log: Path) -> None:
    """One note: the last LOG_LINES_SHOWN lines of `whose` job log `log`, indented (its
    path alone when it cannot be read or is empty)."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        lines = []
    tail = "\n".join(f"  {line}" for line in lines[-LOG_LINES_SHOWN:])
    report.note(f"{whose}'s log, {log}, ends:\n{tail}" if tail else f"log: {log}")


def count_statuses(statuses: Iterable[str]) -> str:
    """`2 FAILED, 3 FINISHED`: how many children ended with each status."""
    counted = Counter(statuses)
    return ", ".join(f"{counted[status]} {status}" for status in sorted(counted))
