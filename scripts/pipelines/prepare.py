"""Preparing a pipeline's local run: the pipeline read and checked (its graph, its
components), one run folder made holding every step, azure-ai-ml's verdict on it, every
step's environment built, each step's inputs resolved to what they are bound to and its
command rendered. If any of it fails, the run folder is removed: nothing half-made is
left."""

import hashlib
import os
import shlex
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from scripts.console import report
from scripts.console.errors import UsageError
from scripts.jobspec.documents import load_yaml
from scripts.jobspec.inputs import Inputs, input_path, resolve_inputs
from scripts.jobspec.job import JobDict
from scripts.jobspec.pipeline import (
    Binding,
    Given,
    Pipeline,
    Step,
    check_literal,
    read_pipeline,
)
from scripts.jobspec.resolved import resolve_job
from scripts.jobspec.schema import check_pipeline, sdk_version
from scripts.pipelines.reuse import (
    EarlierStep,
    ReuseKey,
    earlier_steps,
    reusable,
    reuse_manifest,
    step_key,
    what_changed,
)
from scripts.project.cache import derived
from scripts.project.layout import Project
from scripts.project.uv import UI_GROUP, ensure_groups
from scripts.runfolder.isolate import new_run_folder
from scripts.runfolder.layout import (
    CODE,
    JOB_SPEC,
    PIPELINE_SPEC,
    REQUIREMENTS,
    STEPS,
    output_folder,
    step_folder,
)
from scripts.runfolder.manifest import (
    PIPELINE,
    STEP,
    SWEEP,
    Manifest,
    Recorded,
    read_manifest,
)
from scripts.runfolder.pipeline import (
    CheckedPipeline,
    StepSource,
    check_pipeline_source,
    fill_pipeline_folder,
)
from scripts.runfolder.recorded import copy_given
from scripts.runner.environments import (
    ensure_environment,
    environment_path,
    served_tracking,
    tracking_requirements,
)
from scripts.runner.prepare import (
    LocalRun,
    RunNames,
    assembled_run,
    job_manifest,
    record_started,
    run_store,
    unmasked,
    warn_about,
)
from scripts.sweeps.prepare import CheckedSweep, SweepRun, sweep_manifest
from scripts.sweeps.sampling import ensure_sampling, sampler_for
from scripts.tracking.project_store import store_made_alongside
from scripts.tracking.store import new_run_id
from scripts.tracking.trackers import Tracker

if TYPE_CHECKING:  # --docker's modules are imported only by a run that uses it
    from scripts.runner.in_container import Docker


StepRun = LocalRun | SweepRun  # a command step's run, or a sweep step's


@dataclass(frozen=True)
class PipelineRun:
    """A prepared pipeline: its run folder and run.json, each step's run, ready to start
    (a step's run.json is written when it starts), and what was decided about reusing it
    (a reused step's run is already recorded FINISHED: it does not start)."""

    folder: Path
    pipeline: Pipeline
    manifest: Manifest
    steps: dict[str, StepRun]  # in the pipeline's order
    plans: dict[str, str]  # for each step: reused from where, or why it runs
    store: Tracker  # where the pipeline's and its steps' MLflow runs are


