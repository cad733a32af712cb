"""`just fetch`: cloud jobs brought home, in-process (the `cli` fixture).

The one object that talks to Azure ML, MLClient, is a fake (tests/fake_azure.py) that keeps
what `just aml` submitted as the service does and refuses what it refuses; the jobs are
submitted through `just aml` itself. Everything behind it is real: the workspace's MLflow
is a real MLflow server on 127.0.0.1 (Azure ML's MLflow speaks MLflow's REST API, and a
job's name is its run's id there), and output bytes come from Azurite through
azure-storage-blob.
"""

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError
from mlflow import MlflowClient
from mlflow.entities import Metric, Param

from scripts import aml, fetch, runs
from scripts.cloud import jobs
from scripts.cloud.data_assets import BlobLocation
from scripts.cloud.jobs import wait_until_ended
from scripts.cloud.workspace import AzureML, Workspace
from scripts.console.cli import free_port
from scripts.console.errors import UsageError
from scripts.project.layout import Project
from scripts.results.fetch import target
from scripts.results.record import mirrored_id
from scripts.tracking.project_store import make_store
from scripts.tracking.server import serving
from scripts.tracking.store import create_experiment, create_run
from tests.fake_azure import Child, FakeClient, FakeDatastores, FakeJobs, FakeWorkspaces
from tests.helpers import Outcome, copy_repository, git_commit_all, write

EXPERIMENT = "example_experiment"
WORKSPACE = Workspace("0", "rg", "ws", None)
# The example's job with a named output and no experiment_name, written below.
OUTPUT_JOB = "fetch-job.yaml"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of this repository, configured for a workspace, with a job that has a named
    output and leaves its experiment's name to `just aml`."""
    root = copy_repository(tmp_path_factory.mktemp("fetch") / "repo")
    write(
        root / ".env.local",
        "AZUREML_SUBSCRIPTION_ID=0\nAZUREML_RESOURCE_GROUP=rg\nAZUREML_WORKSPACE=ws\n",
    )
    job = (root / "experiments" / EXPERIMENT / "azure-ml-job.yaml").read_text()
    job = job.replace("--output-dir ./outputs", "--output-dir ${{outputs.model}}")
    job = job.replace(f"experiment_name: {EXPERIMENT}\n", "")  # `just aml` names it
    write(
        root / "experiments" / EXPERIMENT / OUTPUT_JOB,
        job + "outputs:\n  model:\n    type: uri_folder\n",
    )
    git_commit_all(root)
    return root


@dataclass(frozen=True)
class WorkspaceMlflow:
    """A real MLflow server standing in for the workspace's, over its own store."""

    url: str
    store: Path
    artifacts: Path


@pytest.fixture(scope="module")
def workspace_mlflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkspaceMlflow]:
    folder = tmp_path_factory.mktemp("workspace-mlflow")
    store, artifacts = folder / "mlflow.db", folder / "artifacts"
    make_store(store, artifacts)
    with serving(store, artifacts, free_port(), folder / "server.log") as server:
        yield WorkspaceMlflow(server.url, store, artifacts)


@dataclass(frozen=True)
class AzuriteWorkspace(AzureML):
    """The workspace with its Blob storage in Azurite: the datastore's account URL
    (https://ACCOUNT.blob.ENDPOINT) is checked, then the container is Azurite's."""

    azurite: Any = None

    def container(self, location: BlobLocation) -> Any:
        assert location.account_url == "https://examplestorage.blob.core.windows.net"
        return self.azurite

    def credential(self) -> Any:
        return None  # the fake datastore has a key: no login is needed


