"""The layout of a run folder, the one place its names are defined:

runs/<experiment>/<run name>/
    code/                         the code root: the folder the job's `code:` names, as
                                  Azure ML uploads it; the job's working directory
        <code>/src/shared/        the `shared` package, when the experiment depends on it
                                  (see shared_folder)
        outputs/                  the job's ./outputs (Azure ML uploads it): made before the
                                  job starts; outputs/NAME for each declared output
        logs/                     the job's ./logs: made before the job starts
    environment/                  Docker build context: Dockerfile, requirements.txt,
                                  .python-version (outside the code root, as in Azure ML)
    job.yaml                      the job file the run was made from
    user_logs/std_log.txt         the job's stdout and stderr (`just local`, Azure ML's name);
                                  std_log_process_N.txt for process N of a distributed job
    system_logs/local_mlflow_server.txt   the MLflow server the job logged through, when its
                                  MLflow is another version than the tooling's
    system_logs/docker_build.txt  the build of the job's image (`just local --docker`), when
                                  it was built for this run
    run.json                      the run's manifest (`just local`, see manifest.py)
    mlflow.db, mlartifacts/       the run's own MLflow store and its artifacts, only when
                                  the project's store could not be used

A pipeline's run folder holds job.yaml (the pipeline file), environment/ (its experiment's
build context), run.json, and:
    pipeline.yaml                 the pipeline as azure-ai-ml loads it from here: each step's
                                  component inlined, its code and build context in steps/
    steps/<step>/                 one per step, laid out as a command job's run folder above
                                  (job.yaml: the file its component is written in); its
                                  outputs are in code/outputs/<output>; a nested pipeline's
                                  steps are steps/<nested>.<step>/
    steps/<nested>.yaml           a nested pipeline's component, placed as pipeline.yaml

A sweep's run folder is laid out as a command job's above (code/ and environment/ those of
its trial, job.yaml the sweep file), and holds:
    steps/<sweep run>_<i>/        one per trial that started, laid out as a command job's
                                  run folder (job.yaml: the command job the trial ran)
    code/outputs/<output>         the best trial's outputs, placed as the sweep's
A pipeline's sweep step's folder, steps/<step>/, is a sweep's run folder; its trials are
steps/<step>/steps/<step>_<i>/.

A job fetched from Azure ML (`just fetch`) has its record in the run folder `just aml` made
for it (runs/<experiment>/<job name>/; a job submitted elsewhere gets a folder of that name
in its Azure ML experiment's), in:
    cloud/run.json                the job as fetched: a manifest of its kind
    cloud/user_logs/ system_logs/ logs/   its logs, as Azure ML keeps them
    cloud/outputs/<output>/       each named output asked for
    cloud/steps/<child>/          each child job (a pipeline's step by its name, a sweep's
                                  trial by its job name), laid out as cloud/ is

Run folders are found by `find_run_folders` alone, which never follows a symbolic link.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from scripts.jobspec.job import BUILD_CONTEXT

CODE = "code"
ENVIRONMENT = BUILD_CONTEXT
DOCKERFILE_NAME = "Dockerfile"  # the names inside ENVIRONMENT, the build context
PYTHON_VERSION_NAME = ".python-version"
REQUIREMENTS_NAME = "requirements.txt"
REQUIREMENTS = f"{ENVIRONMENT}/{REQUIREMENTS_NAME}"
JOB_SPEC = "job.yaml"
SHARED = "src/shared"  # in the experiment's terms: beside a src-layout package
OUTPUTS = "outputs"  # in the code root
LOGS = "logs"  # in the code root
USER_LOGS = "user_logs"
SYSTEM_LOGS = "system_logs"
JOB_LOG = f"{USER_LOGS}/std_log.txt"
TRACKING_SERVER_LOG = f"{SYSTEM_LOGS}/local_mlflow_server.txt"
DOCKER_BUILD_LOG = f"{SYSTEM_LOGS}/docker_build.txt"
MANIFEST = "run.json"
PIPELINE_SPEC = "pipeline.yaml"
STEPS = "steps"
MANIFEST_STAGING = f".{MANIFEST}.partial"  # written, then renamed over run.json
FALLBACK_STORE = "mlflow.db"
FALLBACK_ARTIFACTS = "mlartifacts"
CLOUD_RECORD = "cloud"
CLOUD_LOGS = (USER_LOGS, SYSTEM_LOGS, LOGS)  # the artifact folders of a job that are its logs
_MARKS = (ENVIRONMENT, MANIFEST, CLOUD_RECORD)  # what makes a folder a run folder

# What running it adds, at the top and in the code root (SQLite's -wal and -shm included).
PRODUCED = (
    USER_LOGS, SYSTEM_LOGS, MANIFEST, MANIFEST_STAGING, FALLBACK_STORE,
    f"{FALLBACK_STORE}-wal", f"{FALLBACK_STORE}-shm", FALLBACK_ARTIFACTS,
)  # fmt: skip
PRODUCED_IN_CODE = (OUTPUTS, LOGS)
# What the MLflow run gets, as Azure ML uploads it: (folder in the run folder, artifact path).
ATTACHED = (
    (f"{CODE}/{OUTPUTS}", OUTPUTS), (f"{CODE}/{LOGS}", LOGS),
    (USER_LOGS, USER_LOGS), (SYSTEM_LOGS, SYSTEM_LOGS),
)  # fmt: skip


def process_log(rank: int | str) -> str:
    """The log of process `rank` of a distributed job (Azure ML's name)."""
    return f"{USER_LOGS}/std_log_process_{rank}.txt"


def output_folder(name: str) -> str:
    """Where the job's declared output `name` goes, relative to the code root."""
    return f"{OUTPUTS}/{name}"


def step_folder(name: str) -> str:
    """A pipeline step's run folder, relative to its pipeline's (a nested pipeline's step
    NESTED.STEP: steps/NESTED.STEP); a sweep trial's, relative to its sweep's."""
    return f"{STEPS}/{name}"


def nested_spec(name: str) -> str:
    """Where a pipeline's run folder holds its nested pipeline `name`'s component, as the
    SDK loads it (placed like PIPELINE_SPEC)."""
    return f"{STEPS}/{name}.yaml"


def shared_folder(code: str) -> str:
    """Where `shared` goes in the code root of a job whose `code:` is `code` (relative to
    the experiment): at src/shared of the experiment when the code root holds that place
    (beside a src-layout package, importable as the package is), else shared/ at the top
    of the code root (importable by a script run there)."""
    root, place = PurePosixPath(code).parts, PurePosixPath(SHARED).parts
    if place[: len(root)] == root and len(place) > len(root):
        return PurePosixPath(*place[len(root) :]).as_posix()
    return "shared"


@dataclass(frozen=True)
class RunFolders:
    """What runs/ holds: its run folders, and the symbolic links found where run folders
    are looked for (never followed: what a link leads to is not the tooling's)."""

    folders: list[Path]  # runs/EXPERIMENT/RUN, by path
    links: list[Path]


def find_run_folders(runs: Path, experiment: str | None = None) -> RunFolders:
    """The run folders in `runs` (of one experiment, if given): real folders at
    runs/EXPERIMENT/RUN holding ENVIRONMENT, MANIFEST or CLOUD_RECORD. Nothing is reached
    through a link: a link in place of an experiment's folder, a run folder, or one of
    those marks is listed in `links` instead. Hidden names (runs/.venvs, .cache, .removing)
    are not experiments."""
    folders: list[str] = []
    links: list[str] = []

    def wanted(name: str) -> bool:
        return not name.startswith(".") and experiment in (None, name)

    for experiment_folder in _subfolders(str(runs), links, wanted):
        for folder in _subfolders(experiment_folder, links):
            marks = [os.path.join(folder, name) for name in _MARKS]
            if any(os.path.islink(mark) for mark in marks):
                links.append(folder)
            elif any(os.path.lexists(mark) for mark in marks):
                folders.append(folder)
    return RunFolders(sorted(map(Path, folders)), sorted(map(Path, links)))


def _subfolders(
    folder: str, links: list[str], wanted: Callable[[str], bool] = lambda name: True
) -> list[str]:
    """The wanted sub-folders of `folder` (none if it is missing); wanted links among its
    entries go to `links` instead."""
    try:
        with os.scandir(folder) as scan:
            entries = [entry for entry in scan if wanted(entry.name)]
    except (FileNotFoundError, NotADirectoryError):
        return []
    links += [entry.path for entry in entries if entry.is_symlink()]
    return [
        entry.path
        for entry in entries
        if not entry.is_symlink() and entry.is_dir(follow_symlinks=False)
    ]
