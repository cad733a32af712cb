"""Making a run folder: an experiment checked, then copied with shared code and its Docker
build context into a new, uniquely named runs/EXPERIMENT/RUN/."""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scripts.console import report
from scripts.console.errors import UsageError
from scripts.jobspec.job import JobDict, load_job
from scripts.project.cache import derived
from scripts.project.experiments import experiment_dir, read_package
from scripts.project.layout import JOB_FILE_NAME, Project
from scripts.project.uv import export_requirements
from scripts.runfolder.layout import DOCKERFILE, PYTHON_VERSION, REQUIREMENTS, RESERVED, SHARED
from scripts.runfolder.names import new_run_name
from scripts.runfolder.snapshot import IgnoreRules, Skipped, copy_tree


@dataclass(frozen=True)
class Source:
    """An experiment checked and ready to isolate; nothing is written yet."""

    project: Project
    name: str
    folder: Path
    job_file: Path  # inside `folder`
    job: JobDict
    requirements: str
    uses_shared: bool


def check_source(project: Project, experiment: str, job_file: str = JOB_FILE_NAME) -> Source:
    """Experiment `experiment` with its job spec `job_file` (`-f`, a path inside it)."""
    folder = experiment_dir(project, experiment)
    path = job_file_in(folder, job_file)
    job = derived(project, "job", path, lambda: load_job(path))
    package = read_package(project, folder)
    for reserved in RESERVED:
        if (folder / reserved).exists():
            raise UsageError(f"{folder / reserved} clashes with the run-folder layout: rename it")
    return Source(
        project=project,
        name=experiment,
        folder=folder,
        job_file=path,
        job=job,
        requirements=export_requirements(project, "--package", package.name),
        uses_shared=package.depends_on(read_package(project, project.shared).name),
    )


def job_file_in(folder: Path, given: str) -> Path:
    """The job file `-f given` names, refused unless inside the experiment `folder`."""
    path = folder / given
    if not path.resolve().is_relative_to(folder.resolve()):
        raise UsageError(f"-f {given} is outside {folder}: give a job YAML inside it")
    if given != JOB_FILE_NAME and not path.is_file():
        raise UsageError(f"{path} does not exist: check -f/--file")
    return path


def create_run_folder(source: Source) -> Path:
    """A new run folder holding `source`."""
    with new_run_folder(source.project, source.name) as run_dir:
        fill_run_folder(run_dir, source)
    return run_dir


@contextmanager
def new_run_folder(project: Project, experiment: str) -> Iterator[Path]:
    """A new, uniquely named, empty folder in runs/EXPERIMENT/ for the block to fill; if the
    block fails (Ctrl-C included), the folder is removed: nothing half-made is left."""
    run_dir = _new_empty_folder(project.runs / experiment)
    try:
        yield run_dir
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise


def _new_empty_folder(parent: Path) -> Path:
    parent.mkdir(parents=True, exist_ok=True)
    while True:
        candidate = parent / new_run_name()
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue


def fill_run_folder(run_dir: Path, source: Source) -> None:
    """Copy the experiment, shared code it depends on, and the Docker build context."""
    project = source.project
    rules = IgnoreRules.of(source.folder)
    skipped = copy_tree(source.folder, run_dir, (rules,), project.root)
    if source.uses_shared:
        # Its own ignore file, and the run folder's, which Azure ML applies to all it uploads.
        package = project.shared_package.relative_to(project.shared).as_posix()
        shared_rules = (IgnoreRules.of(project.shared, f"{package}/"), rules.under(f"{SHARED}/"))
        in_shared = copy_tree(project.shared_package, run_dir / SHARED, shared_rules, project.root)
        skipped += [Skipped(SHARED / s.path, s.reason) for s in in_shared]
    for left_out in skipped:
        report.warning(f"not copied, {left_out.reason}: {left_out.path}")
    (run_dir / REQUIREMENTS).parent.mkdir()
    shutil.copyfile(project.dockerfile, run_dir / DOCKERFILE)
    shutil.copyfile(project.python_version_file, run_dir / PYTHON_VERSION)
    (run_dir / REQUIREMENTS).write_text(source.requirements)
