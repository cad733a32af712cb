"""The Azure ML workspace from `.env` / `.env.local`, and the one object that talks to Azure.

Authentication is the Azure CLI's login (`az login`): never DefaultAzureCredential, whose
managed-identity probe sends traffic to a link-local address and hangs on a laptop.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from scripts.console.errors import UsageError
from scripts.project.layout import Project
from scripts.project.settings import is_placeholder

if TYPE_CHECKING:
    from azure.ai.ml import MLClient
    from azure.identity import AzureCliCredential

    from scripts.cloud.data_assets import BlobLocation

REQUIRED = ("AZUREML_SUBSCRIPTION_ID", "AZUREML_RESOURCE_GROUP", "AZUREML_WORKSPACE")
ARM_SCOPE = "https://management.azure.com/.default"  # what the workspace's APIs accept


@dataclass(frozen=True)
class Workspace:
    subscription_id: str
    resource_group: str
    name: str
    tenant_id: str | None


def workspace_from_settings(project: Project) -> Workspace:
    """The configured workspace; a UsageError naming the first missing or placeholder
    variable and the file to put it in."""
    values = project.settings
    local_file = project.settings_files[-1].name
    for variable in REQUIRED:
        value = values.get(variable, "")
        if not value or is_placeholder(value):
            raise UsageError(
                f"{variable} is {'a placeholder' if value else 'not set'}: "
                f"put your workspace's value in {local_file} ({variable}=...)"
            )
    tenant = values.get("AZUREML_TENANT_ID") or None
    if tenant and is_placeholder(tenant):
        raise UsageError(f"AZUREML_TENANT_ID is a placeholder: set it in {local_file} or remove it")
    return Workspace(
        values["AZUREML_SUBSCRIPTION_ID"],
        values["AZUREML_RESOURCE_GROUP"],
        values["AZUREML_WORKSPACE"],
        tenant,
    )


def login(workspace: Workspace) -> "AzureCliCredential":
    """Your Azure CLI login (`az login`), for the workspace's tenant."""
    from azure.identity import AzureCliCredential

    # A failed login is logged as a warning, then raised: commands say it once, in one line.
    logging.getLogger("azure.identity").setLevel(logging.ERROR)
    return AzureCliCredential(tenant_id=workspace.tenant_id or "")


def ml_client(workspace: Workspace) -> "MLClient":
    from azure.ai.ml import MLClient

    return MLClient(
        login(workspace),
        subscription_id=workspace.subscription_id,
        resource_group_name=workspace.resource_group,
        workspace_name=workspace.name,
    )


@dataclass(frozen=True)
class AzureML:
    """The workspace and what reads it: the MLClient, the workspace's MLflow, its Blob
    storage. A command that reads a workspace takes one (`connect`); tests pass a fake
    MLClient and Azurite's containers at this one seam."""

    workspace: Workspace
    client: Any  # azure.ai.ml.MLClient

    def tracking_uri(self) -> str:
        """The workspace's MLflow tracking URI (azureml://…; MLflow reads it with
        azureml-mlflow)."""
        found = self._asking(lambda: self.client.workspaces.get(self.workspace.name))
        return str(found.mlflow_tracking_uri)

    @cached_property
    def default_datastore(self) -> str:
        """The name of the workspace's default datastore (asked once)."""
        return str(self._asking(lambda: self.client.datastores.get_default()).name)

    def tracking_token(self) -> str:
        """A token of your Azure CLI login for the workspace's MLflow, which the job's
        azureml-mlflow takes from MLFLOW_TRACKING_TOKEN (as in Azure ML's own jobs) instead
        of probing for credentials itself."""
        return str(self._asking(lambda: self.credential().get_token(ARM_SCOPE)).token)

    def _asking(self, call: Callable[[], Any]) -> Any:
        from scripts.cloud.data_assets import asking_azure  # it imports this module

        return asking_azure(call, None, self.workspace)

    def container(self, location: "BlobLocation") -> Any:
        """The Blob container a datastore path is in (azure.storage.blob.ContainerClient)."""
        from scripts.cloud.data_assets import container_client

        return container_client(location)

    def credential(self) -> Any:
        """Your Azure CLI login: what reads storage no datastore secret opens, and gets a
        token for the workspace's MLflow."""
        return login(self.workspace)


def connect(project: Project) -> AzureML:
    """The configured workspace, reached through your `az login`."""
    workspace = workspace_from_settings(project)
    return AzureML(workspace, ml_client(workspace))