def prepare_pipeline(
    project: Project,
    experiment: str,
    job_file: str,
    overrides: Sequence[str],
    dry_run: bool = False,
    docker: "Docker | None" = None,
) -> PipelineRun:
    """A run of the pipeline in `job_file` as it is now, with `--set` overrides; each step
    in its job image with `docker`. A project's first run makes its MLflow store meanwhile.
    With `dry_run`, what would run is decided (and said) and nothing is left: no run
    folder, no environment or image built."""
    if docker and not dry_run:
        from scripts.containers.engine import require_engine

        require_engine("just local --docker", "run without --docker")
    with store_made_alongside(project.store, project.artifacts):
        checked = check_pipeline_source(project, experiment, job_file, overrides)
        git = project.git.record()
        with new_run_folder(project, experiment) as folder:
            fill_pipeline_folder(folder, checked.source, checked.pipeline, checked.steps)
            _check_as_aml_does(project, folder)
            build = not dry_run and docker is None
            environments = _environments(project, checked.steps, build)
            assembly = _Assembly(project, folder, checked, git, None if dry_run else docker)
            for name in checked.pipeline.order:
                assembly.add(name, environments[name])
            run = assembly.run()
            if dry_run:
                shutil.rmtree(folder)
            else:
                record_started(folder, run.manifest)
    if dry_run:
        for name in run.pipeline.order:
            report.result(f"step {name}: {run.plans[name]}")
        return run
    where = "in its job image" if docker else "in its experiment's environment"
    report.note(
        f"run folder:  {folder} (each step runs in its {step_folder('STEP')}/{CODE}/, "
        f"{where})\n"
        f"tracking:    {run.manifest.tracking_store}, experiment "
        f"{run.manifest.mlflow_experiment!r}\n"
        f"steps:       {', '.join(run.pipeline.order)} (each after the steps it is bound to; "
        "independent ones at the same time)"
    )
    return run


def _check_as_aml_does(project: Project, folder: Path) -> None:
    """azure-ai-ml's own schema check of the pipeline as the run folder holds it (every
    component inlined): what `just aml` would refuse is refused here too. The verdict is
    kept for the same bytes and SDK version."""
    placed = folder / PIPELINE_SPEC
    nested = hashlib.sha256(
        b"".join(path.read_bytes() for path in sorted((folder / STEPS).glob("*.yaml")))
    ).hexdigest()  # the nested pipelines' documents, which the verdict depends on too
    salt = f"{sdk_version()} {nested}"
    derived(project, "sdk-pipeline", placed, lambda: check_pipeline(placed), salt)


@dataclass(frozen=True)
class _Environment:
    venv: Path  # runs/.venvs/KEY, KEY a hash of the requirements: built unless not needed
    extra: str  # the local-tracking packages added to the experiment's requirements
    served: bool


def _environments(
    project: Project, steps: dict[str, StepSource], build: bool
) -> dict[str, _Environment]:
    """Each step's local environment, built (if `build`) once per set of requirements."""
    made: dict[str, _Environment] = {}
    chosen = {}
    for name, step in steps.items():
        requirements = step.source.requirements
        if requirements not in made:
            extra = tracking_requirements(project, requirements)
            if build:
                ensure_environment(project, requirements, extra)
            venv = environment_path(project, requirements, extra)
            served = served_tracking(requirements)
            if served and build:
                ensure_groups(project, [UI_GROUP], "the MLflow server a step logs through")
            made[requirements] = _Environment(venv, extra, served)
        chosen[name] = made[requirements]
    return chosen


