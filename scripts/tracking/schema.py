"""MLflow refuses a store whose schema revision is not exactly its own. Checked before the
job starts, against the MLflow in the job's environment, so that a version skew (an
experiment pinning another MLflow than the one that made the store) is one line naming
the fix instead of a crash inside the job's `mlflow.start_run()`."""

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


def check_schema(project: Project, store: Path, venv: Path, experiment: str) -> None:
    """A StoreError saying what to do unless `store` (if it exists) has the schema revision
    the MLflow installed in `venv` (if any) works with."""
    site = next(venv.glob("lib/python*/site-packages/mlflow/version.py"), None)
    if site is None or not store.exists():
        return
    migrations = site.parent / "store" / "db_migrations" / "versions"
    revisions = derived(project, "mlflow-schema", site, lambda: _read_revisions(migrations))
    head = _head(revisions)
    current = _store_revision(store)
    if current is None or head is None or current == head:
        return
    version = _version(site)
    if current in _ancestors(revisions, head):
        raise StoreError(
            f"{store} has an older MLflow schema than MLflow {version} (the job's) works with: "
            f"upgrade it in place, runs kept: uv run mlflow db upgrade sqlite:///{store}"
        )
    raise StoreError(
        f"{store} was made by a newer MLflow than {experiment}'s MLflow {version}: pin the "
        f"tooling's MLflow in experiments/{experiment}/pyproject.toml (mlflow or "
        "mlflow-skinny, as in the root pyproject.toml) and run `uv lock`"
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


def _version(version_file: Path) -> str:
    found = re.search(r"VERSION\s*=\s*[\"']([^\"']+)[\"']", version_file.read_text())
    return found[1] if found else "(unknown version)"
