"""An MLflow tracking server over a local store, on 127.0.0.1 only: the UI `just ui` shows,
and the way a job whose MLflow is another version than the tooling's logs into the store.

MLflow's SQL store accepts only a client of its exact schema revision, while its REST API
is the same for 2.x and 3.x clients, so a server of the tooling's MLflow lets any of them
log into the one store. The server is MLflow's own app under uvicorn, which is what
`mlflow server` runs once its command line has started: launched directly it answers in
about 3 s here instead of 12-20 s.
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scripts.console.cli import LOCALHOST, stop_signals_ignored
from scripts.console.errors import CommandError
from scripts.tracking.project_store import tracking_uri

HOST = LOCALHOST
STARTUP_TIMEOUT_SECONDS = 120
STOP_TIMEOUT_SECONDS = 15
APP = "mlflow.server.fastapi_app:app"
# How `mlflow server` hands its app the stores and the default artifact root
# (mlflow.server's BACKEND_STORE_URI_ENV_VAR, REGISTRY_STORE_URI_ENV_VAR, ARTIFACT_ROOT_ENV_VAR).
STORE_VARIABLE = "_MLFLOW_SERVER_FILE_STORE"
REGISTRY_VARIABLE = "_MLFLOW_SERVER_REGISTRY_STORE"
ARTIFACT_ROOT_VARIABLE = "_MLFLOW_SERVER_ARTIFACT_ROOT"
# And how it is told to proxy artifacts (`--serve-artifacts --artifacts-destination`).
SERVE_ARTIFACTS_VARIABLE = "_MLFLOW_SERVER_SERVE_ARTIFACTS"
ARTIFACT_DESTINATION_VARIABLE = "_MLFLOW_SERVER_ARTIFACT_DESTINATION"
PROXIED_ROOT = "mlflow-artifacts:/"
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen[bytes]


@contextmanager
def serving(
    store: Path, artifacts: Path, port: int, log: Path, proxied: bool = False
) -> Iterator[Server]:
    """An MLflow server over `store` (new experiments' artifacts under `artifacts`; with
    `proxied`, uploaded through the server, as a team's server keeps them) on `port`, its
    output in `log`; up when the block starts, stopped when it ends. It is out of the
    terminal's reach (Ctrl-C is for the job) and, on Linux, dies with this process."""
    url = f"http://{HOST}:{port}"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", APP, "--host", HOST, "--port", str(port)],
            env=_server_environment(store, artifacts, proxied),
            cwd=log.parent,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    try:
        _wait_until_up(process, url, log)
        yield Server(url, process)
    finally:
        _stop(process)


def _server_environment(store: Path, artifacts: Path, proxied: bool) -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        # The caller's MLflow settings are not the server's; its thousands of modules may
        # be cached as bytecode.
        if not name.startswith("MLFLOW_") and name != "PYTHONDONTWRITEBYTECODE"
    }
    uri = tracking_uri(store)
    stores = {STORE_VARIABLE: uri, REGISTRY_VARIABLE: uri}
    if proxied:
        return (
            environment
            | stores
            | {
                ARTIFACT_ROOT_VARIABLE: PROXIED_ROOT,
                SERVE_ARTIFACTS_VARIABLE: "true",
                ARTIFACT_DESTINATION_VARIABLE: artifacts.as_uri(),
            }
        )
    return environment | stores | {ARTIFACT_ROOT_VARIABLE: artifacts.as_uri()}


def _die_with_parent() -> None:
    """In the server's process before it starts: SIGTERM when its parent dies, even by
    SIGKILL, so that no server outlives the command that started it."""
    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CommandError(
                f"the MLflow server exited during start-up (code {process.returncode}): see {log}"
            )
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise CommandError(
        f"the MLflow server did not answer on {url} within {STARTUP_TIMEOUT_SECONDS} s: see {log}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and wait for it; no signal cuts this short."""
    with stop_signals_ignored():
        if process.poll() is None:
            _signal_group(process, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
        os.killpg(process.pid, signum)
