"""Tests of __NAME__, run in its own environment by `just test __NAME__`."""

import json
from pathlib import Path

import mlflow
import pytest
from __NAME__.main import main


def test_the_job_logs_and_writes_its_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    tracking_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)

    final = main(["--epochs", "3", "--output-dir", str(tmp_path / "outputs")])

    assert final["final_loss"] < 9.0  # it moved towards the optimum
    assert json.loads((tmp_path / "outputs" / "result.json").read_text()) == final
    (run,) = mlflow.search_runs(search_all_experiments=True, output_format="list")
    assert run.data.params["learning_rate"] == "0.1"
    assert run.data.tags["experiment"] == "__NAME__"
