"""The job's process: its environment, its shell, its output tee'd to the terminal and to
logs/std_log.txt, and how Ctrl-C, SIGTERM and SIGHUP reach it."""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import IO, BinaryIO

from scripts.console import report
from scripts.console.errors import from_os_error

# The project's own environment must not leak into the job's, nor MLflow settings of the
# caller's shell (an exported MLFLOW_RUN_ID would make the job log into another run).
_DROPPED_VARIABLES = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CONDA_PREFIX")
_DROPPED_PREFIXES = ("MLFLOW_",)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
CTRL_C_WINDOW_SECONDS = 5  # a Ctrl-C this soon after another one escalates
TIMEOUT_GRACE_SECONDS = 10  # after limits.timeout's SIGTERM, before SIGKILL


def payload_environment(venv: Path, variables: dict[str, str]) -> dict[str, str]:
    """The caller's environment without the tooling's Python, with `venv` first on PATH,
    then `variables` (the job's own and MLflow's)."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in _DROPPED_VARIABLES and not k.startswith(_DROPPED_PREFIXES)
    }
    tooling_bin = str(Path(sys.prefix) / "bin")
    path = [p for p in environment.get("PATH", "").split(os.pathsep) if p and p != tooling_bin]
    environment["PATH"] = os.pathsep.join([str(venv / "bin"), *path])
    environment["VIRTUAL_ENV"] = str(venv)
    environment["PYTHONUNBUFFERED"] = "1"  # as in the job image; logs stream live
    return environment | variables


def shell_command(command: str) -> list[str]:
    """Azure ML runs the job's command through a shell; so do we."""
    return [shutil.which("bash") or "/bin/sh", "-c", command]


def execute(
    command: str,
    folder: Path,
    environment: dict[str, str],
    log: Path,
    started: Callable[[int], None],
    timeout_seconds: int | None = None,
) -> tuple[int, bool]:
    """Run `command` in `folder` (`started` is told its pid), its output streaming to the
    terminal and into `log`; its exit code (128+N for signal N), and whether the runner was
    told to stop.

    While the job runs, stop signals are recorded, not raised: a terminal's Ctrl-C reaches
    the job itself (same process group), and a second one within a few seconds terminates
    it, a third kills it (a job may catch Ctrl-C and go on); SIGTERM and SIGHUP sent to the
    runner are passed on to it. The runner waits for the job to end either way.

    A job still running after `timeout_seconds` (the job's limits.timeout) is stopped as
    Azure ML cancels one: SIGTERM, then SIGKILL after a grace period; it counts as stopped.
    """
    log.parent.mkdir(exist_ok=True)
    stops: list[float] = []  # when each stop signal came
    process = subprocess.Popen(
        shell_command(command),
        cwd=folder,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        now = time.monotonic()
        recent = [moment for moment in stops if now - moment <= CTRL_C_WINDOW_SECONDS]
        stops.append(now)
        if signum != signal.SIGINT:
            process.send_signal(signum)
        elif not recent:  # the terminal gave it to the job too
            report.note(
                f"stopping: the job got Ctrl-C; press it again within {CTRL_C_WINDOW_SECONDS} s "
                "to terminate it (SIGTERM), a third time to kill it (SIGKILL)"
            )
        elif len(recent) == 1:
            process.terminate()
        else:
            process.kill()

    for signum in STOP_SIGNALS:
        signal.signal(signum, stop)
    started(process.pid)
    assert process.stdout is not None and process.stderr is not None
    with log.open("wb", buffering=0) as log_file:  # unbuffered: on disk as it comes
        job_log = _Log(log_file)
        pumps = [
            threading.Thread(target=_tee, args=(process.stdout, sys.stdout.buffer, job_log)),
            threading.Thread(target=_tee, args=(process.stderr, sys.stderr.buffer, job_log)),
        ]
        for pump in pumps:
            pump.start()
        code = _wait(process, timeout_seconds, stops)
        for pump in pumps:
            pump.join()
    if job_log.failure:
        report.warning(f"{log.name} is incomplete: {from_os_error(job_log.failure)}")
    return (128 - code if code < 0 else code), bool(stops)


def _wait(process: subprocess.Popen[bytes], timeout_seconds: int | None, stops: list[float]) -> int:
    try:
        return process.wait(timeout_seconds)
    except subprocess.TimeoutExpired:
        pass
    report.warning(
        f"the job ran past its limits.timeout ({timeout_seconds} s): stopping it (SIGTERM, "
        f"then SIGKILL after {TIMEOUT_GRACE_SECONDS} s), as Azure ML cancels it"
    )
    stops.append(time.monotonic())
    process.terminate()
    try:
        return process.wait(TIMEOUT_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


class _Log:
    """The job's log, written by both pumps; if writing fails (a full disk), the log stops
    and the job goes on."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.failure: OSError | None = None
        self._lock = threading.Lock()

    def write(self, chunk: bytes) -> None:
        with self._lock:
            if self.failure:
                return
            try:
                self.file.write(chunk)
            except OSError as error:
                self.failure = error


def _tee(source: IO[bytes], terminal: BinaryIO, log: _Log) -> None:
    """Copy the job's output to the log (as it comes: the log is read while the job runs, and
    kept if the runner is killed) and the terminal until the job closes it; a closed
    terminal (`just local X | head`) must not stall the job, so the log goes on alone."""
    live: BinaryIO | None = terminal
    for chunk in iter(lambda: source.read1(65536), b""):  # type: ignore[attr-defined]
        log.write(chunk)
        if live:
            try:
                live.write(chunk)
                live.flush()
            except OSError:
                live = None
