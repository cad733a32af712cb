"""runs/.cache/: a value derived from a file is computed again exactly when the file's bytes
change, and only values JSON gives back unchanged are kept."""

from pathlib import Path
from typing import Any

from scripts.project.cache import MAX_SOURCE_BYTES, derived
from scripts.project.layout import Project
from tests.helpers import write


def counting(value: Any) -> tuple[list[int], Any]:
    calls: list[int] = []

    def derive() -> Any:
        calls.append(1)
        return value

    return calls, derive


def test_a_value_is_derived_again_only_when_the_bytes_change(tmp_path: Path) -> None:
    project, source = Project(tmp_path), write(tmp_path / "job.yaml", "a: 1\n")
    calls, derive = counting({"a": 1, "b": [1.5, None, "x"]})

    first = derived(project, "job", source, derive)
    second = derived(project, "job", source, derive)
    source.write_text("a: 2\n")
    third = derived(project, "job", source, derive)

    assert first == second == third == {"a": 1, "b": [1.5, None, "x"]}
    assert len(calls) == 2
    assert derived(project, "job", source, derive, salt="other") == first and len(calls) == 3


def test_values_json_would_change_are_not_kept(tmp_path: Path) -> None:
    project, source = Project(tmp_path), write(tmp_path / "job.yaml", "a: 1\n")
    for value in [{"key": (1, 2)}, {1: "int key"}, {"when": Path("x")}]:
        calls, derive = counting(value)
        assert derived(project, "job", source, derive) == value
        assert derived(project, "job", source, derive) == value
        assert len(calls) == 2


def test_a_damaged_cache_entry_is_derived_again(tmp_path: Path) -> None:
    project, source = Project(tmp_path), write(tmp_path / "job.yaml", "a: 1\n")
    calls, derive = counting(["x"])
    derived(project, "job", source, derive)
    for entry in (tmp_path / "runs" / ".cache").iterdir():
        entry.write_text('["trunc')

    assert derived(project, "job", source, derive) == ["x"] and len(calls) == 2


def test_a_missing_source_is_left_to_the_deriver(tmp_path: Path) -> None:
    _, derive = counting("its own error or value")
    assert derived(Project(tmp_path), "job", tmp_path / "absent", derive) == derive()
    assert not (tmp_path / "runs").exists()


def test_an_oversized_source_is_neither_hashed_nor_kept(tmp_path: Path) -> None:
    """A job file of gigabytes must not be read whole just to find its cache entry; its
    deriver refuses it in its own words."""
    source = tmp_path / "job.yaml"
    with source.open("wb") as file:
        file.truncate(MAX_SOURCE_BYTES + 1)  # sparse: no disk used
    calls, derive = counting("derived")

    derived(Project(tmp_path), "job", source, derive)
    derived(Project(tmp_path), "job", source, derive)

    assert len(calls) == 2
    assert not (tmp_path / "runs").exists()
