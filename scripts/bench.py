"""`just bench`: what the tooling costs, one figure per line (`name: value unit`).

- local overhead: the median, over warm runs, of the wall time of `just local
  example_experiment` minus the time its job took (`duration_seconds` in the run's
  run.json). Measured within one run, the figure is free of the job's own run-to-run noise
  (±0.3 s here); as a cross-check the bench also runs the resolved command by itself,
  interleaved, and prints both medians.
- no-op local: the median wall time of `uv run just local example_experiment` with a job
  that does nothing (`--set command=true`), warm: what a user waits for beyond their job;
  `uv run python -c pass`, timed alternately with it, and the ratio of the two (absolute
  times drift between machines, the ratio less); "new literal input value": the same run
  with `--set inputs.epochs=N` of an N never used before (the SDK's verdict is kept).
- local overhead, team server: what tracking on a team's MLflow server adds to that no-op
  run: the median of interleaved pairs, with MLFLOW_TRACKING_URI naming MLflow's own server
  app on 127.0.0.1 (a SQLite store behind it, artifacts proxied) and without.
- metric logging: 10 000 values logged with shared.metrics.MetricBuffer (batched
  `log_batch`), in the example's environment, against runs/mlflow.db.
- log_metric call: the mean time of one plain `mlflow.log_metric` over 200 calls, likewise.
- tracking server start and stop / metric logging and log_metric call through the server:
  the path of a job whose MLflow is another version than the tooling's (MLflow's REST API
  to a server over the same store): what starting and stopping the server adds to a run,
  and the two logging figures again, the example's MLflow logging through it.
- uv lock, 20 experiments (independent / together): `uv lock --offline` of a workspace of
  20 experiments that share most packages (scikit-learn, matplotlib, MLflow), with the
  declaration that makes them independent (as `just new` writes it) and without: what
  independence costs.
- just runs (500 runs): `just runs` over 500 run folders' run.json files.
- iso / iso with 500 MB ignored: `just iso` wall time without and with a 500 MB file in an
  ignored folder of the experiment (ignored data must be neither read nor copied).
- pipeline overhead per step: `just local` of a pipeline of 4 no-op steps (`true`), one after
  the other, warm: the median of (wall time - the steps' own durations, its longest path) / 4.
- pipeline parallel: `just local` of a pipeline of two independent steps that each sleep
  2 s: the median wall time (the target is at most 2.5 s: they run at the same time).
- pipeline reused: `just local` of the example's pipeline again, unchanged: the median wall
  time, every step reused (the two figures above force every step to run).
- sweep overhead per trial: `just local` of a grid sweep of 8 no-op trials (`true`), two at
  a time, warm: the median of (wall time - the trials' own durations / 2) / 8.
- sweep early termination: `just local` of a sweep of 8 trials, two at a time, each logging
  its value 20 times 0.1 s apart, five of them far below the others, with a bandit policy
  (slack_amount 0.5): the median wall time, and the fewest trials the policy stopped.
- aml dry run: `just aml example_experiment --dry-run` wall time: isolation plus loading,
  validating and printing the job with azure-ai-ml (whose import is most of it).
- no-op local, job not seen before: the no-op local run with `--set` values never used
  before, so that azure-ai-ml's schema check runs (its verdict is cached otherwise).
- data download: 256 MB in 8 blobs downloaded by `just data-download`'s transfer code from
  Azurite (the Azure Storage emulator, if `azurite-blob` is installed) on 127.0.0.1, to the
  local disk: what the tooling adds to a transfer, not a network's speed.
- fetch: `just fetch`'s work (in-process) for a finished job with 10 metrics of 1 000
  values each and a 50 MB output: its metrics read from a real MLflow server on 127.0.0.1
  standing in for the workspace's, its output from Azurite, recorded in a scratch project;
  the job itself is an azure-ai-ml job entity handed over by a stand-in for MLClient (no
  Azure here). The wall time with MLflow and azure-ai-ml already imported (a `just fetch`
  adds their import, seconds), and the output's rate: its size over the difference with
  "fetch again, records only", the same fetch once the output is there.
- docker overhead: the median, over interleaved pairs of warm runs, of the wall time of
  `just local example_experiment --docker` minus that of the same run without Docker (the
  image built beforehand): what running the job in its image costs, the job's own speed in
  the container included; "no-op job": the same with a job that does nothing
  (`--set command=true`), the tooling's and the engine's part alone. Measured if a Docker
  engine answers, with `just docker-base`'s images where .env.local names them.

Each figure is printed as it is taken; a part that cannot run here (no Docker engine or no
base images, no Azurite) prints `NAME: not measured (why)` and the bench goes on. Bench runs
log to their own MLflow experiment and their run folders are removed afterwards.
"""

