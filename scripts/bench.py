"""`just bench`: what the tooling costs, one figure per line (`name: value unit`).

- local overhead: the median, over warm runs, of the wall time of `just local
  example_experiment` minus the time its resolved command took, run directly in the
  already-built environment by that same invocation. Measured within one run, the figure
  is free of the job's own run-to-run noise (±0.3 s here); as a cross-check the bench also
  runs the resolved command by itself, interleaved, and prints both medians.
- metric logging: 10 000 values logged with shared.tracking.MetricBuffer (batched
  `log_batch`), in the example's environment, against runs/mlflow.db.
- just runs (500 runs): `just runs` over 500 run folders' run.json files.
- iso / iso with 500 MB ignored: `just iso` wall time without and with a 500 MB file in an
  ignored folder of the experiment (ignored data must be neither read nor copied).
- aml dry run: `just aml example_experiment --dry-run` wall time: isolation plus loading,
  validating and printing the job with azure-ai-ml (whose import is most of it).

Bench runs log to their own MLflow experiment and their run folders are removed afterwards.
"""

import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from scripts.cli import ArgumentParser, run_cli
from scripts.errors import CommandError
from scripts.local import ENDED, LocalRun, prepare, shell_command
from scripts.manifest import Manifest
from scripts.project import EXPERIMENTS_DIR, ROOT, RUNS_DIR, TRACKING_STORE

EXPERIMENT = "example_experiment"
OVERRIDES = ["inputs.epochs=1", f"experiment_name=bench-{EXPERIMENT}"]
IGNORED_FILE = EXPERIMENTS_DIR / EXPERIMENT / "data" / "bench-500MB.bin"
MEGABYTE = 1024 * 1024


def seconds(value: float) -> str:
    return f"{value:.3f} s"


def timed_with_stderr(
    command: Sequence[str], cwd: Path, env: dict[str, str] | None = None
) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise CommandError(f"bench step {' '.join(command[:3])} failed: {result.stderr.strip()}")
    return elapsed, result.stderr


