"""`just local` on a tiny workspace: isolation from the project venv, exit codes, inputs."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.local import ENDED
from tests.helpers import add_job, run, run_folders, script, start_slow_job, write


def local(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return script(root, "local", *args)


def only_run_folder(root: Path) -> Path:
    (folder,) = run_folders(root)
    return folder


def test_declared_dependencies_and_shared_are_importable(workspace: Path) -> None:
    result = local(workspace, "alpha")

    assert result.returncode == 0, result.stderr
    assert "hello from shared" in result.stdout


def test_an_undeclared_import_fails_as_it_would_in_azure_ml(workspace: Path) -> None:
    # yaml is in the project's venv (the tooling uses it) but alpha does not declare it.
    assert subprocess.run([sys.executable, "-c", "import yaml"]).returncode == 0
    add_job(workspace / "experiments" / "alpha", "python -c 'import yaml'")

    result = local(workspace, "alpha")

    assert result.returncode == 1
    assert "No module named 'yaml'" in result.stderr


def test_payload_exit_code_propagates(workspace: Path) -> None:
    add_job(workspace / "experiments" / "beta", "python -c 'import sys; sys.exit(7)'")

    result = local(workspace, "beta")

    assert result.returncode == 7
    assert only_run_folder(workspace).is_dir()  # kept for inspection
    ended = ENDED.search(result.stderr)  # what `just bench` reads the job's duration from
    assert ended and float(ended[1]) > 0


def test_environment_is_reused_while_requirements_are_unchanged(workspace: Path) -> None:
    first, second = local(workspace, "beta"), local(workspace, "beta")

    assert "built now" in first.stderr
    assert "reused" in second.stderr
    environments = [p for p in (workspace / "runs" / ".venvs").iterdir()]
    assert len(environments) == 1 and not environments[0].name.startswith(".")


def test_job_context_matches_azure_ml(workspace: Path) -> None:
    """Working directory = run folder, environment_variables set, outputs under the run."""
    experiment = workspace / "experiments" / "beta"
    add_job(
        experiment,
        "python -c \"import os; print(os.getcwd()); print(os.environ['GREETING'])\" "
        "&& touch ${{outputs.model}}/weights.bin",
        extra="""
        outputs:
          model:
            type: uri_folder
        """,
    )
    text = (experiment / "azure-ml-job.yaml").read_text()
    (experiment / "azure-ml-job.yaml").write_text(
        text.replace("  PYTHONPATH: src\n", "  PYTHONPATH: src\n  GREETING: hi there\n")
    )

    result = local(workspace, "beta")

    folder = only_run_folder(workspace)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [str(folder), "hi there"]
    assert (folder / "outputs" / "model" / "weights.bin").is_file()


JOB_WITH_INPUTS = """
inputs:
  epochs: 10
  rate:
    type: number
    default: 0.5
  train:
    type: uri_folder
    path: ./sample
  asset:
    type: uri_folder
    path: azureml:digits:3
"""


def echo_inputs_job(workspace: Path, extra_inputs: str = "") -> Path:
    experiment = workspace / "experiments" / "beta"
    add_job(
        experiment,
        "printf '%s\\n' epochs=${{inputs.epochs}} rate=${{inputs.rate}} "
        "train=${{inputs.train}} asset=${{inputs.asset}}",
        extra=JOB_WITH_INPUTS + extra_inputs,
    )
    write(experiment / "sample" / "rows.csv", "a,b\n")
    write(workspace / "data" / "digits" / "3" / "x.csv", "a\n")
    return experiment


def test_inputs_resolve_to_local_values(workspace: Path) -> None:
    experiment = echo_inputs_job(workspace)

    result = local(workspace, "beta")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "epochs=10",
        "rate=0.5",
        f"train={experiment / 'sample'}",
        f"asset={workspace / 'data' / 'digits' / '3'}",
    ]


def test_set_overrides_literals_and_paths(workspace: Path, tmp_path: Path) -> None:
    echo_inputs_job(workspace)
    elsewhere = tmp_path / "other data"
    elsewhere.mkdir()

    result = local(
        workspace,
        "beta",
        "--set",
        "inputs.epochs=3",
        "--set",
        f"inputs.train.path={elsewhere}",
    )

    assert result.returncode == 0, result.stderr
    assert "epochs=3\n" in result.stdout
    assert f"train={elsewhere}\n" in result.stdout  # quoted for the shell: one argument


@pytest.mark.parametrize(
    "remote",
    [
        "azureml:digits:9",
        "azureml:digits@latest",
        "azureml://datastores/workspaceblobstore/paths/digits/",
        "wasbs://data@account.blob.core.windows.net/digits/",
        "https://example.invalid/digits.csv",
    ],
)
def test_remote_input_needs_an_override(workspace: Path, remote: str) -> None:
    experiment = echo_inputs_job(workspace)

    result = local(workspace, "beta", "--set", f"inputs.asset.path={remote}")

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "input 'asset' is remote" in result.stderr
    assert "--set inputs.asset.path=LOCAL_PATH" in result.stderr
    assert not run_folders(workspace)

    override = local(workspace, "beta", "--set", f"inputs.asset.path={experiment / 'sample'}")
    assert override.returncode == 0, override.stderr


def test_missing_local_path_is_a_usage_error(workspace: Path) -> None:
    echo_inputs_job(workspace)

    result = local(workspace, "beta", "--set", "inputs.train.path=./absent")

    assert result.returncode == 2
    assert "input 'train'" in result.stderr and "does not exist" in result.stderr


def test_optional_parts_are_dropped_without_a_value(workspace: Path) -> None:
    add_job(
        workspace / "experiments" / "beta",
        "echo start $[[--limit ${{inputs.limit}}]] end",
        extra="inputs:\n  limit:\n    type: integer\n    optional: true\n",
    )

    assert local(workspace, "beta").stdout.strip() == "start end"
    given = local(workspace, "beta", "--set", "inputs.limit=5")
    assert given.stdout.strip() == "start --limit 5 end"


def test_ctrl_c_keeps_the_run_folder(workspace: Path) -> None:
    process, folder = start_slow_job(workspace)

    os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole group
    _, stderr = process.communicate(timeout=30)

    assert process.returncode == 130, stderr
    assert 'File "<string>"' in stderr  # the job's own KeyboardInterrupt...
    assert "scripts/" not in stderr  # ...but no traceback from the tooling
    assert folder.is_dir()


def test_tracking_context_names_the_run_and_its_git_state(workspace: Path) -> None:
    add_job(workspace / "experiments" / "beta", "printenv MLFLOW_RUN_CONTEXT MLFLOW_TRACKING_URI")
    commit = run(["git", "rev-parse", "HEAD"], workspace, check=True).stdout.strip()

    result = local(workspace, "beta")  # the job file changed since the commit: dirty

    context, tracking_uri = result.stdout.splitlines()
    assert json.loads(context) == {
        "mlflow.runName": only_run_folder(workspace).name,
        "mlflow.source.git.commit": commit,
        "mlflow.source.git.branch": "main",
        "mlflow.source.git.dirty": "true",
    }
    assert tracking_uri == f"sqlite:///{workspace / 'runs' / 'mlflow.db'}"
