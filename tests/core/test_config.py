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
