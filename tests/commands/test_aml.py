"""`just aml`: the job built offline by azure-ai-ml from a real run folder, in-process (the
`cli` fixture) but for one dry run through `just`.

No test reaches Azure: submission goes through a fake standing in for the one object that
talks to Azure (MLClient), injected into `scripts.cloud.submission.submit`.
"""

import os
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError
from azure.identity import CredentialUnavailableError

from scripts import aml
from scripts.cloud.job import build_job, find_placeholder
from scripts.cloud.submission import follow, submit
from scripts.cloud.workspace import Workspace, workspace_from_settings
from scripts.console.errors import CommandError, UsageError
from scripts.jobspec.job import load_job_document
from scripts.jobspec.overrides import apply_overrides, parse_override
from scripts.project.git import GitState
from scripts.project.layout import Project
from scripts.runfolder.isolate import check_source, create_run_folder
from tests.fake_azure import FakeClient, FakeJobs, http_error
from tests.helpers import Outcome, run, run_folders, write

if TYPE_CHECKING:
    from scripts.jobspec.schema import AmlJob

EXPERIMENT = "example_experiment"
JOB_FILE = "azure-ml-job.yaml"
SWEEP_FILE = "azure-ml-sweep-job.yaml"
COMPUTE = "compute=azureml:cpu-cluster"
WORKSPACE = Workspace("00000000-0000-0000-0000-000000000000", "rg", "ws", None)


DryRun = Callable[..., tuple[dict[str, Any], Path]]


@pytest.fixture
def dry_run(project: Path, cli: Callable[..., Outcome]) -> DryRun:
    """`dry_run(*sets, file=...)`: the job `just aml EXP --dry-run` prints, and its run folder."""

    def call(*sets: str, file: str = JOB_FILE) -> tuple[dict[str, Any], Path]:
        before = run_folders(project)
        args = [arg for value in sets for arg in ("--set", value)]
        outcome = cli(aml.main, project, EXPERIMENT, "-f", file, "--dry-run", *args)
        assert outcome.code == 0, outcome.err
        (folder,) = run_folders(project) - before
        return yaml.safe_load(outcome.out), folder

    return call


@pytest.mark.slow
def test_dry_run_through_just_prints_the_resolved_job(project: Path) -> None:
    before = run_folders(project)
    result = run(
        ["just", "aml", EXPERIMENT, "--dry-run", "--set", COMPUTE, "--set", "inputs.epochs=3"],
        project,
    )
    assert result.returncode == 0, result.stderr
    (folder,) = run_folders(project) - before
    job = yaml.safe_load(result.stdout)
    commit = run(["git", "rev-parse", "HEAD"], project, check=True).stdout.strip()

    assert job["name"] == folder.name
    assert job["type"] == "command"
    assert job["experiment_name"] == EXPERIMENT
    assert job["compute"] == "azureml:cpu-cluster"
    assert job["inputs"]["epochs"] == "3"
    assert job["code"] == str(folder / "code")
    assert job["environment"]["build"]["path"] == str(folder / "environment")
    assert job["tags"] == {
        "local_run_name": folder.name,
        "git_commit": commit,
        "git_branch": "main",
        "git_dirty": "false",
    }


def test_a_sweep_job_runs_its_trials_from_the_run_folder(dry_run: DryRun) -> None:
    job, folder = dry_run(COMPUTE, "inputs.epochs=5", file=SWEEP_FILE)

    assert (job["type"], job["name"], job["experiment_name"]) == ("sweep", folder.name, EXPERIMENT)
    assert job["compute"] == "azureml:cpu-cluster"
    assert job["inputs"]["epochs"] == "5"
    assert job["trial"]["code"] == str(folder / "code")
    assert job["trial"]["environment"]["build"]["path"] == str(folder / "environment")
    assert set(job["search_space"]) == {"learning_rate", "hidden_units"}
    assert job["objective"] == {"goal": "maximize", "primary_metric": "test_accuracy"}
    assert job["tags"]["local_run_name"] == folder.name


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-f", "missing.yaml"], "missing.yaml does not exist: check -f/--file"),
        (["-f", "../../README.md"], "-f ../../README.md is outside "),
        (
            ["--set", "resources.instance_count=many"],
            "azure-ml-job.yaml is not a valid Azure ML job: resources.instance_count: "
            "Not a valid integer.",
        ),
        (["--set", "compute"], "--set 'compute' is not key=value"),
        (["--stream", "--bogus"], "unrecognized arguments: --bogus (see `just aml --help`)"),
    ],
)
def test_bad_arguments_are_one_line_errors(
    project: Path, cli: Callable[..., Outcome], args: list[str], message: str
) -> None:
    before = run_folders(project)

    outcome = cli(aml.main, project, EXPERIMENT, "--dry-run", *args)

    assert outcome.code == 2
    assert message in outcome.error_line
    assert run_folders(project) == before


