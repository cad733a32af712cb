"""The run folder: everything one job needs, in the layout Azure ML receives it.

runs/<experiment>/<run name>/
    <the experiment's files>      code root: the job's working directory
    src/shared/                   the `shared` package, when the experiment depends on it
    environment/                  Docker build context: Dockerfile, requirements.txt,
                                  .python-version
    outputs/                      what the job writes (Azure ML uploads it)
    logs/std_log.txt              the job's stdout and stderr (`just local`)
    run.json                      the run's manifest (`just local`, see manifest.py)
"""

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scripts.errors import UsageError
from scripts.jobspec import JobDict, load_job
from scripts.names import new_run_name
from scripts.project import (
    DOCKERFILE,
    JOB_FILE_NAME,
    PYTHON_VERSION_FILE,
    RUNS_DIR,
    SHARED_DIR,
    SHARED_PACKAGE,
    experiment_dir,
    read_package,
)
from scripts.snapshot import copy_tree, ignore_spec
from scripts.uv import export_requirements

ENVIRONMENT = "environment"
REQUIREMENTS = f"{ENVIRONMENT}/requirements.txt"
SHARED_DESTINATION = "src/shared"
OUTPUTS = "outputs"
LOGS = "logs"


@dataclass(frozen=True)
class Source:
    """An experiment checked and ready to isolate; nothing is written yet."""

    name: str
    folder: Path
    job: JobDict
    requirements: str
    uses_shared: bool


def check_source(experiment: str) -> Source:
    folder = experiment_dir(experiment)
    job = load_job(folder / JOB_FILE_NAME)
    package = read_package(folder)
    for reserved in (ENVIRONMENT, SHARED_DESTINATION):
        if (folder / reserved).exists():
            raise UsageError(f"{folder / reserved} clashes with the run-folder layout: rename it")
    return Source(
        name=experiment,
        folder=folder,
        job=job,
        requirements=export_requirements("--package", package.name),
        uses_shared=package.depends_on(read_package(SHARED_DIR).name),
    )


def create_run_folder(source: Source) -> Path:
    """A new run folder holding `source`."""
    return new_run_folder(source.name, lambda run_dir: _fill(run_dir, source))


def new_run_folder(experiment: str, fill: Callable[[Path], None]) -> Path:
    """A new, uniquely named folder in runs/EXPERIMENT/, filled by `fill`; on any failure
    (Ctrl-C included) nothing is left behind."""
    run_dir = _new_empty_folder(RUNS_DIR / experiment)
    try:
        fill(run_dir)
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    return run_dir


def _new_empty_folder(parent: Path) -> Path:
    parent.mkdir(parents=True, exist_ok=True)
    while True:
        candidate = parent / new_run_name()
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue


def _fill(run_dir: Path, source: Source) -> None:
    refused = copy_tree(source.folder, run_dir, ignore_spec(source.folder))
    if source.uses_shared:
        refused += copy_tree(SHARED_PACKAGE, run_dir / SHARED_DESTINATION, ignore_spec(SHARED_DIR))
    for path in refused:
        print(f"warning: not copied, looks like a credential: {path}", file=sys.stderr)
    environment = run_dir / ENVIRONMENT
    environment.mkdir()
    shutil.copyfile(DOCKERFILE, environment / "Dockerfile")
    shutil.copyfile(PYTHON_VERSION_FILE, environment / ".python-version")
    (run_dir / REQUIREMENTS).write_text(source.requirements)
