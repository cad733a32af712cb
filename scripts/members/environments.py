"""Each member's own development environment, `<member>/.venv`: the member installed
editable with its locked dependencies and its `dev` group (pytest, …), and nothing of any
other experiment. It is what `just test EXP` runs the tests in and what an editor should
use as the experiment's interpreter."""

from pathlib import Path

from scripts.console import report
from scripts.project.layout import MEMBER_ENVIRONMENT, Project
from scripts.project.uv import run_uv


def member_environment(member_dir: Path) -> Path:
    return member_dir / MEMBER_ENVIRONMENT


def interpreter(member_dir: Path) -> Path:
    return member_environment(member_dir) / "bin" / "python"


def sync_member(project: Project, member_dir: Path, package: str) -> Path:
    """Bring the member's environment in line with uv.lock (creating it if need be, locking
    first if pyproject.toml changed, as `uv run` does); its interpreter."""
    environment = member_environment(member_dir)
    report.note(f"syncing {environment.relative_to(project.root)}")
    run_uv(
        project,
        "sync",
        "--package",
        package,
        show_progress=True,
        # uv's own way to put a project's environment elsewhere than the root's .venv; the
        # same as the active one, so that `uv run just …`'s VIRTUAL_ENV draws no warning.
        variables={"UV_PROJECT_ENVIRONMENT": str(environment), "VIRTUAL_ENV": str(environment)},
    )
    return interpreter(member_dir)
