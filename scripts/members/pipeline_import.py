"""`just import` of a pipeline job: one experiment holding the pipeline file, its component
files (nested pipelines' included) and each component's code folder, all at the same
relative places, every environment they name replaced by the experiment's build context
(one line each), every conda file's packages among the experiment's uv dependencies; the
result checked by azure-ai-ml as `just local` checks it before it is called imported."""

import io
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from scripts.console import report
from scripts.console.errors import UsageError
from scripts.jobspec.job import BUILD_CONTEXT, PIPELINE, JobDict, load_job_document
from scripts.jobspec.parity import describe_environment
from scripts.members.code_imports import distribution
from scripts.members.conda import read_conda_file
from scripts.members.declarations import declare_independent
from scripts.members.importing import (
    Imported,
    code_imports,
    copy_code,
    default_name,
    inputs_to_do,
    lint_excluded,
    lock_member,
    write_member,
)
from scripts.members.lifecycle import check_new_name, taking_turns, workspace_change
from scripts.members.template import package_name
from scripts.project.layout import Project
from scripts.runfolder.pipeline import create_pipeline_folder

Place = tuple[str, ...]  # the keys leading to a mapping in a YAML document


@dataclass
class _Found:
    """What a pipeline file and the component files it names hold."""

    environments: dict[Path, list[tuple[Place, object]]] = field(default_factory=dict)
    code: dict[Path, JobDict] = field(default_factory=dict)  # code folder -> its job
    conda_files: list[Path] = field(default_factory=list)
    cloud_components: list[str] = field(default_factory=list)


def import_pipeline(project: Project, pipeline_file: Path, name: str | None) -> Imported:
    """experiments/NAME (NAME from the pipeline file's folder and name unless given) from
    the pipeline in `pipeline_file` and what it names."""
    found = _Found()
    _walk(pipeline_file, load_job_document(pipeline_file), found)
    files = [pipeline_file, *found.environments, *found.code]
    root = Path(os.path.commonpath([path.resolve().parent for path in files]))
    name = name or default_name(pipeline_file)
    requirements = [
        requirement
        for conda_file in found.conda_files
        for requirement in read_conda_file(conda_file).requirements
    ]
    target = project.experiments / name
    job_file = pipeline_file.resolve().relative_to(root).as_posix()
    with taking_turns(project):
        check_new_name(project, name)  # before the change: its undo removes `target`
        with workspace_change(project, undo=lambda: shutil.rmtree(target, ignore_errors=True)):
            target.mkdir(parents=True)
            code = sorted({folder.relative_to(root).as_posix() for folder in found.code})
            for folder in found.code:
                copy_code(folder, target / folder.relative_to(root), root)
            for yaml_file in sorted({pipeline_file.resolve(), *found.environments}):
                written = target / yaml_file.relative_to(root)
                written.parent.mkdir(parents=True, exist_ok=True)
                places = found.environments.get(yaml_file, [])
                written.write_text(_with_build_contexts(yaml_file, places, target, written))
            shutil.copyfile(project.experiment_template / ".amlignore", target / ".amlignore")
            excluded = lint_excluded(target, ".") if "." in code else code
            write_member(project, target, pipeline_file, requirements, excluded)
            declare_independent(project.pyproject, package_name(name))
            dependencies, unpinned = lock_member(
                project, target, pipeline_file, requirements, excluded
            )
            _check_written(project, name, job_file)
    left = _left_to_do(found, root, target, job_file)
    return Imported(target, dependencies, [*unpinned, *left])


def _walk(file: Path, document: JobDict, found: _Found) -> None:
    """The environments, code folders and conda files of the pipeline `document` (written
    in `file`) and of the components its steps name, nested pipelines' included."""
    file = file.resolve()
    found.environments.setdefault(file, [])
    for step, spec in (document.get("jobs") or {}).items():
        if not isinstance(spec, dict):
            continue
        component = spec.get("component")
        if isinstance(component, str) and component.startswith("azureml:"):
            found.cloud_components.append(f"{step} ({component})")
        elif isinstance(component, str):
            path = (file.parent / component.removeprefix("file:")).resolve()
            if not path.is_file():
                raise UsageError(f"step {step!r}: component {component} does not exist ({path})")
            _component(path, load_job_document(path), (), found)
        elif isinstance(component, dict):
            _component(file, component, ("jobs", str(step), "component"), found)
        elif "command" in spec:
            _component(file, spec, ("jobs", str(step)), found)


