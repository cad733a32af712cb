"""What every command shares: argument parsing and one-line errors, never a traceback."""

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from scripts.errors import CommandError, UsageError


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (and exit code 2) like every other error."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def experiment_parser(command: str, description: str) -> ArgumentParser:
    """A parser for `just COMMAND EXP ...`."""
    parser = ArgumentParser(prog=f"just {command}", description=description)
    parser.add_argument("experiment", metavar="EXP", help="a folder name in experiments/")
    return parser


def add_set_option(parser: ArgumentParser, example: str) -> None:
    """`--set KEY=VALUE`, repeatable, collected as `overrides` (see scripts/jobspec.py)."""
    parser.add_argument(
        "--set",
        dest="overrides",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help=f"override the job YAML like `az ml job create --set`, e.g. {example}; repeatable",
    )


def fail(message: str, code: int) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(code)


def run_cli(main: Callable[[Sequence[str]], int]) -> NoReturn:
    """Run a command's main, turning expected failures into one-line errors."""
    try:
        code = main(sys.argv[1:])
    except UsageError as error:
        fail(str(error), 2)
    except CommandError as error:
        fail(str(error), 1)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    raise SystemExit(code)
