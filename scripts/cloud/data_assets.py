"""Registered data assets through the MLClient (its `data` and `datastores` operations;
tests inject a fake): which version a reference means, and where its bytes are in Blob
Storage, with the credential to read them (the datastore's key or SAS, else your Azure CLI
login)."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from scripts.cloud.submission import explain
from scripts.cloud.workspace import Workspace
from scripts.console.errors import CommandError, ToolingError, UsageError
from scripts.jobspec.inputs import datastore_path

T = TypeVar("T")

_REFERENCE = re.compile(r"([A-Za-z0-9][A-Za-z0-9_.-]*)(?::([A-Za-z0-9_.-]+)|@(latest))?")
_BLOB_URL = re.compile(r"(https://[^/]+)/([^/]+)/?(.*)")


@dataclass(frozen=True)
class AssetReference:
    name: str
    version: str | None  # None: the latest

    def __str__(self) -> str:
        return f"{self.name}:{self.version}" if self.version else f"{self.name}@latest"


@dataclass(frozen=True)
class BlobLocation:
    account_url: str
    container: str
    prefix: str
    credential: Any  # an account key or SAS token, or a token credential


def parse_reference(text: str) -> AssetReference:
    """`NAME`, `NAME:VERSION` or `NAME@latest`; a UsageError for anything else."""
    match = _REFERENCE.fullmatch(text.removeprefix("azureml:"))
    if not match:
        raise UsageError(f"{text!r} is not a data asset: write NAME, NAME:VERSION or NAME@latest")
    return AssetReference(match[1], match[2])


def asking_azure(call: Callable[[], T], asset: str | None, workspace: Workspace) -> T:
    """`call()`, with what Azure answers turned into one line saying what to do; `asset`
    names what a "not found" is about. Anything else raised is not Azure's answer."""
    from azure.core.exceptions import AzureError

    try:
        return call()
    except AzureError as error:  # the SDK's and azure-core's
        raise refusal(error, asset, workspace) from None


def refusal(error: Exception, asset: str | None, workspace: Workspace) -> ToolingError:
    """Azure's refusal `error` as one line saying what to do."""
    if type(error).__name__ == "ResourceNotFoundError" and asset:
        return UsageError(
            f"data asset {asset} not found in workspace {workspace.name!r}: see "
            "`just data-list` for the names and versions there"
        )
    return CommandError(explain(error, workspace))


def find_asset(client: Any, reference: AssetReference) -> Any:
    """The registered asset (`client.data.get`): that version, or the latest."""
    if reference.version:
        return client.data.get(name=reference.name, version=reference.version)
    return client.data.get(name=reference.name, label="latest")


def next_version(client: Any, name: str) -> str:
    """One more than the highest numeric version of `name` registered; "1" for a new name."""
    from azure.core.exceptions import ResourceNotFoundError

    try:
        versions = [str(asset.version) for asset in client.data.list(name=name)]
    except ResourceNotFoundError:
        return "1"
    numbers = [int(version) for version in versions if version.isdigit()]
    return str(max(numbers, default=0) + 1)


def is_file(asset: Any) -> bool:
    """Whether a registered asset is one file (`uri_file`), not a folder."""
    return str(getattr(asset, "type", "")) == "uri_file"


def is_registered(client: Any, reference: AssetReference) -> bool:
    from azure.core.exceptions import ResourceNotFoundError

    try:
        find_asset(client, reference)
    except ResourceNotFoundError:
        return False
    return True


def register(
    client: Any, reference: AssetReference, kind: str, path: str, description: str | None
) -> Any:
    """Register `path` (in a datastore) as version `reference.version` of asset `name`."""
    from azure.ai.ml.entities import Data

    data = Data(
        name=reference.name,
        version=reference.version,
        type=kind,
        path=path,
        description=description,
    )
    return client.data.create_or_update(data)


def blob_location(client: Any, path: str, login: Any) -> BlobLocation:
    """Where an asset's `path` is stored: a datastore path (its account, container and
    secret from `client.datastores`) or a Blob URL; `login` reads what no secret opens."""
    in_datastore = datastore_path(path)
    if in_datastore:
        name, inside = in_datastore
        store = client.datastores.get(name, include_secrets=True)
        account_url = f"{store.protocol}://{store.account_name}.blob.{store.endpoint}"
        secret = _secret(getattr(store, "credentials", None))
        return BlobLocation(account_url, store.container_name, inside, secret or login)
    url = _BLOB_URL.fullmatch(path)
    if url and ".blob." in url[1]:
        return BlobLocation(url[1], url[2], url[3], login)
    raise UsageError(
        f"the asset is stored at {path}, which is not Blob Storage: download it with the "
        "Azure ML studio or the tool of its store"
    )


def _secret(credentials: Any) -> str | None:
    """A datastore's account key or SAS token, if it keeps one (identity-based: None)."""
    for attribute in ("account_key", "sas_token"):
        value = getattr(credentials, attribute, None)
        if value:
            return str(value)
    return None


def container_client(location: BlobLocation) -> Any:
    from azure.storage.blob import ContainerClient

    return ContainerClient(location.account_url, location.container, credential=location.credential)
