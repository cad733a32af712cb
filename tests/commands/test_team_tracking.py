"""Local runs tracked on a team's MLflow server (MLFLOW_TRACKING_URI) or the workspace's
(`--track workspace`), in-process (the `cli` fixture).

The team server is a real `mlflow server` on 127.0.0.1 with a PostgreSQL backend store
(tests/postgres.py starts one) and a proxied artifact store, shared by the module; the
server that stops mid-run is MLflow's own app over a SQLite store (scripts/tracking/server.py),
started for that test. For `--track workspace`, the one object that talks to Azure ML
(MLClient) is a fake whose workspace names the team server as its MLflow, and the Azure CLI
login's token is a stand-in: the token is checked to reach the job, never a record.
"""

import dataclasses
import datetime
import ipaddress
import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient

from scripts import local
from scripts.cloud import workspace as cloud_workspace
from scripts.cloud.workspace import AzureML, Workspace
from scripts.console.cli import free_port
from scripts.console.errors import StoreError
from scripts.project.layout import Project
from scripts.tracking import trackers
from scripts.tracking.project_store import make_store
from scripts.tracking.server import serving
from scripts.tracking.trackers import LocalStore, TeamServer
from tests.fake_azure import FakeClient, FakeWorkspaces
from tests.helpers import PIPELINE, Outcome, add_job, newest_folder, wired_pipeline, write
from tests.postgres import postgresql

SECRET = "s3cret-Pa55"  # in the team server's URI: never in a record
SERVER_STARTUP_SECONDS = 120


