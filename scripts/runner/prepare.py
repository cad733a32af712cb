"""Preparing a local run: everything is checked before anything is written; then the run
folder is made, and the environment, the MLflow store, the command and the job's variables
are settled. If any of it fails, the new run folder is removed."""

import dataclasses
import hashlib
import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from scripts.console import report
from scripts.console.errors import StoreError
from scripts.jobspec.inputs import local_paths, resolve_inputs
from scripts.jobspec.job import (
    MASK,
    JobDict,
    check_command_job,
    check_names,
    environment_variables,
    load_job,
    masked,
    secret_names,
)
from scripts.jobspec.overrides import Override, Value, apply_overrides, parse_override
from scripts.jobspec.parity import (
    cloud_environment,
    not_applied_locally,
    read_only_inputs,
)
from scripts.jobspec.resolved import ResolvedJob, resolve_job
from scripts.jobspec.schema import literal_input_keys, relocated, sdk_version, typed_overrides
from scripts.project.cache import derived
from scripts.project.experiments import JobImage
from scripts.project.layout import JOB_FILE_NAME, Project
from scripts.project.uv import UI_GROUP, ensure_groups
from scripts.runfolder.isolate import Source, check_source, fill_run_folder, new_run_folder
from scripts.runfolder.layout import (
    CODE,
    FALLBACK_ARTIFACTS,
    FALLBACK_STORE,
    JOB_SPEC,
    LOGS,
    OUTPUTS,
    REQUIREMENTS,
    output_folder,
    shared_folder,
)
from scripts.runfolder.manifest import Manifest, timestamp
from scripts.runfolder.recorded import copy_given, recorded_run
from scripts.runner.debugging import Debugging, debug_requirements, debug_variables
from scripts.runner.environments import (
    ensure_environment,
    mlflow_version,
    served_tracking,
    tracking_requirements,
)
from scripts.runner.orphans import identity
from scripts.runner.process import payload_environment
from scripts.tracking.project_store import TRACKING_URI_VARIABLE, choose_store, store_made_alongside
from scripts.tracking.schema import check_schema, tooling_mlflow_version
from scripts.tracking.store import MAX_PARAM_LENGTH, new_run_id
from scripts.tracking.trackers import LocalStore, Tracker, server_at, tracking_setting

if TYPE_CHECKING:  # --docker's modules are imported only by a run that uses it
    from scripts.containers.jobs import JobContainer
    from scripts.runner.in_container import Docker

T = TypeVar("T")


@dataclass(frozen=True)
class LocalRun:
    """Everything needed to execute a prepared run."""

    folder: Path
    command: str
    environment: dict[str, str]  # of the job's process; in a container, the job's own only
    venv: Path | None  # the local environment it runs in, when not in a container
    store: Tracker  # where its MLflow run is
    # The job's MLflow is another version than the tooling's: it logs into a local store
    # through a tracking server (a team's server it speaks to over REST, whatever its version).
    served: bool
    manifest: Manifest  # run.json as written; it names the MLflow run the job attaches to
    container: "JobContainer | None" = None  # `--docker`: where the job runs
    shown: bool = True  # its output on the terminal (a pipeline step's: in its log only)


def prepare_experiment(
    project: Project,
    experiment: str,
    overrides: Sequence[str],
    debugging: Debugging | None = None,
    job_file: str = JOB_FILE_NAME,
    docker: "Docker | None" = None,
) -> LocalRun:
    """A run of the experiment's job (`job_file`) as it is now, with `--set` overrides;
    waiting for a debugger first with `debugging`; in the job's image with `docker`. A
    project's first run makes its MLflow store meanwhile."""
    with store_made_alongside(project.store, project.artifacts):
        return _experiment_run(project, experiment, overrides, debugging, job_file, docker)


