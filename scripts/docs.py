"""`just docs [--serve]`: the documentation site (MkDocs), built strictly into runs/docs-site/,
or previewed on 127.0.0.1 while you edit docs/."""

import os
import shutil
import sys
from collections.abc import Sequence

from scripts.console import report
from scripts.console.cli import (
    LOCALHOST,
    ArgumentParser,
    check_port_free,
    port_number,
    run_cli,
    run_passing_stops,
)
from scripts.console.errors import CommandError
from scripts.project.layout import Project, staging_path
from scripts.project.parking import remove
from scripts.project.uv import CHECK_GROUP, ensure_groups


def parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="just docs",
        description="Build the documentation (mkdocs.yml, docs/) strictly into "
        "runs/docs-site/: a broken link or a missing page fails the build. The recipe "
        "reference and the benchmarks page are generated from the justfile, each command's "
        "--help and docs/benchmarks.txt.",
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help=f"serve the site on {LOCALHOST} instead, rebuilt as you edit; Ctrl-C stops it",
    )
    parser.add_argument(
        "--port", type=port_number, default=8000, help="with --serve (default 8000)"
    )
    return parser


def main(argv: Sequence[str], project: Project) -> int:
    args = parser().parse_args(argv)
    ensure_groups(project, [CHECK_GROUP], "MkDocs")
    # Material for MkDocs prints a notice of its end of life (2027-05-05; pyproject.toml).
    os.environ["NO_MKDOCS_2_WARNING"] = "1"
    mkdocs = [sys.executable, "-m", "mkdocs"]
    config = ["--config-file", str(project.root / "mkdocs.yml"), "--strict"]
    if args.serve:  # built in memory, into a folder of its own
        check_port_free(args.port, "choose another with --port")
        report.note(f"serving the docs on http://{LOCALHOST}:{args.port} (Ctrl-C stops it)")
        return run_passing_stops(
            [*mkdocs, "serve", *config, "--dev-addr", f"{LOCALHOST}:{args.port}"], project.root
        )
    # Built beside the site, which it replaces whole once built: MkDocs' --strict fails
    # after writing the pages.
    site = project.docs_site
    staging = staging_path(site)
    try:
        if run_passing_stops([*mkdocs, "build", *config, "--site-dir", str(staging)], project.root):
            raise CommandError(
                "the docs did not build: fix what MkDocs names above (a broken link or "
                "anchor, a page missing from mkdocs.yml's nav)"
            )
        if site.exists():
            remove(project, site)
        staging.rename(site)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    report.result(f"docs built: {site / 'index.html'}")
    return 0


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
