"""Jobs as Azure ML reports them (`MLClient.jobs`; tests inject a fake): one job's status,
inputs, compute, studio page and where its outputs are, its child jobs, and waiting for it
to end. Metrics and logs are not here: Azure ML keeps them in the workspace's MLflow."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scripts.cloud.data_assets import asking_azure, refusal
from scripts.cloud.submission import word
from scripts.cloud.workspace import Workspace
from scripts.console import report
from scripts.console.errors import UsageError

# Azure ML's status words as MLflow's run statuses (a word not listed: RUNNING).
MLFLOW_STATUS = {
    "NotStarted": "SCHEDULED",
    "Starting": "SCHEDULED",
    "Provisioning": "SCHEDULED",
    "Preparing": "SCHEDULED",
    "Queued": "SCHEDULED",
    "Running": "RUNNING",
    "Finalizing": "RUNNING",
    "CancelRequested": "RUNNING",
    "Completed": "FINISHED",
    "Failed": "FAILED",
    "Canceled": "KILLED",
}
ENDED = ("Completed", "Failed", "Canceled")
# How often `wait_until_ended` asks: from the first interval, doubling up to the last, as
# azure-ai-ml's jobs.stream polls.
POLL_FIRST_SECONDS = 2.0
POLL_LAST_SECONDS = 60.0
# The properties Azure ML sets on a reused pipeline step and on a sweep.
REUSED = "azureml.isreused"
REUSED_FROM = "azureml.reusedrunid"
BEST_CHILD = "best_child_run_id"
DEFAULT_DATASTORE_PATH = "azureml/{job}/{output}/"  # where an output goes unless told


@dataclass(frozen=True)
class CloudJob:
    """What the tooling uses of a job Azure ML reports."""

    name: str
    kind: str  # command, pipeline or sweep; `base` for a pipeline's step (a child job)
    display_name: str
    status: str  # Azure ML's word
    experiment_name: str
    compute: str | None
    studio_url: str | None
    command: str
    inputs: dict[str, str]  # the literal ones, as text
    outputs: dict[str, str | None]  # each named output's location, None where not told
    properties: dict[str, str]
    tags: dict[str, str]
    objective: dict[str, str] = field(default_factory=dict)  # a sweep's
    # A pipeline's outputs bound to its steps' outputs: NAME -> (step, output).
    bound_outputs: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def mlflow_status(self) -> str:
        return MLFLOW_STATUS.get(self.status, "RUNNING")

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    @property
    def reused_from(self) -> str | None:
        """The job whose results a reused step shows (Azure ML follows it to download)."""
        if self.properties.get(REUSED) == "true":
            return self.properties.get(REUSED_FROM)
        return None


def get_job(client: Any, name: str, workspace: Workspace) -> CloudJob:
    """Job `name` of the workspace; a UsageError when Azure ML knows no such job."""
    from azure.core.exceptions import AzureError, ResourceNotFoundError

    try:
        return cloud_job(client.jobs.get(name))
    except ResourceNotFoundError:
        raise UsageError(
            f"no job {name!r} in workspace {workspace.name!r}: pass a job name from the "
            "studio, or a run folder `just aml` made (runs/EXP/<run>)"
        ) from None
    except AzureError as error:
        raise refusal(error, None, workspace) from None


def child_jobs(client: Any, name: str, workspace: Workspace) -> list[CloudJob]:
    """The child jobs of job `name` (a pipeline's steps, a sweep's trials), as listed."""
    listed = asking_azure(lambda: list(client.jobs.list(parent_job_name=name)), None, workspace)
    return [cloud_job(child) for child in listed]


def cloud_job(job: Any) -> CloudJob:
    """A job entity of azure-ai-ml (`Job`, or `_BaseJob` for a child) as a CloudJob."""
    kind = word(job.type)
    objective = getattr(job, "objective", None) if kind == "sweep" else None
    return CloudJob(
        name=str(job.name),
        kind=kind,
        display_name=str(job.display_name or job.name),
        status=word(job.status),
        experiment_name=str(job.experiment_name or ""),
        compute=str(job.compute) if job.compute else None,
        studio_url=job.studio_url,
        command=str(_command(job) or ""),
        inputs=_literal_inputs(getattr(job, "inputs", None) or {}),
        outputs={
            name: _path(output) for name, output in (getattr(job, "outputs", None) or {}).items()
        },
        properties={str(k): str(v) for k, v in (job.properties or {}).items()},
        tags={str(k): str(v) for k, v in (job.tags or {}).items()},
        objective=(
            {"primary_metric": str(objective.primary_metric), "goal": word(objective.goal)}
            if objective
            else {}
        ),
        bound_outputs=_bound_outputs(job) if kind == "pipeline" else {},
    )


def _command(job: Any) -> str | None:
    trial = getattr(job, "trial", None)
    return getattr(trial, "command", None) or getattr(job, "command", None)


def _literal_inputs(inputs: dict[str, Any]) -> dict[str, str]:
    """The inputs that are values (numbers, text), not data: what a run logs as params."""
    found = {}
    for name, value in inputs.items():
        literal = getattr(value, "_data", value)
        if isinstance(literal, bool | int | float | str):
            found[name] = str(literal)
    return found


def _path(output: Any) -> str | None:
    """Where a job's output is stored, when the job says (a binding is not a place)."""
    path = output if isinstance(output, str) else vars(output).get("path")
    return str(path) if path and not str(path).startswith("${{") else None


def _bound_outputs(job: Any) -> dict[str, tuple[str, str]]:
    bound = {}
    for step, node in (getattr(job, "jobs", None) or {}).items():
        for output, value in (getattr(node, "outputs", None) or {}).items():
            binding = str(getattr(value, "_data", value) or "")
            if binding.startswith("${{parent.outputs.") and binding.endswith("}}"):
                bound[binding[len("${{parent.outputs.") : -2]] = (step, output)
    return bound


def default_output_path(job: str, output: str) -> str:
    """Where Azure ML puts output `output` of job `job` in the default datastore when the
    job does not say (azure-ai-ml looks there too)."""
    return DEFAULT_DATASTORE_PATH.format(job=job, output=output)


def wait_until_ended(
    client: Any,
    name: str,
    workspace: Workspace,
    sleep: Callable[[float], None] = time.sleep,
) -> CloudJob:
    """Ask for job `name` until it has ended, at growing intervals, saying each new status."""
    interval = POLL_FIRST_SECONDS
    said = ""
    while True:
        job = get_job(client, name, workspace)
        if job.status != said:
            report.note(f"job {name}: {job.status}")
            said = job.status
        if job.ended:
            return job
        sleep(interval)
        interval = min(interval * 2, POLL_LAST_SECONDS)
