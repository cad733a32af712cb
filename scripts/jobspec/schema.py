"""The job spec as azure-ai-ml's own schema reads it. `just aml` builds the job it submits
with it; `just local` checks with it first, so that a run starts only from a job file (and
`--set`s) that `just aml --dry-run` would accept too (README, "Local and cloud").

azure-ai-ml takes ~2 s to import: callers that run often keep the verdict (runs/.cache).
"""

import re
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from scripts.console.errors import UsageError
from scripts.jobspec.job import BUILD_CONTEXT, JobDict
from scripts.jobspec.overrides import Override, Value

if TYPE_CHECKING:
    from azure.ai.ml.entities import Command, PipelineJob
    from azure.ai.ml.sweep import SweepJob

    AmlJob: TypeAlias = Command | SweepJob | PipelineJob


def sdk_version() -> str:
    """azure-ai-ml's version, read from the package without importing it."""
    spec = find_spec("azure.ai.ml")
    assert spec and spec.origin, "azure-ai-ml is a dependency of the tooling"
    text = (Path(spec.origin).parent / "_version.py").read_text()
    found = re.search(r"^VERSION\s*=\s*[\"']([^\"']+)[\"']", text, re.MULTILINE)
    assert found, "azure/ai/ml/_version.py names its VERSION"
    return found[1]


def typed_overrides(
    job_file: Path, overrides: list[Override], placed: list[Override]
) -> list[Override]:
    """Each of `overrides` with its value typed as the SDK's schema types it (the integer 5
    for `limits.timeout=5`, text where the schema keeps text); a UsageError saying what to
    fix unless the SDK loads and validates `job_file` with them. `placed` points code and
    build context where they exist (see `relocated`)."""
    job = load(job_file, overrides + placed)
    validate(job, job_file.name)
    document = job_document(job)
    return [Override(override.path, _typed(document, override)) for override in overrides]


def literal_input_keys(job: JobDict, overrides: list[Override]) -> set[str]:
    """The keys of `overrides` that give text to an input the job file declares as a
    literal value (`inputs: {epochs: 20}`), with no override reaching inside it. The SDK keeps
    any such text as it is (its PrimitiveValueField ends in a plain Str; tests/core/
    test_jobspec.py holds this against the SDK for values of every shape), so its verdict
    on the job does not depend on that text, and a new value needs no new check."""
    declared = job.get("inputs") or {}
    literal = {name for name, value in declared.items() if isinstance(value, str | int | float)}
    inside = {o.path[1] for o in overrides if o.path[0] == "inputs" and len(o.path) > 2}
    return {
        override.key
        for override in overrides
        if len(override.path) == 2
        and override.path[0] == "inputs"
        and override.path[1] in literal - inside
        and isinstance(override.value, str)
    }


def _typed(document: JobDict, override: Override) -> Value:
    """The value at `override.path` of the SDK's document when the schema converted the
    given text to a number or a boolean; the given value otherwise."""
    node: object = document
    for part in override.path:
        node = node.get(part) if isinstance(node, dict) else None
    converted = isinstance(node, int | float) and not isinstance(override.value, int | float)
    return node if converted else override.value  # type: ignore[return-value]


def job_document(job: "AmlJob") -> JobDict:
    """The job as submitted (a command job's builder becomes a CommandJob), as plain data."""
    import json

    from azure.ai.ml.entities import Command

    submitted = job._to_job() if isinstance(job, Command) else job
    document: JobDict = json.loads(json.dumps(submitted._to_dict()))
    return document


def load(path: Path, overrides: list[Override]) -> "AmlJob":
    from azure.ai.ml import load_job
    from azure.ai.ml.entities import Command
    from azure.ai.ml.exceptions import ValidationException
    from azure.ai.ml.sweep import SweepJob
    from marshmallow import ValidationError

    quiet_sdk()
    try:
        job = load_job(
            source=path,
            params_override=[{override.key: override.value} for override in overrides],
        )
    except (ValidationException, ValidationError) as error:
        problem = _field_problem(error) or one_line(error)
        raise UsageError(f"{path.name} is not a valid Azure ML job: {problem}") from None
    if not isinstance(job, Command | SweepJob):
        raise UsageError(
            f"{path.name} is a {job.type!r} job: just aml submits command, sweep and pipeline jobs"
        )
    return job


def check_pipeline(path: Path) -> bool:
    """Whether azure-ai-ml loads and validates the pipeline job `path` (every component in
    it); a UsageError in the SDK's words otherwise. True, so that the verdict can be kept."""
    validate(load_pipeline(path), "the pipeline")
    return True


def load_pipeline(path: Path) -> "PipelineJob":
    """The pipeline job `path` as azure-ai-ml loads it; a UsageError in its words otherwise."""
    from azure.ai.ml import load_job
    from azure.ai.ml.entities import PipelineJob
    from azure.ai.ml.exceptions import ValidationException
    from marshmallow import ValidationError

    quiet_sdk()
    try:
        job = load_job(source=path)
    except (ValidationException, ValidationError) as error:
        problem = _field_problem(error) or one_line(error)
        raise UsageError(f"the pipeline is not a valid Azure ML job: {problem}") from None
    assert isinstance(job, PipelineJob), "read_pipeline read a pipeline"
    return job


def relocated(document: JobDict, code: Path, build_context: Path) -> list[Override]:
    """Overrides pointing the job's code (a sweep's: its trial's), if it has any, at `code`
    and the scaffolding's build context (`build: path: environment`), if it uses it, at
    `build_context`; absolute, so that nothing depends on the current directory."""
    trial = document.get("trial")
    runs, at = (trial, ("trial",)) if isinstance(trial, dict) else (document, ())
    moved = []
    if runs.get("code") is not None:
        moved.append(Override((*at, "code"), str(code)))
    environment = runs.get("environment")
    build = environment.get("build") if isinstance(environment, dict) else None
    if isinstance(build, dict) and str(build.get("path", "")).strip("./") == BUILD_CONTEXT:
        moved.append(Override((*at, "environment", "build", "path"), str(build_context)))
    return moved


def validate(job: "AmlJob", job_file: str) -> None:
    """The SDK's own offline validation. A sweep job has none beyond the schema checked by
    load_job (the SDK validates sweeps only when it submits them)."""
    from azure.ai.ml.entities import Command, PipelineJob

    if isinstance(job, Command | PipelineJob):
        result = job._validate()
        if not result.passed:
            raise UsageError(f"{job_file} does not validate: {_problems(result.error_messages)}")


def _problems(messages: dict[str, str]) -> str:
    """The SDK's validation messages ({yaml path: message}) as one line, with what to do
    about the one every new pipeline meets."""
    text = one_line("; ".join(f"{path}: {message}" for path, message in messages.items()))
    if any(message == "Compute not set" for message in messages.values()):
        text += " (set settings.default_compute, e.g. azureml:cpu-cluster, or each step's compute)"
    return text


def quiet_sdk() -> None:
    """The SDK announces its experimental classes on every load (its logger is set to INFO
    when it is imported); they are not the user's news."""
    import logging  # with the SDK only: a cached verdict needs neither

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
        return f"{path}: {one_line(node)}" if path else one_line(node)
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


def one_line(error: object) -> str:
    return " ".join(str(error).split())[:300]
