"""Local Python environments built from a run folder's requirements.txt only, so that an
import the experiment did not declare fails locally as it would in Azure ML.

Each environment is kept under runs/.venvs/<hash of its requirements>/ and reused by
every run with the same requirements, so a warm run costs almost nothing.
"""

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

from scripts.console import report
from scripts.project.experiments import requirement_name
from scripts.project.layout import Project, staging_path
from scripts.project.uv import export_requirements, run_uv
from scripts.tracking.schema import tooling_mlflow_version

TRACKING_GROUP = "local-tracking"  # dependency group in the root pyproject.toml
REQUIREMENTS_FILE = "requirements.txt"  # in each environment: what it was built from
_MLFLOW_CLIENTS = {"mlflow", "mlflow-skinny"}
_IMAGE_PACKAGES = "# for a job image"  # what tells their folder from an environment's
# requirements.txt names the indexes its packages come from and pins every version: the
# best match across them is the locked version (the job image installs so too, see
# docker/Dockerfile's UV_INDEX_STRATEGY).
INDEX_STRATEGY = "unsafe-best-match"
_COMPILED = ".bytecode-compiled"  # in an environment whose every module was compiled once


def requirement_names(requirements: str) -> set[str]:
    """The packages a requirements.txt names (comments and options have none)."""
    names = (requirement_name(line) for line in requirements.splitlines())
    return {name for name in names if name}


def mlflow_version(requirements: str) -> str | None:
    """The version of the MLflow client `requirements` pins ("" if it names one unpinned),
    or None if it has none."""
    for line in requirements.splitlines():
        name, _, pinned = line.partition("==")
        if requirement_name(name) in _MLFLOW_CLIENTS:
            return pinned.split(";")[0].strip(" \\")
    return None


def served_tracking(requirements: str) -> bool:
    """Whether the job's MLflow must log through a tracking server: it is another version
    than the tooling's, which made the store, and MLflow opens only a store of its exact
    schema revision."""
    version = mlflow_version(requirements)
    return version is not None and version != tooling_mlflow_version()


def tracking_requirements(project: Project, requirements: str) -> str:
    """The local-tracking packages that `requirements` lacks, pinned from uv.lock.

    mlflow-skinny cannot write the SQLite store without SQLAlchemy and Alembic; nothing is
    added for experiments that do not use MLflow, already bring them, or log through a
    tracking server.
    """
    if mlflow_version(requirements) is None or served_tracking(requirements):
        return ""
    present = requirement_names(requirements)
    tracking = export_requirements(project, "--only-group", TRACKING_GROUP)
    missing = [
        line
        for line in tracking.splitlines()
        if line.strip() and requirement_names(line).isdisjoint(present)
    ]
    return "".join(f"{line}\n" for line in missing)


def environment_key(python_version: str, requirements: str, extra: str) -> str:
    text = f"python {python_version}\n{requirements}\n# local-tracking\n{extra}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def environment_path(project: Project, requirements: str, extra: str) -> Path:
    """Where the environment for these requirements is (or is built): runs/.venvs/KEY."""
    return project.environments / environment_key(project.python_version(), requirements, extra)


