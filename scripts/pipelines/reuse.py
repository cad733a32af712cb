"""Step reuse, as Azure ML decides it: a step whose component (its spec without name and
version), code snapshot, environment, inputs, outputs and run settings are those of an
earlier FINISHED local run of a step is not run again; its outputs are that run's.

Each part is a digest, recorded in the step's run.json (`reuse_parts`, and `reuse_key`
over all of them), so that a step that is not reused can say what changed. An input bound
to an earlier step's output counts by where that output is: a reused step's outputs are
the original's, so its consumers stay reusable, while a step that ran again has new ones,
so they run again. Data by reference (a data asset, a datastore or web URI) counts by its
name, local data by its content.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.jobspec.inputs import input_path, is_remote
from scripts.jobspec.pipeline import Given, Pipeline, Step
from scripts.project.layout import Project
from scripts.runfolder.layout import CODE, find_run_folders, step_folder
from scripts.runfolder.manifest import PIPELINE, Manifest, Recorded, read_manifest, read_manifests
from scripts.runfolder.snapshot import content_hash

_NOT_PART_OF_IT = ("name", "version", "display_name", "description", "$schema", "inputs")


@dataclass(frozen=True)
class ReuseKey:
    parts: dict[str, str]  # what is compared, each a digest: component, code, input NAME, ...

    @property
    def digest(self) -> str:
        return _digest(self.parts)


def step_key(
    step: Step,
    code: Path,
    environment: str,
    inputs: dict[str, str | None],
    pipeline: Pipeline,
    upstream: dict[str, ReuseKey],
) -> ReuseKey:
    """The key of `step`, whose code root is `code` (its copy in the run folder, before it
    runs), whose environment is the one named `environment`, whose inputs resolved to
    `inputs`, the keys of its upstream steps being `upstream`."""
    definition = {k: v for k, v in step.component.items() if k not in _NOT_PART_OF_IT}
    run_settings = {k: v for k, v in step.spec.items() if k != "inputs"}
    parts = {
        "component": _digest({"component": definition, "step": run_settings}),
        "code": content_hash(code),
        "environment": environment,
    }
    for name in step.inputs:
        parts[f"input {name}"] = _input_part(
            step.given_to(name), inputs.get(name), pipeline, upstream
        )
    return ReuseKey(parts)


def _input_part(
    given: Given, value: str | None, pipeline: Pipeline, upstream: dict[str, ReuseKey]
) -> str:
    binding = given.binding
    if binding is not None and binding.step is not None:
        if binding.side == "outputs":  # where it is: the original's if the step was reused
            return _digest({"output": value})
        return upstream[binding.step].parts[f"input {binding.name}"]
    spec: Any = given.data if given.data is not None else given.value
    if binding is not None:  # a pipeline input
        spec = pipeline.inputs.get(binding.name)
    path = spec.get("path") if isinstance(spec, dict) else None
    if value is None:
        return _digest(None)
    if isinstance(path, str) and not is_remote(path):
        return _digest({"local data": content_hash(input_path(value))})
    if isinstance(path, str):
        return _digest({"data": path})
    return _digest({"value": value})


def key_without(parts: dict[str, str], inputs: list[str]) -> ReuseKey:
    """The key of a step whose `parts` were these, given no value for `inputs`."""
    return ReuseKey(parts | {f"input {name}": _digest(None) for name in inputs})


@dataclass(frozen=True)
class EarlierStep:
    pipeline: Recorded
    step: Recorded


def earlier_steps(project: Project) -> list[EarlierStep]:
    """The steps of the pipelines run before that started, newest pipeline first: read
    once per pipeline run, for every step's reuse decision."""
    pipelines, _ = read_manifests(find_run_folders(project.runs).folders)
    found = []
    for pipeline in pipelines:
        if pipeline.manifest.kind != PIPELINE:
            continue
        for name in pipeline.manifest.steps:
            folder = pipeline.folder / step_folder(name)
            try:
                found.append(EarlierStep(pipeline, Recorded(folder, read_manifest(folder))))
            except (OSError, ValueError, TypeError):
                continue
    return found


def reusable(earlier: list[EarlierStep], key: ReuseKey) -> Recorded | None:
    """The newest FINISHED run among `earlier` of a step with `key`, run (not itself
    reused), whose outputs are still there."""
    for found in earlier:
        run, manifest = found.step, found.step.manifest
        if (
            manifest.reuse_key == key.digest
            and manifest.status == "FINISHED"
            and manifest.reused_from is None
            and all((run.folder / CODE / output).is_dir() for output in manifest.output_folders)
        ):
            return run
    return None


def what_changed(earlier: list[EarlierStep], pipeline: Manifest, step: str, key: ReuseKey) -> str:
    """What differs from the newest FINISHED run among `earlier` of step `step` of the
    same pipeline file (of the same experiment) as `pipeline`: the parts that changed, in a
    few words."""
    for found in earlier:
        before, manifest = found.pipeline.manifest, found.step.manifest
        if found.step.folder.name != step or (before.experiment, before.job_file) != (
            pipeline.experiment,
            pipeline.job_file,
        ):
            continue
        if manifest.status != "FINISHED" or not manifest.reuse_parts:
            continue
        changed = [
            part
            for part in sorted(set(key.parts) | set(manifest.reuse_parts))
            if key.parts.get(part) != manifest.reuse_parts.get(part)
        ]
        return f"{', '.join(changed) or 'nothing'} changed since {found.pipeline.folder.name}"
    return "no earlier run of it"


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def reuse_manifest(prepared: Manifest, original: Recorded, key: ReuseKey) -> None:
    """`prepared` (a step's run.json to be) as the record of a step reused from
    `original`: its outcome, metrics and outputs are the original's."""
    prepared.reuse_key, prepared.reuse_parts = key.digest, key.parts
    prepared.reused_from = str(original.folder)
    prepared.status, prepared.exit_code, prepared.duration_seconds = "FINISHED", 0, 0.0
    prepared.metrics = dict(original.manifest.metrics)