def _experiment_run(
    project: Project,
    experiment: str,
    overrides: Sequence[str],
    debugging: Debugging | None,
    job_file: str,
    docker: "Docker | None",
) -> LocalRun:
    if docker:
        from scripts.containers.engine import require_engine

        require_engine("just local --docker", "run without --docker")
    git_record = _started(project.git.record)  # git waits on its own processes meanwhile
    parsed = [parse_override(text) for text in overrides]
    source = check_source(project, experiment, job_file)
    given = apply_overrides(source.job, parsed, source.job_file)
    if parsed:
        check_command_job(given, source.job_file, after_set=True)
    code = source.code(given)
    job = check_as_aml_does(project, source, given, parsed, code)
    check_names(job, source.job_file)
    inputs = resolve_inputs(job, source.job_file.parent, project.data)
    outputs = {name: output_folder(name) for name in job.get("outputs") or {}}
    resolved = resolve_job(job, source.job_file, inputs, outputs, read_only_inputs(job))
    warn_about(resolved)
    in_image = _InImage(docker, source.image, local_paths(job, inputs)) if docker else None
    extra = tracking_requirements(project, source.requirements)
    git = git_record()

    def manifest(run_name: str) -> Manifest:
        mlflow_experiment = str(job.get("experiment_name") or experiment)
        names = RunNames(experiment, mlflow_experiment, run_name, job_file)
        return job_manifest(resolved, names, source.requirements, extra, git)

    # The debugger's breakpoints are set in the sources; the job runs the run folder's copy.
    sources = [(source.folder / code, Path(CODE))] if code is not None else []
    if code is not None and source.uses_shared:  # the more specific first
        sources.insert(0, (project.shared_package, Path(CODE) / shared_folder(code)))
    run = _prepare(
        project,
        experiment,
        source.requirements,
        extra,
        lambda folder: fill_run_folder(folder, source, code),
        manifest,
        resolved.variables,
        dataclasses.replace(debugging, sources=tuple(sources)) if debugging else None,
        in_image,
    )
    # Once the run is ready: a refused run says one line only.
    say_what_differs(job, docker is not None)
    return run


def warn_about(job: ResolvedJob) -> None:
    """A warning for each variable that looks like a secret, and each input too long for
    an MLflow parameter."""
    for name in secret_names(job.variables):
        report.warning(
            f"environment variable {name} looks like a secret: run.json records it masked; "
            "keep secrets out of the job spec, which is committed and uploaded (use "
            ".env.local or a key vault)"
        )
    for name, value in job.inputs.items():
        if value is not None and len(value) > MAX_PARAM_LENGTH:
            report.warning(
                f"input {name!r} is {len(value):,} characters: its MLflow parameter keeps the "
                f"first {MAX_PARAM_LENGTH:,} (MLflow's limit); the job gets it whole"
            )


@dataclass(frozen=True)
class RunNames:
    """Where a run belongs: its experiment (folder), its MLflow experiment and run name, the
    job file it was made from (inside the experiment)."""

    experiment: str
    mlflow_experiment: str
    run_name: str
    job_file: str


def job_manifest(
    job: ResolvedJob, names: RunNames, requirements: str, extra: str, git: dict[str, Any] | None
) -> Manifest:
    """run.json as a run of `job` starts it, in an environment of `requirements` and the
    local-tracking packages `extra`, from the git state `git`."""
    return Manifest(
        experiment=names.experiment,
        mlflow_experiment=names.mlflow_experiment,
        run_name=names.run_name,
        job_file=names.job_file,
        local_tracking_requirements=extra,
        git=git,
        command=job.command,
        inputs=job.inputs,
        environment_variables=masked(job.variables),
        output_folders=job.output_folders,
        timeout_seconds=job.timeout_seconds,
        distribution=job.distribution,
        read_only_inputs=job.read_only_inputs,
        requirements_sha256=hashlib.sha256(requirements.encode()).hexdigest(),
    )


def prepare_rerun(project: Project, run_dir: str) -> LocalRun:
    """A new run of the run folder `run_dir` as it recorded itself: its code and environment,
    the command, inputs and variables in its run.json; not the experiment's sources."""
    source, recorded = recorded_run(project, run_dir)

    return _prepare(
        project,
        recorded.experiment,
        (source / REQUIREMENTS).read_text(),
        recorded.local_tracking_requirements,
        lambda folder: copy_given(source, folder),
        lambda run_name: recorded.for_rerun(run_name, rerun_of=str(source)),
        unmasked(recorded.environment_variables, source / JOB_SPEC),
    )


