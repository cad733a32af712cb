"""One line and a non-zero exit for every failure a user or their machine can cause: the
error hierarchy, and real OSErrors (full disk, long name, symbolic-link loop, broken link,
closed pipe) from real system calls."""

import errno
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from scripts import iso
from scripts.console.cli import (
    INTERRUPTED,
    TRACEBACK_SWITCH,
    exit_code,
    stop_signals_as_ctrl_c,
)
from scripts.console.errors import CommandError, StoreError, UsageError
from tests.helpers import Outcome, write


def failing(error: BaseException) -> Callable[[], int]:
    def command() -> int:
        raise error

    return command


@pytest.mark.parametrize(
    ("error", "code"),
    [(UsageError("bad name: fix it"), 2), (CommandError("uv failed"), 1), (StoreError("x"), 1)],
)
def test_each_kind_of_error_is_one_line_with_its_exit_code(
    capsys: pytest.CaptureFixture[str], error: Exception, code: int
) -> None:
    assert exit_code(failing(error)) == code
    assert capsys.readouterr().err == f"error: {error}\n"


def test_an_unexpected_error_is_one_line_unless_a_maintainer_asks_for_its_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in the tooling is still one line (with what to do); TOOLING_TRACEBACK=1 lets
    the exception through, traceback and all."""
    bug = TypeError("unsupported operand")
    monkeypatch.delenv(TRACEBACK_SWITCH, raising=False)

    assert exit_code(failing(bug)) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: unexpected TypeError: unsupported operand")
    assert f"{TRACEBACK_SWITCH}=1" in line

    monkeypatch.setenv(TRACEBACK_SWITCH, "1")
    with pytest.raises(TypeError):
        exit_code(failing(bug))


def test_ctrl_c_is_one_line_and_130(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code(failing(KeyboardInterrupt())) == INTERRUPTED
    assert capsys.readouterr().err == "interrupted\n"


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP])
def test_stop_signals_end_a_command_as_ctrl_c_does(
    capsys: pytest.CaptureFixture[str], stop: int
) -> None:
    before = signal.getsignal(stop)

    def stopped() -> int:
        with stop_signals_as_ctrl_c():
            os.kill(os.getpid(), stop)
            time.sleep(5)  # interrupted at once
        return 0

    assert exit_code(stopped) == INTERRUPTED
    assert capsys.readouterr().err == "interrupted\n"
    assert signal.getsignal(stop) == before


def test_a_full_disk(capsys: pytest.CaptureFixture[str]) -> None:
    def write_to_a_full_disk() -> int:
        with open("/dev/full", "w") as full:  # every write: ENOSPC
            full.write("x")
        return 0

    assert exit_code(write_to_a_full_disk) == 1
    assert capsys.readouterr().err == (
        "error: No space left on device: free some space (run folders and runs/.venvs/ are "
        "safe to delete), then retry\n"
    )


def test_a_name_too_long_for_the_file_system(workspace: Path, cli: Callable[..., Outcome]) -> None:
    outcome = cli(iso.main, workspace, "x" * 300)

    assert outcome.code == 1
    assert outcome.error_line.startswith(f"File name too long: {workspace / 'experiments'}/xxx")
    assert outcome.error_line.endswith(": use a shorter name")


def test_a_symbolic_link_loop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to("loop")

    assert exit_code(lambda: len(loop.read_text())) == 1
    assert capsys.readouterr().err == (
        f"error: Too many levels of symbolic links: {loop}: a symbolic link leads back to "
        "itself: fix or remove it\n"
    )


def test_a_permission_error_names_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    error = PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/srv/x")
    assert exit_code(failing(error)) == 1
    assert capsys.readouterr().err == "error: Permission denied: /srv/x: check its permissions\n"


def test_output_closed_early(workspace: Path) -> None:
    """`just runs | head -0`: a real pipe whose reader is gone before the table is written."""
    for index in range(3):
        folder = workspace / "runs" / "beta" / f"20260101_00000{index}_run"
        write(folder / "run.json", RUN_JSON.replace("NAME", folder.name))
    process = subprocess.Popen(
        [sys.executable, "-m", "scripts.runs"],
        cwd=workspace,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read()

    assert process.wait() == 1
    assert stderr == (
        "error: Broken pipe: the output was closed early (e.g. piped into `head`); "
        "nothing else failed\n"
    )


RUN_JSON = """
{"experiment": "beta", "mlflow_experiment": "beta", "run_name": "NAME", "command": "true",
 "inputs": {}, "environment_variables": {}, "requirements_sha256": "", "git": null,
 "local_tracking_requirements": "", "status": "FINISHED", "duration_seconds": 1.0}
"""