import datetime
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from argparse import RawDescriptionHelpFormatter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from scripts.cloud.workspace import AzureML
from scripts.console import report
from scripts.console.cli import ArgumentParser, free_port, run_cli
from scripts.console.errors import CommandError, ToolingError, from_os_error
from scripts.containers.engine import docker
from scripts.containers.images import missing_base_images
from scripts.docsite.benchmarks import record_text
from scripts.project.layout import Project, write_whole
from scripts.project.uv import UI_GROUP, ensure_groups, uv_binary
from scripts.runfolder.layout import CODE, ENVIRONMENT, TRACKING_SERVER_LOG
from scripts.runfolder.manifest import Manifest, read_manifest
from scripts.runner.prepare import LocalRun, prepare_experiment
from scripts.runner.process import shell_command
from scripts.runner.run import start_tracking
from scripts.tracking.project_store import TRACKING_URI_VARIABLE, make_store
from scripts.tracking.server import serving
from scripts.tracking.trackers import LocalStore

EXPERIMENT = "example_experiment"
OVERRIDES = ["inputs.epochs=1", f"experiment_name=bench-{EXPERIMENT}"]
IGNORED_DATA = "data/bench-500MB.bin"  # in the experiment, whose .amlignore leaves out data/
MEGABYTE = 1024 * 1024


def seconds(value: float) -> str:
    return f"{value:.3f} s"


def timed(
    command: Sequence[str], cwd: Path, env: dict[str, str] | None = None, expected: int = 0
) -> float:
    """The wall time of `command`; a CommandError with its complaint if it exits with
    another code than `expected`."""
    start = time.perf_counter()
    result = subprocess.run(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    elapsed = time.perf_counter() - start
    if result.returncode != expected:
        raise CommandError(f"bench step {' '.join(command[:3])} failed: {result.stderr.strip()}")
    return elapsed


def median_of(repeats: int, label: str, measure: Callable[[], float]) -> float:
    samples = []
    for index in range(repeats):
        report.note(f"  {label} {index + 1}/{repeats}")
        samples.append(measure())
    return statistics.median(samples)


def set_options(overrides: Sequence[str]) -> list[str]:
    return [arg for override in overrides for arg in ("--set", override)]


def just_command(*args: str) -> list[str]:
    just = shutil.which("just")
    if not just:
        raise CommandError("just is not on PATH: run `uv run just bench`")
    return [just, *args]


def bench_local(project: Project, repeats: int) -> tuple[dict[str, str], LocalRun]:
    through_just = just_command("local", EXPERIMENT, *set_options(OVERRIDES))
    report.note("warming up (the first run may build the environment)")
    timed(through_just, cwd=project.root)
    direct = prepare_experiment(project, EXPERIMENT, OVERRIDES)
    start_tracking(
        direct.store, direct.manifest
    )  # the direct runs and the metric logging go into its MLflow run
    just_times: list[float] = []
    overheads: list[float] = []
    direct_times: list[float] = []
    for index in range(repeats):
        report.note(f"  local run {index + 1}/{repeats}")
        before = run_folders(project)
        elapsed = timed(through_just, cwd=project.root)
        (folder,) = run_folders(project) - before
        job_seconds = read_manifest(folder).duration_seconds
        if job_seconds is None:
            raise CommandError(f"{folder}/run.json has no duration: the run was not recorded")
        just_times.append(elapsed)
        overheads.append(elapsed - job_seconds)
        command = shell_command(direct.command)
        direct_times.append(timed(command, cwd=direct.folder / CODE, env=direct.environment))
    figures = {
        "just local (median)": seconds(statistics.median(just_times)),
        "direct command (median)": seconds(statistics.median(direct_times)),
        "local overhead": seconds(statistics.median(overheads)),
    }
    return figures, direct


def bench_no_op_local(project: Project, repeats: int) -> dict[str, str]:
    """`uv run just local` as a user types it, with a job that does nothing; interleaved
    with `uv run python -c pass` (the floor any `uv run` command pays) and with runs given a
    literal input's value never used before."""
    no_op = [f"experiment_name=bench-{EXPERIMENT}", "command=true"]
    environment = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}  # as typed

    def uv_run(*args: str) -> Callable[[], float]:
        return lambda: timed([uv_binary(), "run", *args], cwd=project.root, env=environment)

    def local_with(*overrides: str, epochs: int = 1) -> float:
        overrides = (*no_op, f"inputs.epochs={epochs}", *overrides)
        return uv_run("just", "local", EXPERIMENT, *set_options(overrides))()

    local_with()  # warm
    samples: dict[str, list[float]] = {"repeat": [], "python": [], "new value": []}
    for index in range(repeats):
        report.note(f"  no-op local {index + 1}/{repeats}")
        samples["repeat"].append(local_with())
        samples["python"].append(uv_run("python", "-c", "pass")())
        samples["new value"].append(local_with(epochs=time.time_ns()))
    repeat, python, new_value = (statistics.median(samples[key]) for key in samples)

    def new_job() -> float:  # --set values never seen: azure-ai-ml checks the job again
        return local_with(f"display_name=bench-{time.time_ns()}")

    checked = median_of(repeats, "no-op local of a new job", new_job)
    with tempfile.TemporaryDirectory(dir=project.runs) as scratch:
        team = _team_overhead(Path(scratch), local_with, repeats, environment)
    return {
        "no-op local": seconds(repeat),
        "uv run python -c pass": seconds(python),
        "no-op local against uv run python -c pass": f"{repeat / python:.1f} x",
        "no-op local, new literal input value": seconds(new_value),
        "no-op local, job not seen before (schema check)": seconds(checked),
        "local overhead, team server": seconds(team),
    }


