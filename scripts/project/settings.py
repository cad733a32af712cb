"""Project settings: `.env` (committed placeholders) overlaid by `.env.local` (git-ignored)."""

import re
from pathlib import Path

_PLACEHOLDER = re.compile(r"<[^<>]*>")


def load_settings(files: tuple[Path, ...]) -> dict[str, str]:
    """Merged settings, later files winning; a missing file contributes nothing, an empty
    value counts as unset."""
    from dotenv import dotenv_values  # only the commands that need settings pay for it

    settings: dict[str, str] = {}
    for path in files:
        if path.is_file():
            settings.update({k: v for k, v in dotenv_values(path).items() if v})
    return settings


def is_placeholder(value: str) -> bool:
    """Whether `value` still holds a `<...>` to fill in, as the committed .env and the
    example job files do (`<workspace-name>`, `azureml:<compute-cluster>`)."""
    return bool(_PLACEHOLDER.search(value))
