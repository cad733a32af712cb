"""`just ui`: the MLflow UI over the local store, on 127.0.0.1 only."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence

from scripts.cli import ArgumentParser, run_cli
from scripts.errors import CommandError, UsageError
from scripts.project import ROOT, RUNS_DIR, TRACKING_STORE
from scripts.tracking import tracking_uri

HOST = "127.0.0.1"
SERVER_LOG = RUNS_DIR / "mlflow-ui.log"
STARTUP_TIMEOUT_SECONDS = 120


def check_port_free(port: int) -> None:
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            raise UsageError(
                f"port {port} is in use on {HOST}: choose another, e.g. `just ui --port {port + 1}`"
            ) from None


def server_command(port: int) -> list[str]:
    return [
        sys.executable, "-m", "mlflow", "ui",
        "--backend-store-uri", tracking_uri(TRACKING_STORE),
        "--host", HOST,
        "--port", str(port),
        "--workers", "1",
    ]  # fmt: skip


def wait_until_up(server: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CommandError(
                f"the MLflow UI exited during start-up (code {server.returncode}): see {SERVER_LOG}"
            )
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise CommandError(
        f"the MLflow UI did not answer on {url} within {STARTUP_TIMEOUT_SECONDS} s: "
        f"see {SERVER_LOG}"
    )


def main(argv: Sequence[str]) -> int:
    parser = ArgumentParser(
        prog="just ui",
        description=f"Serve the MLflow UI over runs/mlflow.db on {HOST}; Ctrl-C stops it.",
    )
    parser.add_argument("--port", type=int, default=5000, help="port to listen on (default 5000)")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error("--port must be between 1 and 65535")
    if not TRACKING_STORE.exists():
        raise UsageError(f"no local runs yet ({TRACKING_STORE} is missing): run `just local EXP`")
    check_port_free(args.port)
    url = f"http://{HOST}:{args.port}"
    print(f"starting the MLflow UI on {url} ...", file=sys.stderr, flush=True)
    # Its start-up imports thousands of modules: let them be cached as bytecode.
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with SERVER_LOG.open("wb") as log:
        server = subprocess.Popen(
            server_command(args.port),
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C is ours to pass on, once, and wait for
        )
    try:
        wait_until_up(server, url)
        print(f"MLflow UI: {url}  (Ctrl-C stops it)", flush=True)
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut this short
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
    print("MLflow UI stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    run_cli(main)
