"""The layout is the architecture (README, "Layout"): commands are the flat modules of
scripts/, the core is grouped in subpackages, and dependencies point one way. Read from the
import statements themselves."""

import ast
from pathlib import Path

import pytest

from tests.helpers import REPOSITORY

SCRIPTS = REPOSITORY / "scripts"
COMMANDS = {
    "iso",
    "fetch",
    "local",
    "aml",
    "runs",
    "rerun",
    "ui",
    "lint",
    "bench",
    "new",
    "rm",
    "sync",
    "test",
    "clean",
    "import_job",
    "data_download",
    "data_list",
    "data_register",
    "docker_base",
    "docker_build",
    "docs",
}
# Each core package and the core packages it may import (besides itself).
MAY_IMPORT = {
    "console": set(),
    "project": {"console"},
    "members": {"console", "project", "jobspec", "runfolder"},
    "jobspec": {"console"},
    "runfolder": {"console", "project", "jobspec"},
    "tracking": {"console", "project"},
    "runner": {"console", "project", "jobspec", "runfolder", "tracking", "containers"},
    "pipelines": {
        "console",
        "project",
        "jobspec",
        "runfolder",
        "tracking",
        "runner",
        "containers",
        "sweeps",
    },
    "sweeps": {"console", "project", "jobspec", "runfolder", "tracking", "runner", "containers"},
    "containers": {"console", "project"},
    "cloud": {"console", "project", "jobspec", "runfolder"},
    "results": {"console", "project", "jobspec", "runfolder", "tracking", "cloud"},
    "docsite": {"console", "project"},
}
MAX_MODULES = 12


def scripts_imported_by(module: Path) -> set[str]:
    """The `scripts.X` (package or command) each import in `module` names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            imported = [alias.name for alias in node.names]
        else:
            continue
        for name in imported:
            parts = name.split(".")
            if parts[0] == "scripts" and len(parts) > 1:
                names.add(parts[1])
    return names


def test_the_commands_are_the_flat_modules_of_scripts() -> None:
    flat = {path.stem for path in SCRIPTS.glob("*.py")} - {"__init__"}
    packages = {path.parent.name for path in SCRIPTS.glob("*/__init__.py")}

    assert flat == COMMANDS
    assert packages == set(MAY_IMPORT)
    justfile = (REPOSITORY / "justfile").read_text()
    assert all(f"-m scripts.{command}" in justfile for command in COMMANDS)


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_core_dependencies_point_one_way(package: str) -> None:
    for module in sorted((SCRIPTS / package).glob("*.py")):
        imported = scripts_imported_by(module) - {package}
        assert not imported & COMMANDS, f"{module.name} imports a command: {imported & COMMANDS}"
        assert imported <= MAY_IMPORT[package], (
            f"{package}/{module.name} imports {sorted(imported - MAY_IMPORT[package])}"
        )


@pytest.mark.parametrize("folder", sorted(p.parent for p in SCRIPTS.glob("*/__init__.py")))
def test_no_core_folder_holds_more_than_twelve_modules(folder: Path) -> None:
    """scripts/ itself holds one module per recipe, however many there are."""
    assert len(list(folder.glob("*.py"))) <= MAX_MODULES


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_each_package_says_what_it_owns_and_must_not_touch(package: str) -> None:
    docstring = ast.get_docstring(ast.parse((SCRIPTS / package / "__init__.py").read_text()))
    assert docstring and "\nOwns: " in docstring and "\nMust not: " in docstring
