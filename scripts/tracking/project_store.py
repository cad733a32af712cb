"""The project's MLflow store, runs/mlflow.db: choosing it (or a run's own store when it
cannot be used), creating experiments in it, and what a job needs to log into it.

The job's own `mlflow` calls find everything in environment variables that MLflow reads
by itself, so experiment code has no local-versus-cloud branch.
"""

import fcntl
import getpass
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from scripts.console import report
from scripts.console.errors import StoreError
from scripts.project.layout import Project, staging_path
from scripts.tracking.store import check_writable, connect, create_experiment


def tracking_uri(store: Path) -> str:
    return f"sqlite:///{store}"


TRACKING_URI_VARIABLE = "MLFLOW_TRACKING_URI"
PARENT_RUN_TAG = "mlflow.parentRunId"  # a child run's (a pipeline step's): MLflow's UI nests it


def tracking_variables(store: Path, experiment_name: str, run_id: str) -> dict[str, str]:
    """What MLflow in the job reads by itself: its `mlflow` calls attach to run `run_id`."""
    return {
        TRACKING_URI_VARIABLE: tracking_uri(store),
        "MLFLOW_EXPERIMENT_NAME": experiment_name,
        "MLFLOW_RUN_ID": run_id,
    }


def run_tags(run_name: str, git: dict[str, Any] | None) -> dict[str, str]:
    """The tags MLflow's client would give the run, and the git state it ran from."""
    tags = {
        "mlflow.runName": run_name,
        "mlflow.user": getpass.getuser(),
        "mlflow.source.type": "LOCAL",
        "mlflow.source.name": "just local",
    }
    if git:
        tags |= {
            "mlflow.source.git.commit": git["commit"],
            "mlflow.source.git.branch": git["branch"],
            "mlflow.source.git.dirty": str(git["dirty"]).lower(),
        }
    return tags


def choose_store(project: Project, fallback: Path) -> Path:
    """runs/mlflow.db, or `fallback` when that one is locked or broken: tracking trouble
    never stops or loses a run."""
    try:
        check_writable(project.store)
    except StoreError as error:
        report.warning(f"{error}; this run is tracked in {fallback}")
        return fallback
    return project.store


def ensure_experiment(store: Path, artifacts: Path, name: str) -> None:
    """Create the MLflow experiment `name` in `store` (and the store, if need be) with its
    artifacts under `artifacts`/NAME.

    Left to the job, MLflow would put the artifact root inside the first run's folder (its
    working directory). Only a new store needs MLflow itself (see make_store); an experiment
    is one row. Runs starting together take turns (a lock on the store's folder), so each is
    created once.
    """
    if _experiment_exists(store, name):
        return
    report.note(f"creating MLflow experiment {name!r} in {store}")
    with _exclusive(store.parent):
        if _experiment_exists(store, name):
            return
        if not store.exists():
            _make_store(store, artifacts)
        create_experiment(store, name, (artifacts / name).as_uri())


def make_store(store: Path, artifacts: Path) -> None:
    """A new, empty MLflow store at `store`, unless there is one (taking turns as
    ensure_experiment does)."""
    store.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(store.parent):
        if not store.exists():
            _make_store(store, artifacts)


@contextmanager
def store_made_alongside(store: Path, artifacts: Path) -> Iterator[None]:
    """If there is no store yet, another process makes it while the body runs: MLflow's
    migrations cost seconds, most of them importing mlflow, which then overlaps the body's
    own work (azure-ai-ml's check, the environment's build). Whoever needs the store first
    waits for it (ensure_experiment's lock); a store the process did not make by then,
    ensure_experiment makes. On leaving, the process is stopped."""
    if store.exists():
        yield
        return
    maker = subprocess.Popen(
        [sys.executable, "-m", "scripts.tracking.project_store", str(store), str(artifacts)],
        cwd=Path(__file__).resolve().parents[2],  # where `scripts` is
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # its failure is said by ensure_experiment, which retries
    )
    try:
        yield
    finally:
        # The body got its store, made by either, or failed: what the maker still does is
        # of no use (at most it waits for the lock, or exits).
        maker.terminate()
        maker.wait()
        _remove_staging(store, maker.pid)


def _make_store(store: Path, artifacts: Path) -> None:
    """MLflow's own schema (its migrations) on a staging file, put in place whole once
    complete; MLflow's Default experiment keeps its artifacts under `artifacts` too. The
    caller holds the lock."""
    from mlflow.exceptions import MlflowException
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    staging = staging_path(store)
    try:
        store_schema = SqlAlchemyStore(tracking_uri(staging), artifacts.as_uri())  # type: ignore[no-untyped-call]
        store_schema.engine.dispose()
        with sqlite3.connect(staging) as connection:
            # Concurrent runs: readers no longer block the writer, nor it them.
            connection.execute("PRAGMA journal_mode=WAL")
        connection.close()
        staging.rename(store)
    except (MlflowException, sqlite3.Error) as error:
        message = " ".join(str(error).split())[:200]
        raise StoreError(f"{store}: cannot create an MLflow store: {message}") from None
    finally:
        _remove_staging(store, os.getpid())


def _remove_staging(store: Path, pid: int) -> None:
    staging = staging_path(store, pid)
    for leftover in (staging, *(Path(f"{staging}{end}") for end in ("-wal", "-shm"))):
        leftover.unlink(missing_ok=True)


@contextmanager
def _exclusive(folder: Path) -> Iterator[None]:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _experiment_exists(store: Path, name: str) -> bool:
    if not store.exists():
        return False
    try:
        with connect(store, read_only=True) as connection:
            row = connection.execute("SELECT 1 FROM experiments WHERE name = ?", (name,)).fetchone()
    except StoreError:
        return False
    return row is not None


if __name__ == "__main__":  # store_made_alongside's process: STORE ARTIFACTS
    make_store(Path(sys.argv[1]), Path(sys.argv[2]))
    os._exit(0)  # the store is closed and in place: skip tearing MLflow's modules down
