"""`just ui`: the MLflow UI over the local store, on 127.0.0.1 only."""

from collections.abc import Sequence

from scripts.console import report
from scripts.console.cli import (
    ArgumentParser,
    check_port_free,
    nearby_free_port,
    port_number,
    run_cli,
    stop_signals_as_ctrl_c,
)
from scripts.console.errors import UsageError
from scripts.project.layout import Project
from scripts.project.uv import UI_GROUP, ensure_groups
from scripts.tracking.server import HOST, serving


def parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="just ui",
        description=f"Serve the MLflow UI over runs/mlflow.db on {HOST}; Ctrl-C stops it.",
    )
    parser.add_argument(
        "--port", type=port_number, default=5000, help="port to listen on (default 5000)"
    )
    return parser


def main(argv: Sequence[str], project: Project) -> int:
    arguments = parser()
    args = arguments.parse_args(argv)
    if not project.store.exists():
        raise UsageError(f"no local runs yet ({project.store} is missing): run `just local EXP`")
    check_port_free(
        args.port, f"choose another, e.g. `just ui --port {nearby_free_port(args.port)}`"
    )
    ensure_groups(project, [UI_GROUP], "the MLflow server")
    report.note(f"starting the MLflow UI on http://{HOST}:{args.port} ...")
    try:
        with (
            stop_signals_as_ctrl_c(),
            serving(project.store, project.artifacts, args.port, project.ui_log) as server,
        ):
            report.result(f"MLflow UI: {server.url}  (Ctrl-C stops it)")
            server.process.wait()
    except KeyboardInterrupt:
        pass
    report.note("MLflow UI stopped")
    return 0


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
