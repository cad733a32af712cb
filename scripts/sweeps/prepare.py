"""Preparing a sweep's local run: the sweep job checked by azure-ai-ml with its `--set`s
and read as a search, a trial resolved (what cannot run is refused before anything is
made), what its sampling needs installed, one environment built (or, with --docker, one
image) for every trial, and the sweep's run folder made, RUNNING. Each trial's folder and
run are made as it starts (`SweepRun.new_trial`), its values drawn then."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scripts.console import report
from scripts.jobspec.inputs import Inputs, local_paths, resolve_inputs
from scripts.jobspec.job import JobDict
from scripts.jobspec.overrides import apply_overrides, parse_override
from scripts.jobspec.parity import read_only_inputs
from scripts.jobspec.resolved import ResolvedJob, resolve_job
from scripts.jobspec.sweep import Sweep, Value, read_sweep, trial_job, value_text
from scripts.project.layout import Project
from scripts.project.uv import UI_GROUP, ensure_groups
from scripts.runfolder.isolate import Source, check_source, fill_run_folder, new_run_folder
from scripts.runfolder.layout import CODE, output_folder, step_folder
from scripts.runfolder.manifest import SWEEP, TRIAL, Manifest
from scripts.runfolder.sweep import make_trial_folder, trial_index, trial_name
from scripts.runner.environments import (
    ensure_environment,
    served_tracking,
    tracking_requirements,
)
from scripts.runner.prepare import (
    LocalRun,
    RunNames,
    assembled_run,
    check_as_aml_does,
    job_manifest,
    record_started,
    run_store,
    say_what_differs,
    warn_about,
)
from scripts.sweeps.sampling import Sampler, ensure_sampling, sampler_for
from scripts.tracking.project_store import store_made_alongside
from scripts.tracking.store import new_run_id
from scripts.tracking.trackers import Tracker

if TYPE_CHECKING:  # --docker's modules are imported only by a run that uses it
    from scripts.runner.in_container import Docker


@dataclass(frozen=True)
class CheckedSweep:
    """A sweep job as `just local` runs it: its source, the job after `--set` (typed as
    the SDK types them), its search and its code root."""

    source: Source
    job: JobDict
    sweep: Sweep
    code: str | None


def check_sweep(
    project: Project, experiment: str, job_file: str, overrides: Sequence[str]
) -> CheckedSweep:
    """The sweep in `job_file` of `experiment` with `overrides`, checked by azure-ai-ml and
    read; a UsageError in one line for what either refuses."""
    parsed = [parse_override(text) for text in overrides]
    source = check_source(project, experiment, job_file, any_job=True)
    given = apply_overrides(source.job, parsed, source.job_file)
    code = source.code(given)
    job = check_as_aml_does(project, source, given, parsed, code)
    return CheckedSweep(source, job, read_sweep(job, source.job_file), code)


@dataclass
class SweepRun:
    """A prepared sweep: its run folder and run.json (RUNNING), what draws the trials'
    values, and what every trial shares (its inputs, environment, store, image)."""

    project: Project
    folder: Path
    checked: CheckedSweep
    manifest: Manifest
    inputs: Inputs
    sampler: Sampler  # draws each trial's values, is told each trial's score
    venv: Path | None
    extra: str
    served: bool
    store: Tracker
    docker: "Docker | None" = None
    # A pipeline's sweep step: its trials get their values as inputs of its component (a
    # sweep job's, through ${{search_space.NAME}}), and its lines name the step.
    step: str | None = None
    trials: dict[str, LocalRun] = field(default_factory=dict)  # as they started

    @property
    def sweep(self) -> Sweep:
        return self.checked.sweep

    @property
    def output_names(self) -> list[str]:
        """The outputs each trial declares: the sweep's (a sweep step's: its component's)."""
        return [str(name) for name in self.checked.job.get("outputs") or {}]

    def label(self, trial: str) -> str:
        """`trial 3` (a sweep step's: `step NAME, trial 3`), as the terminal names `trial`."""
        where = f"step {self.step}, " if self.step else ""
        return f"{where}trial {trial_index(trial)}"

    def new_trial(self, index: int, values: dict[str, Value]) -> LocalRun:
        """Trial `index` with `values`: its folder made and its run assembled, ready to
        start, a child of the sweep's MLflow run; listed in the sweep's run.json."""
        name = trial_name(self.folder.name, index)
        job = trial_job(self.checked.job, values)
        inputs = self.inputs
        if self.step is not None:
            inputs = inputs | {key: value_text(value) for key, value in values.items()}
        resolved = _resolved(self.checked, job, inputs)
        folder = make_trial_folder(self.folder, name, job)
        source = self.checked.source
        names = RunNames(source.name, self.manifest.mlflow_experiment, name, self.manifest.job_file)
        manifest = job_manifest(resolved, names, source.requirements, self.extra, self.manifest.git)
        manifest.kind, manifest.parent_run_id = TRIAL, self.manifest.tracking_run_id
        manifest.trial_values = dict(values)
        container = None
        if self.docker:
            from scripts.runner.in_container import job_container

            paths = local_paths(job, inputs)
            container, _ = job_container(
                self.project, folder, self.docker, source.image, paths, self.extra, source.name
            )
            manifest.docker_image = container.image
        run = assembled_run(
            folder, manifest, self.venv, resolved.variables, self.store, self.served,
            container, shown=False,
        )  # fmt: skip
        self.trials[name] = run
        self.manifest.steps.append(name)
        self.manifest.write(self.folder)
        return run


