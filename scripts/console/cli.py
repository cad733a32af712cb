"""What every command shares: argument parsing, and `run_cli`, which runs a command's main
and turns every failure a user or their machine can cause into one line, never a traceback."""

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import NoReturn, TypeVar

from scripts.console import report
from scripts.console.errors import ToolingError, UsageError, from_os_error

ProjectT = TypeVar("ProjectT")  # what a command works on: scripts.project.layout.Project
INTERRUPTED = 130  # what a shell reports for a command stopped by Ctrl-C
# Set to 1, an unexpected error (a bug in the tooling) ends with its traceback, not one line.
TRACEBACK_SWITCH = "TOOLING_TRACEBACK"
_STOPS = (signal.SIGTERM, signal.SIGHUP)


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (and exit code 2) like every other error."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def experiment_parser(command: str, description: str) -> ArgumentParser:
    """A parser for `just COMMAND EXP ...`."""
    parser = ArgumentParser(prog=f"just {command}", description=description)
    parser.add_argument("experiment", metavar="EXP", help="a folder name in experiments/")
    return parser


LOCALHOST = "127.0.0.1"  # the only address a server the tooling starts listens on


def free_port() -> int:
    """A port nothing listens on at LOCALHOST now (the OS's choice)."""
    import socket

    with socket.socket() as probe:
        probe.bind((LOCALHOST, 0))
        return int(probe.getsockname()[1])


def nearby_free_port(port: int) -> int:
    """A port nothing listens on at LOCALHOST: the first free one after `port` (within a
    few), else the OS's choice."""
    for candidate in range(port + 1, min(port + 10, 65535) + 1):
        if _is_free(candidate):
            return candidate
    return free_port()


def _is_free(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        try:
            probe.bind((LOCALHOST, port))
        except OSError:
            return False
    return True


def port_number(text: str) -> int:
    """argparse's `type` for a TCP port: an integer from 1 to 65535."""
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"must be a port between 1 and 65535, not {text!r}")
    return port


def positive_count(text: str) -> int:
    """argparse's `type` for a count: a whole number, at least 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number, at least 1, not {text!r}")
    return int(text)


def check_port_free(port: int, remedy: str) -> None:
    """A UsageError ending in `remedy` if something already listens on LOCALHOST:`port`."""
    if not _is_free(port):  # the socket module: only the commands that listen pay for it
        raise UsageError(f"port {port} is in use on {LOCALHOST}: {remedy}")


def add_job_file_option(parser: ArgumentParser, default: str, kind: str) -> None:
    """`-f/--file FILE`: the job YAML, a path inside the experiment."""
    parser.add_argument(
        "-f",
        "--file",
        default=default,
        metavar="FILE",
        help=f"{kind} YAML inside the experiment (default {default})",
    )


def add_set_option(parser: ArgumentParser, example: str) -> None:
    """`--set KEY=VALUE`, repeatable, collected as `overrides` (see scripts/jobspec/)."""
    parser.add_argument(
        "--set",
        dest="overrides",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help=f"override the job YAML like `az ml job create --set`, e.g. {example}; repeatable",
    )


@contextmanager
def stop_signals_as_ctrl_c() -> Iterator[None]:
    """Within the block, SIGTERM (`kill`, `timeout`, an IDE's stop button) and SIGHUP (the
    terminal closed) stop the command as Ctrl-C does: it cleans up and exits 130. Off the
    main thread (a pipeline's steps), where Python delivers no signal, it does nothing: the
    runner's Supervisor has them there."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = {signum: signal.signal(signum, interrupt) for signum in _STOPS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler or signal.SIG_DFL)


@contextmanager
def stop_signals_ignored() -> Iterator[None]:
    """Within the block, Ctrl-C, SIGTERM and SIGHUP are ignored: for clean-up that must not
    be cut short."""
    previous = {
        signum: signal.signal(signum, signal.SIG_IGN) for signum in (signal.SIGINT, *_STOPS)
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler or signal.SIG_DFL)


def run_passing_stops(argv: Sequence[str], cwd: Path) -> int:
    """Run `argv` in `cwd` to its end; its exit code (128+N for signal N, as a shell says).
    SIGTERM and SIGHUP sent to this process are passed on to it, so it never runs on
    orphaned; Ctrl-C reaches it from the terminal (it is in this process's group), and
    this process waits for it to finish."""
    process = subprocess.Popen(argv, cwd=cwd)

    def pass_on(signum: int, frame: FrameType | None) -> None:
        process.send_signal(signum)

    previous = {signum: signal.signal(signum, pass_on) for signum in _STOPS}
    previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        code = process.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler or signal.SIG_DFL)
    return shell_exit_code(code)


def shell_exit_code(code: int) -> int:
    """A process's end as a shell reports it: its exit code, or 128+N for signal N (what
    subprocess gives as -N)."""
    return 128 - code if code < 0 else code


def run_cli(
    main: Callable[[Sequence[str], ProjectT], int], project: Callable[[], ProjectT]
) -> NoReturn:
    """Run a command's main with the process's arguments and the project `project()` makes,
    and exit with its code."""
    raise SystemExit(exit_code(lambda: main(sys.argv[1:], project())))


def exit_code(command: Callable[[], int]) -> int:
    """The command's exit code; a failure is reported as one line on stderr and its code
    returned."""
    try:
        return command()
    except KeyboardInterrupt:
        report.note("interrupted")
        return INTERRUPTED
    except ToolingError as error:
        return _failed(error)
    except OSError as error:  # a full disk, a long name, a symlink loop, a closed pipe...
        return _failed(from_os_error(error))
    except Exception as error:  # a bug: said in one line, unless a maintainer wants more
        if os.environ.get(TRACEBACK_SWITCH) == "1":
            raise
        return _failed(
            ToolingError(
                f"unexpected {type(error).__name__}: {' '.join(str(error).split())[:200]} "
                f"(a bug in the tooling: run again with {TRACEBACK_SWITCH}=1 for its "
                "traceback, and report it)"
            )
        )


def _failed(error: ToolingError) -> int:
    _drop_closed_stdout()
    with contextlib.suppress(OSError):  # stderr is gone too: the exit code is all that is left
        report.error(str(error))
    return error.exit_code


def _drop_closed_stdout() -> None:
    """If stdout's reader is gone (`just runs | head -1`), point it at /dev/null, so the
    interpreter's final flush does not fail again with a traceback of its own."""
    try:
        sys.stdout.flush()
    except OSError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
