"""`just lint` / `just fmt`: ruff and mypy, targeting the Python in .python-version."""

import sys
from collections.abc import Sequence
from pathlib import Path

from scripts.console import report
from scripts.console.cli import ArgumentParser, run_cli, run_passing_stops
from scripts.console.errors import CommandError
from scripts.project.experiments import experiment_names
from scripts.project.layout import Project
from scripts.project.uv import CHECK_GROUP, ensure_groups

STRICT = ["scripts"]  # the tooling is typed strictly; experiment code as its authors choose


def checks(project: Project, fix: bool) -> dict[str, list[str]]:
    """Each check's name and command line."""
    version = project.python_version()
    ruff_target = f"--target-version=py{version.replace('.', '')}"
    if fix:
        return {
            "ruff check --fix": ["ruff", "check", "--fix", ruff_target],
            "ruff format": ["ruff", "format", ruff_target],
        }
    sources = [
        project.shared / "src",
        *(project.experiments / name / "src" for name in experiment_names(project)),
        project.root / "tests",
    ]
    packages = [
        str(path.relative_to(project.root))
        for path in sources
        if path.is_dir() and path.name not in _left_to_itself(path.parent)
    ]
    found = {
        "ruff format --check": ["ruff", "format", "--check", ruff_target],
        "ruff check": ["ruff", "check", ruff_target],
        "mypy --strict scripts": ["mypy", f"--python-version={version}", "--strict", *STRICT],
        "mypy": ["mypy", f"--python-version={version}", *packages],
    }
    workflows = sorted(str(path.relative_to(project.root)) for path in _workflows(project))
    if workflows:  # against GitHub's workflow schema, as SchemaStore publishes it (vendored)
        schema = ["--builtin-schema", "vendor.github-workflows"]
        found["workflow schema"] = ["check_jsonschema", *schema, *workflows]
    return found


def _workflows(project: Project) -> list[Path]:
    return [*project.workflows.glob("*.yml"), *project.workflows.glob("*.yaml")]


def _left_to_itself(member: Path) -> list[str]:
    """What a member's ruff settings exclude (`just import` lists the code it brought in):
    mypy leaves it alone too."""
    import tomllib

    try:
        settings = tomllib.loads((member / "pyproject.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return []
    excluded = settings.get("tool", {}).get("ruff", {}).get("extend-exclude", [])
    return [str(entry) for entry in excluded]


def parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="just lint",
        description="ruff format --check, ruff check, mypy (strict on scripts/) and the "
        "GitHub workflows against GitHub's workflow schema (check-jsonschema). "
        "With --fix (`just fmt`): apply ruff's formatting and fixes instead.",
    )
    parser.add_argument("--fix", action="store_true", help="apply fixes instead of checking")
    return parser


def main(argv: Sequence[str], project: Project) -> int:
    args = parser().parse_args(argv)
    ensure_groups(project, [CHECK_GROUP], "ruff, mypy and check-jsonschema")
    failed = []
    for name, command in checks(project, args.fix).items():
        report.note(f"$ {' '.join(command)}")
        if run_passing_stops([sys.executable, "-m", *command], project.root):
            failed.append(name)
    if failed:
        remedy = "fix the rest by hand" if args.fix else "`just fmt` fixes what it can"
        raise CommandError(f"{', '.join(failed)} failed: {remedy}")
    return 0


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