class _Assembly:
    """The pipeline's run, assembled step after step in the pipeline's order: each step's
    inputs resolved against the steps before it, its reuse decided, its run made."""

    def __init__(
        self,
        project: Project,
        folder: Path,
        checked: CheckedPipeline,
        git: dict[str, str | bool] | None,
        docker: "Docker | None",
    ) -> None:
        self.project, self.folder, self.checked, self.docker = project, folder, checked, docker
        pipeline = checked.pipeline
        mlflow_experiment = pipeline.experiment_name or checked.source.name
        self.store = run_store(project, folder, mlflow_experiment)
        self.manifest = Manifest(
            experiment=checked.source.name,
            mlflow_experiment=mlflow_experiment,
            run_name=folder.name,
            command="",
            inputs=resolve_inputs(pipeline.document, pipeline.file.parent, project.data),
            environment_variables={},
            requirements_sha256="",
            local_tracking_requirements="",
            git=git,
            job_file=checked.source.job_file.relative_to(checked.source.folder).as_posix(),
            tracking_store=self.store.where,
            tracking_run_id=new_run_id(),
            kind=PIPELINE,
            steps=list(pipeline.order),
        )
        self.resolved: dict[str, Inputs] = {}
        self.code_roots: dict[str, Path] = {}  # where each step's outputs are (or reused)
        self.keys: dict[str, ReuseKey] = {}
        self.runs: dict[str, StepRun] = {}
        self.plans: dict[str, str] = {}
        self.earlier = earlier_steps(project)  # what every step's reuse is decided against

    def add(self, name: str, environment: _Environment) -> None:
        step, pipeline = self.checked.steps[name], self.checked.pipeline
        inputs = self._inputs(step.step)
        self.resolved[name] = inputs
        here = self.folder / step_folder(name)
        key = step_key(step.step, here / CODE, environment.venv.name, inputs, pipeline, self.keys)
        self.keys[name] = key
        original = _reusable(self.earlier, pipeline, step.step, key)
        self.code_roots[name] = original.folder / CODE if original else here / CODE
        make = self._sweep_step_run if step.step.sweep else self._step_run
        self.runs[name] = make(here, step, inputs, environment, key, original is None)
        if original:
            reuse_manifest(self.runs[name].manifest, original, key)
            self.plans[name] = f"reused from {original.folder}"
        else:
            self.plans[name] = _why_it_runs(self.earlier, pipeline, self.manifest, step.step, key)
        for output, binding in step.step.output_bindings.items():
            bound = self.code_roots[name] / output_folder(output)
            self.manifest.pipeline_outputs[binding.name] = os.path.relpath(bound, self.folder)

    def run(self) -> PipelineRun:
        return PipelineRun(
            self.folder, self.checked.pipeline, self.manifest, self.runs, self.plans, self.store
        )

    def _inputs(self, step: Step) -> Inputs:
        """Each input the step's component declares, with the value Azure ML gives it: what
        it is bound to (a pipeline input, an earlier step's output folder or input), the data
        or literal the step gives, else the component's default; None when optional and
        unset."""
        pipeline = self.checked.pipeline
        values: Inputs = {}
        for name, declared in step.inputs.items():
            if step.sweep is not None and name in step.sweep.space:
                values[name] = None  # each trial's value
                continue
            given = step.given_to(name)
            if given.binding is not None:
                value = self._bound(step, name, given.binding)
            elif given.data is not None or (given.value is not None and not declared.literal):
                data = given.data or {"type": declared.type, "path": str(given.value)}
                spec = {"inputs": {name: data}}
                value = resolve_inputs(spec, pipeline.file.parent, self.project.data)[name]
            else:
                value = None if given.value is None else str(given.value)
            if value is not None and declared.literal:
                value = check_literal(step.name, declared, value)
            if value is None and not declared.optional:
                raise UsageError(
                    f"step {step.name!r}, input {name!r} has no value: give it in "
                    f"{pipeline.file.name} or with --set jobs.{step.name}.inputs.{name}=VALUE"
                )
            values[name] = value
        return values

    def _bound(self, step: Step, name: str, binding: Binding) -> str | None:
        if binding.step is None:
            if binding.side == "outputs":
                raise UsageError(
                    f"step {step.name!r}, input {name!r}: {binding} is an output of the "
                    "pipeline; bind an input to a pipeline input or to a step's output"
                )
            return self.manifest.inputs[binding.name]
        if binding.side == "inputs":
            return self.resolved[binding.step][binding.name]
        return shlex.quote(str(self.code_roots[binding.step] / output_folder(binding.name)))

    def _step_run(
        self,
        folder: Path,
        step: StepSource,
        inputs: Inputs,
        environment: _Environment,
        key: ReuseKey,
        runs: bool,
    ) -> LocalRun:
        """The step's run, as a command job's, a child of the pipeline's MLflow run; in its
        job image with --docker (built now, unless it is reused)."""
        outputs = {output: output_folder(output) for output in step.step.outputs}
        read_only = _read_only(step.step, inputs)
        job = resolve_job(
            step.step.component | step.step.settings,
            step.step.component_file,
            inputs,
            outputs,
            read_only,
        )
        warn_about(job)
        names = RunNames(
            step.source.name,
            self.manifest.mlflow_experiment,
            step.step.name,
            step.source.job_file.relative_to(step.source.folder).as_posix(),
        )
        manifest = job_manifest(
            job, names, step.source.requirements, environment.extra, self.manifest.git
        )
        manifest.kind, manifest.parent_run_id = STEP, self.manifest.tracking_run_id
        manifest.reuse_key, manifest.reuse_parts = key.digest, key.parts
        venv: Path | None = environment.venv
        container = None
        if self.docker and runs:
            from scripts.runner.in_container import job_container

            paths = [input_path(value) for name in read_only if (value := inputs[name])]
            container, _ = job_container(
                self.project,
                folder,
                self.docker,
                step.source.image,
                paths,
                environment.extra,
                step.source.name,
            )
            manifest.docker_image, venv = container.image, None
        return assembled_run(
            folder, manifest, venv, job.variables, self.store, environment.served,
            container, shown=False,
        )  # fmt: skip

    def _sweep_step_run(
        self,
        folder: Path,
        step: StepSource,
        inputs: Inputs,
        environment: _Environment,
        key: ReuseKey,
        runs: bool,
    ) -> SweepRun:
        """A sweep step's run, a sweep whose trials are runs of its component with their
        values as inputs, a child of the pipeline's MLflow run; its image built now with
        --docker (unless it is reused)."""
        sweep, component = step.step.sweep, step.step.component
        assert sweep is not None, "sweep steps only"
        spec = step.step.spec
        job = {"trial": component, "outputs": component.get("outputs") or {}}
        job |= {"limits": spec["limits"]} if spec.get("limits") else {}
        checked = CheckedSweep(step.source, job, sweep, step.code)
        job_file = step.source.job_file.relative_to(step.source.folder).as_posix()
        manifest = sweep_manifest(
            checked, step.step.name, self.manifest.mlflow_experiment, inputs,
            environment.extra, self.manifest.git, job_file,
        )  # fmt: skip
        manifest.parent_run_id = self.manifest.tracking_run_id
        manifest.reuse_key, manifest.reuse_parts = key.digest, key.parts
        manifest.tracking_store = self.store.where
        venv: Path | None = environment.venv
        if self.docker and runs:
            from scripts.runner.in_container import job_container

            _, image = job_container(
                self.project, folder, self.docker, step.source.image, [], environment.extra,
                step.source.name,
            )  # fmt: skip
            manifest.docker_image, venv = image.tag, None
        ensure_sampling(self.project, sweep)
        return SweepRun(
            self.project, folder, checked, manifest, inputs, sampler_for(sweep), venv,
            environment.extra, environment.served, self.store,
            self.docker if runs else None, step.step.name,
        )  # fmt: skip


