"""Unit tests of the example experiment, runnable without Azure ML or the run tooling."""

from pathlib import Path

import mlflow
import pytest
from example_experiment.main import load_data, main, parse_args


def test_data_is_split_and_standardised() -> None:
    x_train, x_test, y_train, y_test = load_data(seed=0)
    assert x_train.shape == (1437, 64) and x_test.shape == (360, 64)
    assert len(y_train) == 1437 and set(y_test) == set(range(10))
    assert abs(float(x_train.mean())) < 1e-6


def test_job_arguments_are_parsed() -> None:
    args = parse_args(["--epochs", "3", "--learning-rate", "0.1", "--hidden-units", "8"])
    assert (args.epochs, args.learning_rate, args.hidden_units) == (3, 0.1, 8)


@pytest.mark.slow  # trains, and makes an MLflow store
def test_training_logs_and_writes_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # MLflow puts a new experiment's artifacts under ./mlruns
    tracking_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "unit-test")

    final = main(["--epochs", "2", "--output-dir", str(tmp_path / "outputs")])

    assert final["test_accuracy"] > 0.8
    assert (tmp_path / "outputs" / "model.joblib").is_file()
    assert (tmp_path / "outputs" / "learning_curve.png").is_file()
    client = mlflow.MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("unit-test")
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.data.params["epochs"] == "2"
    assert len(client.get_metric_history(run.info.run_id, "val_accuracy")) == 2
