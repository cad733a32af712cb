"""Local Python environments built from a run folder's requirements.txt only, so that an
import the experiment did not declare fails locally as it would in Azure ML.

Each environment is kept under runs/.venvs/<hash of its requirements>/ and reused by
every run with the same requirements, so a warm run costs almost nothing.
"""

import hashlib
import os
import shutil
import sys
from pathlib import Path

from scripts.project import ENVIRONMENTS_DIR, python_version, requirement_name
from scripts.uv import export_requirements, run_uv

TRACKING_GROUP = "local-tracking"  # dependency group in the root pyproject.toml
_MLFLOW_CLIENTS = {"mlflow", "mlflow-skinny"}


def requirement_names(requirements: str) -> set[str]:
    """The packages a requirements.txt names (comments and options have none)."""
    names = (requirement_name(line) for line in requirements.splitlines())
    return {name for name in names if name}


def uses_mlflow(requirements: str) -> bool:
    return bool(requirement_names(requirements) & _MLFLOW_CLIENTS)


def tracking_requirements(requirements: str) -> str:
    """The local-tracking packages that `requirements` lacks, pinned from uv.lock.

    mlflow-skinny cannot write the SQLite store without SQLAlchemy and Alembic; nothing is
    added for experiments that do not use MLflow or already bring them.
    """
    if not uses_mlflow(requirements):
        return ""
    present = requirement_names(requirements)
    tracking = export_requirements("--only-group", TRACKING_GROUP)
    missing = [
        line
        for line in tracking.splitlines()
        if line.strip() and requirement_names(line).isdisjoint(present)
    ]
    return "".join(f"{line}\n" for line in missing)


def environment_key(requirements: str, extra: str) -> str:
    text = f"python {python_version()}\n{requirements}\n# local-tracking\n{extra}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def ensure_environment(requirements: str, extra: str) -> tuple[Path, bool]:
    """The environment for these requirements, and whether it had to be built now."""
    target = ENVIRONMENTS_DIR / environment_key(requirements, extra)
    if (target / "bin" / "python").exists():
        return target, False
    print(
        f"building local environment {target.name} (once per set of requirements)",
        file=sys.stderr,
    )
    ENVIRONMENTS_DIR.mkdir(parents=True, exist_ok=True)
    staging = ENVIRONMENTS_DIR / f".{target.name}.{os.getpid()}.partial"
    try:
        _build(staging, requirements, extra)
        try:
            staging.rename(target)
        except OSError:  # another run built it meanwhile: use theirs
            if not (target / "bin" / "python").exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target, True


def _build(folder: Path, requirements: str, extra: str) -> None:
    """A relocatable venv, so it can be built under a temporary name and then renamed."""
    run_uv("venv", "--quiet", "--relocatable", "--python", python_version(), str(folder))
    (folder / "requirements.txt").write_text(requirements)
    files = ["-r", str(folder / "requirements.txt")]
    if extra:
        (folder / "local-tracking.txt").write_text(extra)
        files += ["-r", str(folder / "local-tracking.txt")]
    python = str(folder / "bin" / "python")
    run_uv("pip", "install", "--compile-bytecode", "--python", python, *files, show_progress=True)
