"""`just data-download NAME[:VERSION|@latest]`: a registered data asset into
data/NAME/VERSION/, where `just local` finds it (README, "Data")."""

import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from scripts.cloud.data_assets import (
    AssetReference,
    blob_location,
    container_client,
    find_asset,
    parse_reference,
)
from scripts.cloud.submission import explain
from scripts.cloud.transfers import Progress, Remote, download
from scripts.cloud.workspace import Workspace, login, ml_client, workspace_from_settings
from scripts.console import report
from scripts.console.cli import ArgumentParser, run_cli
from scripts.console.errors import CommandError, UsageError
from scripts.project.layout import Project

T = TypeVar("T")


def parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="just data-download",
        description="Download a registered data asset into data/NAME/VERSION/ (git-ignored, "
        "kept out of run folders by .amlignore), where `just local` finds it: parallel, "
        "resumable (run it again after Ctrl-C), verified by size and MD5; the folder appears "
        "only when complete.",
    )
    parser.add_argument("asset", metavar="NAME[:VERSION|@latest]", help="default: the latest")
    return parser


def main(argv: Sequence[str], project: Project) -> int:
    args = parser().parse_args(argv)
    reference = parse_reference(args.asset)
    workspace = workspace_from_settings(project)
    client = ml_client(workspace)
    asset = _asking_azure(lambda: find_asset(client, reference), reference, workspace)
    destination = project.data / reference.name / str(asset.version)
    shown = destination.relative_to(project.root)
    if destination.exists():
        report.note(f"{shown} is already here")
        report.result(str(shown))
        return 0
    location = _asking_azure(
        lambda: blob_location(client, str(asset.path), login(workspace)), reference, workspace
    )
    report.note(f"downloading {reference.name}:{asset.version} into {shown}")
    started = time.monotonic()
    progress = Progress(report=lambda p: report.note(f"  {_mb(p.done)} of {_mb(p.total)}"))
    try:
        moved = download(Remote(container_client(location), location.prefix), destination, progress)
    except CommandError:
        raise
    except Exception as error:  # azure-core's: the network, the storage account
        raise CommandError(
            f"the download stopped ({type(error).__name__}): run the same command again to "
            "go on where it stopped"
        ) from None
    seconds = max(time.monotonic() - started, 1e-6)
    report.note(f"{_mb(moved)} moved in {seconds:.1f} s ({moved / seconds / 1e6:.1f} MB/s)")
    report.result(str(shown))
    return 0


def _asking_azure(call: Callable[[], T], reference: AssetReference, workspace: Workspace) -> T:
    """`call()`, with what Azure answers turned into one line saying what to do."""
    try:
        return call()
    except UsageError:
        raise
    except Exception as error:  # the SDK's and azure-core's
        if type(error).__name__ == "ResourceNotFoundError":
            raise UsageError(
                f"data asset {reference} not found in workspace {workspace.name!r}: check the "
                "name and version in the Azure ML studio"
            ) from None
        raise CommandError(explain(error, workspace)) from None


def _mb(count: int) -> str:
    return f"{count / 1e6:,.1f} MB"


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
