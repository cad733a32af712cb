"""`just import`: an experiment made from a job written the way Azure ML's public examples
write them (a job YAML beside its code folder, `code: src`, a curated or conda environment,
remote inputs). The code is copied as it is, the job keeps its command and `code:`, a
`conda_file`'s dependencies become the member's uv dependencies, and the environment becomes
the scaffolding's build context (the YAML edited as YAML, comments and layout kept, the
result checked by azure-ai-ml before it is called imported); what is left to do is said,
not guessed."""

import io
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from scripts.console import report
from scripts.console.errors import UsageError
from scripts.jobspec.inputs import is_remote, local_input_path
from scripts.jobspec.job import BUILD_CONTEXT, JobDict, is_pipeline, load_job, load_job_document
from scripts.jobspec.parity import describe_environment
from scripts.jobspec.schema import relocated, typed_overrides
from scripts.members.code_imports import distribution, entry_files, third_party_imports
from scripts.members.conda import CondaEnvironment, read_conda_file
from scripts.members.declarations import declare_independent
from scripts.members.lifecycle import (
    check_new_name,
    lock_workspace,
    taking_turns,
    workspace_change,
)
from scripts.members.template import package_name, tooling_mlflow_requirement
from scripts.project.experiments import normalise, requirement_name
from scripts.project.layout import JOB_FILE_NAME, Project
from scripts.project.uv import UvFailed
from scripts.runfolder.snapshot import IgnoreRules, copy_tree

_POLICY_NOTE = (
    "# Made by `just import`. [tool.ruff] extend-exclude lists the imported code, which\n"
    "# `just lint` (ruff and mypy) leaves as it came: remove an entry once it follows the\n"
    "# project's style. [tool.uv] package = false: the job runs its scripts from `code:`.\n"
)
_WRITTEN = {"pyproject.toml", JOB_FILE_NAME, ".amlignore"}  # by the import, not imported
_GENERIC_STEMS = {"job", "azure-ml-job", "pipeline"}  # job file names that say nothing of the job
_PIP_INSTALL = re.compile(r"\bpip3?(?:\.\d+)?\s+install\b|-m\s+pip\s+install\b")
# A requirement as uv's resolver names it in its reasons: `numpy==1.21.*`, `scipy>=1.14`.
_NAMED = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?(?===|!=|<=|>=|~=|<|>)")


@dataclass(frozen=True)
class Imported:
    folder: Path
    dependencies: list[str]  # as locked
    left_to_do: list[str]


def import_job(project: Project, job_file: Path, name: str | None) -> Imported:
    """experiments/NAME (NAME from the job file's folder and name unless given) from
    `job_file`."""
    if not job_file.is_file():
        raise UsageError(f"{job_file} is not a file: give the path of an Azure ML job YAML")
    if is_pipeline(load_job_document(job_file)):
        from scripts.members.pipeline_import import import_pipeline

        return import_pipeline(project, job_file, name)
    job = load_job(job_file)
    name = name or default_name(job_file)
    code = _code_folder(job, job_file)
    conda_file = _conda_file(job, job_file)
    conda = read_conda_file(conda_file) if conda_file else CondaEnvironment([])
    written = with_build_context(job_file.read_bytes().decode("utf-8-sig"), job)
    target = project.experiments / name
    with taking_turns(project):
        check_new_name(project, name)  # before the change: its undo removes `target`
        with workspace_change(project, undo=lambda: shutil.rmtree(target, ignore_errors=True)):
            target.mkdir(parents=True)
            if code is not None:
                copy_code(job_file.parent / code, target / code, job_file.parent)
            (target / JOB_FILE_NAME).write_text(written)
            shutil.copyfile(project.experiment_template / ".amlignore", target / ".amlignore")
            _check_written(project, target, code)
            excluded = lint_excluded(target, code)
            write_member(project, target, job_file, conda.requirements, excluded)
            declare_independent(project.pyproject, package_name(name))
            dependencies, unpinned = lock_member(
                project, target, job_file, conda.requirements, excluded
            )
    left = _left_to_do(project, job, target, code, conda, conda_file)
    return Imported(target, dependencies, [*unpinned, *left])


def default_name(job_file: Path) -> str:
    """The experiment name a job file suggests: its folder's and its own (`hello-world.yml`
    in basics/ is basics_hello_world), its folder's alone for a generic one (`iris/job.yml`
    is iris), as a module name."""
    folder, stem = job_file.resolve().parent.name, job_file.stem
    words = folder if stem.lower() in _GENERIC_STEMS else f"{folder}_{stem}"
    return re.sub(r"[^a-z0-9]+", "_", words.lower()).strip("_") or "imported"


