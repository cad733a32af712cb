"""A job's process in a container: `docker run` of the job image on the host network, at
the same paths as on this machine (so the command, its inputs and MLflow's store need no
translation), removed when it ends. Signals go to the container by name (`docker kill
--signal`), whose init passes them to the job: `docker run` itself gives up on the
container after three of them, and its SIGKILL would leave it running."""

import os
import signal
from dataclasses import dataclass
from pathlib import Path

from scripts.containers.engine import DOCKER, docker


@dataclass(frozen=True)
class Mount:
    source: Path
    target: Path
    read_only: bool


@dataclass(frozen=True)
class JobContainer:
    image: str
    name: str  # containers are NAME-0, NAME-1, ... (one per process)
    workdir: Path
    mounts: tuple[Mount, ...]
    gpus: str | None  # `--gpus`: which GPUs the job sees

    def process_name(self, rank: int) -> str:
        return f"{self.name}-{rank}"

    def run_argv(self, rank: int, variables: list[str], command: str) -> list[str]:
        """`docker run` of `command` as process `rank`; `variables` are passed by name, their
        values from docker's own environment (never on a command line `ps` shows)."""
        argv = [
            DOCKER, "run", "--rm", "--init", "--network", "host",
            "--name", self.process_name(rank), "--workdir", str(self.workdir),
        ]  # fmt: skip
        for mount in self.mounts:
            fields = ["type=bind", f"source={mount.source}", f"target={mount.target}"]
            argv += [
                "--mount",
                ",".join(map(_csv_field, fields)) + (",readonly" if mount.read_only else ""),
            ]
        if os.geteuid() != 0:  # what the job writes stays yours; HOME: somewhere writable
            argv += ["--user", f"{os.geteuid()}:{os.getegid()}", "--env", "HOME=/tmp"]
        if self.gpus:
            argv += ["--gpus", self.gpus]
        for name in sorted(variables):
            argv += ["--env", name]
        return [*argv, self.image, "bash", "-c", command]


def send_signal(name: str, signum: int) -> None:
    """Signal `signum` to container `name`, if it still runs."""
    docker("kill", "--signal", signal.Signals(signum).name, name)


def _csv_field(field: str) -> str:
    """A --mount field as docker reads them (CSV): quoted when a path holds ',' or '"'."""
    if "," not in field and '"' not in field:
        return field
    doubled = field.replace('"', '""')
    return f'"{doubled}"'
