"""Which experiments are declared independent in the root pyproject.toml.

uv installs every workspace member together unless told otherwise, so two experiments could
never pin different versions of one package. One `[tool.uv] conflicts` set that names the
tooling's dev group and every experiment tells uv that none of them is ever installed with
another: uv then resolves each on its own, and `uv add --package EXP "numpy<2"` just works.
Edited with tomlkit, so the file keeps its comments and layout.
"""

from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import Array, InlineTable

TOOLING = {"package": "tooling", "group": "dev"}  # the root project's tooling group


def independent_packages(pyproject: Path) -> list[str]:
    """The packages the declaration names, besides the tooling."""
    conflicts = _independence(tomlkit.parse(pyproject.read_text()))
    return [str(entry["package"]) for entry in conflicts or [] if dict(entry) != TOOLING]


def declare_independent(pyproject: Path, package: str) -> None:
    document = tomlkit.parse(pyproject.read_text())
    conflicts = _independence(document)
    if conflicts is None:  # the first one: declare the set
        uv = document.setdefault("tool", tomlkit.table()).setdefault("uv", tomlkit.table())
        uv["preview-features"] = ["package-conflicts"]
        uv["conflicts"] = [[_entry(TOOLING)]]
        conflicts = uv["conflicts"][0]
    if all(dict(entry) != {"package": package} for entry in conflicts):
        conflicts.append(_entry({"package": package}))
        pyproject.write_text(tomlkit.dumps(document))


def withdraw(pyproject: Path, package: str) -> None:
    document = tomlkit.parse(pyproject.read_text())
    conflicts = _independence(document)
    if conflicts is None:
        return
    for index, entry in enumerate(conflicts):
        if dict(entry) == {"package": package}:
            del conflicts[index]
            pyproject.write_text(tomlkit.dumps(document))
            return


def _independence(document: Any) -> Array | None:
    """The conflict set that names the tooling, if the file has one."""
    for conflicts in document.get("tool", {}).get("uv", {}).get("conflicts", []):
        if any(dict(entry) == TOOLING for entry in conflicts):
            return conflicts  # type: ignore[no-any-return]
    return None


def _entry(values: dict[str, str]) -> InlineTable:
    """`{ package = "x" }`, spaced as the file writes them."""
    pairs = ", ".join(
        f"{key} = {tomlkit.string(value).as_string()}" for key, value in values.items()
    )
    entry: InlineTable = tomlkit.parse(f"entry = {{ {pairs} }}")["entry"]
    return entry
