"""`just data-list [NAME] [--local]`: the data assets registered in the workspace (or the
versions of one), or with --local what data/ holds, as a table."""

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from scripts.cloud.data_assets import asking_azure
from scripts.cloud.transfers import STAGING_PREFIX
from scripts.cloud.workspace import ml_client, workspace_from_settings
from scripts.console import report
from scripts.console.cli import ArgumentParser, run_cli
from scripts.project.layout import Project


def parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="just data-list",
        description="The data assets registered in the workspace (name, latest version, "
        "created), or every version of NAME (version, type, created); with --local, what "
        "data/ holds, with sizes.",
    )
    parser.add_argument("name", metavar="NAME", nargs="?", help="one asset: its versions")
    parser.add_argument("--local", action="store_true", help="what data/ holds, not Azure")
    return parser


def main(argv: Sequence[str], project: Project) -> int:
    args = parser().parse_args(argv)
    if args.local:
        rows = local_rows(project.data, args.name)
        heading = ["asset", "version", "size"]
    else:
        workspace = workspace_from_settings(project)
        client = ml_client(workspace)
        listed = asking_azure(lambda: list(client.data.list(name=args.name)), args.name, workspace)
        rows = [_version_row(a) for a in listed] if args.name else [_asset_row(a) for a in listed]
        heading = ["version", "type", "created"] if args.name else ["asset", "latest", "created"]
    if not rows:
        report.note("nothing here yet: `just data-download NAME` brings a registered asset")
        return 0
    report.result(report.table([heading, *rows]))
    return 0


def local_rows(data: Path, name: str | None) -> list[list[str]]:
    """Each downloaded version in data/ (an unfinished download says so), by size."""
    rows = []
    for asset in sorted(_folders(data)):
        if asset.name == "datastores" or (name and asset.name != name):
            continue
        for version in sorted(_folders(asset), key=_version_order):
            unfinished = version.name.startswith(STAGING_PREFIX)
            label = version.name.removeprefix(STAGING_PREFIX)
            size = f"{_size(version) / 1e6:,.1f} MB" + (
                " (download unfinished)" if unfinished else ""
            )
            rows.append([asset.name, label, size])
    return rows


def _folders(path: Path) -> Iterable[Path]:
    return (entry for entry in path.iterdir() if entry.is_dir()) if path.is_dir() else ()


def _version_order(folder: Path) -> tuple[int, str]:
    label = folder.name.removeprefix(STAGING_PREFIX)
    return (int(label), "") if label.isdigit() else (10**9, label)


def _size(folder: Path) -> int:
    return sum(
        os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(folder) for f in files
    )


def _created(asset: Any) -> str:
    created = getattr(getattr(asset, "creation_context", None), "created_at", None)
    return str(created)[:19] if created else "-"


def _asset_row(asset: Any) -> list[str]:
    return [str(asset.name), str(getattr(asset, "latest_version", None) or "-"), _created(asset)]


def _version_row(asset: Any) -> list[str]:
    return [str(asset.version), str(getattr(asset, "type", None) or "-"), _created(asset)]


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
