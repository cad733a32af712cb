"""A run folder made before, as `just rerun` takes it: found from the user's argument,
checked, and copied into a new run folder without what the earlier run produced."""

import shutil
from collections.abc import Sequence
from pathlib import Path

from scripts.console import report
from scripts.console.errors import UsageError
from scripts.project.experiments import check_name
from scripts.project.layout import Project
from scripts.runfolder.layout import (
    CODE,
    MANIFEST,
    PRODUCED,
    PRODUCED_IN_CODE,
    REQUIREMENTS,
    step_folder,
)
from scripts.runfolder.manifest import PIPELINE, SWEEP, Manifest, read_manifest


def recorded_run(project: Project, argument: str) -> tuple[Path, Manifest]:
    """The run folder `argument` names (relative to the project, or absolute) and its
    manifest; a UsageError saying what to pass otherwise."""
    folder = Path(argument) if Path(argument).is_absolute() else project.root / argument
    hint = "pass a folder made by `just local`, e.g. runs/EXP/<run> (see `just runs`)"
    if not folder.is_dir():
        raise UsageError(f"{argument} is not a folder: {hint}")
    try:
        manifest = read_manifest(folder)
    except (OSError, ValueError, TypeError):
        if (folder / REQUIREMENTS).is_file() and not (folder / MANIFEST).exists():
            raise UsageError(
                f"{argument} was made by `just iso` and has not run, so there is nothing to "
                f"repeat: run `just local {folder.parent.name}`"
            ) from None
        raise UsageError(
            f"{argument} is not a run folder (no readable {MANIFEST}): {hint}"
        ) from None
    if manifest.kind == SWEEP:
        raise UsageError(
            f"{argument} is a sweep's run folder, which is not run again: rerun one of its "
            f"trials (runs/{manifest.experiment}/{folder.name}/{step_folder('TRIAL')}, see "
            f"`just runs`) or the sweep (`just local {manifest.experiment} -f "
            f"{manifest.job_file}`)"
        )
    if manifest.kind == PIPELINE:
        for step in manifest.steps:
            if not (folder / step_folder(step) / MANIFEST).is_file():
                raise UsageError(
                    f"{argument}: its step {step!r} was never recorded (its runner was killed "
                    f"first), so it cannot be repeated: run the pipeline again with "
                    f"`just local {manifest.experiment} -f {manifest.job_file}`"
                )
    if not (folder / REQUIREMENTS).is_file():
        raise UsageError(f"{argument} has no {REQUIREMENTS}: {hint}")
    check_name(manifest.experiment)  # it names the folder the new run goes in
    return folder, manifest


def copy_given(source: Path, destination: Path, steps: Sequence[str] = ()) -> None:
    """What run folder `source` was given (code, shared, environment/, job.yaml; a
    pipeline's: those of each of its `steps` too) into `destination`: everything but what
    running it produced, at the top and in the code root. A run folder holds no links
    (isolation copies their targets): one placed there since is left out, never followed."""
    runs = [source, *(source / step_folder(step) for step in steps)]
    produced_in = {run: set(PRODUCED) for run in runs}
    produced_in |= {run / CODE: set(PRODUCED_IN_CODE) for run in runs}

    def left_out(folder: str, names: list[str]) -> set[str]:
        links = {name for name in names if (Path(folder) / name).is_symlink()}
        for name in sorted(links):
            shown = (Path(folder) / name).relative_to(source).as_posix()
            report.warning(f"not copied, a symbolic link: {shown}")
        return links | produced_in.get(Path(folder), set()).intersection(names)

    shutil.copytree(source, destination, dirs_exist_ok=True, ignore=left_out)