def _team_overhead(
    scratch: Path, local_with: Callable[..., float], repeats: int, environment: dict[str, str]
) -> float:
    """What tracking on a team's MLflow server (MLflow's app on 127.0.0.1, SQLite behind
    it, artifacts proxied) adds to the no-op local run: the median of interleaved pairs."""
    store, artifacts = scratch / "team.db", scratch / "team-artifacts"
    make_store(store, artifacts)
    with serving(store, artifacts, free_port(), scratch / "server.log", proxied=True) as server:
        plain = dict(environment)
        try:
            environment[TRACKING_URI_VARIABLE] = server.url
            local_with()  # warm: the experiment made on the server
            differences = []
            for index in range(repeats):
                report.note(f"  no-op local, team server {index + 1}/{repeats}")
                environment[TRACKING_URI_VARIABLE] = server.url
                on_server = local_with()
                environment.clear()
                environment.update(plain)
                differences.append(on_server - local_with())
        finally:
            environment.clear()
            environment.update(plain)
    return statistics.median(differences)


METRIC_VALUES = 10_000
METRIC_LOGGING = f"""
import time, mlflow
from shared.metrics import MetricBuffer
with mlflow.start_run():
    start = time.perf_counter()
    with MetricBuffer() as buffer:
        for step in range({METRIC_VALUES}):
            buffer.add("loss", 1.0 / (step + 1), step)
    print("figure:", time.perf_counter() - start)
"""
METRIC_CALLS = 200
METRIC_CALL = f"""
import time, mlflow
with mlflow.start_run():
    mlflow.log_metric("warm-up", 0.0)
    start = time.perf_counter()
    for step in range({METRIC_CALLS}):
        mlflow.log_metric("call", float(step), step=step)
    print("figure:", (time.perf_counter() - start) / {METRIC_CALLS})
"""


