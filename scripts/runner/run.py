"""Running a prepared local run and recording its outcome: the job's MLflow run finished
with its outputs and logs attached, and run.json completed, whatever happened."""

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scripts.console import report
from scripts.console.cli import INTERRUPTED, LOCALHOST, free_port, stop_signals_as_ctrl_c
from scripts.console.errors import CommandError, StoreError, from_os_error
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
from scripts.runfolder.manifest import timestamp
from scripts.runner.debugging import SETTING as DEBUG_SETTING
from scripts.runner.orphans import identity
from scripts.runner.prepare import LocalRun
from scripts.runner.process import STOP_SIGNALS, JobProcess, execute, shell_command
from scripts.runner.read_only import Snapshot, first_change, snapshot
from scripts.tracking.project_store import TRACKING_URI_VARIABLE
from scripts.tracking.store import attach_artifacts, finish_run, latest_metrics, record_params

KILLED_EXIT_CODES = {129, 130, 137, 143}  # a shell's report of SIGHUP, SIGINT, SIGKILL, SIGTERM


def run_tracked(run: LocalRun) -> int:
    """Execute the job, then record its outcome; the job's exit code (128+N for signal N)."""
    handlers = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    try:
        run.manifest.started = timestamp()
        run.manifest.runner = identity(os.getpid())
        run.manifest.write(run.folder)

        def job_started(pid: int) -> None:
            run.manifest.job = identity(pid)
            with contextlib.suppress(OSError):  # a full disk: the job must run all the same
                run.manifest.write(run.folder)

        guarded = _read_only_inputs(run)
        try:
            with _job_environment(run) as environment:
                started = time.perf_counter()  # the job's time, not its tracking server's
                code, stopped = execute(
                    run.folder / CODE,
                    _processes(run, environment),
                    job_started,
                    run.manifest.timeout_seconds,
                )
                seconds = time.perf_counter() - started
        except KeyboardInterrupt:  # while the tracking server started: the job never did
            code, stopped, seconds = INTERRUPTED, True, 0.0
        except CommandError as error:  # the tracking server did not start
            report.warning(f"{error}; the job was not started")
            code, stopped, seconds = 1, False, 0.0
        for signum in STOP_SIGNALS:  # the outcome is recorded, come what may
            signal.signal(signum, signal.SIG_IGN)
        _report_writes(guarded)
        _record_outcome(run, status_of(code, stopped), code, seconds)
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler or signal.SIG_DFL)
    report.note(f"run {run.folder.name} ended with exit code {code} after {seconds:.3f} s")
    return code


@contextmanager
def _job_environment(run: LocalRun) -> Iterator[dict[str, str]]:
    """The job's environment; when its MLflow is another version than the tooling's, with a
    tracking server over the store to log to (started now, stopped when the job has ended)."""
    if not run.served:
        yield run.environment
        return
    from scripts.tracking.server import HOST, serving  # its imports cost ~10 ms

    report.note(f"starting an MLflow server on {HOST} for the job's MLflow ...")
    log = run.folder / TRACKING_SERVER_LOG
    log.parent.mkdir(exist_ok=True)
    with contextlib.ExitStack() as stack:
        with stop_signals_as_ctrl_c():  # SIGTERM while it starts: as Ctrl-C, it is stopped
            server = stack.enter_context(serving(run.store, run.artifacts, free_port(), log))
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
        return JobProcess(shell_command(run.command), environment, log, shown=rank == 0)
    from scripts.containers.jobs import send_signal  # only --docker runs need it

    argv = run.container.run_argv(rank, list(environment), run.command)
    name = run.container.process_name(rank)
    return JobProcess(
        argv,
        os.environ | environment,
        log,
        shown=rank == 0,
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


def _record_outcome(run: LocalRun, status: str, code: int, seconds: float) -> None:
    """Finish the MLflow run (outputs and logs attached, the resolved inputs logged as
    parameters where the job logged none of that name) and write run.json; a tracking
    failure is reported, and the run folder and its manifest are complete regardless."""
    manifest = run.manifest
    manifest.status, manifest.exit_code = status, code
    manifest.ended = timestamp()
    manifest.duration_seconds = round(seconds, 3)
    try:
        for folder, artifact_path in ATTACHED:
            if (run.folder / folder).is_dir():
                attach_artifacts(run.tracked, run.folder / folder, artifact_path)
        inputs = {name: value for name, value in manifest.inputs.items() if value is not None}
        record_params(run.store, run.tracked.run_id, inputs)
        finish_run(run.store, run.tracked.run_id, status, time.time())
        manifest.metrics = latest_metrics(run.store, run.tracked.run_id)
    except (StoreError, OSError) as error:
        report.warning(f"tracking not completed: {error}")
    try:
        manifest.write(run.folder)
    except OSError as error:  # the job's exit code still stands
        report.warning(f"{MANIFEST} not completed: {from_os_error(error)}")
