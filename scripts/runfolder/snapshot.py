"""Copy a source folder the way Azure ML uploads a job's code: honouring `.amlignore`
(or `.gitignore` when there is none) as azure-ai-ml matches it, following symbolic links
that stay inside the repository, and never copying credentials or anything that is not a
regular file.

Ignored folders are pruned before they are entered, so ignored data costs nothing, unless a
negation (`!data/keep.csv`) could bring back a file inside them.
"""

import hashlib
import os
import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pathspec import PathSpec
from pathspec.pattern import Pattern

from scripts.runfolder.credentials import holds_credential, is_credential_name


@dataclass(frozen=True)
class IgnoreRules:
    """One ignore file's patterns, matched as azure-ai-ml matches them: on each file's path
    relative to the ignore file's folder (`prefix` + the path in the copied folder), the
    last matching pattern deciding, negations included, nested ignore files not read."""

    spec: PathSpec[Pattern]
    prefix: str = ""

    @classmethod
    def of(cls, folder: Path, prefix: str = "") -> "IgnoreRules":
        """The rules Azure ML applies to `folder`: `.amlignore`, else `.gitignore`, else
        none; `prefix` is where the copied folder sits below `folder`."""
        for name in (".amlignore", ".gitignore"):
            rules = folder / name
            if rules.is_file():
                return cls(PathSpec.from_lines("gitignore", rules.read_text().splitlines()), prefix)
        return cls(PathSpec([]), prefix)

    def deeper(self, folder: str) -> "IgnoreRules":
        """The same rules for a folder copied to `folder` (ending in /) below this one."""
        return IgnoreRules(self.spec, f"{self.prefix}{folder}")

    def excludes(self, path: str) -> bool:
        return self.spec.match_file(f"{self.prefix}{path}")

    @cached_property
    def prunes(self) -> bool:
        """Whether an excluded folder can be skipped whole: no negation could bring back a
        file inside it."""
        return all(pattern.include is not False for pattern in self.spec.patterns)


@dataclass(frozen=True)
class Skipped:
    """A file or folder left out of a copy, and why."""

    path: Path  # relative to the copied folder
    reason: str


def copy_tree(
    source: Path, destination: Path, ignored: tuple[IgnoreRules, ...], inside: Path
) -> list[Skipped]:
    """Copy `source` into `destination` but what any of `ignored` excludes, following
    symbolic links as Azure ML's upload does (the target's content under the link's name)
    while they stay inside `inside`, the repository. Returns what was left out and why:
    credentials, links leading outside `inside`, broken or looping links, and what is not
    a regular file (a FIFO, socket or device, never opened)."""
    skipped: list[Skipped] = []
    walk = _Walk(source, ignored, os.path.realpath(inside), skipped)
    walk.copy_dir(destination, "", os.path.realpath(source))
    return skipped


@dataclass(frozen=True)
class _Walk:
    root: Path
    ignored: tuple[IgnoreRules, ...]
    inside: str  # real path
    skipped: list[Skipped]

    def copy_dir(self, destination: Path, relative: str, real: str) -> None:
        """Copy the folder at `relative`, whose real path is `real`, into `destination`;
        folders are made as files go into them (Azure ML uploads files, not empty folders)."""
        with os.scandir(self.root / relative if relative else self.root) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                path = f"{relative}{entry.name}"
                target = os.path.realpath(entry.path) if entry.is_symlink() else None
                entry_real = target or os.path.join(real, entry.name)
                is_dir = entry.is_dir() if target is None else os.path.isdir(target)
                if self._excluded(path, is_dir):
                    continue
                reason = self._refusal(entry, target, entry_real, is_dir, real)
                if reason:
                    self.skipped.append(Skipped(Path(path), reason))
                elif is_dir:
                    self.copy_dir(destination / entry.name, f"{path}/", entry_real)
                else:
                    destination.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(entry_real, destination / entry.name)

    def _excluded(self, path: str, is_dir: bool) -> bool:
        if is_dir:  # its files are matched one by one, unless no negation could save one
            return any(rules.prunes and rules.excludes(f"{path}/") for rules in self.ignored)
        return any(rules.excludes(path) for rules in self.ignored)

    def _refusal(
        self,
        entry: os.DirEntry[str],
        target: str | None,
        real: str,
        is_dir: bool,
        folder: str,
    ) -> str | None:
        """Why the entry (real path `real`, in the folder whose real path is `folder`) must
        not be copied, if it must not."""
        if is_credential_name(entry.name, is_dir):
            return "looks like a credential"
        if target is not None:
            if not os.path.exists(target):
                return "a broken or looping symbolic link"
            if not _within(target, self.inside):
                return "a symbolic link to outside the repository"
            if is_dir and _within(folder, target):
                return "a symbolic link to a folder that holds it"
        if is_dir:
            return None
        if not (entry.is_file() if target is None else os.path.isfile(target)):
            return "not a regular file (a FIFO, socket or device)"
        return "looks like a credential" if holds_credential(real) else None


def _within(path: str, folder: str) -> bool:
    return os.path.commonpath([path, folder]) == folder


def content_hash(path: Path) -> str:
    """The snapshot hash Azure ML gives an uploaded folder or file (azure-ai-ml's
    `get_content_hash`): SHA-256 over the number of files, then `#relative path#` and the
    size of each, then the bytes of each, in the order of their lower-cased paths (a file:
    itself, by its name). Run over a run folder's copy, which the ignore file has already
    filtered, or over a local data input."""
    if path.is_file():
        files = [(path, path.name)]
    else:
        files = sorted(
            (
                (Path(root, name), Path(root, name).relative_to(path).as_posix())
                for root, _, names in os.walk(path, followlinks=True)
                for name in names
            ),
            key=lambda file: file[1].lower(),
        )
    digest = hashlib.sha256(str(len(files)).encode())
    for path, relative in files:
        digest.update(f"#{relative}#".encode())
        digest.update(str(path.stat().st_size).encode())
    for path, _ in files:
        with path.open("rb") as file:
            while chunk := file.read(1024 * 1024):
                digest.update(chunk)
    return digest.hexdigest()
