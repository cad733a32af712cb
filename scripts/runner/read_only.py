"""Inputs Azure ML gives the job read-only (`mode: ro_mount`, `download`): locally they are
your own files, which no permission can protect from a job run as root; so what the job
changed in them is found afterwards and reported, since on Azure ML the same write fails
(ro_mount) or is lost (download)."""

import os
from pathlib import Path

Snapshot = dict[str, tuple[int, int]]  # file -> (size, modification time in ns)


def snapshot(path: Path) -> Snapshot:
    """Every file under `path` (or `path` itself) with its size and modification time."""
    if path.is_file():
        stat = path.stat()
        return {str(path): (stat.st_size, stat.st_mtime_ns)}
    found: Snapshot = {}
    for folder, _, files in os.walk(path):
        for name in files:
            file = os.path.join(folder, name)
            try:
                stat = os.stat(file)
            except OSError:
                continue
            found[file] = (stat.st_size, stat.st_mtime_ns)
    return found


def first_change(before: Snapshot, path: Path) -> str | None:
    """A file under `path` that was added, removed or changed since `before`."""
    after = snapshot(path)
    for file in sorted(before.keys() | after.keys()):
        if before.get(file) != after.get(file):
            return file
    return None