def test_other_job_types_are_refused(project: Path, cli: Callable[..., Outcome]) -> None:
    spark = project / "experiments" / EXPERIMENT / "spark.yaml"
    write(
        spark,
        """
        type: spark
        code: src
        entry: {file: main.py}
        conf: {spark.driver.cores: 1, spark.driver.memory: 2g, spark.executor.cores: 2,
               spark.executor.memory: 2g, spark.executor.instances: 2}
        resources: {instance_type: standard_e4s_v3, runtime_version: "3.4"}
        """,
    )
    try:
        outcome = cli(aml.main, project, EXPERIMENT, "-f", "spark.yaml", "--dry-run")
    finally:
        spark.unlink()

    assert outcome.code == 2
    assert outcome.error_line == (
        "spark.yaml is a 'spark' job: just aml submits command, sweep and pipeline jobs"
    )


def test_unchanged_code_keeps_the_environment_version(dry_run: DryRun) -> None:
    """Azure ML names the image after this hash, computed by azure-ai-ml itself."""
    first, _ = dry_run(COMPUTE)
    second, _ = dry_run(COMPUTE)

    assert first["name"] != second["name"]
    assert first["environment"]["version"] == second["environment"]["version"]


def test_a_placeholder_is_refused_and_nothing_is_left(
    project: Path, cli: Callable[..., Outcome]
) -> None:
    before = run_folders(project)

    outcome = cli(aml.main, project, EXPERIMENT, "--dry-run")

    assert outcome.code == 2
    assert outcome.err.splitlines()[-1] == (
        "error: compute is still a placeholder (azureml:<compute-cluster>): "
        "set it in azure-ml-job.yaml or with --set compute=..."
    )
    assert run_folders(project) == before


def test_the_first_placeholder_is_found_anywhere_in_the_job() -> None:
    job = {"name": "x", "inputs": {"a": {"path": "ok"}}, "jobs": [{"compute": "azureml:<c>"}]}
    assert find_placeholder(job) == ("jobs.0.compute", "azureml:<c>")
    assert find_placeholder({"tags": {"note": "a < b > c"}}) == ("tags.note", "a < b > c")
    assert find_placeholder({"compute": "azureml:cpu", "n": 3}) is None


def test_placeholder_settings_stop_before_anything_is_isolated(
    project: Path, cli: Callable[..., Outcome]
) -> None:
    before = run_folders(project)

    outcome = cli(aml.main, project, EXPERIMENT, "--set", COMPUTE)

    assert outcome.code == 2
    assert outcome.error_line == (
        "AZUREML_SUBSCRIPTION_ID is a placeholder: put your workspace's value in "
        ".env.local (AZUREML_SUBSCRIPTION_ID=...)"
    )
    assert run_folders(project) == before


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({}, "AZUREML_SUBSCRIPTION_ID is not set"),
        (
            {"AZUREML_SUBSCRIPTION_ID": "s", "AZUREML_RESOURCE_GROUP": "<rg>"},
            "AZUREML_RESOURCE_GROUP is a placeholder",
        ),
        (
            {"AZUREML_SUBSCRIPTION_ID": "s", "AZUREML_RESOURCE_GROUP": "rg"},
            "AZUREML_WORKSPACE is not set",
        ),
        (
            {
                "AZUREML_SUBSCRIPTION_ID": "s",
                "AZUREML_RESOURCE_GROUP": "rg",
                "AZUREML_WORKSPACE": "ws",
                "AZUREML_TENANT_ID": "<tenant-id>",
            },
            "AZUREML_TENANT_ID is a placeholder",
        ),
    ],
)
def test_workspace_settings_name_the_missing_variable(
    tmp_path: Path, settings: dict[str, str], problem: str
) -> None:
    write(tmp_path / ".env.local", "".join(f"{k}={v}\n" for k, v in settings.items()))

    with pytest.raises(UsageError, match=problem):
        workspace_from_settings(Project(tmp_path))


