"""`just local EXP`: run an experiment the way Azure ML would, tracked in runs/mlflow.db.

The run folder from `just iso` is the working directory; the job's command runs with
`${{inputs.*}}` resolved locally, the job's environment variables, and an interpreter
built from the run folder's requirements.txt alone (never the project's .venv). When the
job ends, its ./outputs and ./logs are attached to its MLflow run, the run gets its final
status, and run.json records the outcome.
"""

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import IO, BinaryIO

from scripts.cli import add_set_option, experiment_parser, run_cli
from scripts.environments import ensure_environment, tracking_requirements, uses_mlflow
from scripts.gitinfo import git_state
from scripts.jobspec import apply_overrides, parse_override
from scripts.manifest import Manifest
from scripts.project import JOB_FILE_NAME, ROOT, TRACKING_STORE
from scripts.resolve import output_folders, render_command, resolve_inputs
from scripts.runfolder import LOGS, OUTPUTS, REQUIREMENTS, check_source, create_run_folder
from scripts.store import StoreError, attach_artifacts, find_run, finish_run, latest_metrics
from scripts.tracking import choose_store, ensure_experiment, tracking_variables

# The last line of `just local`; the bench reads the job's own duration from it.
ENDED = re.compile(r"^run \S+ ended with exit code -?\d+ after (\d+\.\d+) s$", re.MULTILINE)
JOB_LOG = f"{LOGS}/std_log.txt"  # stdout and stderr of the job, as Azure ML names it
KILLED_EXIT_CODES = {130, 137, 143}  # a shell's report of SIGINT, SIGKILL, SIGTERM

# The project's own environment must not leak into the job's.
_DROPPED_VARIABLES = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CONDA_PREFIX")


@dataclass(frozen=True)
class LocalRun:
    """Everything needed to execute a prepared run."""

    folder: Path
    command: str
    environment: dict[str, str]
    store: Path
    manifest: Manifest


def prepare(experiment: str, overrides: Sequence[str]) -> LocalRun:
    """Check everything, then isolate and resolve. Bad input fails before anything is written."""
    parsed = [parse_override(text) for text in overrides]
    source = check_source(experiment)
    job = apply_overrides(source.job, parsed, source.folder / JOB_FILE_NAME)
    inputs = resolve_inputs(job, source.folder)
    command = render_command(job, inputs)
    extra = tracking_requirements(source.requirements)
    venv, built = ensure_environment(source.requirements, extra)
    folder = create_run_folder(source)
    git = git_state()
    manifest = Manifest(
        experiment=experiment,
        mlflow_experiment=str(job.get("experiment_name") or experiment),
        run_name=folder.name,
        command=command,
        inputs=inputs,
        environment_variables={
            str(k): str(v) for k, v in (job.get("environment_variables") or {}).items()
        },
        output_folders=output_folders(job),
        requirements_sha256=hashlib.sha256(source.requirements.encode()).hexdigest(),
        local_tracking_requirements=extra,
        git=git.record() if git else None,
    )
    return assemble(folder, venv, built, manifest)


def assemble(folder: Path, venv: Path, built: bool, manifest: Manifest) -> LocalRun:
    """The run for a filled run folder and its manifest (shared with `just rerun`)."""
    for output in manifest.output_folders:
        (folder / output).mkdir(parents=True, exist_ok=True)
    store = choose_store(folder)
    manifest.tracking_store = str(store)
    if store == TRACKING_STORE and uses_mlflow((folder / REQUIREMENTS).read_text()):
        ensure_experiment(manifest.mlflow_experiment)
    tracking = tracking_variables(store, manifest.mlflow_experiment, folder.name, manifest.git)
    environment = payload_environment(venv, manifest.environment_variables | tracking)
    _report(folder, venv, built, store, manifest)
    return LocalRun(folder, manifest.command, environment, store, manifest)


def payload_environment(venv: Path, variables: dict[str, str]) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in _DROPPED_VARIABLES}
    tooling_bin = str(Path(sys.prefix) / "bin")
    path = [p for p in environment.get("PATH", "").split(os.pathsep) if p and p != tooling_bin]
    environment["PATH"] = os.pathsep.join([str(venv / "bin"), *path])
    environment["VIRTUAL_ENV"] = str(venv)
    environment["PYTHONUNBUFFERED"] = "1"  # as in the job image; logs stream live
    return environment | variables


def shell_command(run: LocalRun) -> list[str]:
    """Azure ML runs the job's command through a shell; so do we."""
    return [shutil.which("bash") or "/bin/sh", "-c", run.command]


