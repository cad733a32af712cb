"""`just local EXP`: run an experiment the way Azure ML would, tracked in runs/mlflow.db.
A pipeline job (`-f`, `type: pipeline`) is run by scripts/pipelines/ instead.

The run folder's code root (the job's `code:`, see `just iso`) is the working directory;
the job's command runs with `${{inputs.*}}` resolved locally, the job's environment
variables, and an interpreter
built from the run folder's requirements.txt alone (never the project's .venv). When the
job ends, its ./outputs and ./logs are attached to its MLflow run, the run gets its final
status, and run.json records the outcome (see scripts/runner/). With --docker the job runs
in the image Azure ML builds from the run folder's environment/ instead
(scripts/runner/in_container.py).
"""

import dataclasses
import os
from argparse import Namespace
from collections.abc import Sequence
from typing import TYPE_CHECKING

from scripts.console import report
from scripts.console.cli import (
    ArgumentParser,
    add_job_file_option,
    add_set_option,
    check_port_free,
    experiment_parser,
    port_number,
    positive_count,
    run_cli,
    stop_signals_as_ctrl_c,
)
from scripts.jobspec.job import SWEEP, is_pipeline
from scripts.project.layout import JOB_FILE_NAME, Project
from scripts.runfolder.isolate import experiment_job
from scripts.runner.debugging import (
    DEFAULT_PORT,
    DEFAULT_TIMEOUT_SECONDS,
    MAX_TIMEOUT_SECONDS,
    Debugging,
)
from scripts.runner.prepare import prepare_experiment
from scripts.runner.run import run_tracked
from scripts.tracking.project_store import TRACKING_URI_VARIABLE
from scripts.tracking.trackers import TOKEN_VARIABLE

LOCAL, WORKSPACE = "local", "workspace"  # --track's choices

if TYPE_CHECKING:
    from scripts.runner.in_container import Docker


def parser() -> ArgumentParser:
    parser = experiment_parser(
        "local",
        "Isolate EXP (see `just iso`) and run its azure-ml-job.yaml command locally, as Azure "
        "ML would: same command, only the declared dependencies, tracked in runs/mlflow.db. "
        "Exits with the command's exit code. A pipeline job (-f) runs its steps in the order "
        "of their bindings, each as a command job in its own experiment's environment, and "
        "exits with the first failed step's exit code. A sweep job (-f) runs its trials, "
        "stops them early as its policy says, names the best, and exits non-zero only if no "
        "trial finished with a score.",
    )
    add_job_file_option(parser, JOB_FILE_NAME, "command, pipeline or sweep job")
    add_set_option(
        parser,
        "inputs.epochs=5, inputs.NAME.path=PATH (relative: from the job file's folder), or a "
        "pipeline's jobs.STEP.inputs.NAME=VALUE",
    )
    parser.add_argument(
        "--max-parallel",
        type=positive_count,
        default=os.cpu_count() or 1,
        metavar="N",
        help="a pipeline's independent steps, a sweep's trials (at most its "
        "limits.max_concurrent_trials) run at the same time, at most N (default: this "
        f"machine's {os.cpu_count() or 1} cores)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="a pipeline: say which steps would be reused and, for each that would run, what "
        "changed; a sweep: list the trials it would run, with their values; run nothing, make "
        "nothing",
    )
    parser.add_argument(
        "--docker",
        action="store_true",
        help="run the job in the image Azure ML builds from the run folder's environment/ "
        "(built once per build context, then reused), on the host network",
    )
    parser.add_argument(
        "--gpus",
        metavar="GPUS",
        help="with --docker: the GPUs the container sees, as `docker run --gpus` takes them "
        "(e.g. all)",
    )
    parser.add_argument(
        "--track",
        choices=[LOCAL, WORKSPACE],
        help="where the run is tracked: `local`, runs/mlflow.db (whatever MLFLOW_TRACKING_URI "
        "says), or `workspace`, the Azure ML workspace's own MLflow (obtained through "
        "azure-ai-ml, `az login`), beside its cloud jobs. Default: the MLflow server "
        "MLFLOW_TRACKING_URI names (environment or .env.local), else runs/mlflow.db",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="run the job under debugpy: its first Python process waits for an IDE to attach "
        "on 127.0.0.1 (VS Code: 'Attach to just local --debug')",
    )
    parser.add_argument(
        "--debug-port",
        type=port_number,
        default=DEFAULT_PORT,
        metavar="N",
        help=f"with --debug (default {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--debug-timeout",
        type=int,
        default=DEFAULT_TIMEOUT_SECONDS,
        metavar="S",
        help="with --debug: give up, without running the job, if nothing attaches within S "
        f"seconds (default {DEFAULT_TIMEOUT_SECONDS}, at most {MAX_TIMEOUT_SECONDS})",
    )
    return parser


