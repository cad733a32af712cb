"""The experiment lifecycle on copies of this repository, with real uv: `just new` ->
`just local` -> `just aml --dry-run` -> `just test` -> `just lint` -> `just rm`, experiments
pinning incompatible versions side by side, and every way `just new` / `just rm` refuse or
fail leaving the workspace as it was."""

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from scripts import new, rm
from tests.helpers import Outcome, just, run, workspace_state, write


def locked(root: Path) -> set[tuple[str, str]]:
    """The packages and versions in uv.lock (whose marker order depends on its history)."""
    lock = tomllib.loads((root / "uv.lock").read_text())
    return {(package["name"], package["version"]) for package in lock["package"]}


@pytest.mark.slow
def test_a_new_experiment_runs_submits_and_tests_as_it_is_and_leaves_without_a_trace(
    fresh: Path,
) -> None:
    """With a NumPy 1.x pin next to the example's NumPy 2.x: each runs and tests with its
    own; `just rm` then gives back pyproject.toml byte for byte and the lock's packages,
    and keeps the runs."""
    before, packages = workspace_state(fresh), locked(fresh)

    just(fresh, "new", "lifecycle_probe")  # a name unlikely in a repository made from this
    run(["uv", "add", "--package", "lifecycle-probe", "numpy<2"], fresh, check=True)  # plain uv
    probe = just(fresh, "local", "lifecycle_probe")
    example = just(fresh, "local", "example_experiment", "--set", "inputs.epochs=1")
    dry_run = just(
        fresh, "aml", "lifecycle_probe", "--dry-run", "--set", "compute=azureml:cpu-cluster"
    )
    tested = just(fresh, "test", "lifecycle_probe")
    just(fresh, "lint")
    write(
        fresh / "experiments" / "lifecycle_probe" / "tests" / "test_slow.py",
        "import pytest\n\n\n@pytest.mark.slow\ndef test_left_out() -> None:\n    assert False\n",
    )
    tested_fast = just(fresh, "test", "--fast", "lifecycle_probe")

    probe_requirements = next(
        (fresh / "runs" / "lifecycle_probe").glob("*/environment/requirements.txt")
    )
    example_requirements = next(
        (fresh / "runs" / "example_experiment").glob("*/environment/requirements.txt")
    )
    assert "final loss" in probe.stdout
    assert "numpy==1." in probe_requirements.read_text()
    assert "numpy==2." in example_requirements.read_text()
    assert "test accuracy" in example.stdout
    assert "experiment_name: lifecycle_probe" in dry_run.stdout
    assert " passed" in tested.stdout
    assert "1 deselected" in tested_fast.stdout  # the template registers `slow`
    assert (fresh / "experiments" / "lifecycle_probe" / ".venv" / "bin" / "python").exists()

    declared = tomllib.loads((fresh / "pyproject.toml").read_text())["tool"]["uv"]["conflicts"]
    groups = {entry["group"] for conflicts in declared for entry in conflicts if "group" in entry}
    assert groups == {"dev", "ui", "check", "sweep"}  # each tooling group's set names it
    assert all({"package": "lifecycle-probe"} in conflicts for conflicts in declared)

    removed = run(["just", "rm", "lifecycle_probe", "--yes"], fresh)

    assert removed.returncode == 0, removed.stderr
    after = workspace_state(fresh)
    assert after["pyproject.toml"] == before["pyproject.toml"]
    assert after["experiments"] == before["experiments"]
    assert locked(fresh) == packages
    assert list((fresh / "runs" / "lifecycle_probe").iterdir())  # past runs stay
    assert not (fresh / "runs" / ".removing").exists()


@pytest.mark.slow
def test_new_from_an_experiment_copies_its_layout_under_the_new_name(
    fresh: Path, cli: Callable[..., Outcome]
) -> None:
    outcome = cli(new.main, fresh, "lifecycle_copy", "--from", "example_experiment")

    assert outcome.code == 0, outcome.err
    copy = fresh / "experiments" / "lifecycle_copy"
    assert (copy / "src" / "lifecycle_copy" / "main.py").is_file()
    assert not (copy / "src" / "example_experiment").exists()
    assert 'name = "lifecycle-copy"' in (copy / "pyproject.toml").read_text()
    job = (copy / "azure-ml-job.yaml").read_text()
    assert "experiment_name: lifecycle_copy" in job and "python -m lifecycle_copy.main" in job
    assert "from lifecycle_copy.main import" in (copy / "tests" / "test_main.py").read_text()
    assert 'name = "lifecycle-copy"' in (fresh / "uv.lock").read_text()


@pytest.mark.parametrize(
    ("name", "complaint"),
    [
        ("Demo", "invalid experiment name 'Demo'"),
        ("1st", "invalid experiment name '1st'"),
        ("my-exp", "invalid experiment name 'my-exp'"),
        ("../x", "invalid experiment name '../x'"),
        ("shared", "'shared' is the shared code"),
        ("tooling", "'tooling' is the workspace root"),
        ("class", "'class' is a Python keyword or module"),
        ("json", "'json' is a Python keyword or module"),
        ("numpy", "'numpy' is the module of a package in uv.lock"),
        ("yaml", "'yaml' is the module of a package in uv.lock (pyyaml)"),
        ("sklearn", "'sklearn' is the module of a package in uv.lock (scikit-learn)"),
        ("example_experiment", "experiments/example_experiment already exists"),
    ],
)
def test_new_refuses_a_name_in_one_line_and_changes_nothing(
    project: Path, name: str, complaint: str, cli: Callable[..., Outcome]
) -> None:
    before = workspace_state(project)

    outcome = cli(new.main, project, name)

    assert outcome.code == 2
    assert outcome.error_line.startswith(complaint)
    assert workspace_state(project) == before


