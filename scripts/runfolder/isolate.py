"""Making a run folder: an experiment checked, then its code root (the job's `code:`) copied
with shared code, next to its Docker build context, into a new, uniquely named
runs/EXPERIMENT/RUN/ (layout.py)."""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scripts.console import report
from scripts.console.errors import UsageError
from scripts.jobspec.job import JobDict, code_of, load_job, load_job_document
from scripts.project.cache import derived
from scripts.project.experiments import JobImage, experiment_dir, read_package
from scripts.project.layout import JOB_FILE_NAME, Project
from scripts.project.uv import member_requirements
from scripts.runfolder.dockerfile import render_dockerfile
from scripts.runfolder.layout import (
    CODE,
    DOCKERFILE_NAME,
    ENVIRONMENT,
    JOB_SPEC,
    PYTHON_VERSION_NAME,
    REQUIREMENTS_NAME,
    shared_folder,
)
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
    image: JobImage  # what it adds to its job image

    def code(self, job: JobDict) -> str | None:
        """The code root of `job` (this source's job after `--set`), relative to `folder`;
        None for a job without code. A UsageError when `shared` would clash with it."""
        code = code_of(job, self.job_file, self.folder)
        if code is not None and self.uses_shared:
            clash = self.folder / code / shared_folder(code)
            if clash.exists():
                raise UsageError(f"{clash} is where the run folder puts `shared`: rename it")
        return code


def check_source(
    project: Project, experiment: str, job_file: str = JOB_FILE_NAME, any_job: bool = False
) -> Source:
    """Experiment `experiment` with its job spec `job_file` (`-f`, a path inside it): a
    command job, or with `any_job` one of any type (the SDK checks it)."""
    folder = experiment_dir(project, experiment)
    path = job_file_in(folder, job_file)
    job = (
        job_document(project, path)
        if any_job
        else derived(project, "job", path, lambda: load_job(path))
    )
    package = read_package(project, folder)
    if (folder / ENVIRONMENT).exists():  # `build: path: environment` names the run folder's
        raise UsageError(f"{folder / ENVIRONMENT} clashes with the run-folder layout: rename it")
    return Source(
        project=project,
        name=experiment,
        folder=folder,
        job_file=path,
        job=job,
        requirements=member_requirements(project, package.name, folder),
        uses_shared=package.depends_on(read_package(project, project.shared).name),
        image=package.image,
    )


def experiment_job(project: Project, experiment: str, job_file: str) -> JobDict:
    """The job YAML `-f job_file` of `experiment`, of any type, as a document (kept in
    runs/.cache/): what a command reads to tell a pipeline from a command job."""
    return job_document(project, job_file_in(experiment_dir(project, experiment), job_file))


def job_document(project: Project, path: Path) -> JobDict:
    return derived(project, "job-document", path, lambda: load_job_document(path))


def job_file_in(folder: Path, given: str) -> Path:
    """The job file `-f given` names, refused unless inside the experiment `folder`."""
    path = folder / given
    if not path.resolve().is_relative_to(folder.resolve()):
        raise UsageError(f"-f {given} is outside {folder}: give a job YAML inside it")
    if path.is_dir():
        raise UsageError(f"-f {given}: {given} is a folder: give a job YAML file inside it")
    if given != JOB_FILE_NAME and not path.is_file():
        raise UsageError(f"{path} does not exist: check -f/--file")
    return path


def create_run_folder(source: Source) -> Path:
    """A new run folder holding `source`."""
    code = source.code(source.job)
    with new_run_folder(source.project, source.name) as run_dir:
        fill_run_folder(run_dir, source, code)
    return run_dir


@contextmanager
def new_run_folder(project: Project, experiment: str) -> Iterator[Path]:
    """A new, uniquely named, empty folder in runs/EXPERIMENT/ for the block to fill; if the
    block fails (Ctrl-C included), the folder is removed: nothing half-made is left."""
    parent = project.runs / experiment
    if parent.is_symlink() or not project.reached_without_links(parent):
        raise UsageError(
            f"{parent} is a symbolic link: run folders are made only inside "
            f"{project.runs}; remove the link (rm {parent})"
        )
    run_dir = _new_empty_folder(parent)
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


def fill_run_folder(run_dir: Path, source: Source, code: str | None) -> None:
    """Copy the code root `code` (source.code()) with the shared code it depends on, the
    job file, and the Docker build context."""
    (run_dir / CODE).mkdir()
    if code is not None:
        _copy_code(run_dir / CODE, source, code)
    shutil.copyfile(source.job_file, run_dir / JOB_SPEC)
    write_build_context(run_dir / ENVIRONMENT, source)


def write_build_context(folder: Path, source: Source) -> None:
    """The job image's Docker build context, as Azure ML builds it, into new `folder`:
    docker/Dockerfile with the experiment's [tool.job-image], .python-version and the
    experiment's requirements."""
    folder.mkdir()
    template = source.project.dockerfile.read_bytes().decode()  # line endings included
    (folder / DOCKERFILE_NAME).write_bytes(render_dockerfile(template, source.image).encode())
    shutil.copyfile(source.project.python_version_file, folder / PYTHON_VERSION_NAME)
    (folder / REQUIREMENTS_NAME).write_text(source.requirements)


def _copy_code(destination: Path, source: Source, code: str) -> None:
    """The code root as Azure ML uploads it: its own ignore file applies, and so does the
    experiment's when the code root is below it (what it keeps out stays out)."""
    project = source.project
    rules = [IgnoreRules.of(source.folder / code)]
    if code != ".":
        rules.append(IgnoreRules.of(source.folder, f"{code}/"))
    skipped = copy_tree(source.folder / code, destination, tuple(rules), project.root)
    if source.uses_shared:
        # Its own ignore file, and the code root's, which Azure ML applies to all it uploads.
        place = shared_folder(code)
        package = project.shared_package.relative_to(project.shared).as_posix()
        shared_rules = (
            IgnoreRules.of(project.shared, f"{package}/"),
            *(rule.deeper(f"{place}/") for rule in rules),
        )
        in_shared = copy_tree(
            project.shared_package, destination / place, shared_rules, project.root
        )
        skipped += [Skipped(place / s.path, s.reason) for s in in_shared]
    for left_out in skipped:
        report.warning(f"not copied, {left_out.reason}: {left_out.path}")