def check_as_aml_does(
    project: Project, source: Source, job: JobDict, overrides: list[Override], code: str | None
) -> JobDict:
    """azure-ai-ml's own schema check of the job file with the `--set`s, as `just aml` makes
    it (`job`: the file's job with them applied): what the cloud would refuse is refused here
    too, and the job comes back with the `--set`s typed as the SDK types them. The verdict is
    kept for the same job-file bytes, `--set`s and SDK version, so only a changed job pays
    the SDK's import; the text of a literal input's `--set` is not part of the verdict (see
    literal_input_keys), so trying values is free."""
    here = source.folder / code if code is not None else source.folder
    placed = relocated(job, here, project.dockerfile.parent)
    literal = literal_input_keys(source.job, overrides)
    salted = [[o.key, "<literal>" if o.key in literal else o.value] for o in overrides]
    salt = json.dumps([sdk_version(), salted, [[o.key, o.value] for o in placed]])

    def check() -> list[list[Value]]:
        typed = typed_overrides(source.job_file, overrides, placed)
        return [[override.key, override.value] for override in typed]

    kept = derived(project, "sdk-typed", source.job_file, check, salt)
    typed = [Override(tuple(str(key).split(".")), value) for key, value in kept]
    chosen = [
        given if given.key in literal else checked
        for given, checked in zip(overrides, typed, strict=True)
    ]
    return apply_overrides(source.job, chosen, source.job_file)


def say_what_differs(job: JobDict, in_image: bool) -> None:
    """One line for the fields this run does not apply as Azure ML would, one for another
    environment than the scaffolding's: never silence."""
    differing = not_applied_locally(job)
    if differing:
        report.note(f"not applied locally: {', '.join(differing)}")
    environment = cloud_environment(job)
    if environment:
        here = (
            "the image of the experiment's build context (environment/)"
            if in_image
            else "the experiment's own uv environment (its pyproject.toml)"
        )
        report.note(
            f"environment: the cloud runs this job in {environment}; locally it runs in {here}"
        )


def unmasked(recorded: dict[str, str], job_file: Path) -> dict[str, str]:
    """The variables run.json recorded, with each masked secret taken again from the run
    folder's copy of the job spec, `job_file` (a secret given with `--set` cannot be)."""
    if MASK not in recorded.values():
        return recorded
    given = environment_variables(load_job(job_file), job_file) if job_file.is_file() else {}
    variables = {
        name: given.get(name, value) if value == MASK else value for name, value in recorded.items()
    }
    for name in [name for name, value in variables.items() if value == MASK]:
        report.warning(
            f"environment variable {name} was recorded masked and is not in "
            f"{job_file}: the job gets {MASK!r}"
        )
    return variables


