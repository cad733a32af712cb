"""`just docs [--serve]`: the documentation site (MkDocs), built strictly into runs/docs-site/,
or previewed on 127.0.0.1 while you edit docs/."""

import os
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
from scripts.project.layout import Project


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
    # Material for MkDocs prints a notice of its end of life (2027-05-05; pyproject.toml).
    os.environ["NO_MKDOCS_2_WARNING"] = "1"
    mkdocs = [sys.executable, "-m", "mkdocs"]
    config = ["--config-file", str(project.root / "mkdocs.yml"), "--strict"]
    config += ["--site-dir", str(project.docs_site)]
    if args.serve:
        check_port_free(args.port, "choose another with --port")
        report.note(f"serving the docs on http://{LOCALHOST}:{args.port} (Ctrl-C stops it)")
        return run_passing_stops(
            [*mkdocs, "serve", *config, "--dev-addr", f"{LOCALHOST}:{args.port}"], project.root
        )
    code = run_passing_stops([*mkdocs, "build", *config], project.root)
    if code == 0:
        report.result(f"docs built: {project.docs_site / 'index.html'}")
    return code


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
