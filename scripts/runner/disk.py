"""What local runs keep on disk — run folders and local environments — and what `just
clean` may remove: environments no current experiment needs (each is rebuilt when next
needed) and run folders older than a limit. Never an MLflow record (runs/mlflow.db,
runs/mlartifacts/, a run folder holding a store of its own) and never a running run.
"""

import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from scripts.project.cache import derived
from scripts.project.experiments import experiment_names, read_package
from scripts.project.layout import Project
from scripts.project.uv import export_requirements
from scripts.runfolder.layout import ENVIRONMENT, FALLBACK_STORE, MANIFEST, REQUIREMENTS
from scripts.runfolder.manifest import read_manifest
from scripts.runner.debugging import debug_requirements
from scripts.runner.environments import (
    REQUIREMENTS_FILE,
    environment_key,
    image_packages_key,
    tracking_requirements,
)
from scripts.runner.orphans import alive

RUN_NAME_TIME = "%Y%m%d_%H%M%S"  # how run names start (scripts/runfolder/names.py)


@dataclass(frozen=True)
class Removable:
    path: Path
    size: int  # bytes
    reason: str


def megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:,.1f} MB"


def size_of(path: Path) -> int:
    """Bytes in the files under `path`, links not followed; what vanishes meanwhile, 0."""
    total = 0
    pending = [path]
    while pending:
        try:
            with os.scandir(pending.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(Path(entry.path))
                    else:
                        total += entry.stat(follow_symlinks=False).st_size
        except OSError:
            continue
    return total


def run_folders(project: Project) -> list[Path]:
    return sorted(p.parent for p in project.runs.glob(f"*/*/{ENVIRONMENT}") if p.is_dir())


def environments(project: Project) -> list[Path]:
    """Built environments (the hidden names are builds under way or being replaced)."""
    if not project.environments.is_dir():
        return []
    return sorted(p for p in project.environments.iterdir() if not p.name.startswith("."))


def environment_size(project: Project, environment: Path) -> int:
    """An environment never changes once built: its size is measured once."""
    return derived(
        project,
        "environment-size",
        environment / REQUIREMENTS_FILE,
        lambda: size_of(environment),
        salt=environment.name,
    )


def unneeded_environments(project: Project) -> list[Removable]:
    needed = _needed_environments(project)
    return [
        Removable(path, environment_size(project, path), "no current experiment uses it")
        for path in environments(project)
        if path.name not in needed
    ]


def old_run_folders(project: Project, days: float, now: datetime) -> list[Removable]:
    found = []
    for folder in run_folders(project):
        started = _started(folder)
        if (now - started).total_seconds() <= days * 86400 or _running(folder):
            continue
        if (folder / FALLBACK_STORE).exists():
            continue  # it holds the run's MLflow records
        reason = f"from {started:%Y-%m-%d}"
        found.append(Removable(folder, size_of(folder), reason))
    return found


def interrupted_removals(project: Project) -> list[Removable]:
    """What a removal left in runs/.removing/ when it was cut short (`NAME.PID`, PID gone)."""
    if not project.removing.is_dir():
        return []
    return [
        Removable(path, size_of(path), "left by an interrupted removal")
        for path in sorted(project.removing.iterdir())
        if not _removal_under_way(path)
    ]


def remove(project: Project, path: Path) -> None:
    """Move `path` out of the way whole, then delete it."""
    project.removing.mkdir(parents=True, exist_ok=True)
    parked = project.parked(path.name)
    if path.parent != project.removing:
        path.rename(parked)
    else:
        parked = path
    shutil.rmtree(parked)


def _removal_under_way(parked: Path) -> bool:
    pid = parked.suffix.lstrip(".")
    return pid.isdigit() and alive({"pid": int(pid), "start": ""})


def _needed_environments(project: Project) -> set[str]:
    """The environments today's experiments run in (with and without --debug, and what
    --docker adds to their images), and those of runs still running."""
    python = project.python_version()
    debug = debug_requirements(project)
    needed = set()
    for name in experiment_names(project):
        package = read_package(project, project.experiments / name).name
        requirements = export_requirements(project, "--package", package)
        extra = tracking_requirements(project, requirements)
        needed |= {
            environment_key(python, requirements, extra),
            environment_key(python, requirements, extra + debug),
            image_packages_key(python, extra),
        }
    for folder in filter(_running, run_folders(project)):
        manifest = read_manifest(folder)
        requirements = (folder / REQUIREMENTS).read_text()
        extra = manifest.local_tracking_requirements
        needed |= {
            environment_key(python, requirements, extra),
            environment_key(python, requirements, extra + debug),
        }
    return needed


def _started(folder: Path) -> datetime:
    try:
        return datetime.strptime(folder.name[:15], RUN_NAME_TIME)
    except ValueError:  # not a name the tooling gave: its last change
        return datetime.fromtimestamp(folder.stat().st_mtime)


def _running(folder: Path) -> bool:
    if not (folder / MANIFEST).exists():
        return False
    try:
        manifest = read_manifest(folder)
    except (OSError, ValueError, TypeError):
        return False
    return manifest.status == "RUNNING" and manifest.runner is not None and alive(manifest.runner)
