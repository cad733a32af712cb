"""The job's processes (one, or one per rank of a distributed job): their environment,
their shell, their output tee'd to the terminal and to their logs, how Ctrl-C, SIGTERM and
SIGHUP reach them, and how one failing stops the others.

A job is all the processes its command starts (`prep && train`, `a & b; wait`): each of
the job's processes leads a process group of its own, and every signal the runner sends
goes to the whole group, so no part of a job runs on after it was stopped. Processes the
command leaves behind when it ends are stopped too, as Azure ML ends them with the job's
container. The job reads no terminal (stdin is empty, as on Azure ML)."""

import contextlib
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, Any, BinaryIO

from scripts.console import report
from scripts.console.cli import INTERRUPTED, shell_exit_code
from scripts.console.errors import from_os_error

# The project's own environment must not leak into the job's, nor MLflow settings of the
# caller's shell (an exported MLFLOW_RUN_ID would make the job log into another run).
_DROPPED_VARIABLES = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CONDA_PREFIX")
_DROPPED_PREFIXES = ("MLFLOW_",)
# After the environment's own bin/ on the job's PATH: what must not be the user's own
# (pip: the environment has none, so the next on PATH would install into the user's Python).
JOB_BIN = Path(__file__).parent / "job_bin"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
CTRL_C_WINDOW_SECONDS = 5  # a Ctrl-C this soon after another one escalates
TIMEOUT_GRACE_SECONDS = 10  # after the SIGTERM that stops a job, before SIGKILL
OUTPUT_GRACE_SECONDS = 5  # for the job's output to drain once its processes have ended


def payload_environment(venv: Path, variables: dict[str, str]) -> dict[str, str]:
    """The caller's environment without the tooling's Python, with `venv` first on PATH
    (then JOB_BIN), then `variables` (the job's own and MLflow's)."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in _DROPPED_VARIABLES and not k.startswith(_DROPPED_PREFIXES)
    }
    tooling_bin = str(Path(sys.prefix) / "bin")
    path = [p for p in environment.get("PATH", "").split(os.pathsep) if p and p != tooling_bin]
    environment["PATH"] = os.pathsep.join([str(venv / "bin"), str(JOB_BIN), *path])
    environment["VIRTUAL_ENV"] = str(venv)
    environment["PYTHONUNBUFFERED"] = "1"  # as in the job image; logs stream live
    return environment | variables


def shell_command(command: str) -> list[str]:
    """Azure ML runs the job's command through a shell; so do we."""
    return [shutil.which("bash") or "/bin/sh", "-c", command]


@dataclass(frozen=True)
class JobProcess:
    """One process of the job: its command line (the job's command through a shell, or a
    container running it), its environment, its log, whether the terminal shows it, and
    `deliver`: how a signal reaches what it runs when the process cannot pass it on (a
    container, which outlives its `docker run`). Such a process is started out of the
    terminal's reach, and every signal goes that way (SIGKILL to the process as well)."""

    argv: list[str]
    environment: dict[str, str]
    log: Path
    shown: bool = True
    deliver: Callable[[int], None] | None = None


class _Group(list[subprocess.Popen[bytes]]):
    """One job's processes, started in the order of `specs` in `folder`; `stopped` once the runner
    stopped it (its time limit, another process's failure, `Supervisor.stop_all`), and
    `kill_at`, when they get SIGKILL if they have not ended by then. `events` wakes the
    wait: (index, exit status) as each process ends, WAKE when it must look again."""

    def __init__(self, specs: Sequence[JobProcess], folder: Path) -> None:
        super().__init__()
        self.specs, self.folder = specs, folder
        self.stopped = False
        self.kill_at: float | None = None
        self.events: queue.SimpleQueue[tuple[int, int]] = queue.SimpleQueue()

    def stop(self, told: bool = True) -> None:
        """SIGTERM to every process still running, SIGKILL after the grace period; `told`:
        the job counts as told to stop (not for the others of a failed process)."""
        self.stopped = self.stopped or told
        _send(self, signal.SIGTERM)
        self.kill_at = time.monotonic() + TIMEOUT_GRACE_SECONDS
        self.events.put(_WAKE)


_WAKE = (-1, 0)


