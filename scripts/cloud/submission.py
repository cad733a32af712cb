"""Submitting a built job through an MLClient (tests inject a fake), following it, and
saying in one line what to do when Azure refuses."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from scripts.cloud import experiment_commit
from scripts.cloud.experiment_commit import ExperimentCommit
from scripts.cloud.workspace import Workspace
from scripts.console import report
from scripts.console.errors import CommandError

if TYPE_CHECKING:
    from scripts.jobspec.schema import AmlJob


def submit(
    job: "AmlJob", client: Any, workspace: Workspace, experiment: ExperimentCommit | None = None
) -> str:
    """Create the job through `client`, linked to the experiment commit if there is one;
    its name."""
    from azure.core.exceptions import AzureError

    git_variables = experiment.azureml_git_variables() if experiment else {}
    try:
        with _environment(git_variables):  # read by create_or_update
            created = client.jobs.create_or_update(job)
    except AzureError as error:  # the SDK's and azure-core's, mapped to what to do
        raise CommandError(explain(error, workspace)) from None
    report.result(f"submitted {created.name}: {created.studio_url}")
    name: str = created.name
    return name


def submit_experiment(
    job: "AmlJob", client: Any, workspace: Workspace, experiment: ExperimentCommit
) -> str:
    """Submit linked to the recorded commit, then push it; if the submission fails or is
    interrupted, the branch goes back to where it was."""
    try:
        name = submit(job, client, workspace, experiment)
    except BaseException:
        experiment_commit.undo(experiment)
        raise
    experiment_commit.push(experiment)
    report.note(f"{experiment.branch}: {experiment.commit} pushed to origin")
    return name


def follow(name: str, client: Any, workspace: Workspace) -> int:
    """Stream the job's logs until it ends; 0 only if it completed."""
    from azure.core.exceptions import AzureError

    try:
        client.jobs.stream(name)
        status = word(client.jobs.get(name).status)
    except AzureError as error:
        raise CommandError(explain(error, workspace)) from None
    report.note(f"job {name} ended: {status}")
    return 0 if status == "Completed" else 1


def word(value: Any) -> str:
    """An SDK enum's value (`JobStatus.COMPLETED`: "Completed"), or the text itself."""
    return str(getattr(value, "value", value) or "")


@contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    """`variables` set in this process's environment within the block only."""
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def explain(error: Exception, workspace: Workspace) -> str:
    """One line saying what to do about a submission failure."""
    kind = type(error).__name__
    text = " ".join(str(error).split())
    status = getattr(error, "status_code", None)
    where = (
        f"workspace {workspace.name!r} in resource group {workspace.resource_group!r}, "
        f"subscription {workspace.subscription_id}"
    )
    if kind in ("ClientAuthenticationError", "CredentialUnavailableError"):
        if "Azure CLI not found" in text:
            return "the Azure CLI is not installed: `uv tool install azure-cli`, then `az login`"
        return "not logged in to Azure: run `az login` (and `az account set` if needed)"
    if kind == "ServiceRequestError":
        return f"cannot reach Azure ({text[:120]}): check the network connection"
    if status == 403:
        return f"no permission in {where}: ask for a role on the workspace"
    if status == 404 or kind == "ResourceNotFoundError":
        if "compute" in text.lower():
            return f"compute not found in {where}: choose one with --set compute=azureml:NAME"
        return f"{where} not found: check .env.local"
    return f"Azure ML refused ({kind}: {text[:200]})"
