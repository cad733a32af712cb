"""`just import`: an experiment made from a job written the way Azure ML's public examples
write them (a job YAML beside its code folder, `code: src`, a curated or conda environment,
remote inputs). The code is copied as it is, the job keeps its command and `code:`, a
`conda_file`'s dependencies become the member's uv dependencies, and the environment becomes
the scaffolding's build context; what is left to do is said, not guessed."""

import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.console import report
from scripts.console.errors import CommandError, UsageError
from scripts.jobspec.inputs import is_remote
from scripts.jobspec.job import BUILD_CONTEXT, JobDict, load_job
from scripts.jobspec.parity import describe_environment
from scripts.members.declarations import declare_independent
from scripts.members.lifecycle import (
    check_new_name,
    lock_workspace,
    taking_turns,
    workspace_change,
)
from scripts.members.template import package_name
from scripts.project.experiments import requirement_name
from scripts.project.layout import JOB_FILE_NAME, Project
from scripts.runfolder.snapshot import IgnoreRules, copy_tree

# Conda packages that are not Python packages on PyPI, and conda names PyPI spells otherwise.
_NOT_ON_PYPI = {"cudatoolkit", "cudnn", "mkl", "nccl"}
_PYPI_NAMES = {"pytorch": "torch", "py-xgboost": "xgboost", "tensorflow-gpu": "tensorflow"}
_CONDA_SPEC = re.compile(r"(?:[\w.-]+::)?([A-Za-z0-9_.-]+)\s*(.*)")
_POLICY_NOTE = (
    "# Made by `just import`. [tool.ruff] extend-exclude lists the imported code, which\n"
    "# `just lint` (ruff and mypy) leaves as it came: remove an entry once it follows the\n"
    "# project's style. [tool.uv] package = false: the job runs its scripts from `code:`.\n"
)
_WRITTEN = {"pyproject.toml", JOB_FILE_NAME, ".amlignore"}  # by the import, not imported


@dataclass(frozen=True)
class Imported:
    folder: Path
    dependencies: list[str]  # as locked
    left_to_do: list[str]


def import_job(project: Project, job_file: Path, name: str | None) -> Imported:
    """experiments/NAME (NAME from the job file's folder unless given) from `job_file`."""
    if not job_file.is_file():
        raise UsageError(f"{job_file} is not a file: give the path of an Azure ML job YAML")
    job = load_job(job_file)
    name = name or _name_from(job_file)
    code = _code_folder(job, job_file)
    conda_file = _conda_file(job, job_file)
    dependencies, skipped = conda_requirements(conda_file) if conda_file else ([], [])
    target = project.experiments / name
    with taking_turns(project):
        check_new_name(project, name)  # before the change: its undo removes `target`
        with workspace_change(project, undo=lambda: shutil.rmtree(target, ignore_errors=True)):
            target.mkdir(parents=True)
            if code is not None:
                _copy_code(job_file.parent / code, target / code, job_file.parent)
            (target / JOB_FILE_NAME).write_text(with_build_context(job_file.read_text(), job))
            shutil.copyfile(project.experiment_template / ".amlignore", target / ".amlignore")
            _write_member(project, target, job_file, dependencies, code)
            declare_independent(project.pyproject, package_name(name))
            dependencies = _lock(project, target, job_file, dependencies, code)
    return Imported(target, dependencies, _left_to_do(job, target, code, skipped, conda_file))


def _copy_code(source: Path, destination: Path, inside: Path) -> None:
    """The code as Azure ML would upload it (its ignore file applied), without credentials
    or links leading outside the job's folder: they must not enter the repository."""
    for left_out in copy_tree(source, destination, (IgnoreRules.of(source),), inside):
        report.warning(f"not copied, {left_out.reason}: {left_out.path}")


def _name_from(job_file: Path) -> str:
    """The experiment name a job file suggests: its folder's, as a module name."""
    folder = job_file.resolve().parent.name
    return re.sub(r"[^a-z0-9_]", "_", folder.lower()).strip("_") or "imported"


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
    environment = job.get("environment")
    conda = environment.get("conda_file") if isinstance(environment, dict) else None
    if conda is None:
        return None
    path = job_file.parent / str(conda)
    if not path.is_file():
        raise UsageError(f"{path} (the job's conda_file) does not exist: import it with its job")
    return path


