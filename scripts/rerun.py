"""`just rerun RUN_DIR`: run a run folder again, exactly as recorded, as a new run.

Everything comes from the folder: the code and environment/ it holds, and the command,
inputs and job environment variables in its run.json; not from the experiment's current
sources, which may have changed since.
"""

import dataclasses
import shutil
from collections.abc import Sequence
from pathlib import Path

from scripts.cli import ArgumentParser, run_cli
from scripts.environments import ensure_environment
from scripts.errors import UsageError
from scripts.local import assemble, run_tracked, terminate_on_sigterm
from scripts.manifest import MANIFEST, Manifest, read_manifest
from scripts.project import ROOT, check_name
from scripts.runfolder import LOGS, OUTPUTS, REQUIREMENTS, new_run_folder
from scripts.tracking import FALLBACK_STORE

# What a run produced, as opposed to what it was given.
_PRODUCED = (OUTPUTS, LOGS, MANIFEST, FALLBACK_STORE, f".{MANIFEST}.partial")


def recorded_run(argument: str) -> tuple[Path, Manifest]:
    folder = Path(argument) if Path(argument).is_absolute() else ROOT / argument
    hint = "pass a folder made by `just local`, e.g. runs/EXP/<run> (see `just runs`)"
    if not folder.is_dir():
        raise UsageError(f"{argument} is not a folder: {hint}")
    try:
        manifest = read_manifest(folder)
    except (OSError, ValueError, TypeError):
        raise UsageError(
            f"{argument} is not a run folder (no readable {MANIFEST}): {hint}"
        ) from None
    if not (folder / REQUIREMENTS).is_file():
        raise UsageError(f"{argument} has no {REQUIREMENTS}: {hint}")
    check_name(manifest.experiment)  # it names the folder the new run goes in
    return folder, manifest


def copy_inputs(source: Path, destination: Path) -> None:
    shutil.copytree(
        source, destination, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*_PRODUCED)
    )


def main(argv: Sequence[str]) -> int:
    parser = ArgumentParser(
        prog="just rerun",
        description="Run RUN_DIR again as a new run: same code, command, inputs and "
        "environment, all taken from the folder and its run.json. Exits with the job's code.",
    )
    parser.add_argument(
        "run_dir", metavar="RUN_DIR", help="e.g. runs/EXP/<run> (relative to the project)"
    )
    args = parser.parse_args(argv)
    terminate_on_sigterm()
    source, recorded = recorded_run(args.run_dir)
    requirements = (source / REQUIREMENTS).read_text()
    venv, built = ensure_environment(requirements, recorded.local_tracking_requirements)
    folder = new_run_folder(recorded.experiment, lambda run_dir: copy_inputs(source, run_dir))
    manifest = dataclasses.replace(
        recorded,
        run_name=folder.name,
        status="RUNNING",
        ended=None,
        duration_seconds=None,
        exit_code=None,
        tracking_run_id=None,
        metrics={},
        rerun_of=str(source),
    )
    return run_tracked(assemble(folder, venv, built, manifest))


if __name__ == "__main__":
    run_cli(main)
