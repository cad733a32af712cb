"""Removing a folder in two steps, so that an interruption never leaves half of it in place:
parked whole in runs/.removing/ (a rename), then deleted. A removal cut short leaves the
parked copy, named `NAME.PID`, which the next `just clean` deletes.

Nothing is deleted through a symbolic link: a parked link is unlinked (its target is not
the tooling's), and runs/.removing/ itself being a link stops every removal.
"""

import contextlib
import os
import shutil
from pathlib import Path

from scripts.console import report
from scripts.console.errors import ToolingError
from scripts.project.layout import Project


def park(project: Project, path: Path) -> Path:
    """Move `path` (a folder, a file or a link, which is moved, never followed) whole into
    runs/.removing/; where it is now."""
    if not project.reached_without_links(path):
        raise ToolingError(f"{path} is reached through a symbolic link: nothing is removed there")
    removing = _parking_place(project)
    removing.mkdir(parents=True, exist_ok=True)
    parked = project.parked(path.name)
    shutil.move(path, parked)  # a rename on one file system
    return parked


def delete_parked(parked: Path) -> None:
    """Delete what `park` moved: a link or a file is unlinked, a folder deleted with all it
    holds (links inside it unlinked, not followed)."""
    if parked.is_symlink() or not parked.is_dir():
        parked.unlink()
    else:
        shutil.rmtree(parked)
    with contextlib.suppress(OSError):  # not empty: another removal is under way
        parked.parent.rmdir()


def remove(project: Project, path: Path) -> None:
    """Park `path`, then delete it (what is parked already is deleted where it is)."""
    delete_parked(path if path.parent == project.removing else park(project, path))


def interrupted_removals(project: Project) -> list[Path]:
    """What removals cut short left in runs/.removing/: entries whose PID has gone."""
    removing = project.removing
    if removing.is_symlink():
        report.warning(_linked(project))
        return []
    try:
        with os.scandir(removing) as entries:
            parked = sorted(Path(entry.path) for entry in entries)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [path for path in parked if not _under_way(path)]


def _parking_place(project: Project) -> Path:
    if project.removing.is_symlink():
        raise ToolingError(_linked(project))
    return project.removing


def _linked(project: Project) -> str:
    shown = project.removing.relative_to(project.root)
    return (
        f"{shown} is a symbolic link, where the tooling parks what it deletes: nothing is "
        f"removed through it; remove the link (rm {shown}) and run again"
    )


def _under_way(parked: Path) -> bool:
    """Whether the process named by `parked`'s suffix still runs (its removal goes on)."""
    pid = parked.suffix.lstrip(".")
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, PermissionError, OverflowError):  # gone, or not ours now
        return False
    return True