def _started(work: Callable[[], T]) -> Callable[[], T]:
    """`work`, running in a thread from now on; the returned callable waits for its result
    (or raises its error)."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def result() -> T:
        thread.join()
        if failure:
            raise failure[0]
        return outcome[0]

    return result


@dataclass(frozen=True)
class _InImage:
    """A run in its job image: what --docker asked, what the experiment declares for its
    image, the local inputs to mount."""

    request: "Docker"
    declared: JobImage
    inputs: list[Path]


def _prepare(
    project: Project,
    experiment: str,
    requirements: str,
    extra: str,
    fill: Callable[[Path], None],
    manifest_for: Callable[[str], Manifest],
    variables: dict[str, str],
    debugging: Debugging | None = None,
    in_image: _InImage | None = None,
) -> LocalRun:
    """The run: `variables` are the job's environment variables (run.json records them
    with secrets masked)."""
    venv, built, container = None, False, None
    if in_image is None:
        debug_extra = debug_requirements(project) if debugging else ""
        venv, built = ensure_environment(project, requirements, extra + debug_extra)
    served = served_tracking(requirements)
    if served:
        ensure_groups(project, [UI_GROUP], "the MLflow server the job logs through")
    with new_run_folder(project, experiment) as folder:
        fill(folder)
        if in_image:
            from scripts.runner.in_container import job_container

            container, image = job_container(
                project,
                folder,
                in_image.request,
                in_image.declared,
                in_image.inputs,
                extra,
                experiment,
            )
            built = image.built
        manifest = manifest_for(folder.name)
        manifest.docker_image = container.image if container else None
        store = run_store(project, folder, manifest.mlflow_experiment)
        debug = debug_variables(debugging, variables, folder) if debugging else {}
        run = assembled_run(folder, manifest, venv, variables | debug, store, served, container)
        record_started(folder, manifest)  # the last step: nothing can fail after it
    through = (
        f", through a local MLflow server (the job's MLflow {mlflow_version(requirements)}"
        f" is not the tooling's {tooling_mlflow_version()})"
        if run.served and not store.remote
        else ""
    )
    if debugging:
        report.note(
            f"debugging:   the job waits up to {debugging.timeout_seconds} s for a debugger "
            f"on {debugging.address}; breakpoints in experiments/{experiment}/ and shared/ "
            "apply"
        )
    report.note(
        f"run folder:  {folder} (the job runs in {CODE}/)\n"
        f"environment: {_environment_of(project, venv, container)} "
        f"({'built now' if built else 'reused'})\n"
        f"tracking:    {store.where}, experiment {manifest.mlflow_experiment!r}{through}\n"
        f"command:     {manifest.command}"
    )
    return run


def assembled_run(
    folder: Path,
    manifest: Manifest,
    venv: Path | None,
    variables: dict[str, str],
    store: Tracker,
    served: bool,
    container: "JobContainer | None" = None,
    shown: bool = True,
) -> LocalRun:
    """The run `manifest` describes, in `folder`, ready to start: its output and log
    folders made as Azure ML makes them, the id of its MLflow run (in `store`) chosen, and
    the job's environment: `variables` and MLflow's."""
    for made in (OUTPUTS, LOGS, *manifest.output_folders):
        (folder / CODE / made).mkdir(parents=True, exist_ok=True)
    run_id = new_run_id()  # its MLflow run is made when it starts (run.py; a server's
    # run gets the server's id then)
    manifest.tracking_store, manifest.tracking_run_id = store.where, run_id
    variables = variables | store.job_variables(manifest.mlflow_experiment, run_id)
    environment = payload_environment(venv, variables) if venv else variables
    return LocalRun(
        folder, manifest.command, environment, venv, store, served, manifest, container, shown
    )


def _environment_of(project: Project, venv: Path | None, container: "JobContainer | None") -> str:
    if container:
        return f"image {container.image}"
    assert venv is not None
    return str(venv.relative_to(project.root))


def run_store(project: Project, folder: Path, experiment: str) -> Tracker:
    """Where the run is tracked, with MLflow experiment `experiment` there: the team's
    server that MLFLOW_TRACKING_URI names, else (or when it does not answer) the project's
    store, else (when that cannot be used) one of the run's own. Tracking trouble never
    stops or loses a run."""
    uri = tracking_setting(project, TRACKING_URI_VARIABLE)
    server = server_at(project, uri)
    if server is not None:
        try:
            server.ensure_experiment(experiment)
            return server
        except StoreError as error:
            report.warning(f"{error}; this run is tracked in {project.store} instead")
    elif uri:
        report.warning(
            f"{TRACKING_URI_VARIABLE} is not an MLflow server's http(s) URL: this run is "
            f"tracked in {project.store}"
        )
    return local_store(project, folder, experiment)


def local_store(project: Project, folder: Path, experiment: str) -> LocalStore:
    """The project's store (or, when that cannot be used, one of the run's own in `folder`)
    with MLflow experiment `experiment` in it."""
    path = choose_store(project, folder / FALLBACK_STORE)
    artifacts = project.artifacts if path == project.store else folder / FALLBACK_ARTIFACTS
    check_schema(project, path)  # before anything is written into it
    store = LocalStore(path, artifacts)
    store.ensure_experiment(experiment)
    return store


def record_started(folder: Path, manifest: Manifest) -> None:
    """run.json, RUNNING and naming this process and the MLflow run to come: from here on,
    whatever stops the run (this process killed included), it is found and settled."""
    manifest.started = timestamp()
    manifest.runner = identity(os.getpid())
    manifest.write(folder)