def _reusable(
    earlier: list[EarlierStep], pipeline: Pipeline, step: Step, key: ReuseKey
) -> Recorded | None:
    """The earlier run of `step` to reuse, unless it must run (`is_deterministic: false`,
    `settings.force_rerun`)."""
    if pipeline.force_rerun or step.component.get("is_deterministic") is False:
        return None
    return reusable(earlier, key)


def _why_it_runs(
    earlier: list[EarlierStep], pipeline: Pipeline, manifest: Manifest, step: Step, key: ReuseKey
) -> str:
    if pipeline.force_rerun:
        return "runs (settings.force_rerun)"
    if step.component.get("is_deterministic") is False:
        return "runs (its component is not deterministic)"
    return f"runs ({what_changed(earlier, manifest, step.name, key)})"


def _read_only(step: Step, inputs: Inputs) -> list[str]:
    """The step's data inputs (Azure ML mounts them read-only) but those given in
    `direct` mode."""
    return [
        name
        for name, declared in step.inputs.items()
        if not declared.literal
        and inputs.get(name) is not None
        and _mode(step.given.get(name)) != "direct"
    ]


def _mode(given: Given | None) -> str | None:
    data: JobDict | None = given.data if given else None
    return None if data is None else data.get("mode")


def prepare_pipeline_rerun(project: Project, source: Path, recorded: Manifest) -> PipelineRun:
    """A new run of the pipeline run folder `source` (`recorded`: its run.json) as it
    recorded itself: every step again (none reused), each with its recorded code, command,
    inputs and environment, the paths of the outputs it was bound to now those of the new
    run's steps."""
    placed = source / PIPELINE_SPEC
    pipeline = read_pipeline(load_yaml(placed, "a pipeline"), placed, source)
    steps = {name: read_manifest(source / step_folder(name)) for name in recorded.steps}
    for name, step in steps.items():
        if step.kind == SWEEP:
            raise UsageError(
                f"{source}: its step {name!r} is a sweep, which is not run again: run the "
                f"pipeline again with `just local {recorded.experiment} -f "
                f"{recorded.job_file}`, or rerun one of the step's trials"
            )
    environments = {
        name: _recorded_environment(project, source / step_folder(name), step)
        for name, step in steps.items()
    }
    with (
        store_made_alongside(project.store, project.artifacts),
        new_run_folder(project, recorded.experiment) as folder,
    ):
        copy_given(source, folder, recorded.steps)
        manifest = recorded.for_rerun(folder.name, rerun_of=str(source))
        store = run_store(project, folder, manifest.mlflow_experiment)
        manifest.kind, manifest.steps = PIPELINE, list(recorded.steps)
        manifest.tracking_store, manifest.tracking_run_id = store.where, new_run_id()
        moved = {  # each step's code root then (the original's, if it was reused): now
            f"{Path(step.reused_from or source / step_folder(name)) / CODE}/": (
                f"{folder / step_folder(name) / CODE}/"
            )
            for name, step in steps.items()
        }
        manifest.pipeline_outputs = {
            output: os.path.relpath(_moved(str((source / path).resolve()), moved), folder)
            for output, path in recorded.pipeline_outputs.items()
        }
        runs: dict[str, StepRun] = {
            name: _rerun_step(source, folder, step, manifest, moved, environments[name], store)
            for name, step in steps.items()
        }
        record_started(folder, manifest)
    plans = dict.fromkeys(recorded.steps, f"runs again, as {source.name} recorded it")
    report.note(f"run folder:  {folder} (a rerun of {source})")
    return PipelineRun(folder, pipeline, manifest, runs, plans, store)


