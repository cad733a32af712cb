"""Reading a run from an MLflow tracking server through MLflow's own client: Azure ML's
workspace MLflow (`azureml://…`, with azureml-mlflow) or any server MLflow's REST API speaks
for. `just fetch` mirrors what it reads into the local store (see store.mirror_run).

MLflow is imported here, when a command reads a server: seconds that a network command
pays once, never the runner.
"""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.console.errors import CommandError
from scripts.tracking.store import Point
from scripts.tracking.trackers import redacted, shown_uri

# A server that does not answer should say so in seconds, not after MLflow's default
# retries (minutes); a user's own setting of these wins.
_PATIENCE = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_TIMEOUT": "30"}


@dataclass(frozen=True)
class RemoteRun:
    run_id: str
    start_ms: int | None
    end_ms: int | None
    params: dict[str, str]
    tags: dict[str, str]
    histories: dict[str, list[Point]]  # every value of every metric, in MLflow's order
    artifact_folders: list[str]  # the top-level folders of its artifacts


def client(uri: str) -> Any:
    """MLflow's client for the server at `uri`."""
    for name, value in _PATIENCE.items():
        os.environ.setdefault(name, value)
    import logging

    # Its retries are said once, as the failure they end in.
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri)


def read_run(mlflow: Any, run_id: str, uri: str) -> RemoteRun | None:
    """Run `run_id` with every value of its metrics; None when the server has no such run
    (a job that never started has none)."""
    from mlflow.exceptions import MlflowException

    try:
        run = mlflow.get_run(run_id)
        histories = {
            key: [
                Point(float(m.value), int(m.timestamp), int(m.step))
                for m in mlflow.get_metric_history(run_id, key)
            ]
            for key in sorted(run.data.metrics)
        }
        folders = [entry.path for entry in mlflow.list_artifacts(run_id) if entry.is_dir]
    except MlflowException as error:
        if getattr(error, "error_code", "") == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise _unreachable(uri, error) from None
    return RemoteRun(
        run_id=run_id,
        start_ms=run.info.start_time,
        end_ms=run.info.end_time,
        params=dict(run.data.params),
        tags=dict(run.data.tags),
        histories=histories,
        artifact_folders=folders,
    )


def download_folder(mlflow: Any, run_id: str, folder: str, destination: Path, uri: str) -> None:
    """The artifact folder `folder` of run `run_id` into `destination` (which must not exist
    yet), whole or not at all."""
    from mlflow.exceptions import MlflowException

    staging = destination.with_name(f".{destination.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        mlflow.download_artifacts(run_id, folder, str(staging))
    except MlflowException as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise _unreachable(uri, error) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    (staging / folder).rename(destination)
    shutil.rmtree(staging)


def _unreachable(uri: str, error: Exception) -> CommandError:
    text = redacted(" ".join(str(error).split()), uri)
    if "Max retries exceeded" in text or "Connection refused" in text:
        return CommandError(
            f"the MLflow tracking server {shown_uri(uri)} did not answer: check the network "
            "(and that the server runs), then fetch again"
        )
    return CommandError(
        f"the MLflow tracking server {shown_uri(uri)} refused ({text[:160]}): check your "
        "login (`az login`), then fetch again"
    )
