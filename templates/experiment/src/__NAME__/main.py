"""__NAME__: the job `azure-ml-job.yaml` runs. Replace the toy training with yours.

Runs as it is, with no arguments (`python -m __NAME__.main`), so a debugger or a test can
start it directly; the job spec passes the arguments it wants. Where MLflow logs (the
local store under `just local`, the workspace in Azure ML) is decided by the environment.
"""

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import mlflow


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=2, help="training steps (default 2)")
    parser.add_argument("--learning-rate", type=float, default=0.1, help="step size")
    parser.add_argument("--output-dir", type=Path, default=Path("outputs"))
    return parser.parse_args(argv)


def train(epochs: int, learning_rate: float) -> list[float]:
    """A stand-in for training: gradient descent on (w - 3)^2, one loss per epoch."""
    weight, losses = 0.0, []
    for _ in range(epochs):
        weight -= learning_rate * 2 * (weight - 3)
        losses.append((weight - 3) ** 2)
    return losses


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    args = parse_args(argv)
    with mlflow.start_run():
        mlflow.set_tag("experiment", "__NAME__")
        mlflow.log_param("learning_rate", args.learning_rate)
        losses = train(args.epochs, args.learning_rate)
        for epoch, loss in enumerate(losses):
            mlflow.log_metric("loss", loss, step=epoch)
        final = {"final_loss": losses[-1] if losses else float("nan")}
        args.output_dir.mkdir(parents=True, exist_ok=True)
        (args.output_dir / "result.json").write_text(json.dumps(final))  # uploaded by Azure ML
    print(f"final loss {final['final_loss']:.6f}")
    return final


if __name__ == "__main__":
    main()
