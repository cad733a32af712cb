"""`--set key=value`, as `az ml job create --set` takes it: a dotted path into the job YAML,
e.g. `inputs.epochs=10` or `inputs.training_data.path=./data/digits`. The value is text on
the command line; azure-ai-ml's schema gives it its type (`limits.timeout=5` is the integer
5), and a local run takes it so typed (jobspec/schema.py, `typed_overrides`)."""

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from scripts.console.errors import UsageError
from scripts.jobspec.job import JobDict

Value = str | int | float | bool  # as given (str), or as the SDK's schema typed it


@dataclass(frozen=True)
class Override:
    path: tuple[str, ...]
    value: Value

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