def _recorded_environment(project: Project, folder: Path, step: Manifest) -> _Environment:
    """The local environment of the recorded step in `folder`: its requirements then."""
    requirements = (folder / REQUIREMENTS).read_text()
    venv, _ = ensure_environment(project, requirements, step.local_tracking_requirements)
    return _Environment(venv, step.local_tracking_requirements, served_tracking(requirements))


def _rerun_step(
    source: Path,
    folder: Path,
    step: Manifest,
    pipeline: Manifest,
    moved: dict[str, str],
    environment: _Environment,
    store: Tracker,
) -> LocalRun:
    """The step of `source` recorded as `step`, again in the new pipeline run `folder`."""
    name = step.run_name
    again = step.for_rerun(name, rerun_of=str(source / step_folder(name)))
    again.kind, again.parent_run_id = STEP, pipeline.tracking_run_id
    again.command = _moved(step.command, moved)
    again.inputs = {
        key: None if value is None else _moved(value, moved) for key, value in step.inputs.items()
    }
    variables = unmasked(step.environment_variables, source / step_folder(name) / JOB_SPEC)
    return assembled_run(
        folder / step_folder(name), again, environment.venv, variables, store,
        environment.served, shown=False,
    )  # fmt: skip


def _moved(text: str, moved: dict[str, str]) -> str:
    for before, after in moved.items():
        text = text.replace(before, after)
    return text
