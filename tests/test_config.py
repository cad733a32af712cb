from pathlib import Path

from scripts.config import load_settings
from tests.helpers import write


def test_env_local_wins_over_env_and_empty_values_are_unset(tmp_path: Path) -> None:
    committed = write(tmp_path / ".env", "A=placeholder\nB=from-env\nC=\n")
    local = write(tmp_path / ".env.local", "A=real\nD='quoted value'\n")

    settings = load_settings((committed, local, tmp_path / "missing"))

    assert settings == {"A": "real", "B": "from-env", "D": "quoted value"}


def test_env_local_is_git_ignored() -> None:
    from tests.helpers import REPOSITORY, run

    ignored = run(["git", "check-ignore", ".env.local", "data/x.csv"], REPOSITORY)
    assert ignored.stdout.split() == [".env.local", "data/x.csv"]