@dataclass
class Cloud:
    """Azure ML as these tests play it: `just aml` submits to the fake, `ran` is the job
    running (its MLflow run logged through the real server), `stored` its output."""

    home: Path
    client: FakeClient
    mlflow: WorkspaceMlflow
    container: Any
    cli: Callable[..., Outcome]
    monkeypatch: pytest.MonkeyPatch

    def submit(self, job_file: str, *sets: str) -> str:
        self.monkeypatch.setattr(aml, "ml_client", lambda workspace: self.client)
        args = [arg for value in sets for arg in ("--set", value)]
        outcome = self.cli(aml.main, self.home, EXPERIMENT, "-f", job_file, *args)
        assert outcome.code == 0, outcome.err
        return str(self.client.jobs.created[-1].name)

    def ran(
        self,
        name: str,
        metrics: dict[str, list[float]],
        params: dict[str, str] | None = None,
        log: str = "",
        status: str = "FINISHED",
    ) -> None:
        """Job `name`'s MLflow run (its id: the job's name, as in Azure ML), with these
        values logged at steps 0, 1, ..., and its log."""
        if not MlflowClient(self.mlflow.url).get_experiment_by_name(EXPERIMENT):
            location = (self.mlflow.artifacts / EXPERIMENT).as_uri()
            create_experiment(self.mlflow.store, EXPERIMENT, location)
        create_run(self.mlflow.store, EXPERIMENT, name, name, {"mlflow.user": "azureml"})
        client = MlflowClient(self.mlflow.url)
        now = int(time.time() * 1000)
        client.log_batch(
            name,
            metrics=[
                Metric(key, value, now + step, step)
                for key, values in metrics.items()
                for step, value in enumerate(values)
            ],
            params=[Param(key, value) for key, value in (params or {}).items()],
        )
        if log:
            client.log_text(name, log, "user_logs/std_log.txt")
        if status != "RUNNING":
            client.set_terminated(name, status)

    def stored(self, name: str, output: str, files: dict[str, bytes]) -> None:
        """Job `name`'s output where Azure ML puts it unless told: the default datastore's
        azureml/<job>/<output>/."""
        for path, data in files.items():
            self.container.upload_blob(f"azureml/{name}/{output}/{path}", data)

    def fetch(self, *args: str) -> Outcome:
        azure = AzuriteWorkspace(WORKSPACE, self.client, self.container)
        self.monkeypatch.setattr(fetch, "connect", lambda project: azure)
        return self.cli(fetch.main, self.home, *args)

    def local_runs(self, name: str) -> list[Any]:
        """The local store's runs of job `name`."""
        client = self.local_store()
        experiment = client.get_experiment_by_name(EXPERIMENT)
        assert experiment is not None
        return list(
            client.search_runs([experiment.experiment_id], f"tags.`azureml.job_name` = '{name}'")
        )

    def history(self, run_id: str, key: str) -> list[float]:
        return [m.value for m in self.local_store().get_metric_history(run_id, key)]

    def artifacts(self, run_id: str) -> list[Any]:
        return list(self.local_store().list_artifacts(run_id))

    def local_store(self) -> MlflowClient:
        return MlflowClient(f"sqlite:///{self.home / 'runs' / 'mlflow.db'}")


@pytest.fixture
def cloud(
    home: Path,
    workspace_mlflow: WorkspaceMlflow,
    container: Any,
    cli: Callable[..., Outcome],
    monkeypatch: pytest.MonkeyPatch,
) -> Cloud:
    client = FakeClient(
        jobs=FakeJobs(),
        datastores=FakeDatastores(container.container_name),
        workspaces=FakeWorkspaces(workspace_mlflow.url),
    )
    return Cloud(home, client, workspace_mlflow, container, cli, monkeypatch)


def record_of(home: Path, name: str) -> Path:
    return home / "runs" / EXPERIMENT / name / "cloud"


def manifest(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "run.json").read_text())
    return data


