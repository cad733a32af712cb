"""`just new` and `just rm`: an experiment added or removed as one change of the workspace
(its folder, its independence declaration, uv.lock). A failure or an interruption at any
point puts everything back as it was. Changes take turns: a second one waits until the
first is done (a lock on the project's root folder), then checks and works on what the
first left."""

import fcntl
import keyword
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from scripts.console import report
from scripts.console.cli import stop_signals_as_ctrl_c, stop_signals_ignored
from scripts.console.errors import UsageError
from scripts.members.declarations import declare_independent, withdraw
from scripts.members.template import copy_experiment, package_name, render_template
from scripts.project.experiments import experiment_dir, experiment_names, normalise, read_package
from scripts.project.layout import Project, write_whole
from scripts.project.parking import delete_parked, park
from scripts.project.uv import run_uv

_NEW_NAME = re.compile(r"[a-z][a-z0-9_]*")
_RESERVED = {"shared": "the shared code", "tooling": "the workspace root (the tooling)"}
_LOCKED_NAME = re.compile(r'^name = "([^"]+)"$', re.MULTILINE)


def check_new_name(project: Project, name: str) -> None:
    """A UsageError unless `name` can be a new experiment's folder, module and package."""
    if not _NEW_NAME.fullmatch(name):
        raise UsageError(
            f"invalid experiment name {name!r}: use lowercase letters, digits and underscores, "
            "starting with a letter (e.g. churn_model)"
        )
    if name in _RESERVED:
        raise UsageError(f"{name!r} is {_RESERVED[name]}: choose another name")
    if keyword.iskeyword(name) or name in sys.stdlib_module_names:
        raise UsageError(f"{name!r} is a Python keyword or module: choose another name")
    if (project.experiments / name).exists():
        raise UsageError(f"experiments/{name} already exists: choose another name")
    hidden = _locked_module(project, name)
    if hidden:
        named = f" ({hidden})" if normalise(hidden) != normalise(name) else ""
        raise UsageError(
            f"{name!r} is the module of a package in uv.lock{named}, which the experiment's "
            "module would hide: choose another name"
        )


def _locked_module(project: Project, module: str) -> str | None:
    """The package in uv.lock that `module` would hide: one whose top-level module it is
    (known for the packages installed in the tooling's environment), or one named so."""
    from importlib.metadata import packages_distributions

    locked = set(_LOCKED_NAME.findall(project.lock.read_text())) if project.lock.exists() else set()
    for distribution in packages_distributions().get(module, []):
        if normalise(distribution) in locked:
            return normalise(distribution)
    return package_name(module) if package_name(module) in locked else None


def create_experiment(project: Project, name: str, source: str | None) -> Path:
    """experiments/NAME from the template or from experiment `source`, declared independent
    and locked."""
    target = project.experiments / name
    with taking_turns(project):
        check_new_name(project, name)
        origin = experiment_dir(project, source) if source else None
        with workspace_change(project, undo=lambda: shutil.rmtree(target, ignore_errors=True)):
            if origin:
                copy_experiment(origin, read_package(project, origin).name, target)
            else:
                render_template(project, target)
            declare_independent(project.pyproject, package_name(name))
            lock_workspace(project)
    return target


def check_removable(project: Project, name: str) -> Path:
    """The folder of experiment `name`; a UsageError if it is not one, or others use it."""
    if name in _RESERVED:
        raise UsageError(f"{name!r} is {_RESERVED[name]}, not an experiment: it stays")
    folder = experiment_dir(project, name)
    package = read_package(project, folder).name
    users = [
        other
        for other in experiment_names(project)
        if other != name and read_package(project, project.experiments / other).depends_on(package)
    ]
    if users:
        raise UsageError(f"{', '.join(users)} depend on {name}: remove that dependency first")
    return folder


def remove_experiment(project: Project, name: str) -> None:
    """experiments/NAME, its declaration and its lock entries, gone; runs/ untouched."""
    parked: list[Path] = []
    with taking_turns(project):
        folder = check_removable(project, name)
        package = read_package(project, folder).name

        def put_back() -> None:
            if parked and os.path.lexists(parked[0]):
                shutil.move(parked[0], folder)

        with workspace_change(project, undo=put_back):
            parked.append(park(project, folder))  # out of the workspace, whole, until locked
            withdraw(project.pyproject, package)
            lock_workspace(project)
    delete_parked(parked[0])


def lock_workspace(project: Project) -> None:
    report.note("updating uv.lock")
    run_uv(project, "lock")


@contextmanager
def taking_turns(project: Project) -> Iterator[None]:
    """The block runs while no other change of the workspace does (`just new`, `rm`,
    `import` of this project, in any process); waits for its turn, saying so."""
    descriptor = os.open(project.root, os.O_RDONLY)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            report.note(
                "waiting for another change of the workspace (just new, rm or import) to finish"
            )
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # and with it the lock


@contextmanager
def workspace_change(project: Project, undo: Callable[[], None]) -> Iterator[None]:
    """If the block fails or is interrupted (Ctrl-C, SIGTERM, SIGHUP), `undo()` runs and the
    root pyproject.toml and uv.lock get their bytes back; nothing cuts that short."""
    saved = {path: path.read_bytes() for path in (project.pyproject, project.lock) if path.exists()}
    try:
        with stop_signals_as_ctrl_c():
            yield
    except BaseException:
        with stop_signals_ignored():
            undo()
            for path, content in saved.items():
                write_whole(path, content)
        raise
