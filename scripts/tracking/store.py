"""Reading and finishing runs in an MLflow SQLite store without importing MLflow.

`import mlflow` alone takes 1.3-2.8 s here; the few things the tooling needs after a job
(find the job's run, set its final status, attach its files, read its latest metrics)
are single SQL statements on MLflow's schema and a copy into the run's artifact folder,
which is what MLflow's own local artifact repository does. Readers (tests, `mlflow ui`)
use MLflow itself.
"""

import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from scripts.console.errors import StoreError

LOCK_TIMEOUT_SECONDS = 10.0


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


def find_run(store: Path, run_name: str) -> TrackedRun | None:
    """The first run named `run_name` (the job's; nested runs come later), if any."""
    if not store.exists():
        return None
    with connect(store, read_only=True) as connection:
        row = connection.execute(
            "SELECT run_uuid, artifact_uri FROM runs WHERE name = ? ORDER BY start_time LIMIT 1",
            (run_name,),
        ).fetchone()
    return TrackedRun(*row) if row else None


def finish_run(store: Path, run: TrackedRun, status: str, end_seconds: float) -> None:
    """Set the final status (FINISHED, FAILED or KILLED) whatever the job left."""
    with connect(store) as connection:
        connection.execute(
            "UPDATE runs SET status = ?, end_time = ? WHERE run_uuid = ?",
            (status, int(end_seconds * 1000), run.run_id),
        )


def latest_metrics(store: Path, run: TrackedRun) -> dict[str, float]:
    with connect(store, read_only=True) as connection:
        rows = connection.execute(
            'SELECT "key", value FROM latest_metrics WHERE run_uuid = ? ORDER BY "key"',
            (run.run_id,),
        ).fetchall()
    return {key: value for key, value in rows}


def attach_artifacts(run: TrackedRun, folder: Path, name: str) -> bool:
    """Copy `folder` to the run's artifacts as `name/` (as Azure ML uploads ./outputs);
    False when the artifact store is not a local folder."""
    parsed = urlparse(run.artifact_uri)
    if parsed.scheme not in ("", "file"):
        return False
    destination = Path(unquote(parsed.path)) / name
    shutil.copytree(folder, destination, dirs_exist_ok=True)
    return True
