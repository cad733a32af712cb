"""`just lint` checks the project's GitHub workflows against GitHub's workflow schema, so a
team's CI file is linted with its code (its own CI adds actionlint, which needs GitHub)."""

import subprocess
import sys
from pathlib import Path

from scripts import lint
from scripts.project.layout import Project
from tests.helpers import REPOSITORY, write


def schema_check(root: Path) -> subprocess.CompletedProcess[str]:
    command = lint.checks(Project(root), fix=False)["workflow schema"]
    return subprocess.run(
        [sys.executable, "-m", *command], cwd=root, capture_output=True, text=True
    )


def test_the_workflows_are_checked_against_githubs_schema(tmp_path: Path) -> None:
    write(tmp_path / ".python-version", "3.11\n")
    broken = "name: CI\non: push\njobs:\n  check:\n    steps:\n      - run: just test\n"
    write(Project(tmp_path).workflows / "ci.yml", broken)  # no runs-on

    refused, ours = schema_check(tmp_path), schema_check(REPOSITORY)

    assert refused.returncode == 1 and "'runs-on' is a required property" in refused.stdout
    assert ours.returncode == 0, ours.stdout
