from pathlib import Path

import mlflow
import pytest
from shared.metrics import BATCH_LIMIT, MetricBuffer
from shared.reproducibility import seeded_rng


def test_same_seed_same_draws() -> None:
    first, second = seeded_rng(3), seeded_rng(3)
    assert first.integers(0, 1000, 5).tolist() == second.integers(0, 1000, 5).tolist()


@pytest.mark.slow  # makes an MLflow store
def test_metric_buffer_logs_every_value_in_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    values = 2 * BATCH_LIMIT + 500
    with mlflow.start_run() as run, MetricBuffer() as buffer:
        for step in range(values):
            buffer.add("loss", 1.0 / (step + 1), step)
        pending_before_exit = len(buffer._pending)

    history = mlflow.MlflowClient().get_metric_history(run.info.run_id, "loss")
    assert pending_before_exit == 500  # two full batches went out on their own
    logged = {metric.step: metric.value for metric in history}
    assert sorted(logged) == list(range(values))
    assert logged[values - 1] == pytest.approx(1.0 / values)


def test_metric_buffer_needs_a_run() -> None:
    with pytest.raises(RuntimeError, match="needs an active MLflow run"):
        MetricBuffer()
