"""The Azure ML workspace from `.env` / `.env.local`, and the one object that talks to Azure.

Authentication is the Azure CLI's login (`az login`): never DefaultAzureCredential, whose
managed-identity probe sends traffic to a link-local address and hangs on a laptop.
"""

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scripts.console.errors import UsageError
from scripts.project.layout import Project
from scripts.project.settings import is_placeholder

if TYPE_CHECKING:
    from azure.ai.ml import MLClient
    from azure.identity import AzureCliCredential

REQUIRED = ("AZUREML_SUBSCRIPTION_ID", "AZUREML_RESOURCE_GROUP", "AZUREML_WORKSPACE")


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