def ensure_environment(project: Project, requirements: str, extra: str) -> tuple[Path, bool]:
    """The environment for these requirements, and whether it had to be built now."""
    python_version = project.python_version()
    target = environment_path(project, requirements, extra)
    if _complete(target):
        return target, False
    if target.exists():
        report.note(f"local environment {target.name} is damaged (no bin/python): rebuilding it")
    else:
        report.note(f"building local environment {target.name} (once per set of requirements)")
    project.environments.mkdir(parents=True, exist_ok=True)
    staging = staging_path(target)
    try:
        _build(project, staging, python_version, requirements, extra)
        try:
            staging.rename(target)
        except OSError:  # another run built it meanwhile (use theirs), or it is damaged
            if not _complete(target):
                _replace(target, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target, True


def image_packages_key(python_version: str, extra: str) -> str:
    """The name of the folder holding `extra` for a job image (see ensure_image_packages)."""
    return environment_key(python_version, _IMAGE_PACKAGES, extra)


def ensure_image_packages(project: Project, extra: str) -> Path:
    """A folder of the local-tracking packages `extra` (what `just local` adds to a job's
    environment) for the Python of the job image, each to be mounted into its
    site-packages; built once per set, as environments are."""
    python_version = project.python_version()
    target = project.environments / image_packages_key(python_version, extra)
    if target.is_dir():  # renamed into place whole
        return target
    project.environments.mkdir(parents=True, exist_ok=True)
    staging = staging_path(target)
    try:
        staging.mkdir()
        (staging / REQUIREMENTS_FILE).write_text(extra)
        run_uv(
            project,
            "pip", "install", "--quiet", "--no-deps", "--compile-bytecode",
            "--python", python_version, "--target", str(staging),
            "-r", str(staging / REQUIREMENTS_FILE),
        )  # fmt: skip
        with contextlib.suppress(OSError):  # another run made it meanwhile: theirs stays
            staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _complete(environment: Path) -> bool:
    """Built environments are renamed into place whole: one with its interpreter is whole,
    unless someone deleted parts of it by hand."""
    return (environment / "bin" / "python").exists()


def _replace(damaged: Path, built: Path) -> None:
    """Put `built` where `damaged` is: moved aside first, so the name is never empty of a
    whole environment for long, then deleted."""
    aside = damaged.with_name(f".{damaged.name}.{os.getpid()}.damaged")
    damaged.rename(aside)
    built.rename(damaged)
    shutil.rmtree(aside, ignore_errors=True)


def _build(project: Project, folder: Path, python: str, requirements: str, extra: str) -> None:
    """A relocatable venv, so it can be built under a temporary name and then renamed."""
    run_uv(project, "venv", "--quiet", "--relocatable", "--python", python, str(folder))
    (folder / REQUIREMENTS_FILE).write_text(requirements)
    files = ["-r", str(folder / REQUIREMENTS_FILE)]
    if extra:
        (folder / "local-tracking.txt").write_text(extra)
        files += ["-r", str(folder / "local-tracking.txt")]
    interpreter = str(folder / "bin" / "python")
    # Not compiled to bytecode (uv's default, unless UV_COMPILE_BYTECODE asks): Python
    # compiles what the job imports, once, and keeps it; see bytecode_compiled_alongside.
    run_uv(
        project,
        "pip", "install", "--python", interpreter, *files,
        "--index-strategy", INDEX_STRATEGY,
        show_progress=True,
    )  # fmt: skip


@contextlib.contextmanager
def bytecode_compiled_alongside(environment: Path, variables: dict[str, str]) -> Iterator[None]:
    """While the body (the job) runs, the environment's modules compiled to bytecode at the
    lowest priority, if the job cannot keep what it compiles itself (PYTHONDONTWRITEBYTECODE
    in its `variables`: every run would compile its imports again) and no run finished
    this before. Stopped when the body ends, done or not: the next run goes on with it.
    Compiling at build instead would hold up the first run for every module of every
    package; the job image's build does that (docker/Dockerfile)."""
    done = environment / _COMPILED
    if not variables.get("PYTHONDONTWRITEBYTECODE") or done.exists():
        yield
        return
    python = str(environment / "bin" / "python")
    site_packages = [str(path) for path in environment.glob("lib/python*/site-packages")]
    compiler = subprocess.Popen(
        ["nice", "-n", "19", python, "-m", "compileall", "-q", "-j", "0", *site_packages],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        process_group=0,  # its workers stop with it
    )
    try:
        yield
    finally:
        if compiler.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(compiler.pid, signal.SIGTERM)
        if compiler.wait() == 0:
            done.touch()