def test_a_finished_job_comes_home_with_its_metrics_logs_and_outputs(cloud: Cloud) -> None:
    name = cloud.submit(OUTPUT_JOB, "compute=azureml:cpu-cluster")
    cloud.ran(
        name, {"loss": [0.9, 0.5, 0.2], "test_accuracy": [0.7, 0.93]}, {"seed": "1"}, "epoch 1\n"
    )
    cloud.stored(name, "model", {"model.pkl": b"weights" * 1000, "meta/info.json": b"{}"})
    cloud.client.jobs.finish(name)

    fetched = cloud.fetch(f"runs/{EXPERIMENT}/{name}", "--outputs", "model")

    assert fetched.code == 0, fetched.err
    record = record_of(cloud.home, name)
    assert fetched.out.strip() == str(record.relative_to(cloud.home))
    recorded = manifest(record)
    assert (recorded["status"], recorded["cloud_status"]) == ("FINISHED", "Completed")
    assert recorded["job_name"] == name
    assert recorded["studio_url"] == f"https://ml.azure.com/runs/{name}"
    assert recorded["compute"] == "cpu-cluster"
    assert recorded["mlflow_experiment"] == EXPERIMENT  # the experiment `just aml` gave it
    assert recorded["metrics"] == {"loss": 0.2, "test_accuracy": 0.93}
    assert recorded["inputs"] == {"epochs": "20", "learning_rate": "0.01", "hidden_units": "64"}
    assert recorded["git"]["commit"]  # `just aml` tagged the job with it
    assert (record / "user_logs" / "std_log.txt").read_text() == "epoch 1\n"
    assert (record / "outputs" / "model" / "model.pkl").read_bytes() == b"weights" * 1000
    assert (record / "outputs" / "model" / "meta" / "info.json").read_bytes() == b"{}"
    (run,) = cloud.local_runs(name)
    assert run.info.run_id == mirrored_id(WORKSPACE, name) == recorded["tracking_run_id"]
    assert run.info.status == "FINISHED"
    assert cloud.history(run.info.run_id, "loss") == [0.9, 0.5, 0.2]
    assert run.data.params == {
        "seed": "1",
        "epochs": "20",
        "learning_rate": "0.01",
        "hidden_units": "64",
    }
    assert run.data.tags["azureml.studio_url"] == recorded["studio_url"]
    assert run.data.tags["azureml.compute"] == "cpu-cluster"
    assert "user_logs" in {
        entry.path
        for entry in MlflowClient(f"sqlite:///{cloud.home / 'runs' / 'mlflow.db'}").list_artifacts(
            run.info.run_id
        )
    }
    assert f"recorded in runs/{EXPERIMENT}/{name}/cloud" in fetched.err


def test_fetching_a_running_job_and_again_when_it_ended_updates_the_same_run(cloud: Cloud) -> None:
    name = cloud.submit("azure-ml-job.yaml", "compute=azureml:cpu-cluster")
    cloud.ran(name, {"loss": [0.9]}, status="RUNNING")
    cloud.client.jobs.finish(name, status="Running")

    running = cloud.fetch(name)
    refused = cloud.fetch(name, "--all")
    MlflowClient(cloud.mlflow.url).log_metric(name, "loss", 0.4, step=1)
    MlflowClient(cloud.mlflow.url).set_terminated(name, "FINISHED")
    cloud.client.jobs.finish(name, status="Completed")
    ended = cloud.fetch(name)

    assert running.code == 0, running.err
    assert refused.code == 2
    assert refused.error_line == (
        f"job {name} is Running: its outputs are complete once it ends; add --wait, "
        "or leave out --outputs/--all to fetch its metrics and logs so far"
    )
    assert ended.code == 0, ended.err
    record = record_of(cloud.home, name)
    assert manifest(record)["status"] == "FINISHED"
    (run,) = cloud.local_runs(name)
    assert run.info.status == "FINISHED"
    assert cloud.history(run.info.run_id, "loss") == [0.9, 0.4]
    assert not [p.name for p in record.parent.iterdir() if p.name.startswith(".")]