def main(argv: Sequence[str], project: Project) -> int:
    arguments = parser()
    args = arguments.parse_args(argv)
    if not 1 <= args.debug_timeout <= MAX_TIMEOUT_SECONDS:
        arguments.error(f"--debug-timeout must be between 1 and {MAX_TIMEOUT_SECONDS} seconds")
    if args.gpus and not args.docker:
        arguments.error("--gpus needs --docker")
    if args.debug and args.docker:
        arguments.error("--debug runs the job on this machine: drop --docker to debug it")
    debugging = Debugging(args.debug_port, args.debug_timeout) if args.debug else None
    if debugging:
        check_port_free(debugging.port, "choose another with --debug-port")
    if args.track:
        project = tracked_in(project, args.track)
    docker: Docker | None = None
    if args.docker:  # its modules are imported only by a run that uses it
        from scripts.runner import in_container

        docker = in_container.Docker(args.gpus)
    job = experiment_job(project, args.experiment, args.file)
    pipeline_job = is_pipeline(job)
    if job.get("type") == SWEEP:
        return _sweep(arguments, args, project, docker)
    if args.dry_run and not pipeline_job:
        arguments.error(
            "--dry-run is for pipelines and sweeps: `just iso` makes a command job's run folder"
        )
    if pipeline_job:
        if debugging:
            arguments.error(
                "--debug is for command jobs: a pipeline's steps run without a debugger"
            )
        from scripts.pipelines.prepare import prepare_pipeline  # pipelines' modules: theirs
        from scripts.pipelines.run import run_pipeline

        with stop_signals_as_ctrl_c():
            pipeline = prepare_pipeline(
                project, args.experiment, args.file, args.overrides, args.dry_run, docker
            )
        return 0 if args.dry_run else run_pipeline(pipeline, args.max_parallel)
    with stop_signals_as_ctrl_c():
        run = prepare_experiment(
            project, args.experiment, args.overrides, debugging, args.file, docker
        )
        return run_tracked(run)


def tracked_in(project: Project, track: str) -> Project:
    """`project`, its MLflow settings those `--track` chose: none (the local store), or the
    workspace's tracking URI and a token of your Azure CLI login for it."""
    if track == LOCAL:
        return dataclasses.replace(project, overrides=((TRACKING_URI_VARIABLE, ""),))
    from scripts.cloud.workspace import connect

    azure = connect(project)
    report.note(f"tracking in workspace {azure.workspace.name!r}'s MLflow")
    chosen = (
        (TRACKING_URI_VARIABLE, azure.tracking_uri()),
        (TOKEN_VARIABLE, azure.tracking_token()),
    )
    return dataclasses.replace(project, overrides=chosen)


def _sweep(
    arguments: ArgumentParser, args: Namespace, project: Project, docker: "Docker | None"
) -> int:
    """A sweep job: its trials listed (`--dry-run`), or run (scripts/sweeps/)."""
    if args.debug:
        arguments.error("--debug is for command jobs: a sweep's trials run without a debugger")
    if args.dry_run:
        from scripts.jobspec.sweep import BAYESIAN
        from scripts.sweeps.plan import describe_trial, plan_sweep
        from scripts.sweeps.sampling import sampling_name

        sweep, trials = plan_sweep(project, args.experiment, args.file, args.overrides)
        for index, values in enumerate(trials, 1):
            report.result(f"trial {index}: {describe_trial(values)}")
        concurrent = sweep.max_concurrent_trials or "no limit"
        listed = f"{len(trials)} trials"
        if sweep.sampling.algorithm == BAYESIAN:
            listed = f"up to {sweep.max_total_trials} trials; the first {len(trials)} listed, "
            listed += "the others drawn from their scores"
        report.note(
            f"{listed} ({sampling_name(sweep)} sampling), at most {concurrent} at a time, "
            f"ranked by {sweep.primary_metric} ({sweep.goal})"
        )
        return 0
    from scripts.sweeps.prepare import prepare_sweep  # sweeps' modules: theirs
    from scripts.sweeps.run import run_sweep

    with stop_signals_as_ctrl_c():
        sweep_run = prepare_sweep(project, args.experiment, args.file, args.overrides, docker)
    return run_sweep(sweep_run, args.max_parallel)


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
