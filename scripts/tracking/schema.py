"""MLflow refuses a store whose schema revision is not exactly its own. The project's store
is the tooling's MLflow's (it makes the store, and serves it to jobs of another MLflow
version): checked before a job starts, so that a store left by another MLflow is one line
naming the fix instead of a crash inside the job."""

import importlib.util
import re
from pathlib import Path

from scripts.console.errors import StoreError
from scripts.project.cache import derived
from scripts.project.layout import Project
from scripts.tracking.store import connect

_REVISION = re.compile(r"^revision\s*[:=][^\"']*[\"']([0-9a-f]+)[\"']", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\s*[:=](.*)$", re.MULTILINE)
_IDENTIFIER = re.compile(r"[\"']([0-9a-f]+)[\"']")

Revisions = dict[str, list[str]]  # revision -> the revisions it follows


def tooling_mlflow() -> Path:
    """The tooling's `mlflow` package folder, found without importing it (seconds)."""
    spec = importlib.util.find_spec("mlflow")
    assert spec and spec.submodule_search_locations, "the tooling's environment has mlflow"
    return Path(next(iter(spec.submodule_search_locations)))


def tooling_mlflow_version() -> str:
    """Read from the package (importlib.metadata costs tens of milliseconds to import)."""
    version = (tooling_mlflow() / "version.py").read_text()
    found = re.search(r"^VERSION\s*=\s*[\"']([^\"']+)[\"']", version, re.MULTILINE)
    assert found, "mlflow/version.py names its VERSION"
    return found[1]


def check_schema(project: Project, store: Path) -> None:
    """A StoreError saying what to do unless `store` (if it exists) has the schema revision
    the tooling's MLflow works with."""
    if not store.exists():
        return
    package = tooling_mlflow()
    migrations = package / "store" / "db_migrations" / "versions"
    revisions = derived(
        project, "mlflow-schema", package / "version.py", lambda: _read_revisions(migrations)
    )
    head = _head(revisions)
    current = _store_revision(store)
    if current is None or head is None or current == head:
        return
    version = tooling_mlflow_version()
    if current in _ancestors(revisions, head):
        raise StoreError(
            f"{store} has an older MLflow schema than the tooling's MLflow {version}: "
            f"upgrade it in place, runs kept: uv run mlflow db upgrade sqlite:///{store}"
        )
    raise StoreError(
        f"{store} was made by a newer MLflow than the tooling's MLflow {version}: pin that "
        "MLflow in the root pyproject.toml (dev group) and run `uv sync`"
    )


def _read_revisions(folder: Path) -> Revisions:
    revisions: Revisions = {}
    for migration in folder.glob("*.py"):
        text = migration.read_text()
        revision, down = _REVISION.search(text), _DOWN_REVISION.search(text)
        if revision:
            revisions[revision[1]] = _IDENTIFIER.findall(down[1]) if down else []
    return revisions


def _head(revisions: Revisions) -> str | None:
    followed = {parent for parents in revisions.values() for parent in parents}
    heads = [revision for revision in revisions if revision not in followed]
    return heads[0] if len(heads) == 1 else None


def _ancestors(revisions: Revisions, revision: str) -> set[str]:
    found: set[str] = set()
    pending = list(revisions.get(revision, []))
    while pending:
        parent = pending.pop()
        if parent not in found:
            found.add(parent)
            pending.extend(revisions.get(parent, []))
    return found


def _store_revision(store: Path) -> str | None:
    try:
        with connect(store, read_only=True) as connection:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except StoreError:
        return None  # not an MLflow store: choosing the store says so
    return str(row[0]) if row else None
