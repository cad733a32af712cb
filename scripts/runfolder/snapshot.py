"""Copy a source folder the way Azure ML uploads a job's code: honouring `.amlignore`
(or `.gitignore` when there is none), and never copying credentials.

Ignored folders are pruned before they are entered, so ignored data costs nothing.
"""

import os
import shutil
from pathlib import Path

from pathspec import GitIgnoreSpec

# Never part of a job, whatever the ignore file says; matched on a file's or folder's name
# at any depth, like the gitignore patterns `.env`, `.env.*`, `*.pem`, `id_rsa*`, `.ssh/`.
CREDENTIAL_NAMES = frozenset({".git", ".env", ".netrc", ".pypirc", ".git-credentials"})
CREDENTIAL_PREFIXES = (".env.", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519")
CREDENTIAL_SUFFIXES = (".pem", ".key", ".p12", ".pfx", ".keytab")
CREDENTIAL_FOLDERS = frozenset({".ssh", ".azure", ".aws"})
_PRIVATE_KEY_MARKERS = (b"-----BEGIN", b"PRIVATE KEY-----")


def ignore_spec(source: Path) -> GitIgnoreSpec:
    """The rules Azure ML applies to `source`: `.amlignore`, else `.gitignore`, else none."""
    for name in (".amlignore", ".gitignore"):
        rules = source / name
        if rules.is_file():
            return GitIgnoreSpec.from_lines(rules.read_text().splitlines())
    return GitIgnoreSpec.from_lines([])


def is_credential(name: str, is_dir: bool) -> bool:
    """Whether a file or folder of this name looks like it holds credentials."""
    return (
        name in CREDENTIAL_NAMES
        or name.startswith(CREDENTIAL_PREFIXES)
        or name.endswith(CREDENTIAL_SUFFIXES)
        or (is_dir and name in CREDENTIAL_FOLDERS)
    )


def copy_tree(source: Path, destination: Path, ignored: GitIgnoreSpec) -> list[Path]:
    """Copy `source` into `destination` but what `ignored` matches (paths relative to
    `source`); returns the credential files it refused to copy."""
    refused: list[Path] = []
    _copy_dir(source, destination, "", ignored, refused)
    return refused


def _copy_dir(
    root: Path, destination: Path, relative: str, ignored: GitIgnoreSpec, refused: list[Path]
) -> None:
    destination.mkdir(parents=True, exist_ok=True)
    with os.scandir(root / relative if relative else root) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            path = f"{relative}{entry.name}"
            is_dir = entry.is_dir()
            if ignored.match_file(f"{path}/" if is_dir else path):
                continue
            if is_credential(entry.name, is_dir):
                refused.append(Path(path))
            elif is_dir:
                _copy_dir(root, destination / entry.name, f"{path}/", ignored, refused)
            elif _is_private_key(entry.path):
                refused.append(Path(path))
            else:
                shutil.copy2(entry.path, destination / entry.name)


def _is_private_key(path: str) -> bool:
    with open(path, "rb") as file:
        head = file.read(100)
    return all(marker in head for marker in _PRIVATE_KEY_MARKERS)
