"""The local MLflow store, runs/mlflow.db: what a job needs to log into it.

The job's own `mlflow` calls find everything in environment variables that MLflow reads
by itself, so experiment code has no local-versus-cloud branch.
"""

import fcntl
import json
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from scripts.project import RUNS_DIR, TRACKING_STORE
from scripts.store import StoreError, check_writable, connect

ARTIFACTS_DIR = RUNS_DIR / "mlartifacts"
FALLBACK_STORE = "mlflow.db"  # in the run folder, when runs/mlflow.db cannot be used


def tracking_uri(store: Path) -> str:
    return f"sqlite:///{store}"


def tracking_variables(
    store: Path, experiment_name: str, run_name: str, git: dict[str, Any] | None
) -> dict[str, str]:
    """MLFLOW_RUN_CONTEXT holds tags MLflow applies to the runs the job creates."""
    tags = {"mlflow.runName": run_name}
    if git:
        tags |= {
            "mlflow.source.git.commit": git["commit"],
            "mlflow.source.git.branch": git["branch"],
            "mlflow.source.git.dirty": str(git["dirty"]).lower(),
        }
    return {
        "MLFLOW_TRACKING_URI": tracking_uri(store),
        "MLFLOW_EXPERIMENT_NAME": experiment_name,
        "MLFLOW_RUN_CONTEXT": json.dumps(tags),
    }


def choose_store(run_folder: Path) -> Path:
    """runs/mlflow.db, or a store in the run folder when that one is locked or broken:
    tracking trouble never stops or loses a run."""
    try:
        check_writable(TRACKING_STORE)
    except StoreError as error:
        fallback = run_folder / FALLBACK_STORE
        print(f"warning: {error}; this run is tracked in {fallback}", file=sys.stderr)
        return fallback
    return TRACKING_STORE


def ensure_experiment(name: str) -> None:
    """Create the MLflow experiment in runs/mlflow.db with its artifacts under
    runs/mlartifacts/.

    Left to the job, MLflow would put the artifact root inside the first run's folder
    (its working directory). Checked with sqlite3 first: importing mlflow takes seconds,
    so only the first run of an experiment pays for it. Runs starting together take
    turns (a lock on runs/), so the new store is created once.
    """
    if _experiment_exists(name):
        return
    with _exclusive(RUNS_DIR):
        if _experiment_exists(name):
            return
        print(f"creating MLflow experiment {name!r} in {TRACKING_STORE}", file=sys.stderr)
        from mlflow import MlflowClient

        MlflowClient(tracking_uri(TRACKING_STORE)).create_experiment(
            name, artifact_location=(ARTIFACTS_DIR / name).as_uri()
        )
        with sqlite3.connect(TRACKING_STORE) as connection:
            # Concurrent runs: readers no longer block the writer, nor it them.
            connection.execute("PRAGMA journal_mode=WAL")


@contextmanager
def _exclusive(folder: Path) -> Iterator[None]:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _experiment_exists(name: str) -> bool:
    if not TRACKING_STORE.exists():
        return False
    try:
        with connect(TRACKING_STORE, read_only=True) as connection:
            row = connection.execute("SELECT 1 FROM experiments WHERE name = ?", (name,)).fetchone()
    except StoreError:
        return False
    return row is not None
