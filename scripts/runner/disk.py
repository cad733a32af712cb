"""What local runs keep on disk — run folders and local environments — and what `just
clean` may remove: environments no current experiment needs (each is rebuilt when next
needed) and run folders older than a limit. Never an MLflow record (runs/mlflow.db,
runs/mlartifacts/, a run folder holding a store of its own) and never a running run.
"""

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from scripts.console import report
from scripts.project.cache import derived
from scripts.project.experiments import experiment_names, read_package
from scripts.project.layout import Project
from scripts.project.parking import interrupted_removals as parked_leftovers
from scripts.project.uv import member_requirements
from scripts.runfolder.layout import FALLBACK_STORE, MANIFEST, REQUIREMENTS, find_run_folders
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


@dataclass(frozen=True)
class Survey:
    """What runs/ holds, looked at once and never through a link: run folders, built
    environments, and the links found where either is looked for (skipped)."""

    run_folders: list[Path]
    environments: list[Path]
    links: list[Path]

    def say_links(self, project: Project) -> None:
        """One warning per link found: nothing is read, written or removed through it."""
        for link in self.links:
            report.warning(
                f"{link.relative_to(project.root)} is a symbolic link: skipped (nothing in "
                "runs/ is followed through a link)"
            )


def survey(project: Project, experiment: str | None = None) -> Survey:
    """runs/ (one experiment's run folders, if given)."""
    found = find_run_folders(project.runs, experiment)
    built, links = _environments(project)
    return Survey(found.folders, built, found.links + links)


def _environments(project: Project) -> tuple[list[Path], list[Path]]:
    """Built environments (the hidden names are builds under way or being replaced), and
    links in their place."""
    folder = project.environments
    if folder.is_symlink():
        return [], [folder]
    try:
        with os.scandir(folder) as entries:
            visible = [Path(e.path) for e in entries if not e.name.startswith(".")]
    except (FileNotFoundError, NotADirectoryError):
        return [], []
    links = [path for path in visible if path.is_symlink()]
    return sorted(set(visible) - set(links)), sorted(links)


def environment_size(project: Project, environment: Path) -> int:
    """An environment never changes once built: its size is measured once."""
    return derived(
        project,
        "environment-size",
        environment / REQUIREMENTS_FILE,
        lambda: size_of(environment),
        salt=environment.name,
    )


def unneeded_environments(project: Project, found: Survey) -> list[Removable]:
    needed = _needed_environments(project, found)
    return [
        Removable(path, environment_size(project, path), "no current experiment uses it")
        for path in found.environments
        if path.name not in needed
    ]


def old_run_folders(found: Survey, days: float, now: datetime) -> list[Removable]:
    removable = []
    for folder in found.run_folders:
        started = _started(folder)
        if (now - started).total_seconds() <= days * 86400 or _running(folder):
            continue
        if (folder / FALLBACK_STORE).exists():
            continue  # it holds the run's MLflow records
        reason = f"from {started:%Y-%m-%d}"
        removable.append(Removable(folder, size_of(folder), reason))
    return removable


def interrupted_removals(project: Project) -> list[Removable]:
    """What a removal left in runs/.removing/ when it was cut short (`NAME.PID`, PID gone)."""
    return [
        Removable(path, size_of(path), "left by an interrupted removal")
        for path in parked_leftovers(project)
    ]


def _needed_environments(project: Project, found: Survey) -> set[str]:
    """The environments today's experiments run in (with and without --debug, and what
    --docker adds to their images), and those of runs still running."""
    python = project.python_version()
    debug = debug_requirements(project)
    needed = set()
    for name in experiment_names(project):
        folder = project.experiments / name
        requirements = member_requirements(project, read_package(project, folder).name, folder)
        extra = tracking_requirements(project, requirements)
        needed |= {
            environment_key(python, requirements, extra),
            environment_key(python, requirements, extra + debug),
            image_packages_key(python, extra),
        }
    for folder in filter(_running, found.run_folders):
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
    """Whether the run may still be running: RUNNING, and its runner or its job alive (a
    job outlives a runner killed with SIGKILL)."""
    if not (folder / MANIFEST).exists():
        return False
    try:
        manifest = read_manifest(folder)
    except (OSError, ValueError, TypeError):
        return False
    processes = [p for p in (manifest.runner, manifest.job) if p is not None]
    return manifest.status == "RUNNING" and any(alive(process) for process in processes)