def timed(command: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    return timed_with_stderr(command, cwd, env)[0]


def median_of(repeats: int, label: str, measure: Callable[[], float]) -> float:
    samples = []
    for index in range(repeats):
        print(f"  {label} {index + 1}/{repeats}", file=sys.stderr, flush=True)
        samples.append(measure())
    return statistics.median(samples)


def just_command(*args: str) -> list[str]:
    just = shutil.which("just")
    if not just:
        raise CommandError("just is not on PATH: run `uv run just bench`")
    return [just, *args]


def bench_local(repeats: int) -> tuple[dict[str, str], LocalRun]:
    sets = [arg for override in OVERRIDES for arg in ("--set", override)]
    through_just = just_command("local", EXPERIMENT, *sets)
    print("warming up (the first run may build the environment)", file=sys.stderr)
    timed(through_just, cwd=ROOT)
    direct = prepare(EXPERIMENT, OVERRIDES)
    just_times: list[float] = []
    overheads: list[float] = []
    direct_times: list[float] = []
    for index in range(repeats):
        print(f"  local run {index + 1}/{repeats}", file=sys.stderr, flush=True)
        elapsed, stderr = timed_with_stderr(through_just, cwd=ROOT)
        ended = ENDED.search(stderr)
        if not ended:
            raise CommandError("`just local` did not report its job's duration")
        just_times.append(elapsed)
        overheads.append(elapsed - float(ended[1]))
        direct_times.append(timed(shell_command(direct), cwd=direct.folder, env=direct.environment))
    figures = {
        "just local (median)": seconds(statistics.median(just_times)),
        "direct command (median)": seconds(statistics.median(direct_times)),
        "local overhead": seconds(statistics.median(overheads)),
    }
    return figures, direct


METRIC_VALUES = 10_000
METRIC_LOGGING = f"""
import time, mlflow
from shared.tracking import MetricBuffer
with mlflow.start_run():
    start = time.perf_counter()
    with MetricBuffer() as buffer:
        for step in range({METRIC_VALUES}):
            buffer.add("loss", 1.0 / (step + 1), step)
    print(time.perf_counter() - start)
"""


def bench_metric_logging(run: LocalRun) -> dict[str, str]:
    print(f"logging {METRIC_VALUES} metric values", file=sys.stderr, flush=True)
    python = str(Path(run.environment["VIRTUAL_ENV"]) / "bin" / "python")
    result = subprocess.run(
        [python, "-c", METRIC_LOGGING],
        cwd=run.folder,
        env=run.environment,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise CommandError(f"metric logging failed: {result.stderr.strip().splitlines()[-1:]}")
    elapsed = float(result.stdout.split()[-1])
    return {"metric logging": f"{METRIC_VALUES} values in {seconds(elapsed)}"}


TABLE_RUNS = 500
TABLE_EXPERIMENT = "bench-runs-table"


def bench_runs_table(repeats: int) -> dict[str, str]:
    """`just runs` over TABLE_RUNS synthetic run folders of their own experiment name."""
    folder = RUNS_DIR / TABLE_EXPERIMENT
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
                tracking_store=str(TRACKING_STORE),
                started="2026-01-01T00:00:00+00:00",
                status="FINISHED",
                duration_seconds=1.5,
                exit_code=0,
                metrics={"accuracy": 0.9, "loss": 0.1, "f1": 0.8, "recall": 0.7},
            ).write(folder / name)
        table = just_command("runs", TABLE_EXPERIMENT)
        elapsed = median_of(repeats, "just runs", lambda: timed(table, cwd=ROOT))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {f"just runs ({TABLE_RUNS} runs)": seconds(elapsed)}


def bench_iso(repeats: int) -> dict[str, str]:
    iso = just_command("iso", EXPERIMENT)
    figures = {"iso": seconds(median_of(repeats, "iso", lambda: timed(iso, cwd=ROOT)))}
    IGNORED_FILE.parent.mkdir(parents=True, exist_ok=True)
    try:
        with IGNORED_FILE.open("wb") as file:
            block = b"\0" * MEGABYTE
            for _ in range(500):
                file.write(block)
        figures["iso with 500 MB ignored"] = seconds(
            median_of(repeats, "iso with 500 MB ignored", lambda: timed(iso, cwd=ROOT))
        )
    finally:
        IGNORED_FILE.unlink(missing_ok=True)
    return figures


def bench_aml_dry_run(repeats: int) -> dict[str, str]:
    dry_run = just_command("aml", EXPERIMENT, "--dry-run", "--set", "compute=azureml:bench")
    elapsed = median_of(repeats, "aml dry run", lambda: timed(dry_run, cwd=ROOT))
    return {"aml dry run": seconds(elapsed)}


def run_folders() -> set[Path]:
    return {p.parent for p in RUNS_DIR.glob(f"{EXPERIMENT}/*/environment")}


def main(argv: Sequence[str]) -> int:
    parser = ArgumentParser(prog="just bench", description=__doc__)
    parser.add_argument("--repeats", type=int, default=7, help="samples per figure (default 7)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    before = run_folders()
    try:
        figures, prepared = bench_local(args.repeats)
        figures |= bench_metric_logging(prepared)
        figures |= bench_runs_table(args.repeats) | bench_iso(args.repeats)
        figures |= bench_aml_dry_run(args.repeats)
        leaked = [p for p in run_folders() - before if (p / IGNORED_FILE.parent.name).exists()]
        if leaked:
            raise CommandError(f"ignored data was copied into {leaked[0]}: check .amlignore")
    finally:
        for folder in run_folders() - before:
            shutil.rmtree(folder)
    for name, figure in figures.items():
        print(f"{name}: {figure}")
    return 0


if __name__ == "__main__":
    run_cli(main)
