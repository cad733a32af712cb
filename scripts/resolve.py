"""Turn a job's `command` into the command to run locally.

`${{inputs.NAME}}` becomes the input's local value and `${{outputs.NAME}}` the folder
outputs/NAME, relative to the run folder (the job's working directory). Optional parts
written `$[[ ... ]]` are dropped when an input they use has no value, as Azure ML does.
"""

import re
import shlex
from pathlib import Path
from typing import Any

from scripts.errors import UsageError
from scripts.jobspec import JobDict
from scripts.project import DATA_DIR, ROOT
from scripts.runfolder import OUTPUTS

_REFERENCE = re.compile(r"\$\{\{\s*(inputs|outputs)\.([A-Za-z0-9_]+)\s*\}\}")
_OPTIONAL = re.compile(r"\$\[\[(.*?)\]\]", re.DOTALL)
_DATA_ASSET = re.compile(r"azureml:([^:/@]+):([^:/@]+)")
_REMOTE_SCHEMES = ("azureml:", "wasbs://", "wasb://", "abfss://", "adl://", "https://", "http://")


def resolve_inputs(job: JobDict, base: Path) -> dict[str, str | None]:
    """Each declared input's local value (shell-quoted for paths); None when it has none.

    Relative local paths are taken from `base`, the folder of the job file, as Azure ML does.
    """
    return {
        name: _resolve_input(name, spec, base) for name, spec in (job.get("inputs") or {}).items()
    }


def _resolve_input(name: str, spec: Any, base: Path) -> str | None:
    if not isinstance(spec, dict):
        return None if spec is None else str(spec)
    if "path" in spec:
        return shlex.quote(str(_local_path(name, str(spec["path"]), base)))
    for key in ("value", "default"):
        if spec.get(key) is not None:
            return str(spec[key])
    return None


def _local_path(name: str, path: str, base: Path) -> Path:
    asset = _DATA_ASSET.fullmatch(path)
    if asset and (DATA_DIR / asset[1] / asset[2]).exists():
        return DATA_DIR / asset[1] / asset[2]
    if path.startswith(_REMOTE_SCHEMES):
        hint = (
            f" (or copy it to {(DATA_DIR / asset[1] / asset[2]).relative_to(ROOT)}/)"
            if asset
            else ""
        )
        raise UsageError(
            f"input {name!r} is remote ({path}) and has no local copy: "
            f"run with --set inputs.{name}.path=LOCAL_PATH{hint}"
        )
    local = (base / path.removeprefix("file://")).resolve()
    if not local.exists():
        raise UsageError(
            f"input {name!r}: {local} does not exist; create it or point "
            f"--set inputs.{name}.path= at existing data"
        )
    return local


def output_folders(job: JobDict) -> list[str]:
    """The folders, relative to the run folder, that stand for the job's declared outputs."""
    return [f"{OUTPUTS}/{name}" for name in job.get("outputs") or {}]


def render_command(job: JobDict, inputs: dict[str, str | None]) -> str:
    """The job's command with every reference replaced."""
    outputs = job.get("outputs") or {}

    def value(match: re.Match[str]) -> str:
        kind, name = match[1], match[2]
        if name not in (outputs if kind == "outputs" else inputs):
            raise UsageError(
                f"the command uses {match[0]} but the job declares no such {kind[:-1]}: "
                f"add it under `{kind}:`"
            )
        if kind == "outputs":
            return f"{OUTPUTS}/{name}"
        found = inputs[name]
        if found is None:
            raise UsageError(f"input {name!r} has no value: run with --set inputs.{name}=VALUE")
        return found

    def optional(match: re.Match[str]) -> str:
        used = [m[2] for m in _REFERENCE.finditer(match[1]) if m[1] == "inputs"]
        return match[1] if all(inputs.get(name) is not None for name in used) else ""

    return _REFERENCE.sub(value, _OPTIONAL.sub(optional, job["command"]))
