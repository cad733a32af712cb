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
JOB_IMAGE_TABLE = "job-image"  # [tool.job-image] in a member's pyproject.toml
# A Debian package, optionally pinned (`libgomp1`, `libgomp1=12.2.0-14`), and an image
# reference: nothing a shell or a Dockerfile would read as more than one word.
_SYSTEM_PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?")
_IMAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@-]*")


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
class JobImage:
    """What an experiment adds to its job image (`[tool.job-image]`): another base image,
    Debian packages (sorted, each once, so the rendered Dockerfile depends on nothing else)."""

    base_image: str | None = None
    system_packages: tuple[str, ...] = ()


@dataclass(frozen=True)
class Package:
    """What the tooling needs from a workspace member's pyproject.toml."""

    name: str
    dependencies: frozenset[str]  # normalised names of what it depends on directly
    image: JobImage = JobImage()

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
    # The kind names what is kept: a cached value of another shape is never read back.
    declared = derived(project, "package-and-image", path, lambda: _parse_package(path))
    image = JobImage(declared["base_image"], tuple(declared["system_packages"]))
    return Package(declared["name"], frozenset(declared["dependencies"]), image)


class _Declared(TypedDict):
    name: str  # normalised
    dependencies: list[str]  # normalised names
    base_image: str | None
    system_packages: list[str]


def _parse_package(path: Path) -> _Declared:
    import tomllib  # ~5 ms; only a changed pyproject.toml pays for it

    try:
        document = tomllib.loads(path.read_text())
        declared = document["project"]
        dependencies = declared.get("dependencies", [])
        if not isinstance(declared["name"], str) or not _strings(dependencies):
            raise UsageError(
                f"{path} is not a valid project file ([project] name must be a string and "
                "dependencies a list of strings); fix it, then run `uv lock`"
            )
        names = (requirement_name(r) for r in dependencies)
        image = document.get("tool", {}).get(JOB_IMAGE_TABLE, {})
        if not isinstance(image, dict):
            raise UsageError(f"{path}: [tool.{JOB_IMAGE_TABLE}] must be a table")
        return {
            "name": normalise(declared["name"]),
            "dependencies": sorted(name for name in names if name),
            "base_image": _base_image(image.get("base-image"), path),
            "system_packages": _system_packages(image.get("system-packages", []), path),
        }
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError) as error:
        raise UsageError(
            f"{path} is not a valid project file ({error}); fix it, then run `uv lock`"
        ) from None


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _base_image(value: object, path: Path) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _IMAGE.fullmatch(value):
        raise UsageError(
            f"{path}: [tool.{JOB_IMAGE_TABLE}] base-image must be an image reference such as "
            f'"mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04" (got {value!r})'
        )
    return value


def _system_packages(value: object, path: Path) -> list[str]:
    if not isinstance(value, list) or not all(
        isinstance(item, str) and _SYSTEM_PACKAGE.fullmatch(item) for item in value
    ):
        raise UsageError(
            f"{path}: [tool.{JOB_IMAGE_TABLE}] system-packages must be a list of Debian "
            f'package names such as ["libgomp1"] (got {value!r})'
        )
    return sorted(set(value))
