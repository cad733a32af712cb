"""Each job input's local value: literals as written, local paths resolved from the job
file's folder as Azure ML resolves them, data assets from the project's data/ folder."""

import re
import shlex
from pathlib import Path
from typing import Any

from scripts.console import report
from scripts.console.errors import UsageError
from scripts.jobspec.job import JobDict

_DATA_ASSET = re.compile(r"azureml:([^:/@]+):([^:/@]+)")
_LATEST_ASSET = re.compile(r"azureml:([^:/@]+)@latest")
# Short form, or long (the workspace named) as the studio copies it; the path may be empty.
_DATASTORE_PATH = re.compile(
    r"azureml://(?:subscriptions/[^/]+/resourcegroups/[^/]+/workspaces/[^/]+/)?"
    r"datastores/([^/]+)/paths/(.*)",
    re.IGNORECASE,
)
_REMOTE_SCHEMES = ("azureml:", "wasbs://", "wasb://", "abfss://", "adl://", "https://", "http://")

Inputs = dict[str, str | None]  # name -> value (paths shell-quoted); None: no value


def resolve_inputs(job: JobDict, base: Path, data: Path) -> Inputs:
    """Each declared input's local value (shell-quoted for paths); None when it has none.

    Relative local paths are taken from `base`, the folder of the job file, as Azure ML
    does; Azure ML data references from their local copies in `data` (see _local_copy).
    """
    return {
        name: _resolve_input(name, spec, base, data)
        for name, spec in (job.get("inputs") or {}).items()
    }


def local_paths(job: JobDict, inputs: Inputs) -> list[Path]:
    """The local path each data input (`path:`) of `job` resolved to in `inputs`."""
    return [
        input_path(value)
        for name, spec in (job.get("inputs") or {}).items()
        if isinstance(spec, dict) and "path" in spec and (value := inputs.get(name))
    ]


def input_path(value: str) -> Path:
    """The path a data input's resolved value (shell-quoted) holds."""
    return Path(shlex.split(value)[0])


def _resolve_input(name: str, spec: Any, base: Path, data: Path) -> str | None:
    if not isinstance(spec, dict):
        return None if spec is None or spec == "" else str(spec)  # `--set inputs.X=`: none
    if "path" in spec:
        if spec["path"] is None or not str(spec["path"]).strip():
            raise UsageError(
                f"input {name!r} has an empty path: give one with "
                f"--set inputs.{name}.path=LOCAL_PATH, or no value with --set inputs.{name}="
            )
        path = _local_path(name, str(spec["path"]), spec.get("type"), base, data)
        return shlex.quote(str(path))
    for key in ("value", "default"):
        if spec.get(key) is not None:
            return str(spec[key])
    return None


def _local_path(name: str, path: str, kind: Any, base: Path, data: Path) -> Path:
    local_copy = _local_copy(path, data)
    if local_copy and local_copy.exists():
        return _single_file(local_copy) if kind == "uri_file" else local_copy
    if is_remote(path):
        hint = f" (or copy it to {local_copy.relative_to(data.parent)}/)" if local_copy else ""
        asset = _DATA_ASSET.fullmatch(path) or _LATEST_ASSET.fullmatch(path)
        if asset:
            hint = f" (or `just data-download {path.removeprefix('azureml:')}`)"
        raise UsageError(
            f"input {name!r} is remote ({path}) and has no local copy: "
            f"run with --set inputs.{name}.path=LOCAL_PATH{hint}"
        )
    local = local_input_path(base, path)
    if not local.exists():
        raise UsageError(
            f"input {name!r}: {local} does not exist; create it or point "
            f"--set inputs.{name}.path= at existing data"
        )
    return local


def local_input_path(base: Path, path: str) -> Path:
    """A local input's path as Azure ML takes it: relative to `base`, the job file's folder."""
    return (base / path.removeprefix("file://")).resolve()


def is_remote(path: str) -> bool:
    """Whether an input's path names data in Azure or on the web, not a local file."""
    return path.startswith(_REMOTE_SCHEMES)


def _local_copy(path: str, data: Path) -> Path | None:
    """Where data/ keeps a local copy of an Azure ML data reference: `azureml:NAME:VERSION`
    in data/NAME/VERSION, `azureml:NAME@latest` in the highest version there (numeric
    order), `azureml://datastores/DS/paths/P` in data/datastores/DS/P."""
    asset = _DATA_ASSET.fullmatch(path)
    if asset:
        return data / asset[1] / asset[2]
    latest = _LATEST_ASSET.fullmatch(path)
    if latest:
        versions = [v for v in (data / latest[1]).glob("*") if v.is_dir() and v.name.isdigit()]
        if not versions:
            return data / latest[1] / "VERSION"
        chosen = max(versions, key=lambda version: int(version.name))
        report.note(f"{path} is {chosen.relative_to(data.parent)}, the latest version here")
        return chosen
    datastore = datastore_path(path)
    if datastore:
        return data / "datastores" / datastore[0] / datastore[1].strip("/")
    return None


def datastore_path(uri: str) -> tuple[str, str] | None:
    """The datastore and the path in it that an `azureml://datastores/DS/paths/P` URI
    names, in its short or long form; None for any other URI."""
    match = _DATASTORE_PATH.fullmatch(uri)
    return (match[1], match[2]) if match else None


def _single_file(folder: Path) -> Path:
    """A `uri_file` asset's local copy: the version folder holds the one file."""
    if folder.is_file():
        return folder
    files = [entry for entry in folder.iterdir() if entry.is_file()]
    return files[0] if len(files) == 1 else folder
