"""The Docker engine, as the `docker` command line reaches it (DOCKER_HOST and contexts
included): whether it answers, and calling it."""

import shutil
import subprocess

from scripts.console.errors import UsageError

DOCKER = "docker"


def require_engine(needed_for: str, without: str) -> None:
    """A UsageError unless a Docker engine answers: what it is `needed_for`, and how to do
    `without` it."""
    if shutil.which(DOCKER) is None:
        raise UsageError(
            f"{needed_for} needs Docker, which is not installed: install it, or {without}"
        )
    if docker("version", "--format", "{{.Server.Version}}").returncode != 0:
        raise UsageError(
            f"{needed_for} needs a Docker engine, and none answers (`docker version`): start "
            f"it, or {without}"
        )


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    """`docker ARGS`, its output captured; the caller reads the exit code."""
    return subprocess.run([DOCKER, *args], capture_output=True, text=True, check=False)
