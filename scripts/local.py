"""`just local EXP`: run an experiment the way Azure ML would, tracked in runs/mlflow.db.

The run folder from `just iso` is the working directory; the job's command runs with
`${{inputs.*}}` resolved locally, the job's environment variables, and an interpreter
built from the run folder's requirements.txt alone (never the project's .venv). When the
job ends, its ./outputs and ./logs are attached to its MLflow run, the run gets its final
status, and run.json records the outcome (see scripts/runner/).
"""

from collections.abc import Sequence

from scripts.console.cli import (
    ArgumentParser,
    add_set_option,
    experiment_parser,
    run_cli,
    stop_signals_as_ctrl_c,
)
from scripts.project.layout import Project
from scripts.runner.prepare import prepare_experiment
from scripts.runner.run import run_tracked


def parser() -> ArgumentParser:
    parser = experiment_parser(
        "local",
        "Isolate EXP (see `just iso`) and run its azure-ml-job.yaml command locally, as Azure "
        "ML would: same command, only the declared dependencies, tracked in runs/mlflow.db. "
        "Exits with the command's exit code.",
    )
    add_set_option(
        parser, "inputs.epochs=5 or inputs.NAME.path=PATH (relative: from the experiment folder)"
    )
    return parser


def main(argv: Sequence[str], project: Project) -> int:
    args = parser().parse_args(argv)
    with stop_signals_as_ctrl_c():
        return run_tracked(prepare_experiment(project, args.experiment, args.overrides))


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
