"""The Azure ML job for a run folder, built and validated by `azure-ai-ml` itself, offline."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from scripts.console.errors import UsageError
from scripts.jobspec.inputs import is_remote, local_input_path
from scripts.jobspec.job import JobDict
from scripts.jobspec.overrides import Override
from scripts.jobspec.schema import job_document, load, load_pipeline, relocated, validate
from scripts.project.git import GitState
from scripts.project.settings import is_placeholder
from scripts.runfolder.layout import CODE, ENVIRONMENT, PIPELINE_SPEC

if TYPE_CHECKING:
    from azure.ai.ml.entities import PipelineJob

    from scripts.jobspec.schema import AmlJob


def build_job(
    run_folder: Path,
    job_file: Path,
    document: JobDict,
    overrides: list[Override],
    git: GitState | None,
    description: str | None = None,
) -> "AmlJob":
    """Load `job_file` (the experiment's: relative input paths are taken from its folder
    and uploaded from there, as the SDK does) with the SDK, apply `--set` overrides as
    `az ml job create` does, take its code and the scaffolding's build context from the
    run folder, name the job after it, tag and describe it, validate it and refuse
    placeholders and local inputs that do not exist. `document` is the job file's YAML
    with the overrides applied."""
    moving = relocated(document, run_folder / CODE, run_folder / ENVIRONMENT)
    job = load(job_file, overrides + moving)
    job.name = run_folder.name
    job.experiment_name = job.experiment_name or experiment_of(run_folder)
    job.tags = {**(job.tags or {}), **job_tags(run_folder.name, git)}
    if description:
        job.description = description
    validate(job, job_file.name)
    _check_local_inputs(document, job_file)
    _refuse_placeholders(job, job_file.name)
    return job


def build_pipeline_job(
    run_folder: Path, git: GitState | None, description: str | None = None
) -> "PipelineJob":
    """The pipeline job of a pipeline's run folder as the SDK loads it from there (every
    step's code and build context in the run folder: runfolder/pipeline.py), named after
    the folder, tagged, described, validated, and refused with a placeholder left."""
    job = load_pipeline(run_folder / PIPELINE_SPEC)
    job.name = run_folder.name
    job.experiment_name = job.experiment_name or experiment_of(run_folder)
    job.tags = {**(job.tags or {}), **job_tags(run_folder.name, git)}
    if description:
        job.description = description
    validate(job, "the pipeline")
    _refuse_placeholders(job, "the pipeline file")
    return job


def _refuse_placeholders(job: "AmlJob", written_in: str) -> None:
    placeholder = find_placeholder(job_document(job))
    if placeholder:
        field, value = placeholder
        raise UsageError(
            f"{field} is still a placeholder ({value}): set it in {written_in} "
            f"or with --set {field}=..."
        )


def _check_local_inputs(document: JobDict, job_file: Path) -> None:
    """A UsageError for a local input path that does not exist: the SDK would fail to
    upload it from the job file's folder."""
    for name, spec in (document.get("inputs") or {}).items():
        path = spec.get("path") if isinstance(spec, dict) else None
        if isinstance(path, str) and not is_remote(path):
            local = local_input_path(job_file.parent, path)
            if not local.exists():
                raise UsageError(
                    f"input {name!r}: {local} does not exist, and the job uploads it from "
                    f"there: create it or give --set inputs.{name}.path=PATH"
                )


def experiment_of(run_folder: Path) -> str:
    """The Azure ML experiment of a job without `experiment_name`: its experiment's name, as
    a local run's MLflow experiment (left to azure-ai-ml, it would be the current folder's)."""
    return run_folder.parent.name


def job_tags(run_name: str, git: GitState | None) -> dict[str, str]:
    tags = {"local_run_name": run_name}
    if git:
        tags |= {
            "git_commit": git.commit,
            "git_branch": git.branch,
            "git_dirty": str(git.dirty).lower(),
        }
    return tags


def find_placeholder(node: Any, path: str = "") -> tuple[str, str] | None:
    """The first `<...>` left in the job (e.g. `compute: azureml:<compute-name>`)."""
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)  # type: ignore[assignment]
    else:
        if isinstance(node, str) and is_placeholder(node):
            return path, node
        return None
    for key, value in items:
        found = find_placeholder(value, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


def job_yaml(job: "AmlJob") -> str:
    return yaml.safe_dump(job_document(job), sort_keys=False)
