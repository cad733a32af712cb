"""Step `prep`: the digits, standardised and split, as train.npz and test.npz in --output."""

import argparse
from pathlib import Path

import mlflow
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

SPLITS = ("train", "test")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--test-size", type=float, required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output", type=Path, required=True, help="a folder")
    args = parser.parse_args(argv)
    features, labels = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=args.test_size, random_state=args.seed, stratify=labels
    )
    scaler = StandardScaler().fit(x_train)
    args.output.mkdir(parents=True, exist_ok=True)
    np.savez(args.output / "train.npz", x=scaler.transform(x_train), y=y_train)
    np.savez(args.output / "test.npz", x=scaler.transform(x_test), y=y_test)
    with mlflow.start_run():
        mlflow.log_params({"test_size": args.test_size, "seed": args.seed})
        mlflow.log_metrics({"train_rows": len(y_train), "test_rows": len(y_test)})


def read_split(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """The features and labels prep wrote for `split` (train or test) in `folder`."""
    with np.load(folder / f"{split}.npz") as data:
        return data["x"], data["y"]


if __name__ == "__main__":
    main()