def run_tracked(run: LocalRun) -> int:
    """Execute the job, then record its outcome; the job's exit code (128+N for signal N)."""
    run.manifest.started = datetime.now().astimezone().isoformat(timespec="seconds")
    run.manifest.write(run.folder)
    started = time.perf_counter()
    code, stopped = _execute(run)
    seconds = time.perf_counter() - started
    for stop in (signal.SIGINT, signal.SIGTERM):  # the outcome is recorded, come what may
        signal.signal(stop, signal.SIG_IGN)
    if code == 0:
        status = "FINISHED"
    elif stopped or code in KILLED_EXIT_CODES:
        status = "KILLED"
    else:
        status = "FAILED"
    _record_outcome(run, status, code, seconds)
    print(
        f"run {run.folder.name} ended with exit code {code} after {seconds:.3f} s", file=sys.stderr
    )
    return code


def _execute(run: LocalRun) -> tuple[int, bool]:
    """Run the job, its output streaming to the terminal and into logs/std_log.txt; its exit
    code, and whether the runner was told to stop.

    While the job runs, Ctrl-C and SIGTERM are recorded, not raised: a terminal's Ctrl-C
    reaches the job itself (same process group), SIGTERM is passed on to it, and the runner
    waits for the job to end either way.
    """
    log_path = run.folder / JOB_LOG
    log_path.parent.mkdir(exist_ok=True)
    stops: list[int] = []
    process = subprocess.Popen(
        shell_command(run),
        cwd=run.folder,
        env=run.environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        stops.append(signum)
        if signum == signal.SIGTERM:
            process.send_signal(signal.SIGTERM)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    assert process.stdout is not None and process.stderr is not None
    with log_path.open("wb") as log:
        lock = threading.Lock()
        pumps = [
            threading.Thread(target=_tee, args=(process.stdout, sys.stdout.buffer, log, lock)),
            threading.Thread(target=_tee, args=(process.stderr, sys.stderr.buffer, log, lock)),
        ]
        for pump in pumps:
            pump.start()
        code = process.wait()
        for pump in pumps:
            pump.join()
    return (128 - code if code < 0 else code), bool(stops)


def _tee(source: IO[bytes], terminal: BinaryIO, log: BinaryIO, lock: threading.Lock) -> None:
    """Copy the job's output to the log and the terminal until the job closes it; a closed
    terminal (`just local X | head`) must not stall the job, so the log goes on alone."""
    live: BinaryIO | None = terminal
    for chunk in iter(lambda: source.read1(65536), b""):  # type: ignore[attr-defined]
        with lock:
            log.write(chunk)
        if live:
            try:
                live.write(chunk)
                live.flush()
            except OSError:
                live = None


def _record_outcome(run: LocalRun, status: str, code: int, seconds: float) -> None:
    """Finish the MLflow run and write run.json; a tracking failure is reported, and the
    run folder and its manifest are complete regardless."""
    manifest = run.manifest
    manifest.status, manifest.exit_code = status, code
    manifest.ended = datetime.now().astimezone().isoformat(timespec="seconds")
    manifest.duration_seconds = round(seconds, 3)
    try:
        tracked = find_run(run.store, run.folder.name)
        if tracked:
            for folder in (OUTPUTS, LOGS):
                if (run.folder / folder).is_dir():
                    attach_artifacts(tracked, run.folder / folder, folder)
            finish_run(run.store, tracked, status, time.time())
            manifest.tracking_run_id = tracked.run_id
            manifest.metrics = latest_metrics(run.store, tracked)
    except (StoreError, OSError) as error:
        print(f"warning: tracking not completed: {error}", file=sys.stderr)
    manifest.write(run.folder)


def _report(folder: Path, venv: Path, built: bool, store: Path, manifest: Manifest) -> None:
    lines = (
        f"run folder:  {folder}",
        f"environment: {venv.relative_to(ROOT)} ({'built now' if built else 'reused'})",
        f"tracking:    {store}, experiment {manifest.mlflow_experiment!r}",
        f"command:     {manifest.command}",
    )
    print("\n".join(lines), file=sys.stderr, flush=True)


def terminate_on_sigterm() -> None:
    """Before the job starts, SIGTERM stops the runner as Ctrl-C does: cleanly."""

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)


def main(argv: Sequence[str]) -> int:
    parser = experiment_parser(
        "local",
        "Isolate EXP (see `just iso`) and run its azure-ml-job.yaml command locally, as Azure "
        "ML would: same command, only the declared dependencies, tracked in runs/mlflow.db. "
        "Exits with the command's exit code.",
    )
    add_set_option(
        parser, "inputs.epochs=5 or inputs.NAME.path=PATH (relative: from the experiment folder)"
    )
    args = parser.parse_args(argv)
    terminate_on_sigterm()
    return run_tracked(prepare(args.experiment, args.overrides))


if __name__ == "__main__":
    run_cli(main)
