"""Step `evaluate`: train's model scored on prep's test split; metrics.json in --output."""

import argparse
import json
from pathlib import Path

import joblib
import mlflow
from sklearn.metrics import accuracy_score, f1_score

from example_experiment.pipeline.prep import read_split


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="prep's output folder")
    parser.add_argument("--model", type=Path, required=True, help="train's output folder")
    parser.add_argument("--output", type=Path, required=True, help="a folder")
    args = parser.parse_args(argv)
    x_test, y_test = read_split(args.data, "test")
    predictions = joblib.load(args.model / "model.joblib").predict(x_test)
    scores = {
        "test_accuracy": float(accuracy_score(y_test, predictions)),
        "test_f1_macro": float(f1_score(y_test, predictions, average="macro")),
    }
    with mlflow.start_run():
        mlflow.log_metrics(scores)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "metrics.json").write_text(json.dumps(scores, indent=2) + "\n")
    print(f"test accuracy: {scores['test_accuracy']:.4f}")
    return scores


if __name__ == "__main__":
    main()
