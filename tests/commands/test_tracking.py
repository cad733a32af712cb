"""Run records in the real MLflow store, on a copy of this repository: artifacts, final
statuses, reruns, store faults, concurrent runs, and the MLflow UI over HTTP.

Runs go through the runner in-process (the `cli` fixture) but where the runner itself must
be a process: a stop signal, two runs at once, the UI.
"""

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.entities import Run

from scripts import local as local_command
from scripts import rerun, ui
from scripts import runs as runs_command
from scripts.console.errors import StoreError
from scripts.tracking import store as store_module
from scripts.tracking.project_store import ensure_experiment, store_made_alongside
from scripts.tracking.store import check_writable, connect
from tests.helpers import (
    Outcome,
    add_job,
    add_member,
    newest_folder,
    run,
    run_folders,
    start_script,
    write,
)

EXPERIMENT = "example_experiment"


def client(project: Path) -> MlflowClient:
    return MlflowClient(f"sqlite:///{project / 'runs' / 'mlflow.db'}")


@pytest.fixture
def local(project: Path, cli: Callable[..., Outcome]) -> Callable[..., tuple[Outcome, Path]]:
    """`local(*sets)`: `just local example_experiment --set ...` on the project copy; what it
    did, and its run folder."""

    def call(*sets: str) -> tuple[Outcome, Path]:
        before = run_folders(project)
        args = [arg for value in sets for arg in ("--set", value)]
        outcome = cli(local_command.main, project, EXPERIMENT, *args)
        (folder,) = run_folders(project) - before
        return outcome, folder

    return call


Local = Callable[..., tuple[Outcome, Path]]


def tracked(project: Path, folder: Path) -> Run:
    run_id = json.loads((folder / "run.json").read_text())["tracking_run_id"]
    assert run_id, "run.json names no tracking run"
    return client(project).get_run(run_id)


@pytest.mark.slow
def test_outputs_and_logs_are_attached_as_artifacts(project: Path, local: Local) -> None:
    outcome, folder = local("inputs.epochs=1")
    assert outcome.code == 0, outcome.err
    run = tracked(project, folder)

    artifacts = {a.path for a in client(project).list_artifacts(run.info.run_id, "outputs")}
    logs = client(project).download_artifacts(run.info.run_id, "user_logs/std_log.txt")

    assert run.info.status == "FINISHED"
    assert artifacts == {"outputs/model.joblib", "outputs/learning_curve.png"}
    assert "test accuracy" in Path(logs).read_text()
    assert json.loads((folder / "run.json").read_text())["metrics"]["test_accuracy"] > 0.5


@pytest.mark.slow
def test_a_failing_job_is_failed_in_mlflow(project: Path, local: Local) -> None:
    outcome, folder = local("inputs.hidden_units=0")  # scikit-learn rejects it

    assert outcome.code == 1
    assert tracked(project, folder).info.status == "FAILED"


