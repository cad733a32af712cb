"""A sweep's run folder (layout.py): laid out as a command job's (the trial's code root,
the build context, the sweep file as job.yaml), with one folder per trial as it starts,
itself a command job's run folder: a copy of the sweep's code root and build context,
and job.yaml, the command job the trial runs (its search-space values written in). When
the sweep ends, its best trial's outputs are placed as the sweep's own, in its code root
(hard links where the disk allows, so no bytes are copied)."""

import os
import shutil
from pathlib import Path

import yaml

from scripts.jobspec.job import JobDict
from scripts.runfolder.layout import CODE, ENVIRONMENT, JOB_SPEC, output_folder, step_folder


def trial_name(sweep_run: str, index: int) -> str:
    """Trial `index` (from 1) of sweep run `sweep_run`, named as Azure ML names it."""
    return f"{sweep_run}_{index}"


def trial_index(name: str) -> int:
    """The index of the trial `name` (trial_name's)."""
    return int(name.rpartition("_")[2])


def make_trial_folder(sweep_folder: Path, name: str, job: JobDict) -> Path:
    """The folder of the sweep's trial `name`, which runs the command job `job`; removed
    again if it cannot be made whole."""
    folder = sweep_folder / step_folder(name)
    folder.parent.mkdir(exist_ok=True)
    folder.mkdir()
    try:
        for part in (CODE, ENVIRONMENT):
            shutil.copytree(sweep_folder / part, folder / part, symlinks=True)
        (folder / JOB_SPEC).write_text(yaml.safe_dump(job, sort_keys=False))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


def place_best_outputs(sweep_folder: Path, best: Path, outputs: list[str]) -> dict[str, str]:
    """The declared `outputs` of the best trial (in its folder `best`) placed as the sweep's,
    in its code root, where the steps bound to a sweep step find them; each output's folder,
    relative to `sweep_folder`."""
    placed = {}
    for output in outputs:
        source = best / CODE / output_folder(output)
        destination = sweep_folder / CODE / output_folder(output)
        if source.is_dir():
            shutil.copytree(source, destination, copy_function=_linked, dirs_exist_ok=True)
        else:
            destination.mkdir(parents=True, exist_ok=True)
        placed[output] = os.path.relpath(destination, sweep_folder)
    return placed


def _linked(source: str, destination: str) -> None:
    """`source` at `destination` as a hard link, or a copy where the disk has none."""
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)
