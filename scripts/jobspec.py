"""The Azure ML command-job YAML as the local tooling reads it, and `--set` overrides.

`--set key=value` follows `az ml job create --set`: a dotted path into the YAML,
e.g. `inputs.epochs=10` or `inputs.training_data.path=./data/digits`.
"""

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from scripts.errors import UsageError

JobDict = dict[str, Any]


@dataclass(frozen=True)
class Override:
    path: tuple[str, ...]
    value: str

    @property
    def key(self) -> str:
        return ".".join(self.path)


def parse_override(text: str) -> Override:
    key, sep, value = text.partition("=")
    path = tuple(key.split("."))
    if not sep or not all(path):
        raise UsageError(
            f"--set {text!r} is not key=value: write e.g. --set inputs.epochs=10 "
            "or --set inputs.NAME.path=PATH"
        )
    return Override(path, value)


def load_job(path: Path) -> JobDict:
    """The job YAML as a dict, with the checks every command needs before it acts."""
    try:
        job = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise UsageError(
            f"{path} is missing: every experiment needs an Azure ML job spec there"
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise UsageError(f"{path} is not valid YAML{where}: fix the file") from None
    if not isinstance(job, dict):
        raise UsageError(f"{path} must be a YAML mapping of an Azure ML command job")
    if job.get("type", "command") != "command":
        raise UsageError(
            f"{path} is a {job['type']!r} job: this command runs command jobs only "
            "(`type: command`)"
        )
    if not isinstance(job.get("command"), str) or not job["command"].strip():
        raise UsageError(f"{path} has no `command`: add the command the job runs")
    for section in ("inputs", "outputs", "environment_variables"):
        if not isinstance(job.get(section) or {}, dict):
            raise UsageError(f"{path}: `{section}` must be a mapping")
    return job


def apply_overrides(job: JobDict, overrides: Iterable[Override], source: Path) -> JobDict:
    """A copy of `job` with each override set; `inputs.NAME...` must name a declared input."""
    result = copy.deepcopy(job)
    for override in overrides:
        if override.path[0] == "inputs":
            _check_declared_input(result, override, source)
        _set(result, override)
    return result


def _check_declared_input(job: JobDict, override: Override, source: Path) -> None:
    declared = job.get("inputs") or {}
    name = override.path[1] if len(override.path) > 1 else ""
    if name not in declared:
        choices = ", ".join(declared) or "none"
        raise UsageError(
            f"--set {override.key}: {source.name} declares no input {name!r} "
            f"(declared: {choices}); add it under `inputs:` or fix the name"
        )


def _set(job: JobDict, override: Override) -> None:
    node: JobDict = job
    for depth, part in enumerate(override.path[:-1]):
        if node.get(part) is None:
            node[part] = {}
        if not isinstance(node[part], dict):
            prefix = ".".join(override.path[: depth + 1])
            raise UsageError(
                f"--set {override.key}: {prefix} is a value, not a mapping; "
                f"set it with --set {prefix}=VALUE"
            )
        node = node[part]
    node[override.path[-1]] = override.value
