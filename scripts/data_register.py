"""`just data-register PATH --name NAME [--version V] [--type T] [--description TEXT]` (or
`just data-register SPEC.yml`, Azure ML's data YAML): a local file or folder uploaded to
the workspace's default datastore and registered as a data asset; prints
`azureml:NAME:VERSION` for a job's inputs."""

import argparse
from collections.abc import Sequence
from pathlib import Path

from scripts.cloud.data_assets import (
    AssetReference,
    asking_azure,
    blob_location,
    container_client,
    find_asset,
    next_version,
    register,
)
from scripts.cloud.transfers import Remote, shown_progress, upload
from scripts.cloud.workspace import login, ml_client, workspace_from_settings
from scripts.console import report
from scripts.console.cli import ArgumentParser, run_cli
from scripts.console.errors import UsageError
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
    if asking_azure(lambda: _registered(client, reference), None, workspace):
        raise UsageError(
            f"{reference} is already registered, and a version is never overwritten: "
            "give another --version (or none, for the next one)"
        )
    store = asking_azure(lambda: client.datastores.get_default(), None, workspace)
    prefix = f"{UPLOADS}/{reference.name}/{reference.version}"
    if kind == "uri_file":
        prefix = f"{prefix}/{source.name}"
    path = f"azureml://datastores/{store.name}/paths/{prefix}"
    location = asking_azure(lambda: blob_location(client, path, login(workspace)), None, workspace)
    report.note(f"uploading {source} to datastore {store.name}: {prefix}")
    stopped = "the upload stopped, nothing is registered: run the same command again"
    with shown_progress(stopped) as progress:
        upload(source, Remote(container_client(location), prefix), progress)
    report.note(f"uploaded: {progress.line()}")
    asking_azure(lambda: register(client, reference, kind, path, args.description), None, workspace)
    report.result(f"azureml:{reference}")
    return 0


def _from_spec(spec: Path, args: argparse.Namespace) -> Path:
    """Take name, version, type and description from a data YAML spec (read by azure-ai-ml)
    where the command line does not give them; the local path it names."""
    from azure.ai.ml import load_data

    from scripts.jobspec.schema import quiet_sdk

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


def _registered(client: object, reference: AssetReference) -> bool:
    try:
        find_asset(client, reference)
    except Exception as error:
        if type(error).__name__ == "ResourceNotFoundError":
            return False
        raise
    return True


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
