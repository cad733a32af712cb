"""Calling uv from the tooling, and the requirements it exports from uv.lock."""

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

from scripts.console import report
from scripts.console.errors import CommandError
from scripts.project.cache import derived
from scripts.project.experiments import normalise
from scripts.project.git import strip_credentials
from scripts.project.layout import Project

# No header, hashes or annotations: the text depends on the lock alone, so an unchanged
# lock gives byte-identical files (Azure ML names the image after their hash).
_EXPORT_OPTIONS = (
    "--frozen",
    "--no-hashes",
    "--no-emit-workspace",
    "--no-header",
    "--no-annotate",
    "--no-default-groups",
)


class UvFailed(CommandError):
    """uv refused; `output` is all it said (a resolver's reasons run over many lines)."""

    def __init__(self, message: str, output: str) -> None:
        super().__init__(message)
        self.output = output


def uv_binary() -> str:
    """The uv that runs us (`uv run` sets UV), else the one on PATH."""
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        raise CommandError("uv is not installed: install it (https://docs.astral.sh/uv/)")
    return found


def run_uv(
    project: Project,
    *args: str,
    show_progress: bool = False,
    variables: dict[str, str] | None = None,
) -> str:
    """Run uv in the project's root and return its stdout; a one-line CommandError on failure.

    With `show_progress`, uv's own progress and errors go straight to the terminal;
    `variables` are added to its environment.
    """
    result = subprocess.run(
        [uv_binary(), *args],
        cwd=project.root,
        env=os.environ | variables if variables else None,
        stdout=subprocess.PIPE,
        stderr=None if show_progress else subprocess.PIPE,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        lines = [
            line.strip().removeprefix("error: ")
            for line in (result.stderr or "").splitlines()
            if line.strip()
        ]
        reason = " ".join(lines[-3:]) if lines else "see uv's message above"
        raise UvFailed(f"`uv {args[0]}` failed: {reason}", result.stderr or "")
    return result.stdout


def export_requirements(project: Project, *selection: str) -> str:
    """Pinned requirements for a selection (`--package X`, `--only-group G`) from uv.lock.

    `uv export --frozen` reads nothing but the lock, so its text is kept (scripts/project/
    cache.py) until the lock, the arguments or the uv binary change.
    """
    args = ("export", *selection, *_EXPORT_OPTIONS)
    binary = os.stat(uv_binary())
    uv_identity = f"{binary.st_size}:{binary.st_mtime_ns}"
    return derived(
        project, "export", project.lock, lambda: run_uv(project, *args), salt=f"{args}{uv_identity}"
    )


# How a requirements.txt says where a package comes from, for an index the project declares
# (`[[tool.uv.index]]`): uv export leaves them out, so uv pip install would look on PyPI only.
_PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


def member_requirements(project: Project, package: str, member: Path) -> str:
    """What a member's environment and job image install: `uv export --package PACKAGE`,
    preceded by a line for each index the project declares that a package of it comes from
    (`--extra-index-url URL`, `--find-links URL` for a flat one; never a credential). Both
    install with uv's best match across the indexes: every version is pinned."""
    exported = export_requirements(project, "--package", package)
    declarations = [project.pyproject, member / "pyproject.toml"]
    salt = hashlib.sha256(exported.encode())
    for path in declarations:
        salt.update(path.read_bytes() if path.is_file() else b"")
    lines = derived(
        project,
        "index-lines",
        project.lock,
        lambda: _index_lines(project, declarations, exported),
        salt=salt.hexdigest(),
    )
    return "".join(f"{line}\n" for line in lines) + exported


def _index_lines(project: Project, declarations: list[Path], exported: str) -> list[str]:
    import tomllib

    lock = tomllib.loads(project.lock.read_text())
    registries = {
        (normalise(package["name"]), str(package.get("version"))): package["source"]["registry"]
        for package in lock.get("package", [])
        if isinstance(package.get("source"), dict) and "registry" in package["source"]
    }
    used = {
        registries.get((normalise(name), version)) for name, version in _PINNED.findall(exported)
    }
    lines = []
    for index in _declared_indexes(declarations):
        url = strip_credentials(str(index.get("url", "")))
        if url and url in used:
            option = "--find-links" if index.get("format") == "flat" else "--extra-index-url"
            lines.append(f"{option} {url}")
    return sorted(set(lines))


def _declared_indexes(declarations: list[Path]) -> list[dict[str, object]]:
    import tomllib

    found = []
    for path in declarations:
        if path.is_file():
            tool = tomllib.loads(path.read_text()).get("tool", {})
            indexes = tool.get("uv", {}).get("index", []) if isinstance(tool, dict) else []
            found += [index for index in indexes if isinstance(index, dict)]
    return found


UI_GROUP = "ui"  # the tooling's groups besides dev, installed when first needed (pyproject.toml)
CHECK_GROUP = "check"
SWEEP_GROUP = "sweep"


def ensure_groups(project: Project, groups: list[str], purpose: str) -> None:
    """The tooling's dependency groups `groups` installed in its environment (the running
    interpreter's), synced from uv.lock if a package of theirs is missing or at another
    version: what only some recipes need is installed when one of them first runs. A group
    the project does not declare is left out (a project made otherwise than this one)."""
    import tomllib

    declared = tomllib.loads(project.pyproject.read_text()).get("dependency-groups", {})
    groups = [group for group in groups if group in declared and _missing(project, group)]
    if not groups:
        return
    report.note(f"installing {purpose} into the tooling's environment (once): {', '.join(groups)}")
    selection = [f"--group={group}" for group in groups]
    run_uv(project, "sync", "--frozen", "--inexact", *selection, show_progress=True)


def _missing(project: Project, group: str) -> list[str]:
    """The packages of `group` that the running interpreter lacks, or has at another version."""
    from importlib.metadata import distributions  # of the running interpreter

    from packaging.requirements import Requirement

    installed = {normalise(dist.metadata["Name"]): dist.version for dist in distributions()}
    wanted = export_requirements(project, f"--only-group={group}")
    missing = []
    for line in wanted.splitlines():
        if not line.strip() or line.startswith(("-", "#")):
            continue
        requirement = Requirement(line)
        if requirement.marker and not requirement.marker.evaluate():
            continue  # not for this platform
        pinned = next(iter(requirement.specifier)).version
        if installed.get(normalise(requirement.name)) != pinned:
            missing.append(requirement.name)
    return missing
