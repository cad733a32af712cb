"""A job as fetched: what Azure ML reports of it, its run in the workspace's MLflow, and
the same for each of its child jobs, read before anything is written."""

import re
from dataclasses import dataclass, field
from typing import Any

from scripts.cloud.jobs import BEST_CHILD, CloudJob, child_jobs
from scripts.cloud.workspace import AzureML
from scripts.console import report
from scripts.runfolder.manifest import COMMAND, PIPELINE, STEP, SWEEP, TRIAL
from scripts.tracking.remote import RemoteRun, read_run

_FOLDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass
class Fetched:
    """One job of the tree: its folder's name under its parent's (the job's name at the
    top), its kind as run.json records it, and its MLflow run (None: MLflow has none)."""

    job: CloudJob
    folder: str
    kind: str
    run: RemoteRun | None
    children: list["Fetched"] = field(default_factory=list)

    @property
    def best_child(self) -> "Fetched | None":
        """A sweep's best trial, as Azure ML names it on the sweep."""
        best = self.job.properties.get(BEST_CHILD) or (self.run.tags if self.run else {}).get(
            BEST_CHILD
        )
        return next((child for child in self.children if child.job.name == best), None)


def read_tree(azure: AzureML, mlflow: Any, uri: str, job: CloudJob) -> Fetched:
    """Job `job` and its descendants, each with its MLflow run (a reused step's: the run of
    the job it reused, whose results it shows)."""
    kind = {"pipeline": PIPELINE, "sweep": SWEEP}.get(job.kind, COMMAND)
    top = Fetched(job, job.name, kind, _run(mlflow, job, uri))
    if kind in (PIPELINE, SWEEP):
        top.children = _children(azure, mlflow, uri, job, kind)
    return top


def _children(azure: AzureML, mlflow: Any, uri: str, parent: CloudJob, kind: str) -> list[Fetched]:
    jobs = child_jobs(azure.client, parent.name, azure.workspace)
    if jobs:
        report.note(f"job {parent.name}: {len(jobs)} child jobs")
    found: list[Fetched] = []
    for job in jobs:
        if kind == SWEEP:
            found.append(Fetched(job, job.name, TRIAL, _run(mlflow, job, uri)))
            continue
        step = Fetched(job, _step_folder(job, found), STEP, _run(mlflow, job, uri))
        nested = child_jobs(azure.client, job.name, azure.workspace)
        if nested:  # a sweep step, or a nested pipeline
            step.kind = SWEEP if BEST_CHILD in job.properties else PIPELINE
            step.children = _children(azure, mlflow, uri, job, step.kind)
        found.append(step)
    return found


def _step_folder(job: CloudJob, siblings: list[Fetched]) -> str:
    """A pipeline step's folder: its name in the pipeline (the child job's display name), as
    a local pipeline run names it; the job's name if that cannot be a folder name or is
    taken."""
    name = job.display_name
    taken = {sibling.folder for sibling in siblings}
    if not _FOLDER_NAME.fullmatch(name) or ".." in name or name in taken:
        return job.name
    return name


def _run(mlflow: Any, job: CloudJob, uri: str) -> RemoteRun | None:
    """The job's run in the workspace's MLflow, where the job's name is the run's id."""
    return read_run(mlflow, job.reused_from or job.name, uri)
