"""Disk hygiene on the tiny workspace: `just clean` removes exactly the environments no
experiment needs, run folders past the age limit and what an interrupted removal left,
never a running run or a run holding its own MLflow store; `just runs` says what is used."""

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from scripts import clean, iso, local, rm, runs
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


def a_run_folder_elsewhere(place: Path) -> Path:
    """A folder outside the project shaped like a run folder (environment/, run.json)."""
    (place / "environment").mkdir(parents=True)
    (place / "run.json").write_text("{}")
    (place / "precious.txt").write_text("not the tooling's to delete")
    return place


def test_clean_never_follows_a_link_out_of_runs(
    workspace: Path, tmp_path: Path, cli: Callable[..., Outcome]
) -> None:
    """Links placed under runs/, at each level clean looks at: an experiment's folder, a run
    folder, an environment, and runs/.removing itself. Each is named once and skipped; no
    target is touched."""
    runs_folder = workspace / "runs"
    elsewhere = tmp_path / "elsewhere"
    targets = [
        a_run_folder_elsewhere(elsewhere / "experiment" / "20200101_000000_x_y_aaaaaa"),
        a_run_folder_elsewhere(elsewhere / "20200101_000000_linked_run_bbbbbb"),
        a_run_folder_elsewhere(elsewhere / "venv"),
        a_run_folder_elsewhere(elsewhere / "removing" / "gamma.999999999"),
    ]
    (runs_folder / "beta").mkdir(parents=True)
    (runs_folder / "gamma").symlink_to(elsewhere / "experiment")
    (runs_folder / "beta" / "20200101_000000_linked_run_bbbbbb").symlink_to(targets[1])
    (runs_folder / ".venvs").mkdir()
    (runs_folder / ".venvs" / "0123456789abcdef").symlink_to(targets[2])
    (runs_folder / ".removing").symlink_to(elsewhere / "removing")

    outcome = cli(clean.main, workspace, "--envs", "--runs-older-than", "0")

    assert outcome.code == 0, outcome.err
    assert "Traceback" not in outcome.err
    assert all((target / "precious.txt").is_file() for target in targets)
    for link in ("gamma", "beta/20200101_000000_linked_run_bbbbbb", ".venvs/0123456789abcdef"):
        assert outcome.err.count(f"runs/{link} is a symbolic link") == 1, outcome.err
    assert outcome.err.count("runs/.removing is a symbolic link") == 1, outcome.err
    assert outcome.out == ""  # nothing removed


def test_a_link_parked_for_removal_is_removed_not_its_target(
    workspace: Path, tmp_path: Path, cli: Callable[..., Outcome]
) -> None:
    """`just rm` of an experiment whose folder is a link parks the link; deleting the parked
    link must neither fail nor touch its target, then or at the next clean."""
    target = tmp_path / "kept-experiment"
    shutil.copytree(workspace / "experiments" / "beta", target)
    parked = workspace / "runs" / ".removing" / "left.999999999"
    parked.parent.mkdir(parents=True)
    parked.symlink_to(a_run_folder_elsewhere(tmp_path / "parked-target"))

    cleaned = cli(clean.main, workspace)

    assert cleaned.code == 0, cleaned.err
    assert not parked.is_symlink() and (tmp_path / "parked-target" / "precious.txt").is_file()
    shutil.rmtree(workspace / "experiments" / "beta")
    (workspace / "experiments" / "beta").symlink_to(target)
    removed = cli(rm.main, workspace, "beta", "--yes")
    assert removed.code == 0, removed.err
    assert not (workspace / "experiments" / "beta").is_symlink()
    assert (target / "pyproject.toml").is_file()
    assert cli(clean.main, workspace).code == 0


def test_clean_keeps_a_run_whose_job_outlived_its_runner(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    assert cli(local.main, workspace, "beta").code == 0
    gone = subprocess.Popen(["true"])
    gone.wait()
    job = subprocess.Popen(["sleep", "60"])
    try:
        orphaned = old_copy(
            newest_folder(workspace),
            "20200101_000000_old_run_dddddd",
            status="RUNNING",
            runner=identity(gone.pid),
            job=identity(job.pid),
        )

        outcome = cli(clean.main, workspace, "--runs-older-than", "0")

        assert outcome.code == 0, outcome.err
        assert orphaned.is_dir()
        assert job.poll() is None  # clean stops nothing
    finally:
        job.kill()
        job.wait()


def test_no_run_folder_is_made_through_a_link(
    workspace: Path, tmp_path: Path, cli: Callable[..., Outcome]
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (workspace / "runs" / "alpha").symlink_to(elsewhere)

    outcome = cli(iso.main, workspace, "alpha")

    assert outcome.code == 2
    assert "runs/alpha is a symbolic link: run folders are made only inside" in outcome.error_line
    assert not list(elsewhere.iterdir())
