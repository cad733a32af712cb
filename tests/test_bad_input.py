"""Every user mistake: one line on stderr naming problem and fix, exit 2, nothing written."""

from pathlib import Path

import pytest

from tests.helpers import script, write


def tree(root: Path) -> set[str]:
    """Every path in the project but git's and Python's bytecode caches."""
    skipped = {".git", "__pycache__"}
    return {str(p.relative_to(root)) for p in root.rglob("*") if skipped.isdisjoint(p.parts)}


def assert_usage_error(root: Path, command: str, *args: str, mentions: str) -> None:
    before = tree(root)
    result = script(root, command, *args)

    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert mentions in lines[0]
    assert "Traceback" not in result.stderr
    assert tree(root) == before


@pytest.mark.parametrize("command", ["iso", "local"])
@pytest.mark.parametrize(
    ("name", "mentions"),
    [
        ("nope", "unknown experiment 'nope': choose one of alpha, beta"),
        ("", "invalid experiment name"),
        ("alpha/src", "invalid experiment name"),
        ("..", "invalid experiment name"),
        ("../experiments/alpha", "invalid experiment name"),
        (".hidden", "invalid experiment name"),
        ("-x", "invalid experiment name"),
    ],
)
def test_bad_experiment_names(workspace: Path, command: str, name: str, mentions: str) -> None:
    assert_usage_error(workspace, command, "--", name, mentions=mentions)


@pytest.mark.parametrize("command", ["iso", "local"])
def test_missing_job_file(workspace: Path, command: str) -> None:
    (workspace / "experiments" / "alpha" / "azure-ml-job.yaml").unlink()
    assert_usage_error(workspace, command, "alpha", mentions="azure-ml-job.yaml is missing")


@pytest.mark.parametrize("command", ["iso", "local"])
def test_unparsable_job_file(workspace: Path, command: str) -> None:
    write(workspace / "experiments" / "alpha" / "azure-ml-job.yaml", "command: [unclosed\n")
    assert_usage_error(workspace, command, "alpha", mentions="is not valid YAML (line 2)")


@pytest.mark.parametrize("command", ["iso", "local"])
def test_job_without_command(workspace: Path, command: str) -> None:
    write(workspace / "experiments" / "alpha" / "azure-ml-job.yaml", "type: command\ncode: .\n")
    assert_usage_error(workspace, command, "alpha", mentions="has no `command`: add")


def test_set_of_an_undeclared_input(workspace: Path) -> None:
    assert_usage_error(
        workspace,
        "local",
        "alpha",
        "--set",
        "inputs.epochs=3",
        mentions="--set inputs.epochs: azure-ml-job.yaml declares no input 'epochs'",
    )


@pytest.mark.parametrize("text", ["inputs.epochs", "=3", "inputs..x=1"])
def test_malformed_set(workspace: Path, text: str) -> None:
    assert_usage_error(workspace, "local", "alpha", "--set", text, mentions="is not key=value")


def test_unknown_option(workspace: Path) -> None:
    assert_usage_error(workspace, "local", "alpha", "--bogus", mentions="just local --help")