@pytest.fixture
def run_folder(project: Path) -> Path:
    return create_run_folder(check_source(Project(project), EXPERIMENT))


def build(
    run_folder: Path,
    job_file: str,
    sets: list[str],
    git: GitState | None = None,
    description: str | None = None,
) -> "AmlJob":
    """The job `just aml` builds for `run_folder` from the experiment's `job_file`."""
    path = run_folder.parents[2] / "experiments" / EXPERIMENT / job_file
    overrides = [parse_override(text) for text in sets]
    document = apply_overrides(load_job_document(path), overrides, path)
    return build_job(run_folder, path, document, overrides, git, description)


def test_submission_sends_the_run_folder_as_the_job(run_folder: Path) -> None:
    git = GitState(commit="abc123", branch="main", dirty=True)
    job = build(run_folder, "azure-ml-job.yaml", [COMPUTE, "inputs.epochs=4"], git, "four epochs")
    client = FakeClient(FakeJobs())

    assert submit(job, client, WORKSPACE) == run_folder.name

    (sent,) = client.jobs.created
    assert (sent.type, sent.name, sent.description) == ("command", run_folder.name, "four epochs")
    assert sent.experiment_name == EXPERIMENT
    assert Path(sent.code) == run_folder / "code"
    assert Path(sent.environment.path) == run_folder / "environment"  # the build context
    assert sent.tags["git_dirty"] == "true" and sent.tags["git_commit"] == "abc123"
    body = sent._to_job()._to_rest_object()  # the REST body the SDK would send
    assert body.properties.job_type == "Command"
    assert body.properties.experiment_name == EXPERIMENT
    assert body.properties.description == "four epochs"
    assert body.properties.compute_id == "cpu-cluster"
    assert body.properties.inputs["epochs"].value == "4"
    assert body.properties.tags["local_run_name"] == run_folder.name
    assert body.properties.environment_variables == {"PYTHONPATH": "src"}


def test_a_sweep_submission_sends_the_run_folder_as_its_trials_code(run_folder: Path) -> None:
    job = build(run_folder, SWEEP_FILE, [COMPUTE], None, "sweep it")
    client = FakeClient(FakeJobs())

    submit(job, client, WORKSPACE)

    (sent,) = client.jobs.created
    body = sent._to_rest_object()  # the REST body the SDK would send
    assert body.properties.job_type == "Sweep"
    assert body.properties.description == "sweep it"
    assert body.properties.trial.code_id == str(run_folder / "code")
    assert body.properties.compute_id == "cpu-cluster"
    assert body.properties.objective.primary_metric == "test_accuracy"


@pytest.mark.parametrize(("status", "code"), [("Completed", 0), ("Failed", 1), ("Canceled", 1)])
def test_stream_follows_the_job_and_exits_with_its_outcome(
    run_folder: Path, status: str, code: int
) -> None:
    job = build(run_folder, "azure-ml-job.yaml", [COMPUTE])
    client = FakeClient(FakeJobs(final_status=status))

    assert follow(submit(job, client, WORKSPACE), client, WORKSPACE) == code
    assert client.jobs.streamed == [run_folder.name]


@pytest.mark.parametrize(
    ("error", "advice"),
    [
        (ClientAuthenticationError("no token"), "not logged in to Azure: run `az login`"),
        (
            CredentialUnavailableError("Azure CLI not found on path"),
            "the Azure CLI is not installed: `uv tool install azure-cli`, then `az login`",
        ),
        (ServiceRequestError("connection refused"), "check the network connection"),
        (http_error(403, "Forbidden"), "no permission in workspace 'ws'"),
        (http_error(404, "Workspace not found"), "workspace 'ws' in resource group 'rg'"),
        (http_error(404, "Compute cpu-cluster not found"), "compute not found in"),
    ],
)
def test_submission_failures_say_what_to_do(
    run_folder: Path, error: Exception, advice: str
) -> None:
    job = build(run_folder, "azure-ml-job.yaml", [COMPUTE])

    with pytest.raises(CommandError, match=re.escape(advice)):
        submit(job, FakeClient(FakeJobs(raises=error)), WORKSPACE)
    assert run_folder.is_dir()  # kept for inspection


