"""`just lint` / `just fmt`: ruff and mypy, targeting the Python in .python-version."""

import subprocess
import sys
from collections.abc import Sequence

from scripts.cli import ArgumentParser, run_cli
from scripts.project import EXPERIMENTS_DIR, ROOT, SHARED_DIR, experiment_names, python_version

STRICT = ["scripts"]  # the tooling is typed strictly; experiment code as its authors choose


def checks(fix: bool) -> dict[str, list[str]]:
    """Each check's name and command line."""
    version = python_version()
    ruff_target = f"--target-version=py{version.replace('.', '')}"
    if fix:
        return {
            "ruff check --fix": ["ruff", "check", "--fix", ruff_target],
            "ruff format": ["ruff", "format", ruff_target],
        }
    sources = [SHARED_DIR / "src", *(EXPERIMENTS_DIR / n / "src" for n in experiment_names())]
    packages = [str(path.relative_to(ROOT)) for path in sources]
    return {
        "ruff format --check": ["ruff", "format", "--check", ruff_target],
        "ruff check": ["ruff", "check", ruff_target],
        "mypy --strict scripts": ["mypy", f"--python-version={version}", "--strict", *STRICT],
        "mypy": ["mypy", f"--python-version={version}", *packages, "tests"],
    }


def main(argv: Sequence[str]) -> int:
    parser = ArgumentParser(
        prog="just lint",
        description="ruff format --check, ruff check and mypy (strict on scripts/). "
        "With --fix (`just fmt`): apply ruff's formatting and fixes instead.",
    )
    parser.add_argument("--fix", action="store_true", help="apply fixes instead of checking")
    args = parser.parse_args(argv)
    failed = []
    for name, command in checks(args.fix).items():
        print(f"$ {' '.join(command)}", file=sys.stderr, flush=True)
        if subprocess.run([sys.executable, "-m", *command], cwd=ROOT, check=False).returncode:
            failed.append(name)
    if failed:
        remedy = "fix the rest by hand" if args.fix else "`just fmt` fixes what it can"
        print(f"error: {', '.join(failed)} failed: {remedy}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    run_cli(main)
