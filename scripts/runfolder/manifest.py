"""run.json: what a run folder records about its run, machine-readable.

Written when the job starts (status RUNNING) and again when it ends, atomically, so a
folder always has a complete manifest. `just runs` lists runs from these files and
`just rerun` repeats a run from one, without the project's sources.

A run.json says its `version`: MANIFEST_VERSION for what this tooling writes, 1 for one
written before versions (no `version` field). Every older version is read (the fields it
lacks take their defaults); a newer one is refused, never misread.
"""

import contextlib
import errno
import json
import os
import types
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from scripts.project.layout import JOB_FILE_NAME
from scripts.runfolder.layout import CLOUD_RECORD, MANIFEST, MANIFEST_STAGING

MANIFEST_VERSION = 4  # 2: `version`, `kind`, `parent_run_id`, `steps`, `pipeline_outputs`,
# `reuse_key`, `reuse_parts`, `reused_from`; 3: the kinds sweep and trial, `trial_values`,
# `score`, `stopped_by`, `objective`, `best_trial`; 4: `job_name`, `studio_url`, `compute`,
# `cloud_status`, `fetched` (a cloud job's record, written by `just fetch`)
# The kinds of run a run.json records: a command job's, a pipeline's, one of its steps, a
# sweep's, one of its trials. A pipeline's steps and a sweep's trials are its children:
# each is in step_folder(NAME), NAME listed in `steps`.
COMMAND, PIPELINE, STEP, SWEEP, TRIAL = "command", "pipeline", "step", "sweep", "trial"
PARENTS = (PIPELINE, SWEEP)
LOCAL, CLOUD = "local", "cloud"  # where a run ran


@dataclass
class Manifest:
    experiment: str  # folder in experiments/
    mlflow_experiment: str
    run_name: str
    command: str  # as executed, inputs resolved
    inputs: dict[str, str | None]
    environment_variables: dict[str, str]  # the job's own; never the caller's environment
    requirements_sha256: str
    local_tracking_requirements: str
    git: dict[str, Any] | None
    tracking_store: str = ""  # set when the run is assembled (the store may fall back)
    started: str = ""  # set when the job starts
    status: str = "RUNNING"
    ended: str | None = None
    duration_seconds: float | None = None
    exit_code: int | None = None
    tracking_run_id: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)  # latest value of each
    output_folders: list[str] = field(default_factory=list)  # one per declared output
    timeout_seconds: int | None = None  # the job's limits.timeout: stopped after it
    distribution: dict[str, Any] | None = None  # a distributed job's type and counts
    read_only_inputs: list[str] = field(default_factory=list)  # read-only on Azure ML
    job_file: str = JOB_FILE_NAME  # the job spec it ran (`-f`), inside the experiment
    docker_image: str | None = None  # `--docker`: the job image it ran in
    rerun_of: str | None = None
    # The runner's and the job's processes ({"pid", "start"}), so that a run whose runner
    # was killed before it could record anything is found and recorded KILLED later.
    runner: dict[str, int | str] | None = None
    job: dict[str, int | str] | None = None
    version: int = MANIFEST_VERSION
    kind: str = COMMAND  # one of the kinds above
    parent_run_id: str | None = None  # a step's or trial's: its parent's MLflow run
    steps: list[str] = field(default_factory=list)  # a parent's children, as they started
    # A pipeline's outputs, each the output folder of the step output it is bound to; a
    # sweep's, its best trial's (relative to the run folder).
    pipeline_outputs: dict[str, str] = field(default_factory=dict)
    # A step's: what Azure ML compares to reuse it (scripts/pipelines/reuse.py), the digest
    # of those parts, and the run folder of the step it was reused from.
    reuse_key: str | None = None
    reuse_parts: dict[str, str] = field(default_factory=dict)
    reused_from: str | None = None
    # A trial's: its search-space values, its score (the best value it logged of the
    # primary metric) and, if stopped early, by what (scripts/sweeps/termination.py).
    trial_values: dict[str, Any] = field(default_factory=dict)
    score: float | None = None
    stopped_by: str | None = None
    # A sweep's: its objective ({"primary_metric": ..., "goal": ...}) and best trial.
    objective: dict[str, str] = field(default_factory=dict)
    best_trial: str | None = None
    # A cloud job's, as `just fetch` found it: its name in the workspace, its studio page,
    # its compute, Azure ML's own status word (`status` is MLflow's) and when it was fetched.
    job_name: str | None = None
    studio_url: str | None = None
    compute: str | None = None
    cloud_status: str | None = None
    fetched: str | None = None

    @property
    def where(self) -> str:
        """Where the run ran: LOCAL, or CLOUD for a job fetched from Azure ML."""
        return CLOUD if self.job_name else LOCAL

    @property
    def params(self) -> dict[str, str]:
        """What its MLflow run logs as parameters: the inputs that have a value, and a
        trial's search-space values."""
        inputs = {name: value for name, value in self.inputs.items() if value is not None}
        return inputs | {name: str(value) for name, value in self.trial_values.items()}

    def for_rerun(self, run_name: str, rerun_of: str) -> "Manifest":
        """A new run's manifest: what this run was given, nothing that running it recorded."""
        return Manifest(
            experiment=self.experiment,
            mlflow_experiment=self.mlflow_experiment,
            run_name=run_name,
            command=self.command,
            inputs=self.inputs,
            environment_variables=self.environment_variables,
            requirements_sha256=self.requirements_sha256,
            local_tracking_requirements=self.local_tracking_requirements,
            git=self.git,
            output_folders=self.output_folders,
            timeout_seconds=self.timeout_seconds,
            distribution=self.distribution,
            read_only_inputs=self.read_only_inputs,
            job_file=self.job_file,
            rerun_of=rerun_of,
        )

    def write(self, folder: Path) -> None:
        """Replace run.json whole, never writing through a link (a link in the way is
        replaced). On a full disk, where no new file fits, overwrite the existing one in
        place instead: its blocks usually hold the final version too."""
        text = json.dumps(asdict(self), indent=2) + "\n"
        staging, manifest = folder / MANIFEST_STAGING, folder / MANIFEST
        try:
            staging.unlink(missing_ok=True)
            with staging.open("x") as file:
                file.write(text)
            os.replace(staging, manifest)
        except OSError as error:
            with contextlib.suppress(OSError):
                staging.unlink(missing_ok=True)
            full = error.errno in (errno.ENOSPC, errno.EDQUOT)
            if not full or manifest.is_symlink() or not manifest.is_file():
                raise
            with manifest.open("r+") as file:
                file.write(text)
                file.truncate()


