"""The project's MLflow store, runs/mlflow.db: choosing it (or a run's own store when it
cannot be used), creating experiments in it, and what a job needs to log into it.

The job's own `mlflow` calls find everything in environment variables that MLflow reads
by itself, so experiment code has no local-versus-cloud branch.
"""

import fcntl
import getpass
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from scripts.console import report
from scripts.console.errors import StoreError
from scripts.project.layout import Project
from scripts.tracking.store import check_writable, connect, create_experiment


def tracking_uri(store: Path) -> str:
    return f"sqlite:///{store}"


TRACKING_URI_VARIABLE = "MLFLOW_TRACKING_URI"


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
    working directory). Only a new store needs MLflow itself (its schema comes from MLflow's
    migrations; importing mlflow takes seconds); an experiment is one row. Runs starting
    together take turns (a lock on the store's folder), so each is created once.
    """
    if _experiment_exists(store, name):
        return
    with _exclusive(store.parent):
        if _experiment_exists(store, name):
            return
        report.note(f"creating MLflow experiment {name!r} in {store}")
        location = (artifacts / name).as_uri()
        if store.exists():
            create_experiment(store, name, location)
        else:
            _create_store(store, name, location)


def _create_store(store: Path, experiment: str, artifact_location: str) -> None:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        MlflowClient(tracking_uri(store)).create_experiment(
            experiment, artifact_location=artifact_location
        )
        with sqlite3.connect(store) as connection:
            # Concurrent runs: readers no longer block the writer, nor it them.
            connection.execute("PRAGMA journal_mode=WAL")
    except (MlflowException, sqlite3.Error) as error:
        message = " ".join(str(error).split())[:200]
        raise StoreError(f"{store}: cannot create an MLflow store: {message}") from None


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
