"""Project settings: `.env` (committed placeholders) overlaid by `.env.local` (git-ignored)."""

import re
from pathlib import Path

from dotenv import dotenv_values

from scripts.project import ROOT

SETTINGS_FILES = (ROOT / ".env", ROOT / ".env.local")  # later files win
_PLACEHOLDER = re.compile(r"<[^<>]*>")


def load_settings(files: tuple[Path, ...] = SETTINGS_FILES) -> dict[str, str]:
    """Merged settings; a missing file contributes nothing, an empty value counts as unset."""
    settings: dict[str, str] = {}
    for path in files:
        if path.is_file():
            settings.update({k: v for k, v in dotenv_values(path).items() if v})
    return settings


def is_placeholder(value: str) -> bool:
    """Whether `value` still holds a `<...>` to fill in, as the committed .env and the
    example job files do (`<workspace-name>`, `azureml:<compute-cluster>`)."""
    return bool(_PLACEHOLDER.search(value))
