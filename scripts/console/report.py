"""The reporter: the one way the tooling speaks. A command's result goes to stdout, so it
can be piped; notes, progress and warnings go to stderr, so they never mix with it.

Nothing said on stderr can fail a command: when stderr is closed or full (`2>/dev/full`,
`2>&1 | true`), notes are dropped and the work goes on, so a run is recorded all the same.
"""

import os
import sys
from typing import TextIO


def result(text: str, end: str = "\n") -> None:
    """What the command produces: a path, a table, a job as YAML."""
    print(text, end=end, flush=True)


def note(text: str) -> None:
    """Progress and context: what is being done, where things are."""
    _say(text)


def progress(text: str) -> None:
    """How far long work is: redrawn in place on a terminal, a line each time otherwise;
    progress_done() ends it."""
    if _on_terminal():
        _say(f"\r{text}\033[K", end="")
    else:
        note(text)


def progress_done() -> None:
    if _on_terminal():
        _say("")


def warning(text: str) -> None:
    """Something went wrong that did not stop the command."""
    note(f"warning: {text}")


def error(text: str) -> None:
    note(f"error: {text}")


def _say(text: str, end: str = "\n") -> None:
    stream = sys.stderr
    if stream is None:  # started with stderr closed
        return
    try:
        print(text, end=end, file=stream, flush=True)
    except OSError:
        _silence(stream)


def _silence(stream: TextIO) -> None:
    """Point `stream`'s descriptor at /dev/null: what can no longer be said is dropped, and
    the interpreter's last flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def _on_terminal() -> bool:
    return sys.stderr is not None and sys.stderr.isatty()


def table(rows: list[list[str]]) -> str:
    """Rows as aligned columns (the first row: the headings)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