def test_a_bug_is_not_taken_for_azures_refusal(run_folder: Path) -> None:
    """Only what azure-core and the SDK raise is Azure's answer; anything else is a bug,
    which run_cli reports as one (see tests/core/test_console.py)."""
    job = build(run_folder, "azure-ml-job.yaml", [COMPUTE])

    with pytest.raises(TypeError):
        submit(job, FakeClient(FakeJobs(raises=TypeError("a bug"))), WORKSPACE)


@pytest.mark.slow
def test_without_the_azure_cli_the_real_credential_fails_in_one_line(
    workspace: Path, cli: Callable[..., Outcome], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real MLClient and AzureCliCredential, with no `az` on PATH: the token is refused
    before any request is made, so nothing reaches Azure."""
    settings = "AZUREML_SUBSCRIPTION_ID=0\nAZUREML_RESOURCE_GROUP=rg\nAZUREML_WORKSPACE=ws\n"
    write(workspace / ".env.local", settings)
    tools = {str(Path(shutil.which(name) or name).parent) for name in ("git", "uv")}
    path = os.pathsep.join([str(Path(sys.executable).parent), *sorted(tools)])
    assert shutil.which("az", path=path) is None
    monkeypatch.setenv("UV", shutil.which("uv") or "uv")
    monkeypatch.setenv("PATH", path)

    outcome = cli(aml.main, workspace, "alpha")

    assert outcome.code == 1
    lines = outcome.err.strip().splitlines()
    assert lines[0].startswith("run folder: ")  # kept for inspection
    assert lines[1:] == [
        "error: the Azure CLI is not installed: `uv tool install azure-cli`, then `az login`"
    ]


def test_a_dependency_change_rebuilds_only_that_experiments_image(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    def environment_version(experiment: str) -> str:
        outcome = cli(aml.main, workspace, experiment, "--dry-run")
        assert outcome.code == 0, outcome.err
        version: str = yaml.safe_load(outcome.out)["environment"]["version"]
        return version

    alpha, beta = environment_version("alpha"), environment_version("beta")
    pyproject = workspace / "experiments" / "beta" / "pyproject.toml"
    text = pyproject.read_text()
    assert "['certifi']" in text
    pyproject.write_text(text.replace("['certifi']", "['certifi', 'idna']"))
    run(["uv", "lock", "--quiet"], workspace, check=True)

    assert environment_version("alpha") == alpha
    assert environment_version("beta") != beta


def test_local_inputs_are_uploaded_from_the_job_files_folder(
    project: Path, cli: Callable[..., Outcome]
) -> None:
    """`code: src` and `path: ./data/...` (which .amlignore keeps out of the code): the SDK
    takes the code from the run folder and the input from the experiment, where the job
    file is, and uploads it from there; missing, the dry run says so in one line."""
    experiment = project / "experiments" / EXPERIMENT
    job_file = write(
        experiment / "relative-input.yaml",
        """
        type: command
        code: src
        command: python -m example_experiment.main --data ${{inputs.table}}
        inputs:
          table:
            type: uri_folder
            path: ./data/table
        environment:
          build:
            path: environment
        compute: azureml:cpu-cluster
        """,
    )
    table = write(experiment / "data" / "table" / "rows.csv", "a\n1\n").parent
    try:
        source = check_source(Project(project), EXPERIMENT, job_file.name)
        run_folder = create_run_folder(source)
        job: Any = build(run_folder, job_file.name, [])
        assert Path(job.code) == run_folder / "code"
        assert (run_folder / "code" / "example_experiment" / "main.py").is_file()
        assert Path(job._base_path, job.inputs["table"].path).resolve() == table

        shutil.rmtree(table)
        outcome = cli(aml.main, project, EXPERIMENT, "-f", job_file.name, "--dry-run")
        assert outcome.code == 2
        assert outcome.error_line == (
            f"input 'table': {table} does not exist, and the job uploads it from there: "
            "create it or give --set inputs.table.path=PATH"
        )
    finally:
        job_file.unlink()
        shutil.rmtree(table, ignore_errors=True)
