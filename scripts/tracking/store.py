"""Creating, reading and finishing runs in an MLflow SQLite store without importing MLflow.

`import mlflow` alone takes 1.3-2.8 s here; the few things the tooling needs around a job
(create its run, set its final status, log its inputs, attach its files, read its latest
metrics) are single SQL statements on MLflow's schema and a copy into the run's artifact
folder, which is what MLflow's own local artifact repository does. Readers (tests,
`mlflow ui`) use MLflow itself.
"""

import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from scripts.console.errors import StoreError

LOCK_TIMEOUT_SECONDS = 10.0
MAX_PARAM_LENGTH = 6000  # MLflow's limit for a parameter's value
MAX_TAG_LENGTH = 8000  # and for a tag's
_ENDED = ("FINISHED", "FAILED", "KILLED")


@dataclass(frozen=True)
class TrackedRun:
    run_id: str
    artifact_uri: str


@contextmanager
def connect(store: Path, read_only: bool = False) -> Iterator[sqlite3.Connection]:
    mode = "ro" if read_only else "rw"
    try:
        connection = sqlite3.connect(
            f"{store.as_uri()}?mode={mode}", uri=True, timeout=LOCK_TIMEOUT_SECONDS
        )
    except sqlite3.Error as error:
        raise StoreError(_explain(store, error)) from None
    try:
        with connection:
            yield connection
    except sqlite3.Error as error:
        raise StoreError(_explain(store, error)) from None
    finally:
        connection.close()


def _explain(store: Path, error: sqlite3.Error) -> str:
    text = str(error)
    if "locked" in text:
        return f"{store} is locked by another process ({text}); retry when it is done"
    if "not a database" in text or "malformed" in text or "no such table" in text:
        return (
            f"{store} is not a usable MLflow store ({text}): move it aside "
            f"(mv {store} {store}.broken) and a new one is made"
        )
    return f"{store}: {text}"


def check_writable(store: Path) -> None:
    """Raise StoreError unless `store` is absent (MLflow will create it) or a writable
    MLflow store that is not locked."""
    if not store.exists():
        return
    # SQLite opens a write-protected file read-only without a word, and even takes the
    # write lock; the job's first write would fail.
    for path in (store, store.parent):  # the folder: for its journal and WAL files
        if not os.access(path, os.W_OK):
            raise StoreError(f"{path} is read-only: make it writable to track runs there")
    with connect(store) as connection:
        connection.execute("SELECT count(*) FROM runs").fetchone()
        connection.execute("BEGIN IMMEDIATE")  # waits up to the timeout for writers


def create_experiment(store: Path, name: str, artifact_location: str) -> None:
    """A new experiment in an existing store, as MLflow's client creates one."""
    now = int(time.time() * 1000)
    with connect(store) as connection:
        connection.execute(
            "INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, "
            "last_update_time) VALUES (?, ?, 'active', ?, ?)",
            (name, artifact_location, now, now),
        )


def new_run_id() -> str:
    """An id for a run to create, as MLflow's client makes one."""
    return uuid.uuid4().hex


def create_run(
    store: Path, experiment: str, run_id: str, run_name: str, tags: dict[str, str]
) -> TrackedRun:
    """Run `run_id`, RUNNING, in `experiment` (which must exist), named and tagged, as
    MLflow's own client creates one; the job's `mlflow` calls attach to it through
    MLFLOW_RUN_ID."""
    with connect(store) as connection:
        found = connection.execute(
            "SELECT experiment_id, artifact_location FROM experiments "
            "WHERE name = ? AND lifecycle_stage = 'active'",
            (experiment,),
        ).fetchone()
        if found is None:
            raise StoreError(f"{store} has no experiment {experiment!r}: run again to create it")
        experiment_id, artifact_location = found
        artifact_uri = f"{artifact_location.rstrip('/')}/{run_id}/artifacts"
        connection.execute(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, "
            "user_id, status, start_time, source_version, lifecycle_stage, artifact_uri, "
            "experiment_id) VALUES (?, ?, 'LOCAL', ?, '', ?, 'RUNNING', ?, '', 'active', ?, ?)",
            (
                run_id,
                run_name,
                tags.get("mlflow.source.name", ""),
                tags.get("mlflow.user", ""),
                int(time.time() * 1000),
                artifact_uri,
                experiment_id,
            ),
        )
        connection.executemany(
            'INSERT INTO tags ("key", value, run_uuid) VALUES (?, ?, ?)',
            [(key, value, run_id) for key, value in tags.items()],
        )
    return TrackedRun(run_id, artifact_uri)


