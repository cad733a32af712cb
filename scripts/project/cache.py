"""runs/.cache/: values derived from one file's bytes alone (requirements exported from
uv.lock, a parsed job YAML, a pyproject.toml's package), kept as JSON under a hash of those
bytes. A warm run then neither starts uv (~20 ms a call) nor imports a YAML or TOML parser
(~15 ms and ~5 ms): most of `just local`'s own cost is start-up.
"""

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar, cast

from scripts.project.layout import Project, write_whole

T = TypeVar("T")
# A larger source is not hashed, and not read here at all: derive() bounds what it reads
# itself (a job file is refused over 1 MB); uv.lock files are well under this.
MAX_SOURCE_BYTES = 16 * 1024 * 1024


def derived(
    project: Project, kind: str, source: Path, derive: Callable[[], T], salt: str = ""
) -> T:
    """`derive()`, or what it returned before for the same bytes of `source` (and the same
    `kind` and `salt`: whatever else the value depends on). A value that JSON does not give
    back exactly (a tuple, a date) is returned but not kept."""
    try:
        if source.stat().st_size > MAX_SOURCE_BYTES:
            return derive()
        digest = hashlib.sha256(source.read_bytes())
    except OSError:
        return derive()  # which says in its own words what is wrong with the file
    digest.update(f"\0{kind}\0{salt}".encode())
    kept = project.cache / f"{kind}-{digest.hexdigest()[:24]}.json"
    try:
        return cast(T, json.loads(kept.read_text()))
    except (OSError, ValueError):
        pass
    value = derive()
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        return value
    if json.loads(text) == value:
        kept.parent.mkdir(parents=True, exist_ok=True)
        write_whole(kept, text)
    return value
