"""`just test [TARGET] [PYTEST_ARGS...]`: the tests, each set in its own environment."""

from collections.abc import Sequence

from scripts.console import report
from scripts.console.cli import ArgumentParser, run_cli
from scripts.members.testing import TOOLING, check_target, run_tests, test_targets
from scripts.project.layout import Project


def parser() -> ArgumentParser:
    return ArgumentParser(
        prog="just test",
        usage="just test [--fast] [TARGET] [PYTEST_ARGS...]",
        description=f"Run the tests: {TOOLING!r} (tests/, in the tooling's environment), "
        "'shared' and each experiment with a tests/ folder (in its own environment, "
        "<member>/.venv, synced first). Without TARGET, all of them; pytest arguments follow "
        "TARGET (e.g. `just test example_experiment -x`, `just test tooling tests/core`). "
        "--fast (first) leaves out the tests marked slow, docker or azurite: the quick loop "
        "while you work; CI runs them all. The exit code is pytest's, the first failing "
        "one's when several run.",
    )


def main(argv: Sequence[str], project: Project) -> int:
    if argv and argv[0] in {"-h", "--help"}:
        parser().print_help()
        return 0
    fast = bool(argv) and argv[0] == "--fast"
    argv = argv[1:] if fast else argv
    if argv and not argv[0].startswith("-"):
        check_target(project, argv[0])
        targets, pytest_args = [argv[0]], list(argv[1:])
    else:
        targets, pytest_args = test_targets(project), list(argv)
    codes = {target: run_tests(project, target, pytest_args, fast) for target in targets}
    if len(codes) > 1:
        report.note("  ".join(f"{target}: exit {code}" for target, code in codes.items()))
    return next((code for code in codes.values() if code), 0)


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
