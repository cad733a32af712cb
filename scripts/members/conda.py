"""A conda environment file (an Azure ML environment's `conda_file`) in pip's terms: its
conda packages as the PEP 508 requirements they mean, its `pip:` section as written, and
what has no pip equivalent named, never guessed. Versions are parsed and checked with
`packaging`, as uv reads them."""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.console.errors import UsageError
from scripts.jobspec.documents import load_yaml

# Conda packages that are not Python packages on PyPI, and conda names PyPI spells otherwise.
NOT_ON_PYPI = {"cudatoolkit", "cudnn", "mkl", "nccl"}
PYPI_NAMES = {"pytorch": "torch", "py-xgboost": "xgboost", "tensorflow-gpu": "tensorflow"}
SKIPPED = {"python", "pip"}  # the environment's own, not dependencies
_SPEC = re.compile(r"(?:[\w.-]+::)?([A-Za-z0-9_.-]+)\s*(.*)")
_OPERATOR = re.compile(r"(==|!=|<=|>=|~=|<|>)")


@dataclass(frozen=True)
class CondaEnvironment:
    requirements: list[str]  # as `uv add` takes them
    left_out: list[str] = field(default_factory=list)  # each with why
    unpinned: list[str] = field(default_factory=list)  # specs with no pip equivalent, said


def read_conda_file(path: Path) -> CondaEnvironment:
    """The requirements a conda environment file lists; a UsageError for a file that is
    not one."""
    document = load_yaml(path, "a conda environment file")
    dependencies = document.get("dependencies") if isinstance(document, dict) else None
    if not isinstance(dependencies, list | None) or not isinstance(document, dict):
        raise _not_conda(path, "a mapping with a `dependencies:` list")
    requirements: list[str] = []
    left_out: list[str] = []
    unpinned: list[str] = []
    for entry in dependencies or []:
        if isinstance(entry, dict) and set(entry) == {"pip"}:
            _pip_section(path, entry["pip"], requirements, left_out)
        elif isinstance(entry, str):
            name = _SPEC.fullmatch(entry.strip())
            if name is None or name[1].lower() in SKIPPED:
                continue
            if name[1].lower() in NOT_ON_PYPI:
                left_out.append(
                    f"{entry} (no PyPI package: system libraries belong in the job image)"
                )
                continue
            requirement, note = pip_requirement(entry)
            if requirement:
                requirements.append(requirement)
            if note:
                unpinned.append(note)
        else:
            raise _not_conda(path, "package specs (text) and one `pip:` list")
    return CondaEnvironment(requirements, left_out, unpinned)


def pip_requirement(conda_spec: str) -> tuple[str | None, str | None]:
    """The PEP 508 requirement a conda package spec means (`numpy=1.21` is `numpy==1.21.*`,
    `numpy >=1.2 <2` is `numpy<2,>=1.2`, a build string dropped), and, when its version has
    no pip equivalent (`1.2|1.3`), the package unpinned with a note saying so."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    matched = _SPEC.fullmatch(conda_spec.strip())
    if matched is None:
        return None, f"{conda_spec}: not a package spec, left out"
    name = PYPI_NAMES.get(matched[1].lower(), matched[1])
    version = matched[2].strip()
    if not version:
        return name, None
    if "|" not in version:
        try:
            return f"{name}{SpecifierSet(_pip_specifier(version))}", None
        except InvalidSpecifier:
            pass
    return name, f"{conda_spec}: its version has no pip equivalent, so {name} is taken unpinned"


def _pip_specifier(version: str) -> str:
    """Conda's version constraints in PEP 440's words: comparisons as they are (a space or
    a comma between them: all must hold), a bare or `=` version fuzzy (`1.21` is 1.21.*),
    a build string after the version dropped."""
    words = version.replace(",", " ").split()
    if words[0].startswith("=") and not words[0].startswith("=="):  # =1.21, =1.21=py38_0
        return _fuzzy(words[0].lstrip("=").split("=")[0])
    if not _OPERATOR.match(words[0]):  # `numpy 1.21 py38_0`: a version, then a build
        return _fuzzy(words[0])
    return ",".join(word for word in words if _OPERATOR.match(word))


def _fuzzy(version: str) -> str:
    return f"=={version.rstrip('*').rstrip('.')}.*"


def _pip_section(path: Path, section: Any, requirements: list[str], left_out: list[str]) -> None:
    """The `pip:` list's requirements as written; options and what uv cannot add (local
    paths) left out, each said."""
    from packaging.requirements import InvalidRequirement, Requirement

    if not isinstance(section, list) or not all(isinstance(line, str) for line in section):
        raise _not_conda(path, "a `pip:` list of requirements (text)")
    for line in section:
        if line.startswith("-"):
            left_out.append(f"{line} (a pip option)")
            continue
        try:
            requirements.append(str(Requirement(line)))
        except InvalidRequirement:
            left_out.append(f"{line} (not a requirement uv can add)")


def _not_conda(path: Path, expected: str) -> UsageError:
    return UsageError(f"{path} is not a conda environment file: it needs {expected}; fix it")
