"""Train a small neural network on scikit-learn's bundled digits and track it with MLflow.

The same code runs under `just local` (logging to runs/mlflow.db) and in Azure ML
(logging to the workspace): where the metrics go is decided by the environment.
"""

import argparse
from collections.abc import Sequence
from pathlib import Path

import joblib
import matplotlib
import mlflow
import numpy as np
from shared.metrics import MetricBuffer
from shared.reproducibility import seeded_rng
from sklearn.datasets import load_digits
from sklearn.metrics import accuracy_score, f1_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

matplotlib.use("Agg")  # no display in a job
import matplotlib.pyplot as plt


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=20, help="passes over the training set")
    parser.add_argument("--learning-rate", type=float, default=0.01, help="Adam step size")
    parser.add_argument("--hidden-units", type=int, default=64, help="width of the hidden layer")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output-dir", type=Path, default=Path("outputs"))
    return parser.parse_args(argv)


def load_data(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Digits (1 797 8x8 images, shipped inside scikit-learn), standardised, 80/20 split."""
    features, labels = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=0.2, random_state=seed, stratify=labels
    )
    scaler = StandardScaler().fit(x_train)
    return scaler.transform(x_train), scaler.transform(x_test), y_train, y_test


def train(args: argparse.Namespace) -> dict[str, float]:
    rng = seeded_rng(args.seed)
    x_train, x_test, y_train, y_test = load_data(args.seed)
    classes = np.unique(y_train)
    model = MLPClassifier(
        hidden_layer_sizes=(args.hidden_units,),
        learning_rate_init=args.learning_rate,
        random_state=args.seed,
    )
    history: list[dict[str, float]] = []
    batch_losses = MetricBuffer()  # one value per mini-batch, logged in batches
    step = 0
    for epoch in range(args.epochs):
        order = rng.permutation(len(x_train))
        for start in range(0, len(order), args.batch_size):
            batch = order[start : start + args.batch_size]
            model.partial_fit(x_train[batch], y_train[batch], classes=classes)
            batch_losses.add("batch_loss", model.loss_, step)
            step += 1
        batch_losses.flush()
        epoch_metrics = {
            "train_loss": log_loss(y_train, model.predict_proba(x_train), labels=classes),
            "val_loss": log_loss(y_test, model.predict_proba(x_test), labels=classes),
            "val_accuracy": accuracy_score(y_test, model.predict(x_test)),
        }
        mlflow.log_metrics(epoch_metrics, step=epoch)
        history.append(epoch_metrics)

    predictions = model.predict(x_test)
    final = {
        "test_accuracy": float(accuracy_score(y_test, predictions)),
        "test_f1_macro": float(f1_score(y_test, predictions, average="macro")),
    }
    mlflow.log_metrics(final)
    save_outputs(model, history, args.output_dir)
    return final


def save_outputs(model: MLPClassifier, history: list[dict[str, float]], folder: Path) -> None:
    """The model and a learning-curve plot in `folder` (Azure ML uploads ./outputs)."""
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, folder / "model.joblib")
    figure, axis = plt.subplots(figsize=(6, 4))
    epochs = range(1, len(history) + 1)
    for name in ("train_loss", "val_loss"):
        axis.plot(epochs, [row[name] for row in history], label=name)
    axis.set_xlabel("epoch")
    axis.set_ylabel("log loss")
    axis.legend()
    figure.tight_layout()
    figure.savefig(folder / "learning_curve.png")
    plt.close(figure)


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    args = parse_args(argv)
    with mlflow.start_run():
        mlflow.set_tags({"model": "MLPClassifier", "dataset": "sklearn-digits"})
        mlflow.log_params(
            {
                "epochs": args.epochs,
                "learning_rate": args.learning_rate,
                "hidden_units": args.hidden_units,
                "batch_size": args.batch_size,
                "seed": args.seed,
            }
        )
        final = train(args)
    print(f"test accuracy: {final['test_accuracy']:.4f}")
    return final


if __name__ == "__main__":
    main()