def _component(file: Path, component: JobDict, at: Place, found: _Found) -> None:
    """A component (or an inline step) at `at` in `file`: a nested pipeline walked in turn."""
    if component.get("type") == PIPELINE:
        _walk(file, component, found)
        return
    found.environments.setdefault(file, [])
    environment = component.get("environment")
    if environment is not None:
        found.environments[file].append((at, environment))
        conda = environment.get("conda_file") if isinstance(environment, dict) else None
        if conda is not None:
            path = (file.parent / str(conda)).resolve()
            if not path.is_file():
                raise UsageError(f"{path} (the conda_file of {file.name}) does not exist")
            found.conda_files.append(path)
    code = component.get("code")
    if code is not None:
        folder = (file.parent / str(code)).resolve()
        if ":" in str(code).split("/")[0] or not folder.is_dir():
            raise UsageError(
                f"code: {code} in {file.name} is not a local folder: import a pipeline whose "
                "components' code sits beside them"
            )
        found.code.setdefault(folder, component)


def _with_build_contexts(
    source: Path, places: list[tuple[Place, object]], target: Path, written: Path
) -> str:
    """The text of `source` with the `environment:` at each of `places` replaced by the
    experiment's build context (a path from `written`'s folder), edited as YAML (ruamel's
    round trip: every other key, comment and value as it was); one line for each."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # long lines stay as they are
    text = source.read_bytes().decode("utf-8-sig")
    if not places:
        return text
    document = yaml.load(text)
    build_path = os.path.relpath(target / BUILD_CONTEXT, written.parent)
    for at, was in places:
        node = document
        for key in at:
            node = node[key]
        node["environment"] = CommentedMap(build=CommentedMap(path=build_path))
        where = ".".join((*at, "environment"))
        report.note(
            f"{written.relative_to(target)}: {where} was {describe_environment(was)}; now the "
            "experiment's build context (its uv dependencies)"
        )
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def _check_written(project: Project, name: str, job_file: str) -> None:
    """The written pipeline isolated as `just iso` isolates it, and checked by azure-ai-ml:
    an import that leaves a pipeline neither can use is not one."""
    from scripts.jobspec.schema import check_pipeline  # imports azure-ai-ml
    from scripts.runfolder.layout import PIPELINE_SPEC

    try:
        folder = create_pipeline_folder(project, name, job_file)
        try:
            check_pipeline(folder / PIPELINE_SPEC)
        finally:
            shutil.rmtree(folder)
    except UsageError as error:
        raise UsageError(
            f"the imported pipeline would not be valid ({error}); nothing imported"
        ) from None


def _left_to_do(found: _Found, root: Path, target: Path, job_file: str) -> list[str]:
    name, package = target.name, package_name(target.name)
    todo = [
        f"step {step} uses a component that lives in Azure ML: it runs there only"
        for step in found.cloud_components
    ]
    needed = sorted(
        {
            distribution(module)
            for folder, component in found.code.items()
            for module in code_imports(component, target, folder.relative_to(root).as_posix())
        }
        - {"azureml-mlflow"}
    )
    if needed and not found.conda_files:
        todo.append(
            "the components ran in environments whose packages are not known here: add what "
            f"their code needs with `uv add --package {package} PACKAGE...` (it imports "
            f"{', '.join(needed)})"
        )
    pipeline = load_job_document(target / job_file)
    todo += inputs_to_do(pipeline, target / Path(job_file).parent, name)
    todo.append(
        f"run it with `just local {name} -f {job_file}`; submit with `just aml {name} -f "
        f"{job_file} --set settings.default_compute=azureml:CLUSTER` (--dry-run first)"
    )
    return todo