def test_wait_follows_the_job_until_it_ends(cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> None:
    name = cloud.submit("azure-ml-job.yaml", "compute=azureml:cpu-cluster")
    cloud.ran(name, {"loss": [0.3]})
    cloud.client.jobs.finish(name)
    cloud.client.jobs.statuses[name] = ["Queued", "Running", "Running"]
    monkeypatch.setattr(jobs, "POLL_FIRST_SECONDS", 0.01)

    fetched = cloud.fetch(name, "--wait")

    assert fetched.code == 0, fetched.err
    assert manifest(record_of(cloud.home, name))["status"] == "FINISHED"
    assert [line for line in fetched.err.splitlines() if line.startswith(f"job {name}: ")][:3] == [
        f"job {name}: Queued",
        f"job {name}: Running",
        f"job {name}: Completed",
    ]


def test_waiting_asks_at_growing_intervals_up_to_a_minute(cloud: Cloud) -> None:
    name = cloud.submit("azure-ml-job.yaml", "compute=azureml:cpu-cluster")
    cloud.client.jobs.finish(name, status="Failed")
    cloud.client.jobs.statuses[name] = ["Queued"] + ["Running"] * 7
    slept: list[float] = []

    ended = wait_until_ended(cloud.client, name, WORKSPACE, sleep=slept.append)

    assert ended.status == "Failed"
    assert slept == [2, 4, 8, 16, 32, 60, 60, 60]


def test_a_pipeline_comes_home_with_its_steps_and_its_output(cloud: Cloud) -> None:
    name = cloud.submit("azure-ml-pipeline.yaml", "settings.default_compute=azureml:cpu-cluster")
    earlier = f"{name}_prep_earlier"  # the job a reused step shows
    cloud.ran(earlier, {"rows": [1797]})
    cloud.ran(f"{name}_train", {"loss": [0.5, 0.1]}, log="training\n")
    cloud.ran(f"{name}_evaluate", {"test_accuracy": [0.95]})
    cloud.ran(name, {})
    reused = {"azureml.isreused": "true", "azureml.reusedrunid": earlier}
    cloud.client.jobs.finish(
        name,
        children=[
            Child(f"{name}_prep", "prep", properties=reused),
            Child(f"{name}_train", "train"),
            Child(f"{name}_evaluate", "evaluate"),
        ],
    )
    cloud.stored(f"{name}_train", "model", {"model.pkl": b"mlp"})

    fetched = cloud.fetch(name, "--outputs", "model")

    assert fetched.code == 0, fetched.err
    record = record_of(cloud.home, name)
    top = manifest(record)
    assert (top["kind"], top["steps"]) == ("pipeline", ["prep", "train", "evaluate"])
    prep, train = manifest(record / "steps" / "prep"), manifest(record / "steps" / "train")
    assert (prep["kind"], prep["reused_from"], prep["metrics"]) == ("step", earlier, {"rows": 1797})
    assert train["parent_run_id"] == top["tracking_run_id"]
    assert (record / "steps" / "train" / "user_logs" / "std_log.txt").read_text() == "training\n"
    assert (record / "outputs" / "model" / "model.pkl").read_bytes() == b"mlp"
    (step_run,) = cloud.local_runs(f"{name}_train")
    assert step_run.data.tags["mlflow.parentRunId"] == top["tracking_run_id"]
    assert step_run.info.run_name == "train"


def test_a_sweep_comes_home_with_its_trials_and_its_best_trial_marked(cloud: Cloud) -> None:
    name = cloud.submit("azure-ml-sweep-job.yaml", "compute=azureml:cpu-cluster")
    trials = [f"{name}_{index}" for index in range(3)]
    for trial, values in zip(trials, ([0.8, 0.85], [0.9, 0.96], [0.7]), strict=True):
        cloud.ran(trial, {"test_accuracy": values})
    cloud.ran(name, {})
    cloud.client.jobs.finish(
        name,
        properties={"best_child_run_id": trials[1]},
        children=[Child(trial, trial) for trial in trials],
    )

    fetched = cloud.fetch(name)

    assert fetched.code == 0, fetched.err
    record = record_of(cloud.home, name)
    sweep = manifest(record)
    assert sweep["kind"] == "sweep"
    assert sweep["best_trial"] == trials[1]
    assert sweep["objective"] == {"primary_metric": "test_accuracy", "goal": "maximize"}
    scores = [manifest(record / "steps" / trial)["score"] for trial in trials]
    assert scores == [0.85, 0.96, 0.7]
    (sweep_run,) = cloud.local_runs(name)
    assert sweep_run.data.tags["best_child_run_id"] == mirrored_id(WORKSPACE, trials[1])
    listed = cloud.cli(runs.main, cloud.home, EXPERIMENT).out.splitlines()
    at = next(i for i, line in enumerate(listed) if line.startswith(name + " "))
    assert [line.split()[:4] for line in listed[at : at + 4]] == [
        [name, EXPERIMENT, "cloud", "FINISHED"],
        ["└", trials[1], "(best)", EXPERIMENT],
        ["└", trials[0], EXPERIMENT, "cloud"],
        ["└", trials[2], EXPERIMENT, "cloud"],
    ]


def test_a_job_that_does_not_exist_is_one_line_and_nothing_is_made(cloud: Cloud) -> None:
    cloud.submit("azure-ml-job.yaml", "compute=azureml:cpu-cluster")  # the workspace has jobs
    before = sorted((cloud.home / "runs").rglob("*"))

    missing = cloud.fetch("no_such_job")

    assert missing.code == 2
    assert missing.error_line == (
        "no job 'no_such_job' in workspace 'ws': pass a job name from the studio, or a "
        "run folder `just aml` made (runs/EXP/<run>)"
    )
    assert sorted((cloud.home / "runs").rglob("*")) == before


def test_not_logged_in_is_one_line(cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(name: str) -> Any:
        raise ClientAuthenticationError("Please run 'az login' to setup account.")

    monkeypatch.setattr(cloud.client.jobs, "get", refuse)

    refused = cloud.fetch("some_job")

    assert refused.code == 1
    assert (
        refused.error_line
        == "not logged in to Azure: run `az login` (and `az account set` if needed)"
    )


def test_a_job_submitted_elsewhere_gets_a_folder_in_its_experiments_once_mlflow_answers(
    cloud: Cloud, workspace_mlflow: WorkspaceMlflow
) -> None:
    sets = ("compute=azureml:cpu-cluster", "experiment_name=team-runs")
    name = cloud.submit("azure-ml-job.yaml", *sets)
    cloud.ran(name, {"loss": [0.1]})
    cloud.client.jobs.finish(name)
    submitted = cloud.home / "runs" / EXPERIMENT / name
    submitted.rename(submitted.with_name(f".{name}"))  # as if `just aml` ran elsewhere
    cloud.client.workspaces = FakeWorkspaces(f"http://127.0.0.1:{free_port()}")

    down = cloud.fetch(name)
    unreachable = cloud.client.workspaces.tracking_uri
    cloud.client.workspaces = FakeWorkspaces(workspace_mlflow.url)
    up = cloud.fetch(name)

    assert down.code == 1
    assert down.err.splitlines()[-1] == (
        f"error: the MLflow tracking server {unreachable} did not "
        "answer: check the network (and that the server runs), then fetch again"
    )
    assert up.code == 0, up.err
    assert up.out.strip() == f"runs/team-runs/{name}/cloud"
    assert manifest(cloud.home / up.out.strip())["mlflow_experiment"] == "team-runs"


@pytest.mark.parametrize(
    ("argument", "says"),
    [
        ("runs/example_experiment", "runs/example_experiment is not a run folder: pass"),
        ("runs/example_experiment/local_run", "is a local run (`just local`), not a cloud job"),
        ("some job", "'some job' is neither a run folder nor a job name"),
        ("/etc", "/etc is not a run folder: pass runs/EXP/<run>"),
    ],
)
def test_what_is_not_a_cloud_job_is_refused_before_azure_is_asked(
    home: Path, argument: str, says: str
) -> None:
    (home / "runs" / EXPERIMENT / "local_run").mkdir(parents=True, exist_ok=True)
    (home / "runs" / EXPERIMENT / "local_run" / "run.json").write_text("{}")

    with pytest.raises(UsageError) as refused:
        target(Project(home), argument)

    assert says in str(refused.value)
