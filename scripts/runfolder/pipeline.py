"""A pipeline's run folder (layout.py): the pipeline file and its experiment's build
context, one step folder per step holding exactly what Azure ML gives that step (its
component's code root, with shared code, and the build context of the experiment its
component file is in), and PIPELINE_SPEC, the pipeline as azure-ai-ml loads it from there.
`just iso`, `just local` and `just aml` all make it this way."""

import copy
import dataclasses
import posixpath
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from scripts.console.errors import UsageError
from scripts.jobspec.inputs import is_remote, local_input_path
from scripts.jobspec.job import BUILD_CONTEXT, JobDict
from scripts.jobspec.overrides import apply_overrides, parse_override
from scripts.jobspec.pipeline import Pipeline, Step, check_step_overrides, read_pipeline
from scripts.project.layout import Project
from scripts.runfolder.isolate import (
    Source,
    check_source,
    fill_run_folder,
    new_run_folder,
    write_build_context,
)
from scripts.runfolder.layout import (
    CODE,
    ENVIRONMENT,
    JOB_SPEC,
    PIPELINE_SPEC,
    nested_spec,
    step_folder,
)


@dataclass(frozen=True)
class StepSource:
    """A step's component as an experiment's job: the experiment whose folder holds its
    component file (whose dependencies and build context the step gets), with the
    component as its job, and the component's code root in that experiment."""

    step: Step
    source: Source
    code: str | None


@dataclass(frozen=True)
class CheckedPipeline:
    """A pipeline job file read, its `--set`s applied, and each step's source found."""

    source: Source
    pipeline: Pipeline
    steps: dict[str, StepSource]


def check_pipeline_source(
    project: Project,
    experiment: str,
    job_file: str,
    overrides: Sequence[str],
    cloud: bool = False,
) -> CheckedPipeline:
    """The pipeline job file `job_file` of `experiment` with `--set` `overrides`: read,
    its graph and its components checked; nothing is written. With `cloud` (to submit it),
    the steps only Azure ML runs are kept, as written."""
    parsed = [parse_override(text) for text in overrides]
    source = check_source(project, experiment, job_file, any_job=True)
    check_step_overrides(source.job, [override.path for override in parsed], source.job_file)
    document = apply_overrides(source.job, parsed, source.job_file)
    pipeline = read_pipeline(document, source.job_file, project.root, cloud)
    return CheckedPipeline(source, pipeline, step_sources(project, source, pipeline))


def step_sources(
    project: Project, pipeline_source: Source, pipeline: Pipeline
) -> dict[str, StepSource]:
    """Each step's StepSource, in the pipeline's order; a UsageError for a component file
    that is not in an experiment's folder, or whose code is not a folder inside it."""
    sources = {}
    for name in pipeline.order:
        step = pipeline.steps[name]
        if step.kind == "cloud":  # nothing of it is isolated: it goes as written
            continue
        base = (
            pipeline_source
            if step.component_file == pipeline_source.job_file
            else _experiment_of(project, step)
        )
        source = dataclasses.replace(base, job=step.component)
        sources[name] = StepSource(step, source, source.code(step.component))
    return sources


def _experiment_of(project: Project, step: Step) -> Source:
    experiments = project.experiments.resolve()
    if not step.component_file.is_relative_to(experiments):
        raise UsageError(
            f"step {step.name!r}: component {step.component_file} is not in an experiment's "
            "folder: a step runs in the environment of the experiment that holds its component"
        )
    experiment, *inside = step.component_file.relative_to(experiments).parts
    return check_source(project, experiment, Path(*inside).as_posix(), any_job=True)


def create_pipeline_folder(project: Project, experiment: str, job_file: str) -> Path:
    """A new run folder holding the pipeline `job_file` of `experiment`."""
    checked = check_pipeline_source(project, experiment, job_file, [])
    with new_run_folder(project, experiment) as folder:
        fill_pipeline_folder(folder, checked.source, checked.pipeline, checked.steps)
    return folder