def copy_code(source: Path, destination: Path, inside: Path) -> None:
    """The code as Azure ML would upload it (its ignore file applied), without credentials
    or links leading outside the job's folder: they must not enter the repository."""
    for left_out in copy_tree(source, destination, (IgnoreRules.of(source),), inside):
        report.warning(f"not copied, {left_out.reason}: {left_out.path}")


def _code_folder(job: JobDict, job_file: Path) -> str | None:
    """The job's `code:` as a folder below the job file's (copied to the same place)."""
    code = job.get("code")
    if code is None:
        return None
    folder = (job_file.parent / str(code)).resolve()
    if not folder.is_dir() or not folder.is_relative_to(job_file.parent.resolve()):
        raise UsageError(
            f"code: {code} in {job_file.name} is not a folder below the job file's: import "
            "a job whose code sits beside it (e.g. `code: src`)"
        )
    return folder.relative_to(job_file.parent.resolve()).as_posix()


def _conda_file(job: JobDict, job_file: Path) -> Path | None:
    """The job's `conda_file`, which must be in the job file's folder (it is read)."""
    environment = job.get("environment")
    conda = environment.get("conda_file") if isinstance(environment, dict) else None
    if conda is None:
        return None
    path = job_file.parent / str(conda)
    if not path.resolve().is_relative_to(job_file.parent.resolve()):
        raise UsageError(
            f"conda_file: {conda} in {job_file.name} is outside the job's folder: import a job "
            "whose conda file sits beside it"
        )
    if not path.is_file():
        raise UsageError(f"{path} (the job's conda_file) does not exist: import it with its job")
    return path


