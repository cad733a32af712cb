"""`just data-register PATH --name NAME [--version V] [--type T] [--description TEXT]` (or
`just data-register SPEC.yml`, Azure ML's data YAML): a local file or folder uploaded to
the workspace's default datastore and registered as a data asset; prints
`azureml:NAME:VERSION` for a job's inputs."""

import argparse
import secrets
import string
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from scripts.cloud.data_assets import (
    AssetReference,
    asking_azure,
    blob_location,
    container_client,
    is_registered,
    next_version,
    refusal,
    register,
)
from scripts.cloud.transfers import Remote, remove, shown_progress, upload
from scripts.cloud.workspace import Workspace, login, ml_client, workspace_from_settings
from scripts.console import report
from scripts.console.cli import ArgumentParser, run_cli
from scripts.console.errors import CommandError, UsageError
from scripts.jobspec.schema import one_line
from scripts.project.layout import Project

UPLOADS = "just-data-register"  # the datastore folder uploads go to: UPLOADS/NAME/VERSION/


def parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="just data-register",
        description="Upload a local file or folder to the workspace's default datastore and "
        "register it as a data asset (an existing version is never overwritten). Prints "
        "azureml:NAME:VERSION.",
    )
    parser.add_argument(
        "path",
        metavar="PATH",
        help="a file (uri_file) or folder (uri_folder), or a data YAML spec (name, version, "
        "type, description and a local path)",
    )
    parser.add_argument("--name", help="the asset's name (required without a spec)")
    parser.add_argument("--version", help="default: one more than the latest registered")
    parser.add_argument("--type", choices=("uri_folder", "uri_file"), help="default: by PATH")
    parser.add_argument("--description", help="shown in the Azure ML studio")
    return parser


def main(argv: Sequence[str], project: Project) -> int:
    arguments = parser()
    args = arguments.parse_args(argv)
    source = Path(args.path)
    if args.name is None and source.suffix in (".yml", ".yaml") and source.is_file():
        source = _from_spec(source, args)
    if args.name is None:
        arguments.error("give the asset's --name (or a data YAML spec)")
    kind = _kind(source, args.type)
    workspace = workspace_from_settings(project)
    client = ml_client(workspace)
    version = args.version or asking_azure(lambda: next_version(client, args.name), None, workspace)
    reference = AssetReference(args.name, str(version))
    if asking_azure(lambda: is_registered(client, reference), None, workspace):
        raise UsageError(
            f"{reference} is already registered, and a version is never overwritten: "
            "give another --version (or none, for the next one)"
        )
    store = asking_azure(lambda: client.datastores.get_default(), None, workspace)
    # A folder of this upload's own: no other registration can write there, nor this one
    # over another's.
    folder = f"{UPLOADS}/{reference.name}/{reference.version}/{_upload_id()}"
    prefix = f"{folder}/{source.name}" if kind == "uri_file" else folder
    path = f"azureml://datastores/{store.name}/paths/{prefix}"
    location = asking_azure(lambda: blob_location(client, path, login(workspace)), None, workspace)
    remote = Remote(container_client(location), prefix, is_file=kind == "uri_file")
    report.note(f"uploading {source} to datastore {store.name}: {prefix}")
    stopped = "the upload stopped, nothing is registered: run the same command again"
    with shown_progress(stopped) as progress:
        upload(source, remote, progress)
    report.note(f"uploaded: {progress.line()}")
    _register(client, workspace, reference, kind, path, args.description, remote)
    report.result(f"azureml:{reference}")
    return 0


def _register(
    client: Any,
    workspace: Workspace,
    reference: AssetReference,
    kind: str,
    path: str,
    description: str | None,
    uploaded: Remote,
) -> None:
    """Register the upload; if the service refuses, the upload is removed again."""
    from azure.core.exceptions import AzureError, ResourceExistsError

    try:
        register(client, reference, kind, path, description)
    except AzureError as error:
        with shown_progress("the upload could not be removed"):
            remove(uploaded)
        if isinstance(error, ResourceExistsError):
            raise CommandError(
                f"{reference} was registered meanwhile, by another registration: nothing is "
                "registered and this upload is removed; give another --version (or none, "
                "for the next one)"
            ) from None
        raise refusal(error, None, workspace) from None


def _upload_id() -> str:
    """When, and a few random characters: unique to one upload."""
    suffix = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(6))
    return f"{datetime.now():%Y%m%dT%H%M%S}-{suffix}"


def _from_spec(spec: Path, args: argparse.Namespace) -> Path:
    """Take name, version, type and description from a data YAML spec (read by azure-ai-ml)
    where the command line does not give them; the local path it names."""
    from azure.ai.ml import load_data

    from scripts.jobspec.documents import load_yaml
    from scripts.jobspec.schema import quiet_sdk

    load_yaml(spec, "an Azure ML data spec")  # bounded, before the SDK reads it whole
    quiet_sdk()
    try:
        data = load_data(source=spec)
    except Exception as error:  # the SDK's schema errors
        raise UsageError(f"{spec} is not a valid Azure ML data spec: {one_line(error)}") from None
    args.name = data.name
    args.version = args.version or (str(data.version) if data.version else None)
    args.type = args.type or data.type
    args.description = args.description or data.description
    path = Path(str(data.path))
    return path if path.is_absolute() else spec.parent / path


def _kind(source: Path, given: str | None) -> str:
    if not source.exists():
        raise UsageError(f"{source} does not exist: give a local file or folder")
    found = "uri_file" if source.is_file() else "uri_folder"
    if given and given != found:
        raise UsageError(
            f"{source} is a {'file' if source.is_file() else 'folder'}: use --type {found}"
        )
    return found


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
