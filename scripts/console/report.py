"""The reporter: the one way the tooling speaks. A command's result goes to stdout, so it
can be piped; notes, progress and warnings go to stderr, so they never mix with it."""

import sys


def result(text: str, end: str = "\n") -> None:
    """What the command produces: a path, a table, a job as YAML."""
    print(text, end=end, flush=True)


def note(text: str) -> None:
    """Progress and context: what is being done, where things are."""
    print(text, file=sys.stderr, flush=True)


def warning(text: str) -> None:
    """Something went wrong that did not stop the command."""
    note(f"warning: {text}")


def error(text: str) -> None:
    note(f"error: {text}")
