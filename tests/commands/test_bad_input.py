"""Every user mistake: one line on stderr naming problem and fix, exit 2, nothing written.

Commands run in-process (the `cli` fixture) against the tiny workspace; iso and local share
the checks (scripts/runfolder/isolate.py), so each mistake is tried once, through local,
which has the most to check.
"""

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from scripts import aml, clean, iso, local, rerun, runs, ui
from tests.helpers import Outcome, write


def tree(root: Path) -> set[str]:
    """Every path in the project but caches: git's, Python's bytecode and the tooling's
    requirements exported from uv.lock (runs/.cache/, valid whatever the command does)."""
    skipped = {".git", "__pycache__", ".cache"}
    paths = {str(p.relative_to(root)) for p in root.rglob("*") if skipped.isdisjoint(p.parts)}
    return paths - {"runs"}


@pytest.fixture
def usage_error(workspace: Path, cli: Callable[..., Outcome]) -> Callable[..., str]:
    """Run `just local ARGS` on the workspace; assert exit 2, one line, nothing written;
    return the line."""

    def check(*args: str) -> str:
        before = tree(workspace)
        outcome = cli(local.main, workspace, *args)
        assert outcome.code == 2, outcome.err
        assert tree(workspace) == before
        return outcome.error_line

    return check


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
def test_bad_experiment_names(usage_error: Callable[..., str], name: str, mentions: str) -> None:
    assert mentions in usage_error("--", name)


def test_missing_job_file(workspace: Path, usage_error: Callable[..., str]) -> None:
    (workspace / "experiments" / "alpha" / "azure-ml-job.yaml").unlink()
    assert "azure-ml-job.yaml is missing" in usage_error("alpha")


def test_unparsable_job_file(workspace: Path, usage_error: Callable[..., str]) -> None:
    write(workspace / "experiments" / "alpha" / "azure-ml-job.yaml", "command: [unclosed\n")
    assert "is not valid YAML (line 2)" in usage_error("alpha")


def test_job_without_command(workspace: Path, usage_error: Callable[..., str]) -> None:
    write(workspace / "experiments" / "alpha" / "azure-ml-job.yaml", "type: command\ncode: .\n")
    assert "has no `command`: add" in usage_error("alpha")


def test_a_folder_that_clashes_with_the_run_folder_layout(
    workspace: Path, usage_error: Callable[..., str]
) -> None:
    write(workspace / "experiments" / "alpha" / "environment" / "notes.txt", "mine\n")
    assert "alpha/environment clashes with the run-folder layout: rename it" in usage_error("alpha")


def test_a_folder_where_shared_goes(workspace: Path, usage_error: Callable[..., str]) -> None:
    write(workspace / "experiments" / "alpha" / "src" / "shared" / "mine.py", "")
    assert "alpha/src/shared is where the run folder puts `shared`: rename it" in usage_error(
        "alpha"
    )


def test_set_of_an_undeclared_input(usage_error: Callable[..., str]) -> None:
    assert usage_error("alpha", "--set", "inputs.epochs=3") == (
        "--set inputs.epochs: azure-ml-job.yaml declares no input 'epochs' (declared: none); "
        "add it under `inputs:` or fix the name"
    )


@pytest.mark.parametrize(
    "name", ["../../elsewhere", "/tmp/absolute", "a/b", "..", ".hidden", "with space"]
)
def test_an_experiment_name_that_is_not_a_plain_name(
    usage_error: Callable[..., str], name: str
) -> None:
    assert usage_error("alpha", "--set", f"experiment_name={name}") == (
        f"experiment_name {name!r} in azure-ml-job.yaml (or --set) is not a plain name: use "
        "letters, digits, '_', '-' and '.', no '/' or '..'"
    )


def test_an_output_name_that_is_not_a_plain_name(
    workspace: Path, usage_error: Callable[..., str]
) -> None:
    job = workspace / "experiments" / "alpha" / "azure-ml-job.yaml"
    job.write_text(job.read_text() + "outputs:\n  ../../x:\n    type: uri_folder\n")

    assert usage_error("alpha").startswith("output '../../x' in azure-ml-job.yaml is not a plain")


@pytest.mark.parametrize("text", ["inputs.epochs", "=3", "inputs..x=1"])
def test_malformed_set(usage_error: Callable[..., str], text: str) -> None:
    assert "is not key=value" in usage_error("alpha", "--set", text)


def test_unknown_option(usage_error: Callable[..., str]) -> None:
    assert "(see `just local --help`)" in usage_error("alpha", "--bogus")


@pytest.mark.parametrize(
    ("main", "args", "mentions"),
    [
        (iso.main, ["--bogus"], "(see `just iso --help`)"),
        (runs.main, ["../x"], "invalid experiment name '../x'"),
        (rerun.main, ["runs/beta/absent"], "runs/beta/absent is not a folder"),
        (clean.main, ["--runs-older-than", "nan"], "--runs-older-than must be a number of days"),
        (ui.main, ["--port", "70000"], "--port: must be a port between 1 and 65535, not '70000'"),
        (clean.main, ["--runs-older-than", "-1"], "--runs-older-than must be a number of days"),
        (local.main, ["beta", "-f", "src"], "src is a folder: give a job YAML file inside it"),
        (
            local.main,
            ["beta", "--debug", "--debug-timeout", "10000000000"],
            "--debug-timeout must be between 1 and 86400 seconds",
        ),
    ],
)
def test_other_commands_check_their_arguments(
    workspace: Path,
    cli: Callable[..., Outcome],
    main: Callable[..., int],
    args: list[str],
    mentions: str,
) -> None:
    outcome = cli(main, workspace, *args)

    assert outcome.code == 2
    assert mentions in outcome.error_line


BROKEN_JOB_FILES = {
    "latin1.yaml": (
        "type: command\ncommand: echo caf\xe9\n".encode("latin-1"),
        "is not UTF-8 text",
    ),
    "utf16.yaml": ("type: command\ncommand: echo hi\n".encode("utf-16"), "is not UTF-8 text"),
    "deep.yaml": (("a: " + "[" * 3000 + "]" * 3000 + "\n").encode(), "nests more than"),
    "wide.yaml": (
        b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        b"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
        b"g: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n",
        "expands to over 100,000 values",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BROKEN_JOB_FILES))
@pytest.mark.parametrize("command", [local, aml], ids=["local", "aml"])
def test_a_job_file_that_cannot_be_read_is_one_line(
    workspace: Path, cli: Callable[..., Outcome], command: ModuleType, name: str
) -> None:
    content, says = BROKEN_JOB_FILES[name]
    (workspace / "experiments" / "beta" / name).write_bytes(content)
    before = tree(workspace)

    dry_run = ["--dry-run"] if command is aml else []
    outcome = cli(command.main, workspace, "beta", "-f", name, *dry_run)

    assert outcome.code == 2, outcome.err
    assert says in outcome.error_line
    assert tree(workspace) == before


@pytest.mark.parametrize(
    ("field", "value"), [("dependencies", "[5]"), ("name", "7"), ("dependencies", '"numpy"')]
)
def test_a_member_project_file_of_the_wrong_shape_is_one_line(
    usage_error: Callable[..., str], workspace: Path, field: str, value: str
) -> None:
    project_file = workspace / "experiments" / "beta" / "pyproject.toml"
    text = project_file.read_text()
    start = text.index(f"{field} = ")
    end = text.index("\n", start)
    project_file.write_text(f"{text[:start]}{field} = {value}{text[end:]}")

    assert "is not a valid project file" in usage_error("beta")