@pytest.mark.slow
def test_a_stopped_run_is_killed_in_mlflow_and_keeps_what_was_logged(project: Path) -> None:
    before = run_folders(project)
    process = subprocess.Popen(
        [sys.executable, "-m", "scripts.local", EXPERIMENT, "--set", "inputs.epochs=500"],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    store = project / "runs" / "mlflow.db"
    deadline = time.monotonic() + 120
    folder = None
    while time.monotonic() < deadline:  # wait for the first epoch's metrics
        new = run_folders(project) - before
        if new:
            (folder,) = new
            try:
                with sqlite3.connect(store) as connection:
                    logged = connection.execute(
                        "SELECT count(*) FROM metrics m JOIN runs r ON m.run_uuid = r.run_uuid "
                        "WHERE r.name = ? AND m.key = 'val_loss'",
                        (folder.name,),
                    ).fetchone()[0]
            except sqlite3.OperationalError:  # the store is still being created
                logged = 0
            if logged:
                break
        time.sleep(0.5)
    assert folder is not None

    # SIGTERM, passed on to the job: scikit-learn's MLP training swallows a Ctrl-C
    # ("Training interrupted by user.") and goes on. SIGINT is covered in test_records.py.
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 143, stderr
    run = tracked(project, folder)
    assert run.info.status == "KILLED"
    assert "val_loss" in run.data.metrics
    assert json.loads((folder / "run.json").read_text())["status"] == "KILLED"


@pytest.mark.slow
def test_rerun_reproduces_params_and_metrics(
    project: Path, local: Local, cli: Callable[..., Outcome]
) -> None:
    outcome, original = local("inputs.epochs=2", "inputs.hidden_units=16")
    assert outcome.code == 0, outcome.err
    before = run_folders(project)

    again = cli(rerun.main, project, str(original))

    assert again.code == 0, again.err
    (rerun_folder,) = run_folders(project) - before
    first, second = tracked(project, original), tracked(project, rerun_folder)
    assert first.info.run_id != second.info.run_id
    assert second.info.run_name == rerun_folder.name
    assert second.data.params == first.data.params
    assert second.data.metrics == pytest.approx(first.data.metrics)


@pytest.mark.slow
def test_concurrent_runs_are_both_recorded(project: Path) -> None:
    before = run_folders(project)
    command = [sys.executable, "-m", "scripts.local", EXPERIMENT, "--set", "inputs.epochs=2"]
    processes = [
        subprocess.Popen(command, cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    results = [process.communicate(timeout=300) for process in processes]

    assert [p.returncode for p in processes] == [0, 0], results
    for folder in run_folders(project) - before:
        run = tracked(project, folder)
        assert (run.info.status, run.data.params["epochs"]) == ("FINISHED", "2")


@pytest.fixture
def store(project: Path, local: Local) -> Path:
    """runs/mlflow.db of the project, made by a first run if need be."""
    path = project / "runs" / "mlflow.db"
    if not path.exists():
        assert local("inputs.epochs=1")[0].code == 0
    return path


@pytest.fixture
def broken_store(store: Path, tmp_path: Path) -> Iterator[Path]:
    """runs/mlflow.db replaced by garbage; the real one (and its WAL files) put back after."""
    parts = [store.with_name(store.name + suffix) for suffix in ("", "-wal", "-shm")]
    for part in parts:
        if part.exists():
            part.rename(tmp_path / part.name)
    store.write_bytes(b"this is not a database" * 100)
    yield store
    store.unlink()
    for part in parts:
        if (tmp_path / part.name).exists():
            (tmp_path / part.name).rename(part)


@pytest.mark.slow
def test_a_broken_store_does_not_lose_the_run(broken_store: Path, local: Local) -> None:
    outcome, folder = local("inputs.epochs=1")

    assert outcome.code == 0, outcome.err
    (warning,) = [line for line in outcome.err.splitlines() if line.startswith("warning:")]
    assert warning.endswith(f"; this run is tracked in {folder / 'mlflow.db'}")
    manifest = json.loads((folder / "run.json").read_text())
    assert manifest["status"] == "FINISHED"
    assert manifest["tracking_store"] == str(folder / "mlflow.db")
    fallback = MlflowClient(f"sqlite:///{folder / 'mlflow.db'}")
    assert fallback.get_run(manifest["tracking_run_id"]).data.params["epochs"] == "1"


@pytest.fixture
def short_lock_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give up on a locked store after 0.2 s instead of 10 s."""
    monkeypatch.setattr(store_module, "LOCK_TIMEOUT_SECONDS", 0.2)


@pytest.fixture
def locked_store(store: Path) -> Iterator[Path]:
    """The project's store, held by another writer."""
    holder = sqlite3.connect(store, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    yield store
    holder.execute("ROLLBACK")
    holder.close()


@pytest.mark.slow
def test_a_locked_store_does_not_lose_the_run(
    locked_store: Path, short_lock_timeout: None, local: Local
) -> None:
    outcome, folder = local("inputs.epochs=1")

    assert outcome.code == 0, outcome.err
    assert "is locked by another process" in outcome.err
    manifest = json.loads((folder / "run.json").read_text())
    assert (manifest["status"], manifest["tracking_store"]) == (
        "FINISHED",
        str(folder / "mlflow.db"),
    )


@pytest.fixture
def read_only_store(store: Path) -> Iterator[Path]:
    """The project's store made read-only with a read-only bind mount of the file itself
    (chmod would not stop root; root may mount, elsewhere this is skipped)."""
    bind = subprocess.run(["mount", "--bind", str(store), str(store)], capture_output=True)
    if bind.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {bind.stderr.decode().strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(store)], check=True)
        yield store
    finally:
        subprocess.run(["umount", str(store)], check=True)


@pytest.mark.slow
def test_a_read_only_store_does_not_lose_the_run(read_only_store: Path, local: Local) -> None:
    outcome, folder = local("inputs.epochs=1")

    assert outcome.code == 0, outcome.err
    assert f"warning: {read_only_store} is read-only: make it writable" in outcome.err
    manifest = json.loads((folder / "run.json").read_text())
    assert manifest["status"] == "FINISHED"
    assert manifest["tracking_store"] == str(folder / "mlflow.db")


def test_store_faults_say_what_to_do(
    broken_store: Path, tmp_path: Path, short_lock_timeout: None
) -> None:
    with pytest.raises(StoreError) as broken:
        check_writable(broken_store)
    assert str(broken.value) == (
        f"{broken_store} is not a usable MLflow store (file is not a database): move it aside "
        f"(mv {broken_store} {broken_store}.broken) and a new one is made"
    )
    check_writable(tmp_path / "absent.db")  # MLflow will create it
    absent = pytest.raises(StoreError, match=r"absent.db: unable to open database file")
    with absent, connect(tmp_path / "absent.db", read_only=True):
        pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.slow
@pytest.mark.parametrize("stop", ["Ctrl-C", "SIGTERM"])
def test_ui_serves_the_store_and_stops_on_ctrl_c_or_sigterm(
    store: Path, project: Path, stop: str
) -> None:
    port = free_port()
    process = start_script(project, "ui", "--port", str(port))
    assert process.stdout is not None
    announced = process.stdout.readline()  # printed once the UI answers
    assert f"http://127.0.0.1:{port}" in announced, process.stderr and process.stderr.read()

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
        page = response.read().decode()
    if stop == "Ctrl-C":
        os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole group
    else:
        process.send_signal(signal.SIGTERM)  # `kill`: the server must not be left serving
    _, stderr = process.communicate(timeout=60)

    assert "<html" in page.lower()
    assert process.returncode == 0, stderr
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))  # nothing listens any more


@pytest.mark.parametrize("wanted", [0, 65535])  # any port; the highest there is
def test_ui_on_a_taken_port_says_how_to_choose_another(
    store: Path, project: Path, cli: Callable[..., Outcome], wanted: int
) -> None:
    with socket.socket() as taken:
        try:
            taken.bind(("127.0.0.1", wanted))
        except OSError:
            pytest.skip(f"port {wanted} is taken by something else here")
        taken.listen()
        port = taken.getsockname()[1]
        outcome = cli(ui.main, project, "--port", str(port))

    assert outcome.code == 2
    found = re.fullmatch(
        rf"port {port} is in use on 127\.0\.0\.1: choose another, e\.g\. `just ui --port (\d+)`",
        outcome.error_line,
    )
    assert found, outcome.error_line
    suggested = int(found[1])
    assert suggested != port and 0 < suggested < 65536
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", suggested))  # free when suggested


def test_a_run_left_running_by_a_killed_runner_is_killed_in_mlflow(
    store: Path, project: Path, cli: Callable[..., Outcome]
) -> None:
    """What a runner killed with SIGKILL leaves: an MLflow run RUNNING, run.json RUNNING."""
    name = "20260101_000000_orphaned_run_aaaaaa"
    mlflow = client(project)
    experiment = mlflow.get_experiment_by_name(EXPERIMENT)
    assert experiment is not None
    left = mlflow.create_run(experiment.experiment_id, run_name=name)
    finished = subprocess.Popen(["true"])  # its pid: a runner that is gone
    finished.wait()
    folder = project / "runs" / EXPERIMENT / name
    folder.mkdir(parents=True)
    a_manifest = {
        "experiment": EXPERIMENT,
        "mlflow_experiment": EXPERIMENT,
        "run_name": name,
        "command": "python -m example_experiment.main",
        "inputs": {},
        "environment_variables": {},
        "requirements_sha256": "",
        "local_tracking_requirements": "",
        "git": None,
        "tracking_store": str(store),
        "tracking_run_id": left.info.run_id,  # recorded when the run starts
        "runner": {"pid": finished.pid, "start": ""},
    }
    (folder / "run.json").write_text(json.dumps(a_manifest))

    outcome = cli(runs_command.main, project, EXPERIMENT)

    assert outcome.code == 0, outcome.err
    assert mlflow.get_run(left.info.run_id).info.status == "KILLED"
    assert json.loads((folder / "run.json").read_text())["status"] == "KILLED"


@pytest.fixture
def store_revision(store: Path) -> Iterator[Callable[[str], None]]:
    """Set the store's MLflow schema revision (as another MLflow version would have left it);
    put back afterwards."""
    with sqlite3.connect(store) as connection:
        (original,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()

    def set_revision(revision: str) -> None:
        with sqlite3.connect(store) as connection:
            connection.execute("UPDATE alembic_version SET version_num = ?", (revision,))

    yield set_revision
    set_revision(original)


def parent_revision(revision: str) -> str:
    """The schema revision before `revision`, from the MLflow installed here."""
    site = next(Path(sys.prefix).glob("lib/python*/site-packages"))
    for migration in (site / "mlflow" / "store" / "db_migrations" / "versions").glob("*.py"):
        text = migration.read_text()
        if f'revision = "{revision}"' in text:
            found = re.search(r'^down_revision = "([0-9a-f]+)"', text, re.MULTILINE)
            assert found
            return found[1]
    raise AssertionError(f"no migration {revision}")


def test_a_store_of_another_mlflow_schema_stops_the_run_before_the_job_starts(
    store: Path, project: Path, store_revision: Callable[[str], None], cli: Callable[..., Outcome]
) -> None:
    """Neither the job's MLflow nor a server of the tooling's could open it; the job is not
    started, and the line says what to do: upgrade an older store in place (never move it
    aside), align the tooling's pin for a newer one."""
    before = run_folders(project)
    head = sqlite3.connect(store).execute("SELECT version_num FROM alembic_version").fetchone()[0]
    parent = parent_revision(head)

    store_revision(parent)
    behind = cli(local_command.main, project, EXPERIMENT)
    store_revision("ffffffffffff")
    ahead = cli(local_command.main, project, EXPERIMENT)

    assert (behind.code, ahead.code) == (1, 1)
    assert behind.error_line.endswith(f"uv run mlflow db upgrade sqlite:///{store}")
    assert "move it aside" not in behind.error_line
    assert ahead.error_line.startswith(f"{store} was made by a newer MLflow than the tooling's")
    assert run_folders(project) == before  # nothing started, nothing left


SKEWED_JOB = """
import signal, sys
import mlflow

mlflow.log_param("client", mlflow.__version__)
mlflow.log_metric("before", 1.0)
if sys.argv[1:] == ["--wait-for-ctrl-c"]:
    interrupted = []
    signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
    print("waiting", flush=True)
    while not interrupted:
        signal.pause()
    mlflow.log_metric("after_ctrl_c", 2.0)
"""


def add_skewed_experiment(workspace: Path, mlflow_pin: str, arguments: str = "") -> None:
    """Experiment `skewed`, whose job logs with the MLflow `mlflow_pin` names, not the
    tooling's (its store's schema)."""
    member = add_member(workspace, "experiments/skewed", "skewed", [mlflow_pin])
    write(member / "src" / "skewed" / "job.py", SKEWED_JOB)
    add_job(member, f"python -m skewed.job {arguments}")
    run(["uv", "lock", "--quiet"], workspace, check=True)


def skewed_run(workspace: Path, folder: Path) -> Run:
    return client(workspace).get_run(
        json.loads((folder / "run.json").read_text())["tracking_run_id"]
    )


@pytest.mark.slow
@pytest.mark.parametrize("mlflow_pin", ["mlflow-skinny==2.22.5", "mlflow-skinny==3.17.2"])
def test_a_job_of_another_mlflow_version_is_tracked_through_a_server(
    workspace: Path, mlflow_pin: str, cli: Callable[..., Outcome]
) -> None:
    """An older 2.x and a newer 3.x client: MLflow's SQL store refuses both (another schema
    revision); they log over REST to a server of the tooling's MLflow, which is stopped
    when the job ends. Their environment gets no SQLAlchemy or Alembic."""
    add_skewed_experiment(workspace, mlflow_pin)

    outcome = cli(local_command.main, workspace, "skewed")

    assert outcome.code == 0, outcome.err
    assert "through a local MLflow server" in outcome.err
    folder = newest_folder(workspace)
    logged = skewed_run(workspace, folder)
    assert logged.info.status == "FINISHED"
    assert logged.data.params["client"] == mlflow_pin.split("==")[1]
    assert logged.data.metrics["before"] == 1.0
    server_log = (folder / "system_logs" / "local_mlflow_server.txt").read_text()
    assert "Finished server process" in server_log  # stopped, not left serving
    venv = workspace / "runs" / ".venvs"
    assert not list(venv.glob("*/lib/python*/site-packages/sqlalchemy"))


@pytest.mark.slow
def test_ctrl_c_reaches_a_served_job_and_not_its_server(workspace: Path) -> None:
    """The terminal's Ctrl-C goes to the runner's process group; the server is out of it,
    so a job that handles Ctrl-C still logs afterwards."""
    add_skewed_experiment(workspace, "mlflow-skinny==2.22.5", "--wait-for-ctrl-c")
    process = start_script(workspace, "local", "skewed")
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "waiting"

    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 0, stderr
    logged = skewed_run(workspace, newest_folder(workspace))
    assert logged.data.metrics["after_ctrl_c"] == 2.0


def running(pid: int) -> bool:
    """Whether `pid` runs (a zombie left for its new parent to reap does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="the server dies with its runner on Linux")
def test_a_served_jobs_server_dies_with_a_killed_runner(workspace: Path) -> None:
    add_skewed_experiment(workspace, "mlflow-skinny==2.22.5", "--wait-for-ctrl-c")
    process = start_script(workspace, "local", "skewed")
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "waiting"
    log = (newest_folder(workspace) / "system_logs" / "local_mlflow_server.txt").read_text()
    started = re.search(r"Started server process \[(\d+)\]", log)
    assert started, log
    server = int(started[1])
    assert running(server)

    os.killpg(process.pid, signal.SIGKILL)  # the runner and its job, nothing can be recorded
    process.wait()

    deadline = time.monotonic() + 30
    while running(server) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not running(server)


def test_a_first_run_has_its_store_made_alongside(tmp_path: Path) -> None:
    """The store a first run needs is made by another process while the run is prepared
    (or by the run itself, whichever comes first): MLflow's own schema, in WAL mode, with
    the experiment's artifacts (and MLflow's Default experiment's) under runs/mlartifacts."""
    runs = tmp_path / "runs"
    runs.mkdir()
    store, artifacts = runs / "mlflow.db", runs / "mlartifacts"

    with store_made_alongside(store, artifacts):
        ensure_experiment(store, artifacts, "first")

    client = MlflowClient(f"sqlite:///{store}")
    experiment = client.get_experiment_by_name("first")
    assert experiment and experiment.artifact_location == (artifacts / "first").as_uri()
    assert client.get_experiment("0").artifact_location.startswith(artifacts.as_uri())
    with sqlite3.connect(store) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert not [path for path in runs.iterdir() if ".partial" in path.name]


def test_a_refused_run_stops_the_store_being_made_and_leaves_nothing(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()

    with pytest.raises(ValueError), store_made_alongside(runs / "mlflow.db", runs / "art"):
        raise ValueError("refused")  # at once: MLflow's import takes longer than this

    assert list(runs.iterdir()) == []


def test_a_metric_history_is_read_in_the_order_mlflow_gives_it(tmp_path: Path) -> None:
    """What a sweep ranks and stops trials by, read without MLflow from a store MLflow
    wrote: by step then time, NaN left out, a run that logged none empty."""
    store = tmp_path / "mlflow.db"
    tracking = MlflowClient(f"sqlite:///{store}")
    experiment = tracking.create_experiment("e", artifact_location=str(tmp_path / "artifacts"))
    logged, silent = (tracking.create_run(experiment).info.run_id for _ in range(2))
    for step, value in [(2, 0.5), (0, 0.1), (1, float("nan")), (1, 0.3)]:
        tracking.log_metric(logged, "score", value, step=step)
    tracking.log_metric(silent, "other", 1.0)

    histories = store_module.metric_histories(store, [logged, silent], "score")

    assert histories == {logged: [0.1, 0.3, 0.5], silent: []}