def conda_requirements(conda_file: Path) -> tuple[list[str], list[str]]:
    """The PyPI requirements a conda environment file lists (its pip section as written,
    its conda packages with conda's `=1.2` as `==1.2.*`), and the conda packages that are
    not Python packages on PyPI."""
    import yaml

    try:
        document: Any = yaml.safe_load(conda_file.read_text())
    except yaml.YAMLError:
        raise UsageError(f"{conda_file} is not valid YAML: fix it, then import again") from None
    requirements: list[str] = []
    skipped: list[str] = []
    for entry in (document or {}).get("dependencies") or []:
        if isinstance(entry, dict):
            pip = entry.get("pip") or []
            requirements += [str(line) for line in pip if not str(line).startswith("-")]
            continue
        match = _CONDA_SPEC.fullmatch(str(entry).strip())
        if not match:
            continue
        name = _PYPI_NAMES.get(match[1].lower(), match[1])
        if name.lower() in ("python", "pip"):
            continue
        if name.lower() in _NOT_ON_PYPI:
            skipped.append(str(entry))
        else:
            requirements.append(name + _pip_version(match[2]))
    return requirements, skipped


def _pip_version(conda_spec: str) -> str:
    """Conda's version spec in pip's terms: `=1.2` and `1.2` mean 1.2.*, a build string
    (`=1.2=py38_0`) is dropped, comparisons stay."""
    spec = conda_spec.strip()
    if not spec:
        return ""
    if spec[0] in "<>!" or spec.startswith("=="):
        return spec.split(" ")[0]
    version = spec.lstrip("=").split("=")[0].strip()
    return f"=={version}.*" if version else ""


def with_build_context(text: str, job: JobDict) -> str:
    """The job file's text with its top-level `environment:` replaced by the scaffolding's
    build context; every other line as it was (comments included)."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if re.match(r"environment\s*:", line)), None)
    was = describe_environment(job.get("environment"))
    note = f"# just import: the job ran in {was}; now in the experiment's uv dependencies\n"
    block = f"{note}environment:\n  build:\n    path: {BUILD_CONTEXT}\n"
    if start is None:
        return text + ("" if text.endswith("\n") else "\n") + block
    end = start + 1
    while end < len(lines) and (lines[end][:1] in (" ", "\t") or not lines[end].strip()):
        end += 1
    return "".join(lines[:start]) + block + "".join(lines[end:])


def _write_member(
    project: Project, target: Path, job_file: Path, dependencies: list[str], code: str | None
) -> None:
    """The member's pyproject.toml: its dependencies, nothing to build (the job runs its
    scripts from its code folder), and the imported code left out of `just lint`."""
    import tomlkit

    if code is None:
        excluded: list[str] = []
    elif code == ".":
        excluded = sorted(p.name for p in target.iterdir() if p.name not in _WRITTEN)
    else:
        excluded = [code]
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


def _lock(
    project: Project, target: Path, job_file: Path, dependencies: list[str], code: str | None
) -> list[str]:
    """Lock the workspace with the member's dependencies; if their versions (conda pins,
    often for older Pythons) do not resolve, with the same packages unpinned. What it
    depends on, as locked."""
    try:
        lock_workspace(project)
        return dependencies
    except CommandError:
        unpinned = [requirement_name(requirement) or requirement for requirement in dependencies]
        if unpinned == dependencies:
            raise
    report.note(
        f"the versions in {job_file.name}'s conda file do not resolve for Python "
        f"{project.python_version()}: taking the same packages unpinned"
    )
    _write_member(project, target, job_file, unpinned, code)
    lock_workspace(project)
    return unpinned


def _left_to_do(
    job: JobDict, target: Path, code: str | None, skipped: list[str], conda_file: Path | None
) -> list[str]:
    """What the import could not do, as commands where there is one."""
    name, package = target.name, package_name(target.name)
    todo = []
    environment = job.get("environment")
    if conda_file is None and environment is not None:
        imports = third_party_imports(target / code) if code is not None else []
        todo.append(
            f"the job ran in {describe_environment(environment)}, whose packages are not known "
            f"here: add what the code needs with `uv add --package {package} PACKAGE...`"
            + (f" (its code imports {', '.join(imports)})" if imports else "")
        )
    if skipped:
        todo.append(
            f"conda packages with no PyPI package were left out: {', '.join(skipped)} "
            "(system libraries belong in the job image, docker/Dockerfile)"
        )
    for input_name, spec in (job.get("inputs") or {}).items():
        path = spec.get("path") if isinstance(spec, dict) else None
        if isinstance(path, str) and is_remote(path):
            todo.append(
                f"input {input_name!r} is remote ({path}): run with "
                f"`just local {name} --set inputs.{input_name}.path=LOCAL_PATH`"
            )
    todo.append(f"submit with `just aml {name} --set compute=azureml:CLUSTER` (--dry-run first)")
    return todo


def third_party_imports(code_root: Path) -> list[str]:
    """The top-level modules the code imports that are neither standard library nor its own."""
    import ast

    own = {path.stem for path in code_root.iterdir()}
    found: set[str] = set()
    for source in code_root.rglob("*.py"):
        try:
            tree = ast.parse(source.read_bytes())
        except (SyntaxError, ValueError, OSError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return sorted(found - own - set(sys.stdlib_module_names))
