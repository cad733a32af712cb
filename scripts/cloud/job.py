"""The Azure ML job for a run folder, built and validated by `azure-ai-ml` itself, offline."""

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import yaml

from scripts.console.errors import UsageError
from scripts.jobspec.inputs import is_remote
from scripts.jobspec.job import JobDict
from scripts.jobspec.overrides import Override
from scripts.project.git import GitState
from scripts.project.settings import is_placeholder
from scripts.runfolder.layout import CODE, ENVIRONMENT

if TYPE_CHECKING:
    from azure.ai.ml.entities import Command
    from azure.ai.ml.sweep import SweepJob

    AmlJob: TypeAlias = Command | SweepJob


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
    job = _load(job_file, overrides + _from_run_folder(document, run_folder))
    job.name = run_folder.name
    job.tags = {**(job.tags or {}), **job_tags(run_folder.name, git)}
    if description:
        job.description = description
    _validate(job, job_file.name)
    _check_local_inputs(document, job_file)
    placeholder = find_placeholder(job_document(job))
    if placeholder:
        field, value = placeholder
        raise UsageError(
            f"{field} is still a placeholder ({value}): set it in {job_file.name} "
            f"or with --set {field}=..."
        )
    return job


def _load(path: Path, overrides: list[Override]) -> "AmlJob":
    from azure.ai.ml import load_job
    from azure.ai.ml.entities import Command
    from azure.ai.ml.exceptions import ValidationException
    from azure.ai.ml.sweep import SweepJob
    from marshmallow import ValidationError

    _quiet_sdk()
    try:
        job = load_job(
            source=path,
            params_override=[{override.key: override.value} for override in overrides],
        )
    except (ValidationException, ValidationError) as error:
        problem = _field_problem(error) or _one_line(error)
        raise UsageError(f"{path.name} is not a valid Azure ML job: {problem}") from None
    if not isinstance(job, Command | SweepJob):
        raise UsageError(
            f"{path.name} is a {job.type!r} job: just aml submits command and sweep jobs"
        )
    return job


def _from_run_folder(document: JobDict, run_folder: Path) -> list[Override]:
    """Overrides pointing the job's code (a sweep's: its trial's) at the run folder's code
    root and the scaffolding's build context (`build: path: environment`) at the run
    folder's environment/; absolute, so that nothing depends on the current directory."""
    trial = document.get("trial")
    runs, at = (trial, ("trial",)) if isinstance(trial, dict) else (document, ())
    moved = []
    if runs.get("code") is not None:
        moved.append(Override((*at, "code"), str(run_folder / CODE)))
    environment = runs.get("environment")
    build = environment.get("build") if isinstance(environment, dict) else None
    if isinstance(build, dict) and str(build.get("path", "")).strip("./") == ENVIRONMENT:
        where = (*at, "environment", "build", "path")
        moved.append(Override(where, str(run_folder / ENVIRONMENT)))
    return moved


def _check_local_inputs(document: JobDict, job_file: Path) -> None:
    """A UsageError for a local input path that does not exist: the SDK would fail to
    upload it from the job file's folder."""
    for name, spec in (document.get("inputs") or {}).items():
        path = spec.get("path") if isinstance(spec, dict) else None
        if isinstance(path, str) and not is_remote(path):
            local = Path(job_file.parent, path.removeprefix("file://")).resolve()
            if not local.exists():
                raise UsageError(
                    f"input {name!r}: {local} does not exist, and the job uploads it from "
                    f"there: create it or give --set inputs.{name}.path=PATH"
                )


def _validate(job: "AmlJob", job_file: str) -> None:
    """The SDK's own offline validation. A sweep job has none beyond the schema checked by
    load_job (the SDK validates sweeps only when it submits them)."""
    from azure.ai.ml.entities import Command

    if isinstance(job, Command):
        result = job._validate()
        if not result.passed:
            raise UsageError(f"{job_file} does not validate: {_one_line(result.error_messages)}")


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


def job_document(job: "AmlJob") -> dict[str, Any]:
    """The job as submitted (a command job's builder becomes a CommandJob), as plain data."""
    from azure.ai.ml.entities import Command

    submitted = job._to_job() if isinstance(job, Command) else job
    document: dict[str, Any] = json.loads(json.dumps(submitted._to_dict()))
    return document


def job_yaml(job: "AmlJob") -> str:
    return yaml.safe_dump(job_document(job), sort_keys=False)


def _quiet_sdk() -> None:
    """The SDK announces its experimental classes on every load (its logger is set to INFO
    when it is imported); they are not the user's news."""
    logging.getLogger("azure.ai.ml").setLevel(logging.ERROR)


def _field_problem(error: BaseException) -> str | None:
    """`field.path: message` for the first field marshmallow rejected. The SDK re-raises its
    schema errors as pages of JSON; the innermost error still has them structured."""
    from marshmallow import ValidationError

    messages = None
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ValidationError) and isinstance(cause.messages, dict):
            messages = cause.messages
        cause = cause.__cause__ or cause.__context__
    return _first_message(messages, "") if messages else None


def _first_message(node: object, path: str) -> str | None:
    """Depth first through marshmallow's messages: {field: [message or nested messages]},
    where `_schema` holds the messages of the field itself."""
    if isinstance(node, str):
        return f"{path}: {_one_line(node)}" if path else _one_line(node)
    children: list[tuple[object, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            children.append((value, path if key == "_schema" else f"{path}.{key}".lstrip(".")))
    elif isinstance(node, list):
        children = [(value, path) for value in node]
    for child, child_path in children:
        found = _first_message(child, child_path)
        if found:
            return found
    return None


def _one_line(error: object) -> str:
    return " ".join(str(error).split())[:300]
