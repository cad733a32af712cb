"""The job's `command` with its references replaced, as Azure ML renders it.

`${{inputs.NAME}}` becomes the input's value and `${{outputs.NAME}}` the folder given for
that output. Optional parts written `$[[ ... ]]` are dropped when an input they use has no
value.
"""

import re
from collections.abc import Mapping

from scripts.console.errors import UsageError
from scripts.jobspec.inputs import Inputs
from scripts.jobspec.job import JobDict

_REFERENCE = re.compile(r"\$\{\{\s*(inputs|outputs)\.([A-Za-z0-9_]+)\s*\}\}")
_OPTIONAL = re.compile(r"\$\[\[(.*?)\]\]", re.DOTALL)


def render_command(job: JobDict, inputs: Inputs, outputs: Mapping[str, str]) -> str:
    """The job's command with every reference replaced; `outputs` maps each declared
    output to its folder."""

    def value(match: re.Match[str]) -> str:
        kind, name = match[1], match[2]
        if name not in (outputs if kind == "outputs" else inputs):
            raise UsageError(
                f"the command uses {match[0]} but the job declares no such {kind[:-1]}: "
                f"add it under `{kind}:`"
            )
        if kind == "outputs":
            return outputs[name]
        found = inputs[name]
        if found is None:
            raise UsageError(f"input {name!r} has no value: run with --set inputs.{name}=VALUE")
        return found

    def optional(match: re.Match[str]) -> str:
        used = [m[2] for m in _REFERENCE.finditer(match[1]) if m[1] == "inputs"]
        return match[1] if all(inputs.get(name) is not None for name in used) else ""

    return _REFERENCE.sub(value, _OPTIONAL.sub(optional, job["command"]))
