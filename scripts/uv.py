"""Calling uv from the tooling."""

import os
import shutil
import subprocess

from scripts.errors import CommandError
from scripts.project import ROOT


def uv_binary() -> str:
    """The uv that runs us (`uv run` sets UV), else the one on PATH."""
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        raise CommandError("uv is not installed: install it (https://docs.astral.sh/uv/)")
    return found


def run_uv(*args: str, show_progress: bool = False) -> str:
    """Run uv in the project root and return its stdout; a one-line CommandError on failure.

    With `show_progress`, uv's own progress and errors go straight to the terminal.
    """
    result = subprocess.run(
        [uv_binary(), *args],
        cwd=ROOT,
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


def export_requirements(*selection: str) -> str:
    """Pinned requirements for a selection (`--package X`, `--only-group G`) from uv.lock.

    No header, hashes or annotations: the text depends on the lock alone, so an unchanged
    lock gives byte-identical files (Azure ML names the image after their hash).
    """
    return run_uv(
        "export",
        *selection,
        "--frozen",
        "--no-hashes",
        "--no-emit-workspace",
        "--no-header",
        "--no-annotate",
        "--no-default-groups",
    )
