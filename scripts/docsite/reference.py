"""docs/reference/recipes.md, generated: every recipe of the justfile, in its group, with
its doc comment and the `--help` of the command it runs."""

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from scripts.console.errors import UsageError

# How a recipe names its command (see the justfile): `{{python}} -m scripts.NAME ARGS`.
_COMMAND = re.compile(r"-m (scripts\.\w+)(.*)")


@dataclass(frozen=True)
class Recipe:
    name: str
    group: str
    doc: str
    module: str  # the command it runs, `scripts.NAME`
    fixed_arguments: str  # what the recipe passes besides the user's (`--fix`), or ""


def recipes(justfile: Path) -> list[Recipe]:
    """The justfile's public recipes, in its own order; a UsageError naming a recipe that
    runs no command of scripts/ (it could have no reference entry)."""
    found = []
    dumped = json.loads(_just(justfile, "--dump", "--dump-format", "json"))
    for name, recipe in dumped["recipes"].items():
        if recipe["private"]:
            continue
        body = "".join(
            part if isinstance(part, str) else "" for line in recipe["body"] for part in line
        )
        command = _COMMAND.search(body)
        if not command:
            raise UsageError(
                f"recipe {name!r} runs no command of scripts/: make it `{{{{python}}}} -m "
                "scripts.NAME`, so that the reference can show its --help"
            )
        groups = [a["group"] for a in recipe["attributes"] if isinstance(a, dict) and "group" in a]
        fixed = command[2].replace('"$@"', "").strip()
        found.append(
            Recipe(name, groups[0] if groups else "", recipe["doc"] or "", command[1], fixed)
        )
    order = _just(justfile, "--summary", "--unsorted").split()  # `--dump` sorts them
    return sorted(found, key=lambda recipe: order.index(recipe.name))


def _just(justfile: Path, *args: str) -> str:
    return subprocess.run(
        ["just", "--justfile", str(justfile), *args], capture_output=True, text=True, check=True
    ).stdout


def command_help(root: Path, module: str) -> str:
    """What `just RECIPE --help` prints: the command's own help, from its module."""
    result = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        cwd=root,
        env=os.environ | {"COLUMNS": "100"},  # argparse wraps to the terminal's width
        capture_output=True,
        text=True,
    )
    if result.returncode != 0 or not result.stdout.startswith("usage:"):
        raise UsageError(f"`python -m {module} --help` failed: give the command a --help")
    return result.stdout.rstrip()


def recipes_page(root: Path) -> str:
    """The reference page: a section per group, an entry per recipe."""
    lines = [
        "# Recipes",
        "",
        "Every recipe of the justfile (`just` lists them), with what `just RECIPE --help` "
        "prints. This page is generated from the justfile and the commands themselves when "
        "the documentation is built (`just docs`), so it is never out of date.",
    ]
    group = None
    for recipe in recipes(root / "justfile"):
        if recipe.group != group:
            group = recipe.group
            lines += ["", f"## {group or 'other'}"]
        lines += ["", f"### just {recipe.name}", "", recipe.doc]
        if recipe.fixed_arguments:  # `just fmt`: another command's help, with what it adds
            lines += ["", f"It runs `{recipe.module} {recipe.fixed_arguments}`:"]
        lines += ["", "```text", command_help(root, recipe.module), "```"]
    return "\n".join(lines) + "\n"