@pytest.fixture(scope="module")
def team_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`mlflow server` on PostgreSQL with proxied artifacts (--serve-artifacts), on 127.0.0.1;
    its URL."""
    folder = tmp_path_factory.mktemp("team")
    try:
        database = postgresql(folder)
        backend = database.__enter__()
    except FileNotFoundError as missing:
        if os.environ.get("CI"):
            pytest.fail(f"{missing} (.ci/run installs it)")
        pytest.skip(str(missing))
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", backend,
         "--serve-artifacts", "--artifacts-destination", str(folder / "artifacts"),
         "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=(folder / "server.log").open("wb"),
        env={k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")},
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(server, url, folder / "server.log")
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        database.__exit__(None, None, None)


def _wait_until_up(server: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"mlflow server did not start: {log.read_text()[-2000:]}")


def with_secret(url: str) -> str:
    return url.replace("http://", f"http://alice:{SECRET}@")


def server_run(url: str, run_id: str) -> Any:
    return MlflowClient(url).get_run(run_id)


def manifest(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "run.json").read_text())
    return data


def local_runs(root: Path) -> list[Any]:
    client = MlflowClient(f"sqlite:///{root / 'runs' / 'mlflow.db'}")
    experiments = [e.experiment_id for e in client.search_experiments()]
    return list(client.search_runs(experiments))


def every_file_text(folder: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())


@pytest.mark.slow
def test_the_example_runs_on_the_team_server_and_no_credential_is_recorded(
    project: Path,
    team_server: str,
    cli: Callable[..., Outcome],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", with_secret(team_server))

    outcome = cli(local.main, project, "example_experiment", "--set", "inputs.epochs=2")

    assert outcome.code == 0, outcome.err
    folder = newest_folder(project)
    recorded = manifest(folder)
    assert recorded["tracking_store"] == team_server  # without the user and password
    assert f"tracking:    {team_server}, experiment 'example_experiment'" in outcome.err
    run = server_run(team_server, recorded["tracking_run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.params["epochs"] == "2"
    assert recorded["metrics"]["test_accuracy"] == run.data.metrics["test_accuracy"] > 0.5
    artifacts = {a.path for a in MlflowClient(team_server).list_artifacts(run.info.run_id)}
    assert {"outputs", "user_logs"} <= artifacts
    logged = MlflowClient(team_server).list_artifacts(run.info.run_id, "outputs")
    assert "outputs/model.joblib" in {a.path for a in logged}
    assert SECRET not in every_file_text(folder) + outcome.err + outcome.out
    assert SECRET not in json.dumps([run.data.tags, run.data.params])
    assert not [r for r in local_runs(project) if r.info.run_name == folder.name]


def test_a_pipeline_on_the_team_server_has_its_steps_as_child_runs(
    workspace: Path,
    team_server: str,
    cli: Callable[..., Outcome],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wired_pipeline(workspace)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", team_server)

    outcome = cli(local.main, workspace, "alpha", "-f", PIPELINE)

    assert outcome.code == 0, outcome.err
    folder = newest_folder(workspace)
    pipeline = manifest(folder)
    steps = [manifest(folder / "steps" / name) for name in pipeline["steps"]]
    assert server_run(team_server, pipeline["tracking_run_id"]).info.status == "FINISHED"
    for step in steps:
        run = server_run(team_server, step["tracking_run_id"])
        assert run.data.tags["mlflow.parentRunId"] == pipeline["tracking_run_id"]
        assert step["parent_run_id"] == pipeline["tracking_run_id"]
        assert run.info.status == "FINISHED"


def test_a_server_that_does_not_answer_at_start_leaves_the_run_tracked_here(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    port = free_port()  # nothing listens there
    uri = f"http://bob:{SECRET}@127.0.0.1:{port}"
    write(workspace / ".env.local", f"MLFLOW_TRACKING_URI={uri}\n")
    add_job(workspace / "experiments" / "beta", "python -c pass")

    outcome = cli(local.main, workspace, "beta")
    kept_local = cli(local.main, workspace, "beta", "--track", "local")

    assert outcome.code == 0, outcome.err
    store = workspace / "runs" / "mlflow.db"
    assert (
        f"warning: the MLflow tracking server http://127.0.0.1:{port} did not answer "
        f"([Errno 111] Connection refused); this run is tracked in {store} instead"
    ) in outcome.err
    assert SECRET not in outcome.err
    folders = sorted((workspace / "runs" / "beta").iterdir())
    assert [manifest(f)["tracking_store"] for f in folders] == [str(store)] * 2
    assert {r.info.status for r in local_runs(workspace)} == {"FINISHED"}
    assert len(local_runs(workspace)) == 2
    assert kept_local.code == 0 and "warning" not in kept_local.err


def test_a_server_that_stops_mid_run_has_the_run_completed_here(
    workspace: Path, tmp_path: Path, cli: Callable[..., Outcome], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, artifacts = tmp_path / "team.db", tmp_path / "team-artifacts"
    make_store(store, artifacts)
    with serving(store, artifacts, free_port(), tmp_path / "server.log") as server:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
        pid = server.process.pid
        stop_the_server = f"python -c 'import os, time; os.kill({pid}, 15); time.sleep(2)'"
        add_job(workspace / "experiments" / "beta", stop_the_server)

        outcome = cli(local.main, workspace, "beta")
        first = MlflowClient(f"sqlite:///{store}").search_runs(["0", "1"])

    assert outcome.code == 0, outcome.err
    local_store = workspace / "runs" / "mlflow.db"
    assert (
        f"the MLflow tracking server {server.url} did not answer ([Errno 111] Connection "
        f"refused); the run is completed in {local_store} instead (what the job logged to the "
        "server stays there)"
    ) in outcome.err
    recorded = manifest(newest_folder(workspace))
    assert recorded["tracking_store"] == str(local_store)
    (completed,) = local_runs(workspace)
    assert completed.info.run_id == recorded["tracking_run_id"]
    assert completed.info.status == "FINISHED"
    (started,) = first  # left RUNNING on the server, which stopped
    assert completed.data.tags["tooling.server_run_id"] == started.info.run_id
    attached = MlflowClient(f"sqlite:///{local_store}").list_artifacts(completed.info.run_id)
    assert "user_logs" in {a.path for a in attached}


@dataclass(frozen=True)
class TokenWorkspace(AzureML):
    """The workspace with a stand-in for your Azure CLI login's token."""

    def tracking_token(self) -> str:
        return SECRET


