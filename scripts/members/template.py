"""Making an experiment's files: from the project's template (templates/experiment/, whose
names say `__NAME__`, `__PACKAGE__` and `__MLFLOW_REQUIREMENT__`) or from an existing
experiment (`--from`), whose own module and package names are replaced the same way."""

import re
import shutil
import tomllib
from pathlib import Path

from scripts.console.errors import UsageError
from scripts.project.layout import MEMBER_ENVIRONMENT, Project

# What a copy leaves out: environments, caches and what runs produce.
_NOT_COPIED = (
    *(MEMBER_ENVIRONMENT, "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"),
    *("outputs", "logs", "mlruns", "mlartifacts", "data"),
)


def package_name(module: str) -> str:
    """The distribution name of an experiment's module: `my_exp` -> `my-exp`."""
    return module.replace("_", "-")


def render_template(project: Project, target: Path) -> None:
    replacements = {
        "__NAME__": target.name,
        "__PACKAGE__": package_name(target.name),
        "__MLFLOW_REQUIREMENT__": tooling_mlflow_requirement(project),
    }
    _copy(project.experiment_template, target, replacements)


def copy_experiment(source: Path, source_package: str, target: Path) -> None:
    """`source`'s files with its module and package names replaced by the target's."""
    replacements = {
        source.name: target.name,
        source_package: package_name(target.name),
    }
    _copy(source, target, replacements)


def tooling_mlflow_requirement(project: Project) -> str:
    """The tooling's MLflow requirement as the client a job needs: `mlflow-skinny` with the
    root dev group's version range, so a new experiment logs straight into the store."""
    pyproject = tomllib.loads(project.pyproject.read_text())
    for requirement in pyproject.get("dependency-groups", {}).get("dev", []):
        found = re.fullmatch(r"mlflow(?:-skinny)?\s*([<>=!~].*)", str(requirement))
        if found:
            return f"mlflow-skinny{found[1]}"
    raise UsageError(f"{project.pyproject} has no mlflow-skinny in its dev group: add it back")


def _copy(source: Path, target: Path, replacements: dict[str, str]) -> None:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(*_NOT_COPIED), symlinks=True)
    for path in sorted(target.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_file() and not path.is_symlink():
            _replace_in_file(path, replacements)
        renamed = _replaced(path.name, replacements)
        if renamed != path.name:
            path.rename(path.with_name(renamed))


def _replace_in_file(path: Path, replacements: dict[str, str]) -> None:
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        return  # not text: copied as it is
    replaced = _replaced(text, replacements)
    if replaced != text:
        path.write_text(replaced)


def _replaced(text: str, replacements: dict[str, str]) -> str:
    pattern = re.compile("|".join(re.escape(key) for key in sorted(replacements, key=len)[::-1]))
    return pattern.sub(lambda found: replacements[found[0]], text)
