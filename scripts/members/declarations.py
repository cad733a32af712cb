"""Which experiments are declared independent in the root pyproject.toml.

uv installs every workspace member together unless told otherwise, so two experiments could
never pin different versions of one package. A `[tool.uv] conflicts` set that names one of
the tooling's groups and every experiment tells uv that none of them is ever installed with
another or with that group: uv then resolves each on its own, and `uv add --package EXP
"numpy<2"` just works. There is one such set per tooling group (dev, ui, check, sweep), each
naming the same experiments, so that the tooling's groups may be installed together.
Edited with tomlkit, so the file keeps its comments and layout.
"""

from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import Array, InlineTable

TOOLING = "tooling"  # the root project, whose groups are the tooling's
DEV = {"package": TOOLING, "group": "dev"}  # the group `uv run` installs


def independent_packages(pyproject: Path) -> list[str]:
    """The packages the declaration names, besides the tooling."""
    sets = _independence(tomlkit.parse(pyproject.read_text()))
    return (
        [str(entry["package"]) for entry in sets[0] if entry["package"] != TOOLING] if sets else []
    )


def declare_independent(pyproject: Path, package: str) -> None:
    document = tomlkit.parse(pyproject.read_text())
    sets = _independence(document)
    if not sets:  # the first one: declare a set for the tooling's dev group
        uv = document.setdefault("tool", tomlkit.table()).setdefault("uv", tomlkit.table())
        uv["preview-features"] = ["package-conflicts"]
        uv["conflicts"] = [[_entry(DEV)]]
        sets = [uv["conflicts"][0]]
    changed = False
    for conflicts in sets:
        if all(dict(entry) != {"package": package} for entry in conflicts):
            conflicts.append(_entry({"package": package}))
            changed = True
    if changed:
        pyproject.write_text(tomlkit.dumps(document))


def withdraw(pyproject: Path, package: str) -> None:
    document = tomlkit.parse(pyproject.read_text())
    changed = False
    for conflicts in _independence(document):
        for index, entry in enumerate(conflicts):
            if dict(entry) == {"package": package}:
                del conflicts[index]
                changed = True
                break
    if changed:
        pyproject.write_text(tomlkit.dumps(document))


def _independence(document: Any) -> list[Array]:
    """The conflict sets that name a group of the tooling, in the file's order."""
    return [
        conflicts
        for conflicts in document.get("tool", {}).get("uv", {}).get("conflicts", [])
        if any(entry.get("package") == TOOLING and "group" in entry for entry in conflicts)
    ]


def _entry(values: dict[str, str]) -> InlineTable:
    """`{ package = "x" }`, spaced as the file writes them."""
    pairs = ", ".join(
        f"{key} = {tomlkit.string(value).as_string()}" for key, value in values.items()
    )
    entry: InlineTable = tomlkit.parse(f"entry = {{ {pairs} }}")["entry"]
    return entry
