"""Tests, each set in its own environment: the tooling's tests/ in the tooling's, and each
member's tests/ in that member's (`<member>/.venv`), so that an experiment's test cannot
pass only because another experiment or the tooling brought a package, and experiments
pinning different versions test side by side."""

import sys
from collections.abc import Sequence
from pathlib import Path

from scripts.console import report
from scripts.console.cli import run_passing_stops
from scripts.console.errors import UsageError
from scripts.members.environments import sync_member
from scripts.project.experiments import experiment_dir, experiment_names, read_package
from scripts.project.layout import Project
from scripts.project.uv import CHECK_GROUP, SWEEP_GROUP, UI_GROUP, ensure_groups

TOOLING = "tooling"
TESTS = "tests"
# `just test --fast`: what needs seconds each, a Docker engine or Azurite is left out (each
# member registers `slow` in its own pyproject.toml; the tooling all three).
FAST = "not slow and not docker and not azurite"
FAST_IN_MEMBERS = "not slow"
_NOTHING_SELECTED = 5  # pytest's exit code when every test is deselected


def member_dir(project: Project, name: str) -> Path:
    """`shared`'s folder or an experiment's; a UsageError listing the choices otherwise."""
    return project.shared if name == "shared" else experiment_dir(project, name)


def test_targets(project: Project) -> list[str]:
    """`tooling`, then every member with a tests/ folder."""
    members = ["shared", *experiment_names(project)]
    return [TOOLING, *(name for name in members if (member_dir(project, name) / TESTS).is_dir())]


def check_target(project: Project, name: str) -> None:
    if name not in test_targets(project):
        choices = ", ".join(test_targets(project))
        raise UsageError(
            f"nothing to test called {name!r}: choose one of {choices} "
            "(pytest options follow it, e.g. `just test tooling -x`)"
        )


def run_tests(project: Project, name: str, pytest_args: Sequence[str], fast: bool = False) -> int:
    """pytest's exit code for target `name`; its output goes straight to the terminal. With
    `fast`, the tests marked as needing seconds or a service are left out (a set with
    nothing left passes)."""
    report.note(f"=== {name}{' (fast)' if fast else ''}")
    if name == TOOLING:  # pytest, the MLflow server some tests start, the sweep samplers
        groups = [CHECK_GROUP, UI_GROUP, SWEEP_GROUP]
        ensure_groups(project, groups, "pytest, the MLflow server and the sweep samplers")
        selected = ["-m", FAST, "-n", "auto"] if fast else []  # on every core (pytest-xdist)
        command = [sys.executable, "-m", "pytest", *selected, *pytest_args]
    else:
        folder = member_dir(project, name)
        python = sync_member(project, folder, read_package(project, folder).name)
        # The member's own pyproject.toml as pytest's configuration: the root's belongs
        # to the tooling (its warning filters name packages a member need not have).
        config = ["-c", str(folder / "pyproject.toml"), "--rootdir", str(folder)]
        selected = ["-m", FAST_IN_MEMBERS] if fast else []
        command = [str(python), "-m", "pytest", *config, *selected, str(folder / TESTS)]
        command += pytest_args
    code = run_passing_stops(command, project.root)
    return 0 if fast and code == _NOTHING_SELECTED else code