class Supervisor:
    """The one owner of Ctrl-C, SIGTERM and SIGHUP while jobs run: one job, or many at once
    (the steps of a pipeline), each its own process groups, folder, logs and time limit.

    Entered on the main thread (Python delivers signals there), it records each stop signal
    and passes it on to every running job, never raising: each job ends, and is recorded,
    as its processes end. A terminal's Ctrl-C goes on as Ctrl-C; a second one within a few
    seconds terminates the jobs, a third kills them (a job may catch Ctrl-C and go on);
    SIGTERM and SIGHUP go on as they came. `execute` may be called from any thread."""

    def __init__(self) -> None:
        self._stops: list[float] = []  # when each stop signal came
        self._stopped_all = False
        self._running: list[_Group] = []
        self._lock = threading.Lock()
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> "Supervisor":
        self._previous = {signum: signal.signal(signum, self._stop) for signum in STOP_SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler or signal.SIG_DFL)

    @property
    def signalled(self) -> bool:
        """Whether a stop signal came."""
        return bool(self._stops)

    @property
    def stopping(self) -> bool:
        """Whether a stop signal came or every job was stopped: no job starts any more."""
        return self.signalled or self._stopped_all

    def stop_all(self) -> None:
        """Stop every running job (SIGTERM, SIGKILL after the grace period): each ends told
        to stop, and no job starts after it."""
        self._stopped_all = True
        for group in list(self._running):
            group.stop()

    def stop(self, folder: Path) -> None:
        """Stop the job running in `folder` (its working directory, as `execute` was given
        it: a sweep's trial stopped early), as stop_all stops each job; nothing if none runs
        there."""
        for group in list(self._running):
            if group.folder == folder:
                group.stop()

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        now = time.monotonic()
        recent = [moment for moment in self._stops if now - moment <= CTRL_C_WINDOW_SECONDS]
        self._stops.append(now)
        if signum == signal.SIGINT and recent:
            signum = signal.SIGTERM if len(recent) == 1 else signal.SIGKILL
        elif signum == signal.SIGINT:
            report.note(
                f"stopping: the job got Ctrl-C; press it again within {CTRL_C_WINDOW_SECONDS} s "
                "to terminate it (SIGTERM), a third time to kill it (SIGKILL)"
            )
        for group in list(self._running):  # a copy: jobs start and end meanwhile
            _send(group, signum)

    def execute(
        self,
        folder: Path,
        processes: Sequence[JobProcess],
        started: Callable[[int], None],
        timeout_seconds: int | None = None,
    ) -> tuple[int, bool]:
        """Run each of `processes` in `folder` (`started` is told the first one's pid),
        each one's output streaming into its log and, if shown, to the terminal; the job's
        exit code (128+N for signal N), and whether it was told to stop.

        The first process to fail stops the others, and its exit code is the job's, as
        Azure ML ends a distributed job. A job still running after `timeout_seconds`
        (limits.timeout) is stopped as Azure ML cancels one. Stopping is SIGTERM, then
        SIGKILL after a grace period; a timeout counts as told to stop. A job asked to run
        after a stop signal came, or after stop_all, is not started (exit code 130, told to
        stop)."""
        group = _Group(processes, folder)
        with contextlib.ExitStack() as logs:
            pumps: list[threading.Thread] = []
            job_logs: list[tuple[Path, _Log]] = []
            with self._lock:
                if self.stopping:
                    return INTERRUPTED, True
                self._running.append(group)
            logs.callback(self._running.remove, group)
            try:
                for spec in processes:
                    spec.log.parent.mkdir(exist_ok=True)
                    job_log = _Log(spec.log.open("wb", buffering=0))
                    logs.callback(job_log.close)
                    job_logs.append((spec.log, job_log))
                    group.append(_start(spec, folder))
                    pumps += _pumps(group[-1], job_log, spec.shown)
            except BaseException:  # the processes started so far must not run on alone
                _send(group, signal.SIGKILL)
                raise
            if self.signalled:  # a signal came while it started: it missed it
                _send(group, signal.SIGTERM)
            started(group[0].pid)
            code = _wait(group, timeout_seconds, self)
            _end_leftovers(group)
            _join(pumps)
        for path, job_log in job_logs:
            if job_log.failure:
                report.warning(f"{path.name} is incomplete: {from_os_error(job_log.failure)}")
        return code, group.stopped or self.signalled


