"""`just bench`: what the tooling costs, one figure per line (`name: value unit`).

- local overhead: the median, over interleaved pairs, of the wall time of a warm
  `just local example_experiment` minus that of the same resolved command run directly in
  the already-built environment.
- iso / iso with 500 MB ignored: `just iso` wall time without and with a 500 MB file in an
  ignored folder of the experiment (ignored data must be neither read nor copied).

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
from scripts.local import prepare, shell_command
from scripts.project import EXPERIMENTS_DIR, ROOT, RUNS_DIR

EXPERIMENT = "example_experiment"
OVERRIDES = ["inputs.epochs=1", f"experiment_name=bench-{EXPERIMENT}"]
IGNORED_FILE = EXPERIMENTS_DIR / EXPERIMENT / "data" / "bench-500MB.bin"
MEGABYTE = 1024 * 1024


def timed(command: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise CommandError(f"bench step {' '.join(command[:3])} failed: {result.stderr.strip()}")
    return elapsed


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


def bench_local(repeats: int) -> dict[str, float]:
    sets = [arg for override in OVERRIDES for arg in ("--set", override)]
    through_just = just_command("local", EXPERIMENT, *sets)
    print("warming up (the first run may build the environment)", file=sys.stderr)
    timed(through_just, cwd=ROOT)
    direct = prepare(EXPERIMENT, OVERRIDES)
    just_times: list[float] = []
    direct_times: list[float] = []
    for index in range(repeats):  # interleaved, so drift affects both alike
        print(f"  local run pair {index + 1}/{repeats}", file=sys.stderr, flush=True)
        just_times.append(timed(through_just, cwd=ROOT))
        direct_times.append(timed(shell_command(direct), cwd=direct.folder, env=direct.environment))
    return {
        "just local (median)": statistics.median(just_times),
        "direct command (median)": statistics.median(direct_times),
        "local overhead": statistics.median(
            j - d for j, d in zip(just_times, direct_times, strict=True)
        ),
    }


def bench_iso(repeats: int) -> dict[str, float]:
    iso = just_command("iso", EXPERIMENT)
    figures = {"iso": median_of(repeats, "iso", lambda: timed(iso, cwd=ROOT))}
    IGNORED_FILE.parent.mkdir(parents=True, exist_ok=True)
    try:
        with IGNORED_FILE.open("wb") as file:
            block = b"\0" * MEGABYTE
            for _ in range(500):
                file.write(block)
        figures["iso with 500 MB ignored"] = median_of(
            repeats, "iso with 500 MB ignored", lambda: timed(iso, cwd=ROOT)
        )
    finally:
        IGNORED_FILE.unlink(missing_ok=True)
    return figures


def run_folders() -> set[Path]:
    return {p.parent for p in RUNS_DIR.glob(f"{EXPERIMENT}/*/environment")}


def main(argv: Sequence[str]) -> int:
    parser = ArgumentParser(prog="just bench", description=__doc__)
    parser.add_argument("--repeats", type=int, default=11, help="samples per figure (default 11)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    before = run_folders()
    try:
        figures = bench_local(args.repeats) | bench_iso(args.repeats)
        leaked = [p for p in run_folders() - before if (p / IGNORED_FILE.parent.name).exists()]
        if leaked:
            raise CommandError(f"ignored data was copied into {leaked[0]}: check .amlignore")
    finally:
        for folder in run_folders() - before:
            shutil.rmtree(folder)
    for name, seconds in figures.items():
        print(f"{name}: {seconds:.3f} s")
    return 0


if __name__ == "__main__":
    run_cli(main)
