"""Calling uv from the tooling, and the requirements it exports from uv.lock."""

import os
import shutil
import subprocess

from scripts.console.errors import CommandError
from scripts.project.cache import derived
from scripts.project.layout import Project

# No header, hashes or annotations: the text depends on the lock alone, so an unchanged
# lock gives byte-identical files (Azure ML names the image after their hash).
_EXPORT_OPTIONS = (
    "--frozen",
    "--no-hashes",
    "--no-emit-workspace",
    "--no-header",
    "--no-annotate",
    "--no-default-groups",
)


def uv_binary() -> str:
    """The uv that runs us (`uv run` sets UV), else the one on PATH."""
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        raise CommandError("uv is not installed: install it (https://docs.astral.sh/uv/)")
    return found


def run_uv(
    project: Project,
    *args: str,
    show_progress: bool = False,
    variables: dict[str, str] | None = None,
) -> str:
    """Run uv in the project's root and return its stdout; a one-line CommandError on failure.

    With `show_progress`, uv's own progress and errors go straight to the terminal;
    `variables` are added to its environment.
    """
    result = subprocess.run(
        [uv_binary(), *args],
        cwd=project.root,
        env=os.environ | variables if variables else None,
        stdout=subprocess.PIPE,
        stderr=None if show_progress else subprocess.PIPE,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        lines = [
            line.strip().removeprefix("error: ")
            for line in (result.stderr or "").splitlines()
            if line.strip()
        ]
        reason = " ".join(lines[-3:]) if lines else "see uv's message above"
        raise CommandError(f"`uv {args[0]}` failed: {reason}")
    return result.stdout


def export_requirements(project: Project, *selection: str) -> str:
    """Pinned requirements for a selection (`--package X`, `--only-group G`) from uv.lock.

    `uv export --frozen` reads nothing but the lock, so its text is kept (scripts/project/
    cache.py) until the lock, the arguments or the uv binary change.
    """
    args = ("export", *selection, *_EXPORT_OPTIONS)
    binary = os.stat(uv_binary())
    uv_identity = f"{binary.st_size}:{binary.st_mtime_ns}"
    return derived(
        project, "export", project.lock, lambda: run_uv(project, *args), salt=f"{args}{uv_identity}"
    )