def timestamp() -> str:
    """Now, as run.json records a moment: local time with its offset, to the second."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def read_manifest(folder: Path) -> Manifest:
    """Raises OSError, ValueError or TypeError when `folder` holds no valid manifest: one
    whose fields have the types Manifest gives them (a hand-edited run.json may not)."""
    data = json.loads((folder / MANIFEST).read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{MANIFEST} is not an object")
    data.setdefault("version", 1)
    if isinstance(data["version"], int) and data["version"] > MANIFEST_VERSION:
        raise ValueError(
            f"{MANIFEST} is version {data['version']}, newer than this tooling reads "
            f"({MANIFEST_VERSION}): update the scaffolding's scripts"
        )
    checks = _field_checks()
    for name, value in data.items():
        if name in checks and not checks[name](value):
            raise ValueError(f"{MANIFEST}: {name} is not of the type run.json gives it")
    return Manifest(**{f.name: data[f.name] for f in fields(Manifest) if f.name in data})


@cache
def _field_checks() -> dict[str, Callable[[Any], bool]]:
    """For each field of Manifest, whether a JSON value has its type (made once: `just runs`
    reads hundreds of manifests)."""
    return {name: _check(kind) for name, kind in get_type_hints(Manifest).items()}


def _check(kind: Any) -> Callable[[Any], bool]:
    """Whether a JSON value has the type `kind` (str, int, float, None, Any, unions, and
    dict or list of those)."""
    origin, arguments = get_origin(kind), get_args(kind)
    if kind is Any:
        return lambda value: True
    if origin in (Union, types.UnionType):
        alternatives = [_check(argument) for argument in arguments]
        return lambda value: any(check(value) for check in alternatives)
    if origin is dict:
        key, item = _check(arguments[0]), _check(arguments[1])
        return lambda value: (
            isinstance(value, dict) and all(key(k) and item(v) for k, v in value.items())
        )
    if origin is list:
        element = _check(arguments[0])
        return lambda value: isinstance(value, list) and all(element(v) for v in value)
    if kind is type(None):
        return lambda value: value is None
    if kind in (int, float):  # JSON's numbers; a boolean is not one
        number = (int, float) if kind is float else int
        return lambda value: isinstance(value, number) and not isinstance(value, bool)
    return lambda value: isinstance(value, kind)


@dataclass(frozen=True)
class Recorded:
    """A run folder and the manifest read from it (its names are data, never a path)."""

    folder: Path
    manifest: Manifest


def read_manifests(folders: list[Path]) -> tuple[list[Recorded], list[Path]]:
    """The manifests of the run folders `folders` (see layout.find_run_folders) that have
    one, newest first (run names start with their time), and the folders whose manifest
    could not be read."""
    found: list[Recorded] = []
    unreadable: list[Path] = []
    for folder in folders:
        if not (folder / MANIFEST).exists():
            continue  # made by `just iso` or `just aml`: not run locally
        try:
            found.append(Recorded(folder, read_manifest(folder)))
        except (OSError, ValueError, TypeError):
            unreadable.append(folder)
    found.sort(key=lambda recorded: recorded.folder.name, reverse=True)
    return found, unreadable


def read_records(folders: list[Path]) -> tuple[list[Recorded], list[Path]]:
    """The runs the run folders `folders` record, local (run.json) and fetched from the
    cloud (cloud/run.json, their Recorded's folder being cloud/), newest first by when
    they started; and the folders whose record could not be read."""
    local, unreadable = read_manifests(folders)
    cloud, unreadable_cloud = read_manifests(
        [folder / CLOUD_RECORD for folder in folders if (folder / CLOUD_RECORD).is_dir()]
    )
    found = local + cloud
    found.sort(key=_started, reverse=True)
    return found, unreadable + [folder.parent for folder in unreadable_cloud]


def _started(recorded: Recorded) -> tuple[float, str]:
    """When the run started (a run not started yet: now), then its name."""
    try:
        moment = datetime.fromisoformat(recorded.manifest.started).timestamp()
    except ValueError:
        moment = datetime.now().timestamp()
    return moment, recorded.manifest.run_name
