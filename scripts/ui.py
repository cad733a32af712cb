"""`just ui`: the MLflow UI over the local store, on 127.0.0.1 only."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from scripts.console import report
from scripts.console.cli import ArgumentParser, run_cli, stop_signals_as_ctrl_c
from scripts.console.errors import CommandError, UsageError
from scripts.project.layout import Project
from scripts.tracking.project_store import tracking_uri

HOST = "127.0.0.1"
STARTUP_TIMEOUT_SECONDS = 120


def check_port_free(port: int) -> None:
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            raise UsageError(
                f"port {port} is in use on {HOST}: choose another, e.g. `just ui --port {port + 1}`"
            ) from None


def server_command(store: Path, port: int) -> list[str]:
    return [
        sys.executable, "-m", "mlflow", "ui",
        "--backend-store-uri", tracking_uri(store),
        "--host", HOST,
        "--port", str(port),
        "--workers", "1",
    ]  # fmt: skip


def wait_until_up(server: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CommandError(
                f"the MLflow UI exited during start-up (code {server.returncode}): see {log}"
            )
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise CommandError(
        f"the MLflow UI did not answer on {url} within {STARTUP_TIMEOUT_SECONDS} s: see {log}"
    )


def parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="just ui",
        description=f"Serve the MLflow UI over runs/mlflow.db on {HOST}; Ctrl-C stops it.",
    )
    parser.add_argument("--port", type=int, default=5000, help="port to listen on (default 5000)")
    return parser


def main(argv: Sequence[str], project: Project) -> int:
    arguments = parser()
    args = arguments.parse_args(argv)
    if not 0 < args.port < 65536:
        arguments.error("--port must be between 1 and 65535")
    if not project.store.exists():
        raise UsageError(f"no local runs yet ({project.store} is missing): run `just local EXP`")
    check_port_free(args.port)
    url = f"http://{HOST}:{args.port}"
    report.note(f"starting the MLflow UI on {url} ...")
    # Its start-up imports thousands of modules: let them be cached as bytecode.
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    log_path = project.ui_log
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            server_command(project.store, args.port),
            cwd=project.root,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C is ours to pass on, once, and wait for
        )
    try:
        with stop_signals_as_ctrl_c():
            wait_until_up(server, url, log_path)
            report.result(f"MLflow UI: {url}  (Ctrl-C stops it)")
            server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for stop in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # nothing cuts this short
            signal.signal(stop, signal.SIG_IGN)
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
    report.note("MLflow UI stopped")
    return 0


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
