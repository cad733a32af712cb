"""The Project value: every path the tooling uses, derived from the project's root.

A command builds it once (`Project.of_tooling()`) and passes it down, so every core
function can be pointed at another project, such as a test's temporary one.
"""

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from scripts.project.git import Git
from scripts.project.settings import load_settings

JOB_FILE_NAME = "azure-ml-job.yaml"  # each experiment's Azure ML job spec
MEMBER_ENVIRONMENT = ".venv"  # in each member's folder: its own development environment


def staging_path(path: Path, pid: int | None = None) -> Path:
    """Where `path` is made before it is put in place whole (a rename): beside it, hidden,
    named after the process making it (this one unless `pid`), so that two never share one
    and a leftover tells whose it was."""
    return path.with_name(f".{path.name}.{os.getpid() if pid is None else pid}.partial")


def write_whole(path: Path, data: str | bytes) -> None:
    """`data` into `path`, which is never seen half-written: staged, then renamed over it."""
    staging = staging_path(path)
    if isinstance(data, bytes):
        staging.write_bytes(data)
    else:
        staging.write_text(data)
    os.replace(staging, path)


@dataclass(frozen=True)
class Project:
    root: Path
    # Settings a command was given on its command line (`just local --track`): they win over
    # the environment and the .env files.
    overrides: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of_tooling(cls) -> "Project":
        """The project these scripts are part of (scripts/project/layout.py is in it)."""
        return cls(Path(__file__).resolve().parents[2])

    @property
    def experiments(self) -> Path:
        return self.root / "experiments"

    @property
    def shared(self) -> Path:
        """The workspace member `shared`; its package is `shared_package`."""
        return self.root / "shared"

    @property
    def shared_package(self) -> Path:
        return self.shared / "src" / "shared"

    @property
    def data(self) -> Path:
        """Local copies of Azure ML data: data/NAME/VERSION/, data/datastores/DS/PATH."""
        return self.root / "data"

    @property
    def dockerfile(self) -> Path:
        return self.root / "docker" / "Dockerfile"

    @property
    def python_version_file(self) -> Path:
        """`.python-version`: the project's Python version, in one place."""
        return self.root / ".python-version"

    @property
    def lock(self) -> Path:
        return self.root / "uv.lock"

    @property
    def pyproject(self) -> Path:
        """The workspace root's pyproject.toml: the tooling, and the workspace declarations."""
        return self.root / "pyproject.toml"

    @property
    def experiment_template(self) -> Path:
        """What `just new` makes an experiment from (placeholders: see scripts/members/)."""
        return self.root / "templates" / "experiment"

    @property
    def workflows(self) -> Path:
        """The project's GitHub Actions workflows (`just lint` checks them)."""
        return self.root / ".github" / "workflows"

    @property
    def docs(self) -> Path:
        """The documentation's sources (mkdocs.yml at the root); the site goes to docs_site."""
        return self.root / "docs"

    @property
    def docs_site(self) -> Path:
        return self.runs / "docs-site"

    @property
    def bench_record(self) -> Path:
        """The figures of `just bench --record`, with the commit and date they were taken on:
        the source of the docs' benchmarks page."""
        return self.docs / "benchmarks.txt"

    @property
    def runs(self) -> Path:
        """Run folders (runs/EXP/RUN/) and everything the tooling keeps between runs."""
        return self.root / "runs"

    @property
    def store(self) -> Path:
        """The local MLflow tracking store."""
        return self.runs / "mlflow.db"

    @property
    def artifacts(self) -> Path:
        """MLflow artifacts of the runs in `store`, one folder per MLflow experiment."""
        return self.runs / "mlartifacts"

    @property
    def environments(self) -> Path:
        """Local Python environments, one per set of requirements."""
        return self.runs / ".venvs"

    @property
    def ui_log(self) -> Path:
        """The output of the MLflow UI server `just ui` runs."""
        return self.runs / "mlflow-ui.log"

    @property
    def removing(self) -> Path:
        """Where folders are moved whole before they are deleted (`just rm`, `just clean`):
        an interruption never leaves half an experiment, run or environment in place."""
        return self.runs / ".removing"

    def reached_without_links(self, path: Path) -> bool:
        """Whether `path` lies below the root or runs/ with no symbolic link on the way (it
        may be a link itself: a link is acted on, never followed). runs/ itself may be a
        link, e.g. to put runs on another disk."""
        base = self.runs if path.is_relative_to(self.runs) else self.root
        if not path.is_relative_to(base):
            return False
        parts = path.relative_to(base).parts
        if not parts or ".." in parts:
            return False
        return not any(base.joinpath(*parts[:depth]).is_symlink() for depth in range(1, len(parts)))

    def parked(self, name: str) -> Path:
        """Where this process moves folder `name` before deleting it: `removing/NAME.PID`
        (an interrupted removal is told by its PID being gone)."""
        return self.removing / f"{name}.{os.getpid()}"

    @property
    def cache(self) -> Path:
        """What the tooling derives from uv.lock, kept until the lock changes."""
        return self.runs / ".cache"

    @property
    def settings_files(self) -> tuple[Path, Path]:
        """`.env` (committed placeholders), then `.env.local` (yours, git-ignored), which wins."""
        return self.root / ".env", self.root / ".env.local"

    @property
    def git(self) -> Git:
        return Git(self.root)

    @cached_property
    def settings(self) -> dict[str, str]:
        return load_settings(self.settings_files)

    def python_version(self) -> str:
        return self.python_version_file.read_text().strip()

    def python_minor_version(self) -> str:
        """`3.11` of a `.python-version` of `3.11` or `3.11.7`: what names lib/pythonX.Y
        and Debian's pythonX.Y package."""
        return ".".join(self.python_version().split(".")[:2])