def with_build_context(text: str, job: JobDict) -> str:
    """The job file's text with its top-level `environment:` set to the scaffolding's build
    context, edited as YAML (ruamel's round trip): every other key, comment and value as
    it was; a top-level mapping written in flow style (JSON) becomes block style."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # long lines stay as they are
    document = yaml.load(text)
    document.fa.set_block_style()
    build = CommentedMap(build=CommentedMap(path=BUILD_CONTEXT))
    document["environment"] = build
    was = describe_environment(job.get("environment"))
    document.yaml_set_comment_before_after_key(
        "environment",
        before=f"just import: the job ran in {was}; now in the experiment's uv dependencies",
    )
    written = io.StringIO()
    yaml.dump(document, written)
    return written.getvalue()


def _check_written(project: Project, target: Path, code: str | None) -> None:
    """The written job file read back as `just local` and azure-ai-ml read it: an import
    that would leave a job file neither can use is not one."""
    path = target / JOB_FILE_NAME
    try:
        document = load_job(path)
        here = target / code if code is not None else target
        typed_overrides(path, [], relocated(document, here, project.dockerfile.parent))
    except UsageError as error:
        raise UsageError(
            f"the imported job file would not be valid ({error}); nothing imported"
        ) from None


def lint_excluded(target: Path, code: str | None) -> list[str]:
    """What `just lint` leaves out of the experiment `target`: the imported code folder
    `code` (everything imported, for `.`)."""
    if code is None:
        return []
    if code == ".":
        return sorted(p.name for p in target.iterdir() if p.name not in _WRITTEN)
    return [code]


def write_member(
    project: Project, target: Path, job_file: Path, dependencies: list[str], excluded: list[str]
) -> None:
    """The member's pyproject.toml: its dependencies, nothing to build (the job runs its
    scripts from its code folder), and the imported code, `excluded`, left out of
    `just lint`."""
    import tomlkit

    document = tomlkit.document()
    document["project"] = {
        "name": package_name(target.name),
        "version": "0.1.0",
        "description": f"{target.name}: imported by `just import` from {job_file.name}.",
        "requires-python": f">={project.python_version()}",
        "dependencies": dependencies,
    }
    document["tool"] = {
        "uv": {"package": False},
        "ruff": {"extend": "../../pyproject.toml", "extend-exclude": excluded},
    }
    (target / "pyproject.toml").write_text(_POLICY_NOTE + tomlkit.dumps(document))


def lock_member(
    project: Project, target: Path, job_file: Path, dependencies: list[str], excluded: list[str]
) -> tuple[list[str], list[str]]:
    """Lock the workspace with the member's dependencies. When the resolver refuses (conda
    pins, often for older Pythons), the pinned requirements it names in its reasons are
    taken unpinned, the others kept, until it resolves; what it depends on as locked, and
    a note for each requirement unpinned."""
    notes: list[str] = []
    while True:
        try:
            lock_workspace(project)
            return dependencies, notes
        except UvFailed as failure:
            named = {normalise(found) for found in _NAMED.findall(failure.output)}
            failing = [r for r in dependencies if _pinned(r) and requirement_name(r) in named]
            if not failing:
                raise
        dependencies = [requirement_name(r) or r if r in failing else r for r in dependencies]
        notes += [
            f"{requirement} (from the conda file) does not resolve for Python "
            f"{project.python_version()} with the other dependencies: taken unpinned"
            for requirement in failing
        ]
        report.note(f"the resolver refuses {', '.join(failing)}: trying unpinned")
        write_member(project, target, job_file, dependencies, excluded)


def _pinned(requirement: str) -> bool:
    from packaging.requirements import Requirement

    return bool(Requirement(requirement).specifier)


def _left_to_do(
    project: Project,
    job: JobDict,
    target: Path,
    code: str | None,
    conda: CondaEnvironment,
    conda_file: Path | None,
) -> list[str]:
    """What the import could not do, as commands where there is one."""
    name, package = target.name, package_name(target.name)
    imports = code_imports(job, target, code)
    todo = []
    environment = job.get("environment")
    if conda_file is None and environment is not None:
        needed = sorted({distribution(module) for module in imports} - {"azureml-mlflow"})
        todo.append(
            f"the job ran in {describe_environment(environment)}, whose packages are not known "
            f"here: add what the code needs with `uv add --package {package} PACKAGE...`"
            + (f" (its code imports {', '.join(needed)})" if needed else "")
        )
    todo += [f"conda package left out: {entry}" for entry in conda.left_out]
    todo += conda.unpinned
    if "mlflow" in {module.split(".")[0] for module in imports}:
        todo.append(
            "the code logs with MLflow: in Azure ML it also needs azureml-mlflow "
            f'(`uv add --package {package} "{tooling_mlflow_requirement(project)}" '
            "azureml-mlflow`; that mlflow-skinny logs straight into the local store)"
        )
    if _PIP_INSTALL.search(str(job.get("command", ""))):
        todo.append(
            "the command installs packages itself (pip install): the job's environment holds "
            "the experiment's dependencies only and has no pip, locally and in its image: add "
            f"them with `uv add --package {package} PACKAGE...` and drop the install"
        )
    todo += inputs_to_do(job, target, name)
    todo.append(f"submit with `just aml {name} --set compute=azureml:CLUSTER` (--dry-run first)")
    return todo


def code_imports(job: JobDict, target: Path, code: str | None) -> list[str]:
    """The modules the job's command imports from outside its code (all of the code's
    files if the command names no Python file)."""
    if code is None:
        return []
    root = target / code
    pythonpath = str((job.get("environment_variables") or {}).get("PYTHONPATH", ""))
    roots = [root, *(root / part for part in pythonpath.split(":") if part)]
    entries = entry_files(str(job.get("command", "")), roots) or sorted(root.rglob("*.py"))
    return third_party_imports(entries, roots)


def inputs_to_do(job: JobDict, target: Path, name: str) -> list[str]:
    """Inputs the experiment does not hold: remote data, local data left behind (a path
    outside what was copied), URLs given as literal values."""
    todo = []
    for input_name, spec in (job.get("inputs") or {}).items():
        path = spec.get("path") if isinstance(spec, dict) else None
        value = spec if isinstance(spec, str) else None
        if isinstance(path, str) and is_remote(path):
            todo.append(
                f"input {input_name!r} is remote ({path}): run with "
                f"`just local {name} --set inputs.{input_name}.path=LOCAL_PATH`"
            )
        elif isinstance(path, str) and not local_input_path(target, path).exists():
            todo.append(
                f"input {input_name!r} is {path}, which was not imported (only the code "
                f"folder is): copy it into experiments/{name}/ (data/ is not uploaded with the "
                f"code) and fix the path, or run with `--set inputs.{input_name}.path=PATH`"
            )
        elif value is not None and is_remote(value):
            todo.append(
                f"input {input_name!r} is a URL given as a value ({value}): the job fetches it "
                "itself, locally as on Azure ML; a data input (`type: uri_file`, `path:`) is "
                f"one Azure ML mounts, and `--set inputs.{input_name}=...` another value"
            )
    return todo