def fill_pipeline_folder(
    folder: Path, pipeline_source: Source, pipeline: Pipeline, steps: dict[str, StepSource]
) -> None:
    """The pipeline's run folder in the new, empty `folder`."""
    shutil.copyfile(pipeline_source.job_file, folder / JOB_SPEC)
    write_build_context(folder / ENVIRONMENT, pipeline_source)
    for name, step in steps.items():
        (folder / step_folder(name)).mkdir(parents=True)
        fill_run_folder(folder / step_folder(name), step.source, step.code)
    for name, document in placed_pipeline(pipeline, steps).items():
        (folder / name).write_text(yaml.safe_dump(document, sort_keys=False))


def placed_pipeline(pipeline: Pipeline, steps: dict[str, StepSource]) -> dict[str, JobDict]:
    """The pipeline as the SDK loads it from the run folder: PIPELINE_SPEC, each step's
    component inlined, its code and the scaffolding's build context pointing at the step's
    folder; and each nested pipeline's component, which the SDK takes from a file only, as
    nested_spec(NAME), placed alike. Each document by its path in the run folder: what `just
    aml` submits and what the SDK checks `just local` against."""
    document = copy.deepcopy(pipeline.document)
    _anchor_local_data(document, pipeline.file.parent)
    placed = {PIPELINE_SPEC: document}
    _place_jobs(placed, PIPELINE_SPEC, document["jobs"], "", pipeline, steps, pipeline.file)
    return placed


def _place_jobs(
    placed: dict[str, JobDict],
    at: str,
    jobs: JobDict,
    prefix: str,
    pipeline: Pipeline,
    steps: dict[str, StepSource],
    file: Path,
) -> None:
    """`jobs` (written in `file`; a nested pipeline's: their names after `prefix`) placed in
    the document that goes to `at` in the run folder (paths in it are taken from there)."""
    here = PurePosixPath(at).parent
    for key, spec in jobs.items():
        name = f"{prefix}{key}"
        _anchor_local_data(spec, file.parent)
        if name in pipeline.nested:
            component, component_file = pipeline.nested[name]
            nested = copy.deepcopy(component)
            nested.pop("$schema", None)
            placed[nested_spec(name)] = nested
            jobs_of = nested["jobs"]
            _place_jobs(
                placed, nested_spec(name), jobs_of, f"{name}.", pipeline, steps, component_file
            )
            spec["component"] = _relative(nested_spec(name), here)
            continue
        if name not in steps:  # a cloud step: its local files named from where they are
            _anchor_local_files(spec, file.parent)
            continue
        source = steps[name]
        key = "trial" if source.step.kind == "sweep" else "component"
        inline = key not in spec  # the step is its own component
        component = spec if inline else copy.deepcopy(source.step.component)
        if source.code is not None:
            component["code"] = _relative(f"{step_folder(name)}/{CODE}", here)
        environment = component.get("environment")
        build = environment.get("build") if isinstance(environment, dict) else None
        if isinstance(build, dict) and str(build.get("path", "")).strip("./") == BUILD_CONTEXT:
            build["path"] = _relative(f"{step_folder(name)}/{ENVIRONMENT}", here)
        if not inline:
            component.pop("$schema", None)
            spec[key] = component


def _relative(path: str, folder: PurePosixPath) -> str:
    """`path` (in the run folder) as a document in `folder` of it names it."""
    return posixpath.relpath(path, folder.as_posix() or ".")


def _anchor_local_files(spec: JobDict, base: Path) -> None:
    """A cloud step's component (or a sweep step's trial) given by a local file, by its
    absolute path: the SDK takes relative ones from the file's folder, not the run
    folder's."""
    for key in ("component", "trial"):
        value = spec.get(key)
        if isinstance(value, str) and not value.startswith("azureml:"):
            spec[key] = str((base / value.removeprefix("file:")).resolve())


def _anchor_local_data(job: JobDict, base: Path) -> None:
    """Each local data input of `job` (the pipeline's or a step's) given by its absolute
    path: the SDK takes relative ones from the file's folder, the pipeline file's `base`,
    not the run folder's."""
    for spec in (job.get("inputs") or {}).values():
        path = spec.get("path") if isinstance(spec, dict) else None
        if isinstance(path, str) and not is_remote(path) and "${{" not in path:
            spec["path"] = str(local_input_path(base, path))
