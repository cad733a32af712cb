"""`just fetch`'s work: which job is meant and where it is recorded, then the job read whole
(tree.py), recorded (record.py) and its outputs downloaded (outputs.py)."""

import re
from dataclasses import dataclass
from pathlib import Path

from scripts.cloud.jobs import CloudJob, get_job, wait_until_ended
from scripts.cloud.workspace import AzureML
from scripts.console import report
from scripts.console.errors import UsageError
from scripts.project.experiments import check_name
from scripts.project.layout import Project
from scripts.results.outputs import (
    check_outputs,
    fetch_artifact_outputs,
    fetch_output,
    locate,
)
from scripts.results.record import Home, record
from scripts.results.tree import read_tree
from scripts.runfolder.layout import CLOUD_RECORD, MANIFEST, find_run_folders
from scripts.runfolder.manifest import Manifest
from scripts.tracking import remote

_JOB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,254}")


@dataclass(frozen=True)
class Target:
    """What the user named: a job, and the run folder `just aml` made for it if there is one."""

    job_name: str
    folder: Path | None


@dataclass(frozen=True)
class Asked:
    outputs: list[str]
    all_outputs: bool
    wait: bool


def target(project: Project, argument: str) -> Target:
    """A run folder (runs/EXP/<run>, relative or absolute) or a job's name; a UsageError
    for a folder that is not one `just aml` made or a name Azure ML cannot give a job."""
    path = Path(argument) if Path(argument).is_absolute() else project.root / argument
    if "/" in argument or path.is_dir():
        return Target(path.name, _submitted_folder(project, path, argument))
    if not _JOB_NAME.fullmatch(argument):
        raise UsageError(
            f"{argument!r} is neither a run folder nor a job name: pass runs/EXP/<run> (made "
            "by `just aml`) or the name of a job in the workspace"
        )
    found = [f for f in find_run_folders(project.runs).folders if f.name == argument]
    return Target(argument, found[0] if found else None)


def _submitted_folder(project: Project, path: Path, argument: str) -> Path:
    runs = project.runs.resolve()
    resolved = path.resolve()
    if not resolved.is_dir() or resolved.parent.parent != runs:
        raise UsageError(f"{argument} is not a run folder: pass runs/EXP/<run>, made by `just aml`")
    if (resolved / MANIFEST).exists() and not (resolved / CLOUD_RECORD).exists():
        raise UsageError(
            f"{argument} is a local run (`just local`), not a cloud job: see `just runs`, or "
            f"submit it with `just aml {resolved.parent.name}`"
        )
    return resolved


def home_of(project: Project, found: Target, job: CloudJob) -> Home:
    """Where job `job` is recorded: the run folder `just aml` made for it, else a folder of
    its name in its Azure ML experiment's folder of runs/."""
    if found.folder is not None:
        experiment = found.folder.parent.name
        return Home(found.folder, experiment, job.experiment_name or experiment)
    experiment = job.experiment_name
    try:
        check_name(experiment)
    except UsageError:
        raise UsageError(
            f"job {job.name}'s experiment {experiment!r} cannot name a folder of runs/: "
            "fetch it from a run folder (`just aml` makes one)"
        ) from None
    return Home(project.runs / experiment / job.name, experiment, experiment)


@dataclass(frozen=True)
class Fetch:
    record: Path  # the run folder's cloud/ part
    manifests: list[Manifest]  # the job's, then its descendants'


def fetch(project: Project, azure: AzureML, found: Target, asked: Asked) -> Fetch:
    """The job `found` names recorded at home, with the outputs `asked` for."""
    if asked.wait:
        job = wait_until_ended(azure.client, found.job_name, azure.workspace)
    else:
        job = get_job(azure.client, found.job_name, azure.workspace)
    wanted = sorted(job.outputs) if asked.all_outputs else asked.outputs
    if wanted or asked.all_outputs:
        check_outputs(job, wanted)
    home = home_of(project, found, job)
    uri = azure.tracking_uri()
    report.note(f"job {job.name}: {job.status}; reading its runs from the workspace's MLflow")
    mlflow = remote.client(uri)
    tree = read_tree(azure, mlflow, uri, job)
    located = [locate(azure, tree, name) for name in wanted]
    manifests = record(project, home, tree, azure.workspace, mlflow, uri)
    report.note(f"recorded in {home.record.relative_to(project.root)}")
    for output in located:
        fetch_output(azure, output, home.record)
    if asked.all_outputs:
        fetch_artifact_outputs(mlflow, tree, home.record, uri)
    return Fetch(home.record, manifests)