def record_params(store: Path, run_id: str, params: dict[str, str]) -> None:
    """Log `params`, but none the job logged itself under the same key (MLflow refuses to
    change a parameter's value, and the job's own is the one that counts)."""
    with connect(store) as connection:
        connection.executemany(
            'INSERT OR IGNORE INTO params ("key", value, run_uuid) VALUES (?, ?, ?)',
            [(key, value[:MAX_PARAM_LENGTH], run_id) for key, value in params.items()],
        )


def record_metrics(store: Path, run_id: str, metrics: dict[str, float], seconds: float) -> None:
    """Log each of `metrics` once, at step 0 (a reused pipeline step's: its original's final
    values, as Azure ML shows them on the step that reused them)."""
    moment = int(seconds * 1000)
    rows = [(key, value, moment, run_id, 0, int(value != value)) for key, value in metrics.items()]
    with connect(store) as connection:
        for table in ("metrics", "latest_metrics"):
            connection.executemany(
                f'INSERT OR REPLACE INTO {table} ("key", value, timestamp, run_uuid, step, is_nan) '
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )


def record_tags(store: Path, run_id: str, tags: dict[str, str]) -> None:
    """Set `tags` on the run (a tag set again takes the new value, as MLflow's set_tag)."""
    with connect(store) as connection:
        connection.executemany(
            'INSERT OR REPLACE INTO tags ("key", value, run_uuid) VALUES (?, ?, ?)',
            [(key, value[:MAX_TAG_LENGTH], run_id) for key, value in tags.items()],
        )


def finish_run(store: Path, run_id: str, status: str, end_seconds: float) -> None:
    """Set the final status (FINISHED, FAILED or KILLED) whatever the job left."""
    with connect(store) as connection:
        connection.execute(
            "UPDATE runs SET status = ?, end_time = ? WHERE run_uuid = ?",
            (status, int(end_seconds * 1000), run_id),
        )


@dataclass(frozen=True)
class Ended:
    status: str  # FINISHED, FAILED or KILLED
    end_seconds: float


def ended_run(store: Path, run_id: str) -> Ended | None:
    """How run `run_id` ended, if the store records an end (None: still RUNNING, or no such
    run or store)."""
    if not store.is_file():
        return None
    with connect(store, read_only=True) as connection:
        row = connection.execute(
            "SELECT status, end_time FROM runs WHERE run_uuid = ?", (run_id,)
        ).fetchone()
    if row is None or row[0] not in _ENDED or row[1] is None:
        return None
    return Ended(row[0], row[1] / 1000)


def latest_metrics(store: Path, run_id: str) -> dict[str, float]:
    with connect(store, read_only=True) as connection:
        rows = connection.execute(
            'SELECT "key", value FROM latest_metrics WHERE run_uuid = ? ORDER BY "key"',
            (run_id,),
        ).fetchall()
    return {key: value for key, value in rows}


def metric_histories(store: Path, run_ids: list[str], key: str) -> dict[str, list[float]]:
    """Every value each of `run_ids` logged of metric `key`, in the order logged (by step,
    then time, as MLflow orders a history), NaN left out; a run that logged none has an
    empty list."""
    histories: dict[str, list[float]] = {run_id: [] for run_id in run_ids}
    marks = ", ".join("?" for _ in run_ids)
    with connect(store, read_only=True) as connection:
        rows = connection.execute(
            f'SELECT run_uuid, value FROM metrics WHERE "key" = ? AND run_uuid IN ({marks}) '
            "AND is_nan = 0 ORDER BY run_uuid, step, timestamp",
            (key, *run_ids),
        ).fetchall()
    for run_id, value in rows:
        histories[run_id].append(value)
    return histories


