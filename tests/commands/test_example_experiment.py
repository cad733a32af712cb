"""End to end through `just`: the quickstart's `just local example_experiment` on a copy of
this repository, read back from the real MLflow store with the MLflow client."""

import json
import subprocess
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests.helpers import run, run_folders


@pytest.fixture(scope="module")
def example_run(project: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    before = run_folders(project)  # the project copy is shared with other modules
    result = run(["just", "local", "example_experiment", "--set", "inputs.epochs=3"], project)
    assert result.returncode == 0, result.stderr
    (folder,) = run_folders(project) - before
    return folder, result


def test_run_is_tracked_with_params_metrics_and_git_tags(
    project: Path, example_run: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    folder, _ = example_run
    client = MlflowClient(f"sqlite:///{project / 'runs' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("example_experiment")
    assert experiment is not None
    (tracked,) = client.search_runs(  # the project copy is shared with other modules
        [experiment.experiment_id], filter_string=f"attributes.run_name = '{folder.name}'"
    )

    commit = run(["git", "rev-parse", "HEAD"], project, check=True).stdout.strip()
    assert tracked.info.run_name == folder.name
    assert tracked.info.status == "FINISHED"
    assert tracked.data.params["epochs"] == "3"
    assert tracked.data.params["learning_rate"] == "0.01"
    assert tracked.data.metrics["test_accuracy"] > 0.8
    assert [m.step for m in client.get_metric_history(tracked.info.run_id, "val_loss")] == [0, 1, 2]
    assert tracked.data.tags["mlflow.source.git.commit"] == commit
    assert tracked.data.tags["mlflow.source.git.branch"] == "main"
    assert tracked.data.tags["mlflow.source.git.dirty"] == "false"
    assert tracked.data.tags["dataset"] == "sklearn-digits"
    assert (
        experiment.artifact_location
        == (project / "runs" / "mlartifacts" / "example_experiment").as_uri()
    )


def test_outputs_are_written_into_the_run_folder(
    example_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    folder, result = example_run
    assert (folder / "code" / "outputs" / "model.joblib").stat().st_size > 0
    assert (folder / "code" / "outputs" / "learning_curve.png").read_bytes().startswith(b"\x89PNG")
    assert "test accuracy: " in result.stdout


def test_local_tracking_packages_are_added_and_nothing_else(
    project: Path, example_run: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    folder, _ = example_run
    requirements = (folder / "environment" / "requirements.txt").read_text()
    extra = json.loads((folder / "run.json").read_text())["local_tracking_requirements"]
    (environment,) = [  # the run's: other tests may have made others in this project
        venv
        for venv in (project / "runs" / ".venvs").iterdir()
        if (venv / "requirements.txt").read_text() == requirements
        and (venv / "local-tracking.txt").read_text() == extra
    ]
    added = (environment / "local-tracking.txt").read_text().splitlines()
    assert {line.split("==")[0] for line in added} <= {
        "sqlalchemy",
        "alembic",
        "mako",
        "markupsafe",
        "greenlet",
        "typing-extensions",
    }
    assert "sqlalchemy" not in requirements  # the job image does not get them


def test_just_lists_grouped_documented_recipes(project: Path) -> None:
    listing = run(["just"], project, check=True).stdout
    for group in ("[setup]", "[run]", "[check]"):
        assert group in listing
    for recipe in ("sync", "new", "rm", "iso", "local", "lint", "fmt", "test", "bench"):
        line = next(line for line in listing.splitlines() if line.strip().startswith(recipe))
        assert "# " in line, f"{recipe} has no doc comment"


def test_bad_input_through_just_is_one_line(project: Path) -> None:
    result = run(["just", "local", "no_such_experiment"], project)
    experiments = sorted(p.parent.name for p in (project / "experiments").glob("*/pyproject.toml"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [  # whatever experiments `just new` added
        f"error: unknown experiment 'no_such_experiment': choose one of {', '.join(experiments)}"
    ]


@pytest.mark.slow
def test_the_example_pipeline_prepares_trains_and_evaluates(project: Path) -> None:
    before = run_folders(project)
    command = ["just", "local", "example_experiment", "-f", "azure-ml-pipeline.yaml"]
    command += ["--set", "inputs.epochs=5"]
    result = run(command, project)

    assert result.returncode == 0, result.stderr
    (folder,) = run_folders(project) - before
    steps = folder / "steps"
    scores = json.loads((steps / "evaluate/code/outputs/metrics/metrics.json").read_text())
    assert scores["test_accuracy"] > 0.5  # far above chance (0.1) after 5 epochs
    assert (steps / "train/code/outputs/model/model.joblib").is_file()
    record = json.loads((folder / "run.json").read_text())
    assert record["pipeline_outputs"] == {"model": "steps/train/code/outputs/model"}
    client = MlflowClient(f"sqlite:///{project / 'runs' / 'mlflow.db'}")
    evaluate = json.loads((steps / "evaluate/run.json").read_text())
    tracked = client.get_run(evaluate["tracking_run_id"])
    assert tracked.data.tags["mlflow.parentRunId"] == record["tracking_run_id"]
    assert tracked.data.metrics["test_accuracy"] == scores["test_accuracy"]
    train = client.get_run(json.loads((steps / "train/run.json").read_text())["tracking_run_id"])
    assert train.data.params["epochs"] == "5"  # the pipeline input, bound to train's

    again = run(command, project)  # unchanged: every step reused, with its metrics

    assert again.returncode == 0, again.stderr
    (second,) = run_folders(project) - before - {folder}
    reused = json.loads((second / "steps/evaluate/run.json").read_text())
    assert reused["reused_from"] == str(steps / "evaluate")
    assert client.get_run(reused["tracking_run_id"]).data.metrics == tracked.data.metrics


@pytest.mark.slow
def test_the_example_sweep_runs_its_trials_and_names_the_best(project: Path) -> None:
    before = run_folders(project)
    command = ["just", "local", "example_experiment", "-f", "azure-ml-sweep-job.yaml"]
    command += ["--set", "limits.max_total_trials=2", "--set", "inputs.epochs=2"]
    result = run(command, project)

    assert result.returncode == 0, result.stderr
    (folder,) = run_folders(project) - before
    record = json.loads((folder / "run.json").read_text())
    best = folder / "steps" / str(record["best_trial"])
    trial = json.loads((best / "run.json").read_text())
    assert trial["score"] == max(
        json.loads((folder / "steps" / name / "run.json").read_text())["score"]
        for name in record["steps"]
    )
    assert (best / "code" / "outputs" / "model.joblib").is_file()
    assert f"best trial: {record['best_trial']}, test_accuracy " in result.stderr
