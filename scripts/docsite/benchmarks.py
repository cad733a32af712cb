"""docs/benchmarks.md, generated: the figures `just bench --record` wrote (docs/benchmarks.txt,
committed with the commit and date they were taken on) and what each one measures (the
docstring of scripts/bench.py, read, not imported)."""

import ast
from pathlib import Path

from scripts.project.layout import Project

_HEADER = "# "  # the record's first lines: `# commit: …`, `# date: …`, `# machine: …`


def record_text(header: dict[str, str], figures: list[str]) -> str:
    """What `just bench --record` writes: the header lines, then one figure per line."""
    lines = [f"{_HEADER}{key}: {value}" for key, value in header.items()]
    return "\n".join([*lines, *figures]) + "\n"


def benchmarks_page(project: Project) -> str:
    lines = [
        "# Benchmarks",
        "",
        "What the tooling costs, as `uv run just bench` measures it (one figure per line, "
        "each printed as it is taken). This page is generated from the figures "
        "`uv run just bench --record` last wrote to `docs/benchmarks.txt`; absolute times "
        "drift between machines, ratios and differences less.",
        "",
    ]
    if project.bench_record.is_file():
        header, figures = _read_record(project.bench_record)
        lines += [f"- **{key}**: {value}" for key, value in header.items()]
        lines += ["", "| figure | value |", "| --- | --- |"]
        lines += [f"| {name} | {value} |" for name, value in figures]
    else:
        lines.append("No figures recorded yet: run `uv run just bench --record`.")
    lines += ["", "## What each figure measures", "", _bench_docstring(project.root)]
    return "\n".join(lines) + "\n"


def _read_record(record: Path) -> tuple[dict[str, str], list[tuple[str, str]]]:
    header: dict[str, str] = {}
    figures: list[tuple[str, str]] = []
    for line in record.read_text().splitlines():
        name, _, value = line.removeprefix(_HEADER).partition(": ")
        if line.startswith(_HEADER):
            header[name] = value
        elif value:
            figures.append((name, value))
    return header, figures


def _bench_docstring(root: Path) -> str:
    docstring = ast.get_docstring(ast.parse((root / "scripts" / "bench.py").read_text()))
    assert docstring, "scripts/bench.py says what its figures measure"
    return docstring.partition("\n")[2].strip()  # its first line is the page's intro
