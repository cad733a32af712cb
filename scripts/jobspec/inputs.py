"""Each job input's local value: literals as written, local paths resolved from the job
file's folder as Azure ML resolves them, data assets from the project's data/ folder."""

import re
import shlex
from pathlib import Path
from typing import Any

from scripts.console.errors import UsageError
from scripts.jobspec.job import JobDict

_DATA_ASSET = re.compile(r"azureml:([^:/@]+):([^:/@]+)")
_REMOTE_SCHEMES = ("azureml:", "wasbs://", "wasb://", "abfss://", "adl://", "https://", "http://")

Inputs = dict[str, str | None]  # name -> value (paths shell-quoted); None: no value


def resolve_inputs(job: JobDict, base: Path, data: Path) -> Inputs:
    """Each declared input's local value (shell-quoted for paths); None when it has none.

    Relative local paths are taken from `base`, the folder of the job file, as Azure ML
    does; `azureml:NAME:VERSION` is `data`/NAME/VERSION when that exists.
    """
    return {
        name: _resolve_input(name, spec, base, data)
        for name, spec in (job.get("inputs") or {}).items()
    }


def _resolve_input(name: str, spec: Any, base: Path, data: Path) -> str | None:
    if not isinstance(spec, dict):
        return None if spec is None or spec == "" else str(spec)  # `--set inputs.X=`: none
    if "path" in spec:
        if spec["path"] is None or not str(spec["path"]).strip():
            raise UsageError(
                f"input {name!r} has an empty path: give one with "
                f"--set inputs.{name}.path=LOCAL_PATH, or no value with --set inputs.{name}="
            )
        return shlex.quote(str(_local_path(name, str(spec["path"]), base, data)))
    for key in ("value", "default"):
        if spec.get(key) is not None:
            return str(spec[key])
    return None


def _local_path(name: str, path: str, base: Path, data: Path) -> Path:
    asset = _DATA_ASSET.fullmatch(path)
    local_copy = data / asset[1] / asset[2] if asset else None
    if local_copy and local_copy.exists():
        return local_copy
    if path.startswith(_REMOTE_SCHEMES):
        hint = f" (or copy it to {data.name}/{asset[1]}/{asset[2]}/)" if asset else ""
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
