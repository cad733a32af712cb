"""Which folders are experiments, and what the tooling needs from a member's pyproject.toml."""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from scripts.console.errors import UsageError
from scripts.project.cache import derived
from scripts.project.layout import Project

_VALID_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_REQUIREMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def experiment_names(project: Project) -> list[str]:
    return sorted(
        path.parent.name for path in project.experiments.glob("*/pyproject.toml") if path.is_file()
    )


def check_name(name: str) -> None:
    """A UsageError unless `name` can be an experiment's folder name."""
    if not _VALID_NAME.fullmatch(name) or ".." in name:
        raise UsageError(
            f"invalid experiment name {name!r}: use the name of a folder in experiments/ "
            "(letters, digits, '_', '-', '.'; no path separators, no leading dot or dash)"
        )


def experiment_dir(project: Project, name: str) -> Path:
    """The folder of experiment `name`; a UsageError that lists the choices otherwise."""
    check_name(name)
    path = project.experiments / name
    if not (path / "pyproject.toml").is_file():
        known = ", ".join(experiment_names(project)) or "none yet"
        raise UsageError(f"unknown experiment {name!r}: choose one of {known}")
    return path


@dataclass(frozen=True)
class Package:
    """What the tooling needs from a workspace member's pyproject.toml."""

    name: str
    dependencies: frozenset[str]  # normalised names of what it depends on directly

    def depends_on(self, package: str) -> bool:
        return normalise(package) in self.dependencies


def normalise(name: str) -> str:
    """A package name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str | None:
    """The normalised package name a PEP 508 requirement line starts with, if any."""
    match = _REQUIREMENT_NAME.match(requirement.strip())
    return normalise(match.group()) if match else None


def read_package(project: Project, member_dir: Path) -> Package:
    """The package a workspace member's pyproject.toml declares (kept in runs/.cache/)."""
    path = member_dir / "pyproject.toml"
    declared = derived(project, "package", path, lambda: _parse_package(path))
    return Package(declared["name"], frozenset(declared["dependencies"]))


class _Declared(TypedDict):
    name: str  # normalised
    dependencies: list[str]  # normalised names


def _parse_package(path: Path) -> _Declared:
    import tomllib  # ~5 ms; only a changed pyproject.toml pays for it

    try:
        declared = tomllib.loads(path.read_text())["project"]
        names = (requirement_name(r) for r in declared.get("dependencies", []))
        return {
            "name": normalise(declared["name"]),
            "dependencies": sorted(name for name in names if name),
        }
    except (OSError, KeyError, tomllib.TOMLDecodeError) as error:
        raise UsageError(
            f"{path} is not a valid project file ({error}); fix it, then run `uv lock`"
        ) from None