def _start(spec: JobProcess, folder: Path) -> subprocess.Popen[bytes]:
    """The process, leading a process group of its own (a container's `docker run`, a
    session of its own: out of the terminal's reach altogether)."""
    return subprocess.Popen(
        spec.argv,
        cwd=folder,
        env=spec.environment,
        process_group=None if spec.deliver else 0,
        start_new_session=spec.deliver is not None,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _pumps(process: subprocess.Popen[bytes], log: "_Log", shown: bool) -> list[threading.Thread]:
    """Started threads copying the process's stdout and stderr into `log` (as it comes:
    the log is read while the job runs) and, if `shown`, to the terminal."""
    assert process.stdout is not None and process.stderr is not None
    pumps = []
    for stream, terminal in ((process.stdout, sys.stdout), (process.stderr, sys.stderr)):
        shown_on = terminal.buffer if shown else None
        pumps.append(threading.Thread(target=_tee, args=(stream, shown_on, log), daemon=True))
        pumps[-1].start()
    return pumps


def _wait(group: _Group, timeout_seconds: int | None, supervisor: Supervisor) -> int:
    """Wait for every process of `group`; the job's exit code: the first failure's, else 0.
    The first failure stops the others, as does the timeout."""
    for index, process in enumerate(group):
        threading.Thread(
            target=lambda i=index, p=process: group.events.put((i, p.wait())), daemon=True
        ).start()
    deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
    codes: dict[int, int] = {}
    failure: int | None = None
    while len(codes) < len(group):
        due = min((t for t in (deadline, group.kill_at) if t is not None), default=None)
        try:
            index, code = group.events.get(
                timeout=None if due is None else max(0.0, due - time.monotonic())
            )
        except queue.Empty:
            if group.kill_at is not None and time.monotonic() >= group.kill_at:
                _send(group, signal.SIGKILL)
                group.kill_at = None
            elif deadline is not None and time.monotonic() >= deadline:
                report.warning(
                    f"the job ran past its limits.timeout ({timeout_seconds} s): stopping it "
                    f"(SIGTERM, then SIGKILL after {TIMEOUT_GRACE_SECONDS} s), as Azure ML "
                    "cancels it"
                )
                deadline = None
                group.stop()
            continue
        if (index, code) == _WAKE:
            continue
        codes[index] = shell_exit_code(code)
        if code != 0 and failure is None:
            failure = codes[index]
            if len(codes) < len(group) and not (supervisor.signalled or group.stopped):
                report.warning(
                    f"process {index} failed (exit code {failure}): stopping the others, as "
                    "Azure ML ends a distributed job"
                )
                group.stop(told=False)
    return failure or 0


def _send(group: _Group, signum: int) -> None:
    """`signum` to each process still running and the processes of its group, through its
    `deliver` where it has one (a container: `docker run` itself gets SIGKILL only)."""
    for process, spec in zip(group, group.specs, strict=False):
        if process.poll() is not None:
            continue
        if spec.deliver:
            spec.deliver(signum)
            if signum == signal.SIGKILL:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signum)
        else:
            _signal_group(process.pid, signum)


def _signal_group(leader: int, signum: int) -> bool:
    """`signum` to the process group `leader` led; whether any process of it was there."""
    try:
        os.killpg(leader, signum)
    except ProcessLookupError:
        return False
    return True


def _end_leftovers(group: _Group) -> None:
    """Stop what the job's commands started and left running when they ended (`train &`
    without `wait`): SIGTERM, then SIGKILL after the grace period."""
    lingering = [
        process.pid
        for process, spec in zip(group, group.specs, strict=False)
        if not spec.deliver and _signal_group(process.pid, 0)
    ]
    if not lingering:
        return
    report.warning(
        "the job's command ended but left processes running: stopping them (SIGTERM, then "
        f"SIGKILL after {TIMEOUT_GRACE_SECONDS} s), as Azure ML ends them with the job"
    )
    for leader in lingering:
        _signal_group(leader, signal.SIGTERM)
    deadline = time.monotonic() + TIMEOUT_GRACE_SECONDS
    while time.monotonic() < deadline and any(_signal_group(pid, 0) for pid in lingering):
        time.sleep(0.05)
    for leader in lingering:
        _signal_group(leader, signal.SIGKILL)


def _join(pumps: list[threading.Thread]) -> None:
    """Wait for the pumps to copy what the job wrote. The job's processes have all ended;
    a pump still waiting after OUTPUT_GRACE_SECONDS is held by a process the job started
    outside its process group (in a session of its own): it is left to itself."""
    deadline = time.monotonic() + OUTPUT_GRACE_SECONDS
    for pump in pumps:
        pump.join(max(0.0, deadline - time.monotonic()))
    if any(pump.is_alive() for pump in pumps):
        report.warning(
            "a process the job started in a session of its own still holds the job's output: "
            "its log stops here, and that process is not stopped with the job"
        )


class _Log:
    """The job's log, written by both pumps; if writing fails (a full disk), the log stops
    and the job goes on. Once closed, what still comes is dropped."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.failure: OSError | None = None
        self.closed = False
        self._lock = threading.Lock()

    def write(self, chunk: bytes) -> None:
        with self._lock:
            if self.failure or self.closed:
                return
            try:
                self.file.write(chunk)
            except OSError as error:
                self.failure = error

    def close(self) -> None:
        with self._lock:
            self.closed = True
            self.file.close()


def _tee(source: IO[bytes], terminal: BinaryIO | None, log: _Log) -> None:
    """Copy the job's output to the log (as it comes: the log is read while the job runs, and
    kept if the runner is killed) and the terminal, if given, until the job closes it; a
    closed terminal (`just local X | head`) must not stall the job: the log goes on alone."""
    live = terminal
    for chunk in iter(lambda: source.read1(65536), b""):  # type: ignore[attr-defined]
        if log.closed:  # the job has ended: what comes now is not its
            return
        log.write(chunk)
        if live:
            try:
                live.write(chunk)
                live.flush()
            except OSError:
                live = None
