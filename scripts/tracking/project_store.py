"""The project's MLflow store, runs/mlflow.db: choosing it (or a run's own store when it
cannot be used), creating experiments in it, and what a job needs to log into it.

The job's own `mlflow` calls find everything in environment variables that MLflow reads
by itself, so experiment code has no local-versus-cloud branch.
"""

import fcntl
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from scripts.console import report
from scripts.console.errors import StoreError
from scripts.project.layout import Project
from scripts.tracking.store import check_writable, connect


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


def choose_store(project: Project, fallback: Path) -> Path:
    """runs/mlflow.db, or `fallback` when that one is locked or broken: tracking trouble
    never stops or loses a run."""
    try:
        check_writable(project.store)
    except StoreError as error:
        report.warning(f"{error}; this run is tracked in {fallback}")
        return fallback
    return project.store


def ensure_experiment(project: Project, name: str) -> None:
    """Create the MLflow experiment in runs/mlflow.db with its artifacts under
    runs/mlartifacts/.

    Left to the job, MLflow would put the artifact root inside the first run's folder
    (its working directory). Checked with sqlite3 first: importing mlflow takes seconds,
    so only the first run of an experiment pays for it. Runs starting together take
    turns (a lock on runs/), so the new store is created once.
    """
    if _experiment_exists(project.store, name):
        return
    with _exclusive(project.runs):
        if _experiment_exists(project.store, name):
            return
        report.note(f"creating MLflow experiment {name!r} in {project.store}")
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException

        try:
            MlflowClient(tracking_uri(project.store)).create_experiment(
                name, artifact_location=(project.artifacts / name).as_uri()
            )
            with sqlite3.connect(project.store) as connection:
                # Concurrent runs: readers no longer block the writer, nor it them.
                connection.execute("PRAGMA journal_mode=WAL")
        except (MlflowException, sqlite3.Error) as error:
            message = " ".join(str(error).split())[:200]
            raise StoreError(
                f"{project.store}: cannot create experiment {name!r}: {message}"
            ) from None


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