@dataclass(frozen=True)
class Point:
    """One logged value of a metric, as MLflow keeps it."""

    value: float
    timestamp_ms: int
    step: int


@dataclass(frozen=True)
class MirroredRun:
    """A run of another MLflow (a cloud job's) as the local store keeps a copy of it."""

    run_id: str
    experiment: str  # which must exist in the store
    name: str
    status: str
    start_ms: int | None
    end_ms: int | None
    tags: dict[str, str]
    params: dict[str, str]
    histories: dict[str, list[Point]]


def mirror_run(store: Path, run: MirroredRun) -> TrackedRun:
    """Run `run.run_id` in `store` made exactly `run`, in one transaction: created the first
    time, replaced whole (tags, params, every metric value) each time after, never doubled."""
    with connect(store) as connection:
        found = connection.execute(
            "SELECT experiment_id, artifact_location FROM experiments "
            "WHERE name = ? AND lifecycle_stage = 'active'",
            (run.experiment,),
        ).fetchone()
        if found is None:
            raise StoreError(f"{store} has no experiment {run.experiment!r}: fetch again")
        experiment_id, artifact_location = found
        artifact_uri = f"{artifact_location.rstrip('/')}/{run.run_id}/artifacts"
        for table in ("tags", "params", "metrics", "latest_metrics", "runs"):
            connection.execute(f"DELETE FROM {table} WHERE run_uuid = ?", (run.run_id,))
        connection.execute(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, "
            "user_id, status, start_time, end_time, source_version, lifecycle_stage, "
            "artifact_uri, experiment_id) "
            "VALUES (?, ?, 'JOB', ?, '', ?, ?, ?, ?, '', 'active', ?, ?)",
            (
                run.run_id, run.name, run.tags.get("mlflow.source.name", ""),
                run.tags.get("mlflow.user", ""), run.status, run.start_ms, run.end_ms,
                artifact_uri, experiment_id,
            ),
        )  # fmt: skip
        connection.executemany(
            'INSERT INTO tags ("key", value, run_uuid) VALUES (?, ?, ?)',
            [(key, value[:MAX_TAG_LENGTH], run.run_id) for key, value in run.tags.items()],
        )
        connection.executemany(
            'INSERT INTO params ("key", value, run_uuid) VALUES (?, ?, ?)',
            [(key, value[:MAX_PARAM_LENGTH], run.run_id) for key, value in run.params.items()],
        )
        for key, points in run.histories.items():
            rows = [_metric_row(key, point, run.run_id) for point in points]
            connection.executemany(
                'INSERT OR IGNORE INTO metrics ("key", value, timestamp, run_uuid, step, is_nan) '
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            if points:
                latest = latest_point(points)
                connection.execute(
                    'INSERT INTO latest_metrics ("key", value, timestamp, run_uuid, step, is_nan) '
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    _metric_row(key, latest, run.run_id),
                )
    return TrackedRun(run.run_id, artifact_uri)


def latest_point(points: list[Point]) -> Point:
    """A metric's latest value as MLflow reckons it: the greatest (step, timestamp, value)."""
    return max(points, key=lambda p: (p.step, p.timestamp_ms, p.value))


def _metric_row(key: str, point: Point, run_id: str) -> tuple[str, float, int, str, int, int]:
    nan = point.value != point.value
    return (key, 0.0 if nan else point.value, point.timestamp_ms, run_id, point.step, int(nan))


def attach_artifacts(run: TrackedRun, folder: Path, name: str) -> bool:
    """Copy `folder` to the run's artifacts as `name/` (as Azure ML uploads ./outputs);
    False when the artifact store is not a local folder."""
    parsed = urlparse(run.artifact_uri)
    if parsed.scheme not in ("", "file"):
        return False
    destination = Path(unquote(parsed.path)) / name
    shutil.copytree(folder, destination, dirs_exist_ok=True)
    return True