@pytest.mark.slow
def test_a_lock_that_cannot_be_updated_leaves_nothing(
    fresh: Path, cli: Callable[..., Outcome]
) -> None:
    template = fresh / "templates" / "experiment" / "pyproject.toml"
    text = template.read_text().replace(
        '"azureml-mlflow', '"numpy<1",  # shared needs >=1.26\n    "azureml-mlflow'
    )
    template.write_text(text)
    before = workspace_state(fresh)

    outcome = cli(new.main, fresh, "lifecycle_probe")

    assert outcome.code == 1
    last = outcome.err.strip().splitlines()[-1]  # after the progress note
    assert last.startswith("error: `uv lock` failed") and "unsatisfiable" in last
    assert workspace_state(fresh) == before


def slow_uv(folder: Path) -> tuple[Path, Path]:
    """A uv that waits a minute before doing anything, so that an interruption lands
    mid-lock; and the file it creates once it is waiting."""
    real = shutil.which("uv", path=os.environ.get("PATH"))
    assert real
    started = folder / "uv-started"
    script = write(folder / "slow-uv", f'#!/bin/sh\ntouch {started}\nsleep 60\nexec {real} "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script, started


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_new_leaves_nothing(fresh: Path, tmp_path: Path, stop: int) -> None:
    before = workspace_state(fresh)
    uv, started = slow_uv(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "scripts.new", "lifecycle_probe"],
        cwd=fresh,
        env=os.environ | {"UV": str(uv)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline:  # the lock is being updated
        time.sleep(0.1)
    assert (fresh / "experiments" / "lifecycle_probe").is_dir()  # half-made: the folder is there
    os.killpg(process.pid, stop)  # as the terminal's Ctrl-C, or `kill`
    process.communicate(timeout=30)

    assert process.returncode == 130
    assert workspace_state(fresh) == before


def test_rm_refuses_without_a_terminal_and_for_what_is_not_an_experiment(
    project: Path, cli: Callable[..., Outcome]
) -> None:
    before = workspace_state(project)

    unasked = cli(rm.main, project, "example_experiment")  # stdin is not a terminal here
    shared = cli(rm.main, project, "shared", "--yes")
    unknown = cli(rm.main, project, "nope", "--yes")

    assert (unasked.code, shared.code, unknown.code) == (2, 2, 2)
    assert unasked.error_line == (
        "no terminal to ask on: run `just rm example_experiment --yes` to remove it"
    )
    assert shared.error_line.startswith("'shared' is the shared code, not an experiment")
    assert unknown.error_line.startswith("unknown experiment 'nope'")
    assert workspace_state(project) == before


@pytest.mark.slow
def test_sigterm_to_just_test_stops_its_pytest(fresh: Path) -> None:
    """What an IDE's stop button or `timeout` sends: the tests stop with the command, none
    runs on orphaned."""
    write(
        fresh / "tests" / "test_slow.py",
        """
        import os
        import time
        from pathlib import Path

        def test_slow() -> None:
            Path("pytest.pid").write_text(str(os.getpid()))
            time.sleep(30)
            Path("finished").write_text("")
        """,
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scripts.test",
            "tooling",
            "tests/test_slow.py",
            "-p",
            "no:cacheprovider",
        ],
        cwd=fresh,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not (fresh / "pytest.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    pytest_pid = int((fresh / "pytest.pid").read_text())

    process.send_signal(signal.SIGTERM)  # to the command alone
    _, stderr = process.communicate(timeout=30)

    assert process.returncode != 0, stderr
    with pytest.raises(ProcessLookupError):
        os.kill(pytest_pid, 0)  # pytest went with it
    assert not (fresh / "finished").exists()


@pytest.mark.slow
def test_changes_of_the_workspace_take_turns(fresh: Path, tmp_path: Path) -> None:
    """Two `just new` at once: the second waits for the first (which fails here and puts
    everything back), then makes its own change on what the first left."""
    real = shutil.which("uv", path=os.environ.get("PATH"))
    started, go = tmp_path / "uv-started", tmp_path / "go"
    failing_uv = write(
        tmp_path / "failing-uv",
        f"#!/bin/sh\ntouch {started}\nwhile [ ! -e {go} ]; do sleep 0.1; done\nexit 1\n",
    )
    failing_uv.chmod(failing_uv.stat().st_mode | stat.S_IEXEC)
    before = workspace_state(fresh)

    def new_experiment(name: str, uv: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "scripts.new", name],
            cwd=fresh,
            env=os.environ | {"UV": uv},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    first = new_experiment("first_probe", str(failing_uv))
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline:  # mid-lock
        time.sleep(0.1)
    assert real is not None
    second = new_experiment("second_probe", real)
    assert second.stderr is not None
    waiting = second.stderr.readline()
    go.touch()
    first.communicate(timeout=120)
    _, second_err = second.communicate(timeout=300)

    assert "waiting for another change of the workspace" in waiting
    assert first.returncode == 1 and second.returncode == 0, second_err
    after = workspace_state(fresh)
    assert after["experiments"] == sorted([*before["experiments"], "second_probe"])  # type: ignore[misc]
    assert b'package = "second-probe"' in after["pyproject.toml"]  # type: ignore[operator]
    assert b"first-probe" not in after["pyproject.toml"]  # type: ignore[operator]
    assert ("second-probe", "0.1.0") in locked(fresh)
