from pathlib import Path

from scripts.project.layout import Project
from tests.helpers import REPOSITORY, run, write


def test_env_local_wins_over_env_and_empty_values_are_unset(tmp_path: Path) -> None:
    write(tmp_path / ".env", "A=placeholder\nB=from-env\nC=\n")
    write(tmp_path / ".env.local", "A=real\nD='quoted value'\n")

    assert Project(tmp_path).settings == {"A": "real", "B": "from-env", "D": "quoted value"}
    assert Project(tmp_path / "elsewhere").settings == {}  # no files: nothing set


def test_env_local_is_git_ignored() -> None:
    ignored = run(["git", "check-ignore", ".env.local", "data/x.csv"], REPOSITORY)
    assert ignored.stdout.split() == [".env.local", "data/x.csv"]


def test_the_uv_version_has_a_lower_bound_only() -> None:
    """uv refuses to run at all outside `required-version`: an upper bound would stop
    everyone who upgrades uv at the first command of the quickstart."""
    import tomllib

    from packaging.specifiers import SpecifierSet

    pyproject = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())
    required = SpecifierSet(pyproject["tool"]["uv"]["required-version"])
    assert "0.13.0" in required and "99.0.0" in required


def test_the_vscode_attach_configuration_matches_just_local_debug() -> None:
    """launch.json (JSON with comments) attaches where `just local --debug` listens, and
    leaves path mapping to the job (an IDE mapping would replace the job's own)."""
    import json
    import re

    from scripts.runner.debugging import DEFAULT_PORT, HOST

    text = (REPOSITORY / ".vscode" / "launch.json").read_text()
    launch = json.loads(re.sub(r"^\s*//.*$", "", text, flags=re.MULTILINE))
    (attach,) = [c for c in launch["configurations"] if c["name"] == "Attach to just local --debug"]
    assert (attach["type"], attach["request"]) == ("debugpy", "attach")
    assert attach["connect"] == {"host": HOST, "port": DEFAULT_PORT}
    assert attach["pathMappings"] == []
