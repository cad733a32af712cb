"""`just local EXP`: run an experiment the way Azure ML would, tracked in runs/mlflow.db.

The run folder from `just iso` is the working directory; the job's command runs with
`${{inputs.*}}` resolved locally, the job's environment variables, and an interpreter
built from the run folder's requirements.txt alone (never the project's .venv).
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scripts.cli import experiment_parser, run_cli
from scripts.environments import ensure_environment, tracking_requirements, uses_mlflow
from scripts.gitinfo import git_state
from scripts.jobspec import apply_overrides, parse_override
from scripts.project import JOB_FILE_NAME, ROOT, TRACKING_STORE
from scripts.resolve import output_folders, render_command, resolve_inputs
from scripts.runfolder import check_source, create_run_folder
from scripts.tracking import ensure_experiment, tracking_variables

# The last line of `just local`; the bench reads the job's own duration from it.
ENDED = re.compile(r"^run \S+ ended with exit code -?\d+ after (\d+\.\d+) s$", re.MULTILINE)

# The project's own environment must not leak into the payload's.
_DROPPED_VARIABLES = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CONDA_PREFIX")


@dataclass(frozen=True)
class LocalRun:
    """Everything needed to execute a prepared run; `execute` does only that."""

    folder: Path
    command: str
    environment: dict[str, str]


def prepare(experiment: str, overrides: Sequence[str]) -> LocalRun:
    """Check everything, then isolate and resolve. Bad input fails before anything is written."""
    parsed = [parse_override(text) for text in overrides]
    source = check_source(experiment)
    job = apply_overrides(source.job, parsed, source.folder / JOB_FILE_NAME)
    command = render_command(job, resolve_inputs(job, source.folder))
    extra = tracking_requirements(source.requirements)
    venv, built = ensure_environment(source.requirements, extra)
    folder = create_run_folder(source)
    for output in output_folders(job):
        (folder / output).mkdir(parents=True, exist_ok=True)
    experiment_name = str(job.get("experiment_name") or experiment)
    if uses_mlflow(source.requirements):
        ensure_experiment(experiment_name)
    variables = {str(k): str(v) for k, v in (job.get("environment_variables") or {}).items()}
    tracking = tracking_variables(experiment_name, folder.name, git_state())
    _report(folder, venv, built, experiment_name, command)
    return LocalRun(folder, command, payload_environment(venv, variables | tracking))


def payload_environment(venv: Path, variables: dict[str, str]) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in _DROPPED_VARIABLES}
    tooling_bin = str(Path(sys.prefix) / "bin")
    path = [p for p in environment.get("PATH", "").split(os.pathsep) if p and p != tooling_bin]
    environment["PATH"] = os.pathsep.join([str(venv / "bin"), *path])
    environment["VIRTUAL_ENV"] = str(venv)
    return environment | variables


def shell_command(run: LocalRun) -> list[str]:
    """Azure ML runs the job's command through a shell; so do we."""
    return [shutil.which("bash") or "/bin/sh", "-c", run.command]


def execute(run: LocalRun) -> int:
    """Run the command in the run folder; its exit code (128+N if killed by signal N).

    On Ctrl-C the payload gets SIGINT too and is waited for, and the run folder stays.
    """
    process = subprocess.Popen(shell_command(run), cwd=run.folder, env=run.environment)
    try:
        code = process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        code = process.wait()
    return 128 - code if code < 0 else code


def _report(folder: Path, venv: Path, built: bool, experiment_name: str, command: str) -> None:
    lines = (
        f"run folder:  {folder}",
        f"environment: {venv.relative_to(ROOT)} ({'built now' if built else 'reused'})",
        f"tracking:    {TRACKING_STORE.relative_to(ROOT)}, experiment {experiment_name!r}",
        f"command:     {command}",
    )
    print("\n".join(lines), file=sys.stderr, flush=True)


def main(argv: Sequence[str]) -> int:
    parser = experiment_parser(
        "local",
        "Isolate EXP (see `just iso`) and run its azure-ml-job.yaml command locally, as Azure "
        "ML would: same command, only the declared dependencies, tracked in runs/mlflow.db. "
        "Exits with the command's exit code.",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="override the job YAML like `az ml job create --set`, e.g. inputs.epochs=5 or "
        "inputs.NAME.path=PATH (relative paths: from the experiment folder); repeatable",
    )
    args = parser.parse_args(argv)
    run = prepare(args.experiment, args.overrides)
    started = time.perf_counter()
    code = execute(run)
    seconds = time.perf_counter() - started
    print(
        f"run {run.folder.name} ended with exit code {code} after {seconds:.3f} s", file=sys.stderr
    )
    return code


if __name__ == "__main__":
    run_cli(main)