def test_track_workspace_logs_into_the_workspaces_mlflow_with_your_login(
    workspace: Path,
    team_server: str,
    cli: Callable[..., Outcome],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = FakeClient(workspaces=FakeWorkspaces(team_server))
    azure = TokenWorkspace(Workspace("0", "rg", "ws", None), client)
    monkeypatch.setattr(cloud_workspace, "connect", lambda project: azure)
    token_seen = workspace / "token.txt"
    reads_token = f"open('{token_seen}', 'w').write(os.environ['MLFLOW_TRACKING_TOKEN'])"
    add_job(workspace / "experiments" / "beta", f'python -c "import os; {reads_token}"')

    outcome = cli(local.main, workspace, "beta", "--track", "workspace")

    assert outcome.code == 0, outcome.err
    assert "tracking in workspace 'ws''s MLflow" in outcome.err
    recorded = manifest(newest_folder(workspace))
    assert recorded["tracking_store"] == team_server
    assert server_run(team_server, recorded["tracking_run_id"]).info.status == "FINISHED"
    assert token_seen.read_text() == SECRET  # the job's MLflow authenticates with it
    assert SECRET not in every_file_text(newest_folder(workspace)) + outcome.err


def test_a_servers_metric_histories_are_read_as_the_local_stores_are(
    team_server: str, tmp_path: Path
) -> None:
    """What a sweep's early termination reads: each run's values of one metric, by step,
    NaN left out; a run that logged none has none."""
    client = MlflowClient(team_server)
    experiment = client.create_experiment(f"histories-{time.time_ns()}")
    logged, silent = (client.create_run(experiment).info.run_id for _ in range(2))
    for step, value in [(2, 0.3), (0, 0.1), (1, float("nan")), (3, 0.4)]:
        client.log_metric(logged, "score", value, step=step)
    server = TeamServer(team_server, LocalStore(tmp_path / "mlflow.db", tmp_path))

    assert server.metric_histories([logged, silent], "score") == {
        logged: [0.1, 0.3, 0.4],
        silent: [],
    }


def test_mlflow_settings_come_from_the_command_line_then_the_environment_then_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / ".env.local", "MLFLOW_TRACKING_URI=http://files:5000\nMLFLOW_TRACKING_TOKEN=t")
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
    project = Project(tmp_path)

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    from_files = trackers.team_server(project)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "https://environment")
    from_environment = trackers.team_server(project)
    workspace_uri = "azureml://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/0/ws"
    overrides = (("MLFLOW_TRACKING_URI", workspace_uri),)
    chosen = trackers.team_server(dataclasses.replace(project, overrides=overrides))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///elsewhere.db")
    not_a_server = trackers.team_server(project)

    assert from_files is not None and from_files.uri == "http://files:5000"
    assert from_files.credentials == {"MLFLOW_TRACKING_TOKEN": "t"}
    assert from_environment is not None and from_environment.uri == "https://environment"
    assert chosen is not None
    assert chosen.uri == "https://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/0/ws"
    assert chosen.job_variables("e", "r")["MLFLOW_TRACKING_URI"] == workspace_uri
    assert not_a_server is None


@contextmanager
def https_server(folder: Path) -> Iterator[tuple[str, Path]]:
    """An https server on 127.0.0.1 with a self-signed certificate, answering MLflow's
    experiments/search as an empty server would; its URL and the certificate's file."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    loopback = ipaddress.ip_address("127.0.0.1")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(loopback)]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_file, key_file = folder / "server.pem", folder / "server.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"experiments": []}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", cert_file
    finally:
        server.shutdown()
        server.server_close()


def test_a_servers_certificate_is_checked_as_mlflow_settings_say(tmp_path: Path) -> None:
    local_store = LocalStore(tmp_path / "mlflow.db", tmp_path)
    with https_server(tmp_path) as (url, certificate):
        unchecked = TeamServer(url, local_store)
        ca = {"MLFLOW_TRACKING_SERVER_CERT_PATH": str(certificate)}
        with_ca = TeamServer(url, local_store, ca)
        insecure = TeamServer(url, local_store, {"MLFLOW_TRACKING_INSECURE_TLS": "true"})

        with pytest.raises(StoreError, match="CERTIFICATE_VERIFY_FAILED"):
            unchecked.check()
        with_ca.check()
        insecure.check()
