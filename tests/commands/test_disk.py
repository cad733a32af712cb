"""Disk hygiene on the tiny workspace: `just clean` removes exactly the environments no
experiment needs, run folders past the age limit and what an interrupted removal left,
never a running run or a run holding its own MLflow store; `just runs` says what is used."""

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from scripts import clean, local, runs
from scripts.runner.orphans import identity
from tests.helpers import Outcome, newest_folder


def old_copy(folder: Path, name: str, **manifest: object) -> Path:
    """A copy of run folder `folder` named as if started in 2020, run.json amended."""
    copy = shutil.copytree(folder, folder.with_name(name))
    record = json.loads((copy / "run.json").read_text()) | manifest
    (copy / "run.json").write_text(json.dumps(record))
    return copy


def test_clean_removes_what_is_not_needed_and_keeps_records_and_running_runs(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    assert cli(local.main, workspace, "beta").code == 0
    recent = newest_folder(workspace)
    (needed,) = (workspace / "runs" / ".venvs").iterdir()
    unneeded = workspace / "runs" / ".venvs" / "0123456789abcdef"
    shutil.copytree(needed, unneeded)
    old = old_copy(recent, "20200101_000000_old_run_aaaaaa", status="FINISHED")
    running = old_copy(
        recent, "20200101_000001_old_run_bbbbbb", status="RUNNING", runner=identity(os.getpid())
    )
    own_store = old_copy(recent, "20200101_000002_old_run_cccccc", status="FINISHED")
    (own_store / "mlflow.db").write_bytes(b"its MLflow records")
    left_over = workspace / "runs" / ".removing" / "gamma.999999999"
    left_over.mkdir(parents=True)
    store = (workspace / "runs" / "mlflow.db").read_bytes()
    options = ["--envs", "--runs-older-than", "30"]

    listed = cli(clean.main, workspace, *options, "--dry-run")
    everything_still_there = all(p.exists() for p in (unneeded, old, left_over))
    done = cli(clean.main, workspace, *options)

    assert listed.code == 0 and done.code == 0, listed.err + done.err
    assert everything_still_there
    named = [line.split()[2] for line in listed.out.splitlines()]
    assert named == [
        "runs/.removing/gamma.999999999",
        "runs/.venvs/0123456789abcdef",
        "runs/beta/20200101_000000_old_run_aaaaaa",
    ]
    assert "would free" in listed.err and "freed" in done.err
    assert not any(p.exists() for p in (unneeded, old, left_over))
    assert all(p.exists() for p in (needed, recent, running, own_store))
    assert (workspace / "runs" / "mlflow.db").read_bytes() == store


def test_runs_says_how_much_disk_runs_use(workspace: Path, cli: Callable[..., Outcome]) -> None:
    assert cli(local.main, workspace, "beta").code == 0

    listed = cli(runs.main, workspace)

    assert "disk: 1 run folders" in listed.err and "1 local environments" in listed.err
