"""The local MLflow store, runs/mlflow.db: what a payload needs to log into it.

The payload's own `mlflow` calls find everything in environment variables that MLflow
reads by itself, so experiment code has no local-versus-cloud branch.
"""

import json
import sqlite3
import sys

from scripts.gitinfo import GitState
from scripts.project import RUNS_DIR, TRACKING_STORE

TRACKING_URI = f"sqlite:///{TRACKING_STORE}"
ARTIFACTS_DIR = RUNS_DIR / "mlartifacts"


def tracking_variables(experiment_name: str, run_name: str, git: GitState | None) -> dict[str, str]:
    """MLFLOW_RUN_CONTEXT holds tags MLflow applies to the runs the payload creates."""
    tags = {"mlflow.runName": run_name}
    if git:
        tags |= {
            "mlflow.source.git.commit": git.commit,
            "mlflow.source.git.branch": git.branch,
            "mlflow.source.git.dirty": str(git.dirty).lower(),
        }
    return {
        "MLFLOW_TRACKING_URI": TRACKING_URI,
        "MLFLOW_EXPERIMENT_NAME": experiment_name,
        "MLFLOW_RUN_CONTEXT": json.dumps(tags),
    }


def ensure_experiment(name: str) -> None:
    """Create the MLflow experiment with its artifacts under runs/mlartifacts/.

    Left to the payload, MLflow would put the artifact root inside the first run's folder
    (its working directory). Checked with sqlite3 first: importing mlflow takes seconds,
    so only the first run of an experiment pays for it.
    """
    if _experiment_exists(name):
        return
    print(f"creating MLflow experiment {name!r} in {TRACKING_STORE.name}", file=sys.stderr)
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        MlflowClient(TRACKING_URI).create_experiment(
            name, artifact_location=(ARTIFACTS_DIR / name).as_uri()
        )
    except MlflowException:  # created meanwhile by a concurrent run
        if not _experiment_exists(name):
            raise


def _experiment_exists(name: str) -> bool:
    if not TRACKING_STORE.exists():
        return False
    try:
        with sqlite3.connect(f"{TRACKING_STORE.as_uri()}?mode=ro", uri=True) as connection:
            row = connection.execute("SELECT 1 FROM experiments WHERE name = ?", (name,)).fetchone()
    except sqlite3.Error:
        return False
    return row is not None
