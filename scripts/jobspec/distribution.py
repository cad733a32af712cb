"""A distributed job (`distribution`, `resources.instance_count`) on one machine: as many
processes as Azure ML starts over all its nodes, each with the variables Azure ML's
distributed-training documentation lists, every node being 127.0.0.1 (README, "Local and
cloud"). Pure logic: the runner starts the processes."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scripts.console.cli import LOCALHOST
from scripts.console.errors import UsageError
from scripts.jobspec.job import JobDict

Distribution = dict[str, Any]  # as run.json records it: the type and every count

_TYPES = ("pytorch", "mpi", "tensorflow")


def read_distribution(job: JobDict, source: Path) -> Distribution | None:
    """The job's distribution with every count settled (Azure ML's defaults filled in);
    None for a job without one. A UsageError for a type this cannot reproduce."""
    spec = job.get("distribution")
    if spec is None:
        return None
    kind = spec.get("type") if isinstance(spec, dict) else spec
    if kind not in _TYPES:
        raise UsageError(
            f"{source.name}: distribution type {kind!r} is not reproduced locally (only "
            f"{', '.join(_TYPES)}): run it on Azure ML with `just aml`"
        )
    nodes = _count(job, "resources.instance_count", source, default=1)
    if kind == "tensorflow":
        return {
            "type": kind,
            "worker_count": _count(job, "distribution.worker_count", source, default=nodes),
            "parameter_server_count": _count(
                job, "distribution.parameter_server_count", source, default=0, least=0
            ),
        }
    per_node = _count(job, "distribution.process_count_per_instance", source, default=1)
    return {"type": kind, "instance_count": nodes, "process_count_per_instance": per_node}


def process_count(distribution: Distribution) -> int:
    if distribution["type"] == "tensorflow":
        return int(distribution["worker_count"] + distribution["parameter_server_count"])
    return int(distribution["instance_count"] * distribution["process_count_per_instance"])


def process_variables(
    distribution: Distribution, free_port: Callable[[], int]
) -> list[dict[str, str]]:
    """The variables of each process, in rank order; `free_port` gives the rendezvous
    ports (PyTorch's MASTER_PORT, each TensorFlow task's)."""
    if distribution["type"] == "tensorflow":
        return _tensorflow(distribution, free_port)
    per_node = distribution["process_count_per_instance"]
    size = process_count(distribution)
    if distribution["type"] == "pytorch":
        port = str(free_port())
        return [
            {
                "MASTER_ADDR": LOCALHOST,
                "MASTER_PORT": port,
                "WORLD_SIZE": str(size),
                "RANK": str(rank),
                "LOCAL_RANK": str(rank % per_node),
                "NODE_RANK": str(rank // per_node),
            }
            for rank in range(size)
        ]
    return [  # mpi: what Open MPI's mpirun gives each process
        {
            "OMPI_COMM_WORLD_SIZE": str(size),
            "OMPI_COMM_WORLD_RANK": str(rank),
            "OMPI_COMM_WORLD_LOCAL_SIZE": str(per_node),
            "OMPI_COMM_WORLD_LOCAL_RANK": str(rank % per_node),
            "OMPI_COMM_WORLD_NODE_RANK": str(rank // per_node),
        }
        for rank in range(size)
    ]


def _tensorflow(distribution: Distribution, free_port: Callable[[], int]) -> list[dict[str, str]]:
    """TF_CONFIG per process: the workers, then the parameter servers, each task at a port
    of its own."""
    roles = [
        ("worker", int(distribution["worker_count"])),
        ("ps", int(distribution["parameter_server_count"])),
    ]
    cluster = {
        role: [f"{LOCALHOST}:{free_port()}" for _ in range(count)] for role, count in roles if count
    }
    return [
        {"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": role, "index": index}})}
        for role, count in roles
        for index in range(count)
    ]


def _count(job: JobDict, field: str, source: Path, default: int, least: int = 1) -> int:
    """The whole number at the dotted `field` of the job, or `default` when it is unset."""
    value: Any = job
    for key in field.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise UsageError(
            f"{source.name}: {field} must be a whole number, at least {least} (got {value!r})"
        )
    return value
