"""`just data-download NAME[:VERSION|@latest]`: a registered data asset into
data/NAME/VERSION/, where `just local` finds it (README, "Data")."""

import time
from collections.abc import Sequence

from scripts.cloud.data_assets import (
    asking_azure,
    blob_location,
    container_client,
    find_asset,
    is_file,
    parse_reference,
)
from scripts.cloud.transfers import Remote, download, shown_progress
from scripts.cloud.workspace import login, ml_client, workspace_from_settings
from scripts.console import report
from scripts.console.cli import ArgumentParser, run_cli
from scripts.project.layout import Project


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
    asset = asking_azure(lambda: find_asset(client, reference), str(reference), workspace)
    destination = project.data / reference.name / str(asset.version)
    shown = destination.relative_to(project.root)
    if destination.exists():
        report.note(f"{shown} is already here")
        report.result(str(shown))
        return 0
    location = asking_azure(
        lambda: blob_location(client, str(asset.path), login(workspace)), None, workspace
    )
    report.note(f"downloading {reference.name}:{asset.version} into {shown}")
    stopped = "the download stopped: run the same command again to go on where it stopped"
    with shown_progress(stopped) as progress:
        remote = Remote(container_client(location), location.prefix, is_file=is_file(asset))
        moved = download(remote, destination, progress)
    seconds = max(time.monotonic() - progress.started, 1e-6)
    report.note(f"{_mb(moved)} moved in {seconds:.1f} s ({moved / seconds / 1e6:.1f} MB/s)")
    report.result(str(shown))
    return 0


def _mb(count: int) -> str:
    return f"{count / 1e6:,.1f} MB"


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