def prepare_sweep(
    project: Project,
    experiment: str,
    job_file: str,
    overrides: Sequence[str],
    docker: "Docker | None" = None,
) -> SweepRun:
    """A run of the sweep in `job_file` as it is now, with `--set` overrides; each trial in
    the job image with `docker`. A project's first run makes its MLflow store meanwhile."""
    if docker:
        from scripts.containers.engine import require_engine

        require_engine("just local --docker", "run without --docker")
    with store_made_alongside(project.store, project.artifacts):
        checked = check_sweep(project, experiment, job_file, overrides)
        source, job = checked.source, checked.job
        inputs = resolve_inputs(job, source.job_file.parent, project.data)
        any_values: dict[str, Value] = dict.fromkeys(checked.sweep.space, 0)  # not checked
        a_trial = trial_job(job, any_values)
        warn_about(_resolved(checked, a_trial, inputs))
        ensure_sampling(project, checked.sweep)
        sampler = sampler_for(checked.sweep)
        extra = tracking_requirements(project, source.requirements)
        venv, built = None, False
        if docker is None:
            venv, built = ensure_environment(project, source.requirements, extra)
        served = served_tracking(source.requirements)
        if served:
            ensure_groups(project, [UI_GROUP], "the MLflow server the trials log through")
        git = project.git.record()
        with new_run_folder(project, experiment) as folder:
            fill_run_folder(folder, source, checked.code)
            environment = str(venv.relative_to(project.root)) if venv else ""
            if docker:
                from scripts.runner.in_container import job_container

                _, image = job_container(
                    project, folder, docker, source.image, [], extra, experiment
                )
                environment, built = f"image {image.tag}", image.built
            mlflow_experiment = str(job.get("experiment_name") or experiment)
            store = run_store(project, folder, mlflow_experiment)
            written_in = source.job_file.relative_to(source.folder).as_posix()
            manifest = sweep_manifest(
                checked, folder.name, mlflow_experiment, inputs, extra, git, written_in
            )
            manifest.tracking_store = store.where
            record_started(folder, manifest)
    how = "built now" if built else "reused"
    report.note(
        f"run folder:  {folder} (each trial runs in its {step_folder('TRIAL')}/{CODE}/)\n"
        f"environment: {environment} ({how}; every trial runs in it)\n"
        f"tracking:    {store.where}, experiment {mlflow_experiment!r}"
    )
    say_what_differs(a_trial, docker is not None)
    return SweepRun(
        project, folder, checked, manifest, inputs, sampler, venv, extra, served, store,
        docker,
    )  # fmt: skip


def _resolved(checked: CheckedSweep, job: JobDict, inputs: Inputs) -> ResolvedJob:
    """A trial's command job `job` resolved: the sweep's inputs, its outputs' folders."""
    outputs = {name: output_folder(name) for name in job.get("outputs") or {}}
    return resolve_job(job, checked.source.job_file, inputs, outputs, read_only_inputs(job))


def sweep_manifest(
    checked: CheckedSweep,
    run_name: str,
    mlflow_experiment: str,
    inputs: Inputs,
    extra: str,
    git: dict[str, str | bool] | None,
    job_file: str,
) -> Manifest:
    """The sweep's own run.json (a sweep step's too): its inputs, its objective, its
    trials as they start; `job_file` is the file it is written in, inside its experiment."""
    source, sweep = checked.source, checked.sweep
    return Manifest(
        experiment=source.name,
        mlflow_experiment=mlflow_experiment,
        run_name=run_name,
        command="",
        inputs=inputs,
        environment_variables={},
        requirements_sha256=hashlib.sha256(source.requirements.encode()).hexdigest(),
        local_tracking_requirements=extra,
        git=git,
        job_file=job_file,
        tracking_run_id=new_run_id(),
        timeout_seconds=sweep.timeout_seconds,
        kind=SWEEP,
        objective={"primary_metric": sweep.primary_metric, "goal": sweep.goal},
    )
