"""The Azure ML command-job YAML, loaded with the checks every command needs before it acts."""

import re
from pathlib import Path
from typing import Any

from scripts.console.errors import UsageError
from scripts.jobspec.documents import load_yaml

JobDict = dict[str, Any]

# `environment: {build: {path: environment}}` names the scaffolding's build context, the
# run folder's environment/ (scripts/runfolder/layout.py).
BUILD_CONTEXT = "environment"

PIPELINE, SWEEP = "pipeline", "sweep"  # the `type` of a pipeline job, of a sweep job

# Environment variables whose name or value says they hold a secret: kept out of records.
MASK = "***"
_SECRET_NAME = re.compile(
    r"SECRET|TOKEN|PASSWORD|PASSWD|PASSPHRASE|KEY|CREDENTIAL|CONN(?:ECTION)?_?STR"
    r"|(?:^|_)(?:PASS|SAS)(?:_|$)|_PWD(?:_|$)",
    re.I,
)
_SECRET_VALUE = re.compile(
    r"(?:AccountKey|SharedAccessKey|Password|Pwd)="  # connection strings
    r"|[?&]sig="  # SAS URLs
    r"|://[^\s/:@{}$]+:[^\s/@{}$]+@",  # user:password@ in a URL
    re.I,
)

# Names that become folders (runs/mlartifacts/EXPERIMENT/, outputs/NAME/) must stay names.
_EXPERIMENT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_OUTPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_pipeline(job: JobDict) -> bool:
    """Whether `job` is a pipeline job (scripts/jobspec/pipeline.py reads those)."""
    return job.get("type") == PIPELINE


def load_job(path: Path) -> JobDict:
    """The command job YAML as a dict; a UsageError saying what to fix otherwise."""
    job = load_job_document(path)
    if "component.schema" in str(job.get("$schema", "")).lower():
        raise UsageError(
            f"{path.name} is a component, not a job: run the pipeline that uses it "
            "(`-f PIPELINE_FILE`)"
        )
    if job.get("type", "command") != "command":
        raise UsageError(
            f"{path} is a {job['type']!r} job: this command runs command jobs only "
            "(`type: command`)"
        )
    check_command_job(job, path)
    return job


def check_command_job(job: JobDict, path: Path, after_set: bool = False) -> None:
    """A UsageError unless the command job `job` (of file `path`; with `after_set`, as the
    `--set`s left it) has a command and its sections are mappings."""
    where = " (after --set)" if after_set else ""
    if not isinstance(job.get("command"), str) or not job["command"].strip():
        raise UsageError(f"{path} has no `command`{where}: add the command the job runs")
    for section in ("inputs", "outputs", "environment_variables"):
        if not isinstance(job.get(section) or {}, dict):
            raise UsageError(f"{path}: `{section}` must be a mapping{where}")


def load_job_document(path: Path) -> JobDict:
    """Any job YAML (a sweep's too) as a dict, bounded (documents.py); a UsageError
    otherwise."""
    try:
        job = load_yaml(path, "a job spec")
    except FileNotFoundError:
        raise UsageError(
            f"{path} is missing: every experiment needs an Azure ML job spec there"
        ) from None
    if not isinstance(job, dict):
        raise UsageError(f"{path} must be a YAML mapping of an Azure ML command job")
    return job


def code_of(job: JobDict, job_file: Path, experiment: Path) -> str | None:
    """The job's `code:` (a sweep's: its trial's) as a folder relative to `experiment`
    ("." for the experiment itself), resolved from the job file's folder as Azure ML does;
    None when the job has no code (Azure ML then runs it in an empty folder). A UsageError
    for code that is not a folder inside the experiment."""
    trial = job.get("trial")
    code = (trial if isinstance(trial, dict) else job).get("code")
    if code is None:
        return None
    text = str(code)
    if ":" in text.split("/")[0]:  # azureml:NAME, https://, git+https://
        raise UsageError(
            f"code: {text} in {job_file.name} is not a local folder: local runs and submissions "
            "take the code from the experiment (e.g. `code: src`)"
        )
    folder = (job_file.parent / text).resolve()
    if not folder.is_relative_to(experiment.resolve()) or not folder.is_dir():
        raise UsageError(
            f"code: {text} in {job_file.name} is not a folder inside {experiment}: point it "
            "at the folder the command runs in (`.` or e.g. `src`)"
        )
    return folder.relative_to(experiment.resolve()).as_posix()


def check_names(job: JobDict, source: Path) -> None:
    """A UsageError unless `experiment_name` and each output's name are plain names (after
    `--set`): they become folders, and `..` or `/` in them would write elsewhere."""
    experiment = job.get("experiment_name")
    if experiment is not None and (
        not _EXPERIMENT_NAME.fullmatch(str(experiment)) or ".." in str(experiment)
    ):
        raise UsageError(
            f"experiment_name {str(experiment)!r} in {source.name} (or --set) is not a plain "
            "name: use letters, digits, '_', '-' and '.', no '/' or '..'"
        )
    for name in job.get("outputs") or {}:
        if not _OUTPUT_NAME.fullmatch(str(name)):
            raise UsageError(
                f"output {str(name)!r} in {source.name} is not a plain name: use letters, "
                "digits and '_', starting with a letter or '_'"
            )


def environment_variables(job: JobDict, source: Path) -> dict[str, str]:
    """The job's `environment_variables` as the process will get them; a UsageError for a
    name or value no process environment can hold."""
    variables: dict[str, str] = {}
    for name, value in (job.get("environment_variables") or {}).items():
        key = str(name)
        if not key or "=" in key or "\0" in key:
            raise UsageError(
                f"environment variable {key!r} in {source.name}: a name must be non-empty, "
                "without '=' or NUL"
            )
        if isinstance(value, dict | list) or value is None:
            raise UsageError(
                f"environment variable {key} in {source.name} is not a string, number or "
                "boolean: quote it"
            )
        text = str(value)
        if "\0" in text:
            raise UsageError(f"environment variable {key} in {source.name} holds a NUL character")
        variables[key] = text
    return variables


def secret_names(variables: dict[str, str]) -> list[str]:
    """The variables whose name (`*TOKEN*`, `*KEY*`, ...) or value (a connection string)
    says they hold a secret."""
    return [
        name
        for name, value in variables.items()
        if _SECRET_NAME.search(name) or _SECRET_VALUE.search(value)
    ]


def masked(variables: dict[str, str]) -> dict[str, str]:
    """`variables` as they may be recorded: secrets replaced by MASK."""
    secrets = set(secret_names(variables))
    return {name: MASK if name in secrets else value for name, value in variables.items()}
