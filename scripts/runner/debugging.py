"""`just local --debug`: the job under debugpy, listening on 127.0.0.1, its first Python
process waiting for an IDE to attach (debug_hook/sitecustomize.py). debugpy is added to the
local environment only, pinned from uv.lock (dependency group `local-debug`), like the
tracking packages; the job image never gets it."""

import json
import os
from dataclasses import dataclass
from pathlib import Path

from scripts.console.cli import LOCALHOST
from scripts.project.layout import Project
from scripts.project.uv import export_requirements

DEBUG_GROUP = "local-debug"  # dependency group in the root pyproject.toml
HOST = LOCALHOST
DEFAULT_PORT = 5678  # debugpy's own default, and .vscode/launch.json's
DEFAULT_TIMEOUT_SECONDS = 600
MAX_TIMEOUT_SECONDS = 86400  # a day: longer waits are mistakes (and overflow a thread's wait)
HOOK = Path(__file__).parent / "debug_hook"
SETTING = "JUST_LOCAL_DEBUG"  # read by debug_hook/sitecustomize.py


@dataclass(frozen=True)
class Debugging:
    port: int
    timeout_seconds: int  # how long the job waits for a debugger before it gives up
    # Each folder of your code and where the run folder holds its copy (relative to it),
    # most specific first: set when the run is prepared.
    sources: tuple[tuple[Path, Path], ...] = ()

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"


def debug_requirements(project: Project) -> str:
    return export_requirements(project, "--only-group", DEBUG_GROUP)


def debug_variables(
    debugging: Debugging, job_variables: dict[str, str], run_folder: Path
) -> dict[str, str]:
    """What makes the job's first Python process wait for a debugger: the hook first on
    PYTHONPATH (before the job's own entries), and where and how long to listen.

    The debugger maps each of `debugging.sources` to its copy in `run_folder` both ways
    (pydevd's PATHS_FROM_ECLIPSE_TO_PYTHON), so breakpoints set in experiments/EXP/ stop in
    the run folder's copy.
    """
    path = [str(HOOK), *filter(None, [job_variables.get("PYTHONPATH")])]
    mappings = [[str(source), str(run_folder / copy)] for source, copy in debugging.sources]
    return {
        "PYTHONPATH": os.pathsep.join(path),
        SETTING: f"{debugging.address}:{debugging.timeout_seconds}",
        "PATHS_FROM_ECLIPSE_TO_PYTHON": json.dumps(mappings),
        # Its warning that the standard library's frozen modules cannot take breakpoints.
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }
