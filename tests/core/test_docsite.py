"""The documentation's generated pages: the recipe reference covers every recipe of the
justfile with its command's own --help, as the README's recipe table does, and the benchmarks
page shows what `just bench --record` wrote. (The site itself is built strictly by `just
docs` in CI: .ci/run.)"""

import re
import subprocess
from pathlib import Path

import pytest

from scripts.console.errors import UsageError
from scripts.docsite.benchmarks import benchmarks_page, record_text
from scripts.docsite.reference import recipes_page
from scripts.project.layout import Project
from tests.helpers import REPOSITORY, write


def recipe_names() -> list[str]:
    """The justfile's public recipes, as `just` lists them."""
    listed = subprocess.run(
        ["just", "--summary"], cwd=REPOSITORY, capture_output=True, text=True, check=True
    )
    return sorted(listed.stdout.split())


def test_every_recipe_has_a_reference_entry_with_its_commands_help() -> None:
    page = recipes_page(REPOSITORY)

    entries = re.findall(r"^### just (\S+)\n\n.*?\n```text\nusage: just (\S+)", page, re.M | re.S)
    assert sorted(name for name, _ in entries) == recipe_names()
    assert all(usage == name or name == "fmt" for name, usage in entries)  # fmt: lint --fix


def test_the_readmes_recipe_table_names_every_recipe() -> None:
    table = re.findall(r"^\| \w+ \| `([\w-]+)", (REPOSITORY / "README.md").read_text(), re.M)

    assert sorted(table) == recipe_names()


def test_a_recipe_without_a_command_of_scripts_cannot_be_documented(tmp_path: Path) -> None:
    write(tmp_path / "justfile", "# Say hello\nhello:\n    echo hello\n")

    with pytest.raises(UsageError, match="recipe 'hello' runs no command of scripts/"):
        recipes_page(tmp_path)


def test_the_benchmarks_page_shows_the_recorded_figures(tmp_path: Path) -> None:
    project = Project(tmp_path)
    write(tmp_path / "scripts" / "bench.py", '"""`just bench`.\n\n- iso: what it takes."""\n')
    assert "No figures recorded yet" in benchmarks_page(project)

    header = {"commit": "abc1234", "date": "2026-12-01", "machine": "Linux, 2 cores"}
    write(project.bench_record, record_text(header, ["iso: 0.061 s", "ratio: 2.4 x"]))
    page = benchmarks_page(project)

    assert "- **commit**: abc1234" in page and "- **date**: 2026-12-01" in page
    assert "| iso | 0.061 s |\n| ratio | 2.4 x |" in page
    assert page.endswith("- iso: what it takes.\n")
