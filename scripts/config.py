"""Project settings: `.env` (committed placeholders) overlaid by `.env.local` (git-ignored)."""

from pathlib import Path

from dotenv import dotenv_values

from scripts.project import ROOT

SETTINGS_FILES = (ROOT / ".env", ROOT / ".env.local")  # later files win


def load_settings(files: tuple[Path, ...] = SETTINGS_FILES) -> dict[str, str]:
    """Merged settings; a missing file contributes nothing, an empty value counts as unset."""
    settings: dict[str, str] = {}
    for path in files:
        if path.is_file():
            settings.update({k: v for k, v in dotenv_values(path).items() if v})
    return settings