def job_figure(run: LocalRun, environment: dict[str, str], program: str) -> float:
    """The number `program` prints after "figure:", run in the job's environment and folder
    (MLflow prints lines of its own)."""
    assert run.venv is not None  # not a --docker run
    result = subprocess.run(
        [str(run.venv / "bin" / "python"), "-c", program],
        cwd=run.folder / CODE,
        env=environment,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise CommandError(f"bench job failed: {result.stderr.strip().splitlines()[-1:]}")
    figure = next(line for line in result.stdout.splitlines() if line.startswith("figure:"))
    return float(figure.split()[-1])


def bench_metric_logging(
    run: LocalRun, environment: dict[str, str], suffix: str = ""
) -> dict[str, str]:
    report.note(f"logging {METRIC_VALUES} metric values{suffix}")
    batched = job_figure(run, environment, METRIC_LOGGING)
    report.note(f"{METRIC_CALLS} log_metric calls{suffix}")
    call = job_figure(run, environment, METRIC_CALL)
    return {
        f"metric logging{suffix}": f"{METRIC_VALUES} values in {seconds(batched)}",
        f"log_metric call{suffix}": f"{call * 1000:.1f} ms",
    }


def bench_tracking_server(run: LocalRun, repeats: int) -> dict[str, str]:
    log = run.folder / TRACKING_SERVER_LOG
    log.parent.mkdir(exist_ok=True)
    if not isinstance(run.store, LocalStore):
        raise CommandError(f"the example's run is tracked on {run.store.where}, not locally")
    store = run.store

    def start_and_stop() -> float:
        start = time.perf_counter()
        with serving(store.path, store.artifacts, free_port(), log):
            pass
        return time.perf_counter() - start

    figures = {
        "tracking server start and stop": seconds(
            median_of(repeats, "tracking server start and stop", start_and_stop)
        )
    }
    with serving(store.path, store.artifacts, free_port(), log) as server:
        environment = run.environment | {TRACKING_URI_VARIABLE: server.url}
        figures |= bench_metric_logging(run, environment, " through the server")
    return figures


LOCK_EXPERIMENTS = 20
LOCK_DEPENDENCIES = ["scikit-learn>=1.5,<2", "matplotlib>=3.8,<4", "mlflow-skinny>=3.15,<3.16"]


def bench_lock(project: Project, repeats: int) -> dict[str, str]:
    """`uv lock` of a scratch workspace under runs/ (removed afterwards)."""
    root = project.runs / ".bench-lock"
    figures: dict[str, str] = {}
    try:
        for independent in (True, False):
            shutil.rmtree(root, ignore_errors=True)
            write_lock_workspace(root, independent)
            label = "independent" if independent else "together"

            def lock() -> float:
                (root / "uv.lock").unlink(missing_ok=True)
                return timed([uv_binary(), "lock", "--offline", "--quiet"], cwd=root)

            figures[f"uv lock, {LOCK_EXPERIMENTS} experiments ({label})"] = seconds(
                median_of(repeats, f"uv lock ({label})", lock)
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return figures


def write_lock_workspace(root: Path, independent: bool) -> None:
    names = [f"exp-{index:02d}" for index in range(LOCK_EXPERIMENTS)]
    conflicts = ", ".join(f'{{ package = "{name}" }}' for name in names)
    declaration = (
        f'preview-features = ["package-conflicts"]\nconflicts = [[{conflicts}]]\n'
        if independent
        else ""
    )
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[tool.uv.workspace]\nmembers = ["experiments/*"]\n[tool.uv]\n' + declaration
    )
    for index, name in enumerate(names):
        member = root / "experiments" / name
        (member / "src" / name.replace("-", "_")).mkdir(parents=True)
        (member / "src" / name.replace("-", "_") / "__init__.py").write_text("")
        # One experiment pins its own NumPy, which the others' range also admits.
        dependencies = [*LOCK_DEPENDENCIES, "numpy<2" if index == 0 else "numpy>=1.26"]
        (member / "pyproject.toml").write_text(
            f'[project]\nname = "{name}"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
            f"dependencies = {dependencies!r}\n"
            '[build-system]\nrequires = ["uv_build>=0.8,<0.14"]\nbuild-backend = "uv_build"\n'
        )


TABLE_RUNS = 500
TABLE_EXPERIMENT = "bench-runs-table"


def bench_runs_table(project: Project, repeats: int) -> dict[str, str]:
    """`just runs` over TABLE_RUNS synthetic run folders of their own experiment name."""
    folder = project.runs / TABLE_EXPERIMENT
    try:
        for index in range(TABLE_RUNS):
            name = f"20260101_{index:06d}_bench_table_{index:06d}"
            (folder / name).mkdir(parents=True)
            Manifest(
                experiment=TABLE_EXPERIMENT,
                mlflow_experiment=TABLE_EXPERIMENT,
                run_name=name,
                command="python -m bench",
                inputs={"epochs": "1"},
                environment_variables={},
                requirements_sha256="0" * 64,
                local_tracking_requirements="",
                git=None,
                tracking_store=str(project.store),
                started="2026-01-01T00:00:00+00:00",
                status="FINISHED",
                duration_seconds=1.5,
                exit_code=0,
                metrics={"accuracy": 0.9, "loss": 0.1, "f1": 0.8, "recall": 0.7},
            ).write(folder / name)
        table = just_command("runs", TABLE_EXPERIMENT)
        elapsed = median_of(repeats, "just runs", lambda: timed(table, cwd=project.root))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {f"just runs ({TABLE_RUNS} runs)": seconds(elapsed)}


def bench_iso(project: Project, repeats: int) -> dict[str, str]:
    iso = just_command("iso", EXPERIMENT)
    figures = {"iso": seconds(median_of(repeats, "iso", lambda: timed(iso, cwd=project.root)))}
    ignored = project.experiments / EXPERIMENT / IGNORED_DATA
    ignored.parent.mkdir(parents=True, exist_ok=True)
    try:
        with ignored.open("wb") as file:
            block = b"\0" * MEGABYTE
            for _ in range(500):
                file.write(block)
        figures["iso with 500 MB ignored"] = seconds(
            median_of(repeats, "iso with 500 MB ignored", lambda: timed(iso, cwd=project.root))
        )
    finally:
        ignored.unlink(missing_ok=True)
    return figures


def bench_aml_dry_run(project: Project, repeats: int) -> dict[str, str]:
    dry_run = just_command("aml", EXPERIMENT, "--dry-run", "--set", "compute=azureml:bench")
    elapsed = median_of(repeats, "aml dry run", lambda: timed(dry_run, cwd=project.root))
    return {"aml dry run": seconds(elapsed)}


BENCH_PIPELINE = "bench-pipeline.yaml"  # written into the experiment while measured
EXAMPLE_PIPELINE = "azure-ml-pipeline.yaml"


def pipeline_document(commands: dict[str, str], chained: bool) -> str:
    """A pipeline of inline steps running `commands` (step name -> command), each bound to
    the one before when `chained`."""
    lines = [
        "type: pipeline",
        f"experiment_name: bench-{EXPERIMENT}",
        "settings: {default_compute: azureml:bench}",
        "jobs:",
    ]
    previous = None
    for name, command in commands.items():
        lines += [
            f"  {name}:",
            f"    command: {json.dumps(command)}",
            "    environment: {build: {path: environment}}",
            "    outputs: {out: {type: uri_folder}}",
        ]
        if chained and previous:
            lines += ["    inputs:", f"      after: ${{{{parent.jobs.{previous}.outputs.out}}}}"]
        previous = name
    return "\n".join(lines) + "\n"


def bench_pipeline(project: Project, repeats: int) -> dict[str, str]:
    job_file = project.experiments / EXPERIMENT / BENCH_PIPELINE
    local = just_command(
        "local", EXPERIMENT, "-f", BENCH_PIPELINE, "--set", "settings.force_rerun=true"
    )

    def overhead() -> float:
        before = run_folders(project)
        elapsed = timed(local, cwd=project.root)
        (folder,) = run_folders(project) - before
        steps = [read_manifest(folder / "steps" / name) for name in read_manifest(folder).steps]
        return (elapsed - sum(step.duration_seconds or 0.0 for step in steps)) / len(steps)

    try:
        job_file.write_text(pipeline_document({f"s{i}": "true" for i in range(4)}, True))
        timed(local, cwd=project.root)  # warm: the SDK's verdict on it is kept
        per_step = median_of(repeats, "pipeline of 4 steps", overhead)
        job_file.write_text(pipeline_document({"a": "sleep 2", "b": "sleep 2"}, False))
        timed(local, cwd=project.root)
        parallel = median_of(repeats, "two 2 s steps", lambda: timed(local, cwd=project.root))
    finally:
        job_file.unlink(missing_ok=True)
    return {
        "pipeline overhead per step": seconds(per_step),
        "pipeline parallel": seconds(parallel),
        "pipeline reused": bench_pipeline_reused(project, repeats),
    }


def bench_pipeline_reused(project: Project, repeats: int) -> str:
    """The example pipeline run again unchanged: its wall time, every step reused."""
    local = just_command("local", EXPERIMENT, "-f", EXAMPLE_PIPELINE, *set_options(OVERRIDES))
    timed(local, cwd=project.root)  # the run the others reuse

    def reused() -> float:
        before = run_folders(project)
        elapsed = timed(local, cwd=project.root)
        (folder,) = run_folders(project) - before
        names = read_manifest(folder).steps
        if not all(read_manifest(folder / "steps" / name).reused_from for name in names):
            raise CommandError("a step of the unchanged example pipeline was not reused")
        return elapsed

    return (
        f"{seconds(median_of(repeats, 'example pipeline, unchanged', reused))}, every step reused"
    )


BENCH_SWEEP = "bench-sweep.yaml"  # written into the experiment while measured
# A trial logging its value x as `score` at 20 intervals, 0.1 s apart.
LOGGING_TRIAL = (
    "python -c 'import mlflow, os, time\n"
    'for _ in range(20): mlflow.log_metric("score", float(os.environ["AZUREML_SWEEP_x"])); '
    "time.sleep(0.1)'"
)


NO_BEST_TRIAL = 1  # the exit code of a sweep whose trials log no score: no-op trials


def sweep_document(command: str, values: list[float], policy: str = "") -> str:
    """A grid sweep over x in `values` of trials running `command`, two at a time."""
    lines = [
        "type: sweep",
        f"experiment_name: bench-{EXPERIMENT}",
        "trial:",
        "  code: src",
        f"  command: {json.dumps(command)}",
        "  environment: {build: {path: environment}}",
        f"search_space: {{x: {{type: choice, values: {values}}}}}",
        "sampling_algorithm: grid",
        "objective: {goal: maximize, primary_metric: score}",
        f"limits: {{max_total_trials: {len(values)}, max_concurrent_trials: 2}}",
    ]
    if policy:
        lines.append(f"early_termination: {policy}")
    return "\n".join(lines) + "\n"


def bench_sweep(project: Project, repeats: int) -> dict[str, str]:
    job_file = project.experiments / EXPERIMENT / BENCH_SWEEP
    local = just_command("local", EXPERIMENT, "-f", BENCH_SWEEP, "--max-parallel", "2")

    def sweep_run(expected: int = 0) -> tuple[float, list[Manifest]]:
        before = run_folders(project)
        elapsed = timed(local, cwd=project.root, expected=expected)
        (folder,) = run_folders(project) - before
        return elapsed, [read_manifest(folder / "steps" / n) for n in read_manifest(folder).steps]

    def overhead() -> float:
        elapsed, trials = sweep_run(expected=NO_BEST_TRIAL)
        return (elapsed - sum(t.duration_seconds or 0.0 for t in trials) / 2) / len(trials)

    stopped: list[int] = []

    def early() -> float:
        elapsed, trials = sweep_run()
        stopped.append(sum(1 for trial in trials if trial.stopped_by))
        return elapsed

    try:
        job_file.write_text(sweep_document("true", [float(x) for x in range(8)]))
        timed(local, cwd=project.root, expected=NO_BEST_TRIAL)  # warm: the SDK's verdict
        per_trial = median_of(repeats, "sweep of 8 no-op trials", overhead)
        values = [1.0, 0.1, 0.9, 0.1, 0.95, 0.1, 0.1, 0.1]
        policy = "{type: bandit, slack_amount: 0.5}"
        job_file.write_text(sweep_document(LOGGING_TRIAL, values, policy))
        wall = median_of(repeats, "sweep of 8 trials, bandit policy", early)
    finally:
        job_file.unlink(missing_ok=True)
    return {
        "sweep overhead per trial": seconds(per_trial),
        "sweep early termination": f"{seconds(wall)}, {min(stopped)} of 8 trials stopped",
    }


AZURITE_ACCOUNT = "devstoreaccount1"  # the emulator's documented development account
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


@contextmanager
def azurite(binary: str, folder: Path) -> Iterator[str]:
    """Azurite's Blob service (`binary`, run in `folder`) in memory on 127.0.0.1 and a free
    port; its account URL, once it listens. Stopped when the block ends."""
    port = free_port()
    server = subprocess.Popen(
        [binary, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence",
         "--skipApiVersionCheck", "--silent"],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        for _ in range(400):
            if server.poll() is not None:
                raise CommandError(f"azurite-blob did not start: {server.communicate()[1]}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
    finally:
        server.terminate()
        server.wait()


def bench_data_download(project: Project) -> dict[str, str]:
    binary = shutil.which("azurite-blob")
    if binary is None:
        raise CommandError("azurite-blob is not installed: `npm install -g azurite`")
    from azure.storage.blob import ContainerClient

    from scripts.cloud.transfers import Progress, Remote, download, upload

    with (
        tempfile.TemporaryDirectory(dir=project.runs) as scratch,
        azurite(binary, Path(scratch)) as url,
    ):
        credential = {"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY}
        container = ContainerClient(url, "bench", credential=credential)
        container.create_container()
        source = Path(scratch) / "asset"
        source.mkdir()
        for index in range(8):
            (source / f"part-{index}.bin").write_bytes(os.urandom(32 * MEGABYTE))
        upload(source, Remote(container, "asset"), Progress())
        started = time.perf_counter()
        moved = download(Remote(container, "asset"), Path(scratch) / "copy", Progress())
        elapsed = time.perf_counter() - started
    return {"data download": f"{moved / elapsed / MEGABYTE:.0f} MB/s"}


FETCHED_METRICS, FETCHED_VALUES, FETCHED_MB = 10, 1000, 50


@dataclass(frozen=True)
class _BenchAzureML(AzureML):
    """The workspace `bench_fetch` fetches from: its storage is Azurite's container."""

    azurite: Any = None

    def container(self, location: Any) -> Any:
        return self.azurite

    def credential(self) -> Any:
        return None  # the stand-in datastore has a key


def _stand_in_client(job: Any, container: str, tracking_uri: str) -> Any:
    """What `just fetch` asks MLClient, for the one finished job `job`: the job, its (no)
    children, the default datastore (a Blob container with a key), the workspace's MLflow."""
    store = SimpleNamespace(
        name="workspaceblobstore", protocol="https", account_name="bench",
        endpoint="core.windows.net", container_name=container,
        credentials=SimpleNamespace(account_key=AZURITE_KEY),
    )  # fmt: skip
    return SimpleNamespace(
        jobs=SimpleNamespace(get=lambda name: job, list=lambda parent_job_name: []),
        datastores=SimpleNamespace(
            get_default=lambda: store, get=lambda name, include_secrets=False: store
        ),
        workspaces=SimpleNamespace(
            get=lambda name: SimpleNamespace(mlflow_tracking_uri=tracking_uri)
        ),
    )


def bench_fetch(project: Project) -> dict[str, str]:
    binary = shutil.which("azurite-blob")
    if binary is None:
        raise CommandError("azurite-blob is not installed: `npm install -g azurite`")
    from azure.ai.ml import Output, command
    from azure.storage.blob import ContainerClient
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    from scripts.cloud.workspace import Workspace
    from scripts.results.fetch import Asked, Target, fetch
    from scripts.tracking.store import create_experiment, create_run, finish_run

    name = "bench_fetch_job"
    with tempfile.TemporaryDirectory(dir=project.runs) as scratch:
        folder = Path(scratch)
        store, artifacts = folder / "workspace.db", folder / "workspace-artifacts"
        make_store(store, artifacts)
        create_experiment(store, EXPERIMENT, (artifacts / EXPERIMENT).as_uri())
        create_run(store, EXPERIMENT, name, name, {})
        with (
            azurite(binary, folder) as url,
            serving(store, artifacts, free_port(), folder / "server.log") as server,
        ):
            client = MlflowClient(server.url)
            for key in range(FETCHED_METRICS):
                values = [Metric(f"m{key}", v / 7, v, v) for v in range(FETCHED_VALUES)]
                client.log_batch(name, metrics=values)
            finish_run(store, name, "FINISHED", time.time())  # MLflow's own call prints
            credential = {"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY}
            container = ContainerClient(url, "fetch", credential=credential)
            container.create_container()
            for index in range(5):
                blob = f"azureml/{name}/model/part-{index}.bin"
                container.upload_blob(blob, os.urandom(FETCHED_MB // 5 * MEGABYTE))
            job = command(
                name=name, command="python train.py", environment="azureml:bench:1",
                compute="azureml:cpu", experiment_name=EXPERIMENT,
                outputs={"model": Output(type="uri_folder")},
            )._to_job()  # fmt: skip
            job._status = "Completed"
            azure = _BenchAzureML(
                Workspace("0", "rg", "ws", None),
                _stand_in_client(job, "fetch", server.url),
                container,
            )
            home = Project(folder / "home")
            make_store(home.store, home.artifacts)  # a project's store exists once it ran

            def fetched(outputs: list[str]) -> float:
                started = time.perf_counter()
                asked = Asked(outputs=outputs, all_outputs=False, wait=False)
                fetch(home, azure, Target(name, None), asked)
                return time.perf_counter() - started

            whole = fetched(["model"])
            records = fetched([])  # again: the records alone, the output being there
    rate = FETCHED_MB * MEGABYTE / max(whole - records, 1e-6) / MEGABYTE
    return {
        "fetch": f"{seconds(whole)} ({FETCHED_METRICS} metrics x {FETCHED_VALUES} values and "
        f"a {FETCHED_MB} MB output; the output at {rate:.0f} MB/s)",
        "fetch again, records only": seconds(records),
    }


def bench_docker_overhead(project: Project, repeats: int) -> dict[str, str]:
    if docker("version").returncode != 0:
        raise CommandError("no Docker engine answers")
    missing = missing_base_images(project)
    if missing:
        raise CommandError(
            f"the base images {', '.join(missing)} are not on this machine: `just docker-base` "
            "builds local ones"
        )
    figures = {}
    for name, overrides in (
        ("docker overhead", OVERRIDES),
        ("docker overhead, no-op job", [*OVERRIDES, "command=true"]),
    ):
        plain = just_command("local", EXPERIMENT, *set_options(overrides))
        in_image = [*plain, "--docker"]
        report.note(f"warming up {name} (the first run may build the image)")
        timed(in_image, cwd=project.root)
        timed(plain, cwd=project.root)
        figures[name] = seconds(median_of(repeats, name, _difference(in_image, plain, project)))
    return figures


def _difference(first: list[str], second: list[str], project: Project) -> Callable[[], float]:
    """What measures the wall time of `first` minus that of `second`, run one after the other."""
    return lambda: timed(first, cwd=project.root) - timed(second, cwd=project.root)


def run_folders(project: Project) -> set[Path]:
    return {p.parent for p in project.runs.glob(f"{EXPERIMENT}/*/{ENVIRONMENT}")}


def parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="just bench", description=__doc__, formatter_class=RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=7, help="samples per figure (default 7)")
    parser.add_argument(
        "--record",
        action="store_true",
        help="also write the figures, with the commit and date, to docs/benchmarks.txt: the "
        "source of the docs' benchmarks page (commit it)",
    )
    return parser


def take(label: str, measure: Callable[[], dict[str, str]], taken: list[str]) -> None:
    """Take one measurement and print its figures at once (adding their lines to `taken`);
    if it cannot be taken, one line saying why, and the bench goes on with the next."""
    try:
        figures = measure()
    except (ToolingError, OSError) as error:
        why = str(from_os_error(error) if isinstance(error, OSError) else error)
        figures = {label: f"not measured ({why})"}
    for name, figure in figures.items():
        taken.append(f"{name}: {figure}")
        report.result(taken[-1])


def record(project: Project, taken: list[str]) -> None:
    """docs/benchmarks.txt: the figures, under the commit, date and machine they come from."""
    state = project.git.state()
    commit = "none" if state is None else state.commit[:7]
    if state and state.dirty:
        commit += " (with uncommitted changes)"
    header = {
        "commit": commit,
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
    }
    write_whole(project.bench_record, record_text(header, taken))
    report.note(f"figures recorded in {project.bench_record.relative_to(project.root)}")


def main(argv: Sequence[str], project: Project) -> int:
    arguments = parser()
    args = arguments.parse_args(argv)
    if args.repeats < 1:
        arguments.error("--repeats must be at least 1")
    repeats = args.repeats
    ensure_groups(project, [UI_GROUP], "the MLflow server (its figures)")
    before = run_folders(project)
    prepared: list[LocalRun] = []
    taken: list[str] = []

    def local() -> dict[str, str]:
        figures, run = bench_local(project, repeats)
        prepared.append(run)
        return figures

    def in_prepared(measure: Callable[[LocalRun], dict[str, str]]) -> Callable[[], dict[str, str]]:
        """`measure` of the run the local overhead prepared (its direct runs log there)."""

        def measured() -> dict[str, str]:
            if not prepared:
                raise CommandError("the example's run, which it logs into, was not prepared")
            return measure(prepared[0])

        return measured

    try:
        take("local overhead", local, taken)
        take("no-op local", lambda: bench_no_op_local(project, repeats), taken)
        take(
            "metric logging",
            in_prepared(lambda run: bench_metric_logging(run, run.environment)),
            taken,
        )
        take("tracking server", in_prepared(lambda run: bench_tracking_server(run, repeats)), taken)
        if prepared:
            assert prepared[0].manifest.tracking_run_id is not None
            prepared[0].store.finish_run(
                prepared[0].manifest.tracking_run_id, "FINISHED", time.time()
            )
        take("just runs", lambda: bench_runs_table(project, repeats), taken)
        take("iso", lambda: bench_iso(project, repeats), taken)
        take("pipeline", lambda: bench_pipeline(project, repeats), taken)
        take("sweep", lambda: bench_sweep(project, repeats), taken)
        take("aml dry run", lambda: bench_aml_dry_run(project, repeats), taken)
        take("uv lock", lambda: bench_lock(project, repeats), taken)
        take("data download", lambda: bench_data_download(project), taken)
        take("fetch", lambda: bench_fetch(project), taken)
        take("docker overhead", lambda: bench_docker_overhead(project, repeats), taken)
        ignored_folder = Path(IGNORED_DATA).parent
        leaked = [p for p in run_folders(project) - before if (p / ignored_folder).exists()]
        if leaked:
            raise CommandError(f"ignored data was copied into {leaked[0]}: check .amlignore")
    finally:
        for folder in run_folders(project) - before:
            shutil.rmtree(folder)
    if args.record:
        record(project, taken)
    return 0


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
