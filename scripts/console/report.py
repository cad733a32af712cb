"""The reporter: the one way the tooling speaks. A command's result goes to stdout, so it
can be piped; notes, progress and warnings go to stderr, so they never mix with it."""

import sys


def result(text: str, end: str = "\n") -> None:
    """What the command produces: a path, a table, a job as YAML."""
    print(text, end=end, flush=True)


def note(text: str) -> None:
    """Progress and context: what is being done, where things are."""
    print(text, file=sys.stderr, flush=True)


def progress(text: str) -> None:
    """How far long work is: redrawn in place on a terminal, a line each time otherwise;
    progress_done() ends it."""
    if sys.stderr.isatty():
        print(f"\r{text}\033[K", end="", file=sys.stderr, flush=True)
    else:
        note(text)


def progress_done() -> None:
    if sys.stderr.isatty():
        print(file=sys.stderr, flush=True)


def warning(text: str) -> None:
    """Something went wrong that did not stop the command."""
    note(f"warning: {text}")


def error(text: str) -> None:
    note(f"error: {text}")


def table(rows: list[list[str]]) -> str:
    """Rows as aligned columns (the first row: the headings)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
