"""Where things are in the project, and which names are experiments."""

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from scripts.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENTS_DIR = ROOT / "experiments"
SHARED_DIR = ROOT / "shared"
SHARED_PACKAGE = SHARED_DIR / "src" / "shared"
RUNS_DIR = ROOT / "runs"
DATA_DIR = ROOT / "data"
DOCKERFILE = ROOT / "docker" / "Dockerfile"
PYTHON_VERSION_FILE = ROOT / ".python-version"
JOB_FILE_NAME = "azure-ml-job.yaml"
TRACKING_STORE = RUNS_DIR / "mlflow.db"
ENVIRONMENTS_DIR = RUNS_DIR / ".venvs"

_VALID_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_REQUIREMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def python_version() -> str:
    """The project's Python version: `.python-version` is its only source."""
    return PYTHON_VERSION_FILE.read_text().strip()


def experiment_names() -> list[str]:
    return sorted(
        path.parent.name for path in EXPERIMENTS_DIR.glob("*/pyproject.toml") if path.is_file()
    )


def check_name(name: str) -> None:
    """A UsageError unless `name` can be an experiment's folder name."""
    if not _VALID_NAME.fullmatch(name) or ".." in name:
        raise UsageError(
            f"invalid experiment name {name!r}: use the name of a folder in experiments/ "
            "(letters, digits, '_', '-', '.'; no path separators, no leading dot or dash)"
        )


def experiment_dir(name: str) -> Path:
    """The folder of experiment `name`; a UsageError that lists the choices otherwise."""
    check_name(name)
    path = EXPERIMENTS_DIR / name
    if not (path / "pyproject.toml").is_file():
        known = ", ".join(experiment_names()) or "none yet"
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


def read_package(member_dir: Path) -> Package:
    try:
        project = tomllib.loads((member_dir / "pyproject.toml").read_text())["project"]
        names = (requirement_name(r) for r in project.get("dependencies", []))
        return Package(
            name=normalise(project["name"]),
            dependencies=frozenset(name for name in names if name),
        )
    except (OSError, KeyError, tomllib.TOMLDecodeError) as error:
        raise UsageError(
            f"{member_dir / 'pyproject.toml'} is not a valid project file ({error}); "
            "fix it, then run `uv lock`"
        ) from None
