"""Step `train`: the MLP fitted on prep's training split, saved as model.joblib in --output."""

import argparse
import warnings
from pathlib import Path

import joblib
import mlflow
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from example_experiment.pipeline.prep import read_split


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="prep's output folder")
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--hidden-units", type=int, required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output", type=Path, required=True, help="a folder")
    args = parser.parse_args(argv)
    x_train, y_train = read_split(args.data, "train")
    model = MLPClassifier(
        hidden_layer_sizes=(args.hidden_units,), max_iter=args.epochs, random_state=args.seed
    )
    with mlflow.start_run():
        mlflow.log_params({"epochs": args.epochs, "hidden_units": args.hidden_units})
        with warnings.catch_warnings(category=ConvergenceWarning, action="ignore"):
            model.fit(x_train, y_train)  # --epochs bounds the training on purpose
        for epoch, loss in enumerate(model.loss_curve_):
            mlflow.log_metric("train_loss", loss, step=epoch)
    args.output.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, args.output / "model.joblib")


if __name__ == "__main__":
    main()
