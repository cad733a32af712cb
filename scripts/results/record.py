"""A fetched job recorded at home: its cloud/ part of the run folder (a run.json of its
kind per job, its logs) made whole in a staging folder and swapped in, and one MLflow run
per job in the local store, each fetch replacing the last."""

import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from scripts.cloud.workspace import Workspace
from scripts.console.cli import stop_signals_ignored
from scripts.jobspec.sweep import best_of
from scripts.project.layout import Project
from scripts.results.tree import Fetched
from scripts.runfolder.layout import CLOUD_LOGS, CLOUD_RECORD, OUTPUTS, step_folder
from scripts.runfolder.manifest import SWEEP, TRIAL, Manifest, timestamp
from scripts.tracking.project_store import PARENT_RUN_TAG, ensure_experiment
from scripts.tracking.remote import download_folder
from scripts.tracking.schema import check_schema
from scripts.tracking.store import (
    MirroredRun,
    Point,
    TrackedRun,
    attach_artifacts,
    check_writable,
    latest_point,
    mirror_run,
)

STAGING = f".{CLOUD_RECORD}.partial"
REPLACED = f".{CLOUD_RECORD}.replaced"
# The tags a mirrored run gets besides the job's own: what finds the job again.
JOB_NAME_TAG = "azureml.job_name"
STUDIO_URL_TAG = "azureml.studio_url"
COMPUTE_TAG = "azureml.compute"
_NAMESPACE = uuid.UUID("5f1e0c2a-8f6b-4a3e-9a57-3d1c2b0e7a41")  # of mirrored runs' ids


@dataclass(frozen=True)
class Home:
    """Where a fetched job is recorded: its run folder, its experiment there, and the MLflow
    experiment its runs are mirrored into."""

    folder: Path  # runs/EXPERIMENT/<job name>
    experiment: str
    mlflow_experiment: str

    @property
    def record(self) -> Path:
        return self.folder / CLOUD_RECORD


def mirrored_id(workspace: Workspace, job: str) -> str:
    """The local MLflow run id of job `job` of `workspace`: the same at every fetch."""
    where = f"{workspace.subscription_id}/{workspace.resource_group}/{workspace.name}/{job}"
    return uuid.uuid5(_NAMESPACE, where).hex


