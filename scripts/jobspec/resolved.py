"""A job resolved for one local run, typed: what a command job (or a pipeline step, whose
inputs its pipeline resolves) runs, with what, and within which limits. Pure: how each
part is read is in the modules it comes from."""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from scripts.jobspec.command import render_command
from scripts.jobspec.distribution import Distribution, read_distribution
from scripts.jobspec.inputs import Inputs
from scripts.jobspec.job import JobDict, environment_variables
from scripts.jobspec.parity import time_limit


@dataclass(frozen=True)
class ResolvedJob:
    command: str  # its references resolved
    inputs: Inputs  # each declared input's local value (None: none)
    output_folders: list[str]  # one per declared output, relative to the code root
    variables: dict[str, str]  # its environment_variables, secrets included
    timeout_seconds: int | None  # limits.timeout
    distribution: Distribution | None
    read_only_inputs: list[str]  # the inputs Azure ML gives it read-only


def resolve_job(
    job: JobDict, source: Path, inputs: Inputs, outputs: Mapping[str, str], read_only: list[str]
) -> ResolvedJob:
    """`job` (written in `source`) with its `inputs` resolved and each output given the
    folder `outputs` names; a UsageError for what cannot run as written."""
    return ResolvedJob(
        command=render_command(job, inputs, outputs),
        inputs=inputs,
        output_folders=list(outputs.values()),
        variables=environment_variables(job, source),
        timeout_seconds=time_limit(job, source),
        distribution=read_distribution(job, source),
        read_only_inputs=read_only,
    )
