"""A sweep's run folder (layout.py): laid out as a command job's (the trial's code root,
the build context, the sweep file as job.yaml), with one folder per trial as it starts,
itself a command job's run folder: a copy of the sweep's code root and build context,
and job.yaml, the command job the trial runs (its search-space values written in)."""

import shutil
from pathlib import Path

import yaml

from scripts.jobspec.job import JobDict
from scripts.runfolder.layout import CODE, ENVIRONMENT, JOB_SPEC, step_folder


def trial_name(sweep_run: str, index: int) -> str:
    """Trial `index` (from 1) of sweep run `sweep_run`, named as Azure ML names it."""
    return f"{sweep_run}_{index}"


def trial_index(name: str) -> int:
    """The index of the trial `name` (trial_name's)."""
    return int(name.rpartition("_")[2])


def trial_label(name: str) -> str:
    """`trial 3`, as the terminal names the trial `name`."""
    return f"trial {trial_index(name)}"


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