def record(
    project: Project,
    home: Home,
    tree: Fetched,
    workspace: Workspace,
    mlflow: Any,
    uri: str,
) -> list[Manifest]:
    """The cloud/ record of `tree` and its MLflow runs, replacing what an earlier fetch
    recorded (outputs fetched then stay); the manifests, the top job's first. Nothing is
    left half-made: the record is gathered beside the old one and swapped in whole."""
    store = project.store
    check_writable(store)
    check_schema(project, store)
    ensure_experiment(store, project.artifacts, home.mlflow_experiment)
    staging = home.folder / STAGING
    shutil.rmtree(staging, ignore_errors=True)
    made = not home.folder.exists()  # a job submitted elsewhere: its folder is new
    try:
        context = _Context(home, workspace, store, mlflow, uri)
        manifests = _gather(tree, staging, context, None)
        for job, manifest, folder in manifests:
            _mirror(context, job, manifest, folder)
        _swap(home.record, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if made:
            shutil.rmtree(home.folder, ignore_errors=True)
        raise
    return [manifest for _, manifest, _ in manifests]


@dataclass(frozen=True)
class _Context:
    home: Home
    workspace: Workspace
    store: Path
    mlflow: Any  # MLflow's client for the workspace's tracking server at `uri`
    uri: str


def _gather(
    job: Fetched, folder: Path, context: _Context, parent: Manifest | None
) -> list[tuple[Fetched, Manifest, Path]]:
    """Each job's run.json and logs into `folder` (its children's in steps/)."""
    folder.mkdir(parents=True)
    for name in CLOUD_LOGS:
        if job.run and name in job.run.artifact_folders:
            download_folder(context.mlflow, job.run.run_id, name, folder / name, context.uri)
    manifest = _manifest(job, context, parent)
    manifest.write(folder)
    found = [(job, manifest, folder)]
    for child in job.children:
        found += _gather(child, folder / step_folder(child.folder), context, manifest)
    return found


def _manifest(job: Fetched, context: _Context, parent: Manifest | None) -> Manifest:
    home, cloud, run = context.home, job.job, job.run
    histories = run.histories if run else {}
    metrics = {key: latest_point(points).value for key, points in histories.items()}
    started = _moment(run.start_ms if run else None)
    ended = _moment(run.end_ms if run else None) if cloud.ended else None
    duration = None
    if run and run.start_ms is not None and run.end_ms is not None and cloud.ended:
        duration = round((run.end_ms - run.start_ms) / 1000, 3)
    manifest = Manifest(
        experiment=home.experiment,
        mlflow_experiment=home.mlflow_experiment,
        run_name=job.folder,
        command=cloud.command,
        inputs=dict(cloud.inputs),
        environment_variables={},
        requirements_sha256="",
        local_tracking_requirements="",
        git=_git(cloud.tags),
        tracking_store=str(context.store),
        started=started or "",
        status=cloud.mlflow_status,
        ended=ended,
        duration_seconds=duration,
        tracking_run_id=mirrored_id(context.workspace, cloud.name),
        metrics=metrics,
        kind=job.kind,
        parent_run_id=parent.tracking_run_id if parent else None,
        steps=[child.folder for child in job.children],
        reused_from=cloud.reused_from,
        job_name=cloud.name,
        studio_url=cloud.studio_url,
        compute=cloud.compute,
        cloud_status=cloud.status,
        fetched=timestamp(),
    )
    if job.kind == SWEEP:
        manifest.objective = dict(cloud.objective)
        best = job.best_child
        manifest.best_trial = best.folder if best else None
    if job.kind == TRIAL and run and parent:
        manifest.score = _score(run.histories, parent.objective)
    return manifest


def _mirror(context: _Context, job: Fetched, manifest: Manifest, folder: Path) -> None:
    """The job's run in the local store, and its logs attached to it."""
    cloud, run = job.job, job.run
    assert manifest.tracking_run_id
    tags = dict(run.tags) if run else {}
    tags.pop(PARENT_RUN_TAG, None)  # the workspace's id of the parent: replaced by the local
    tags |= {
        "mlflow.runName": job.folder,
        JOB_NAME_TAG: cloud.name,
        STUDIO_URL_TAG: cloud.studio_url or "",
        COMPUTE_TAG: cloud.compute or "",
    }
    if manifest.parent_run_id:
        tags[PARENT_RUN_TAG] = manifest.parent_run_id
    if cloud.reused_from:
        tags["azureml.reusedrunid"] = cloud.reused_from
    best = job.best_child
    if best:
        tags["best_child_run_id"] = mirrored_id(context.workspace, best.job.name)
    params = cloud.inputs | (run.params if run else {})  # the job's own logged value wins
    tracked = mirror_run(
        context.store,
        MirroredRun(
            run_id=manifest.tracking_run_id,
            experiment=context.home.mlflow_experiment,
            name=job.folder,
            status=manifest.status,
            start_ms=run.start_ms if run else None,
            end_ms=run.end_ms if run and cloud.ended else None,
            tags=tags,
            params=params,
            histories=run.histories if run else {},
        ),
    )
    _attach_logs(tracked, folder)


def _attach_logs(tracked: TrackedRun, folder: Path) -> None:
    for name in CLOUD_LOGS:
        if (folder / name).is_dir():
            attach_artifacts(tracked, folder / name, name)


def _swap(record: Path, staging: Path) -> None:
    """`staging` in place of `record`, the outputs fetched into `record` before carried
    over; no stop signal cuts it short."""
    replaced = record.with_name(REPLACED)
    with stop_signals_ignored():
        if (record / OUTPUTS).exists():
            (record / OUTPUTS).rename(staging / OUTPUTS)
        if record.exists():
            record.rename(replaced)
        staging.rename(record)
        shutil.rmtree(replaced, ignore_errors=True)


def _score(histories: dict[str, list[Point]], objective: dict[str, str]) -> float | None:
    """A trial's score: the best value it logged of its sweep's primary metric."""
    values = [p.value for p in histories.get(objective.get("primary_metric", ""), [])]
    values = [value for value in values if value == value]  # NaN is no score
    return best_of(values, objective.get("goal", "")) if values else None


def _moment(milliseconds: int | None) -> str | None:
    if milliseconds is None:
        return None
    moment = datetime.fromtimestamp(milliseconds / 1000).astimezone()
    return moment.isoformat(timespec="seconds")


def _git(tags: dict[str, str]) -> dict[str, Any] | None:
    """The git state `just aml` tagged the job with."""
    if "git_commit" not in tags:
        return None
    return {
        "commit": tags["git_commit"],
        "branch": tags.get("git_branch", ""),
        "dirty": tags.get("git_dirty") == "true",
    }
