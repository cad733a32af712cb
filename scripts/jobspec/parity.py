"""The fields of a command job that one machine reproduces differently from Azure ML, or not
at all: read here, so that a local run says so in one line instead of staying silent
(README, "Local and cloud").
"""

from pathlib import Path
from typing import Any

from scripts.console.errors import UsageError
from scripts.jobspec.job import JobDict

# Fields Azure ML applies to where and how a job runs, which have no local meaning.
_CLOUD_ONLY = ("compute", "services", "identity", "queue_settings")
_CLOUD_ONLY_RESOURCES = ("instance_type", "shm_size", "docker_args", "properties")
_NOT_MOUNTED = "direct"  # the input is its URI; any other mode (ro_mount, the default)


def time_limit(job: JobDict, source: Path) -> int | None:
    """`limits.timeout` in seconds: the local run is stopped after it, as Azure ML cancels
    the job."""
    limits = job.get("limits") or {}
    if not isinstance(limits, dict) or limits.get("timeout") is None:
        return None
    timeout = limits["timeout"]
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 1:
        raise UsageError(
            f"{source.name}: limits.timeout must be a whole number of seconds, at least 1 "
            f"(got {timeout!r})"
        )
    return timeout


def not_applied_locally(job: JobDict) -> list[str]:
    """The job's fields `just local` does not apply, each with what happens instead."""
    said = [f"{field} (cloud only)" for field in _CLOUD_ONLY if job.get(field) is not None]
    resources = job.get("resources") or {}
    if isinstance(resources, dict):
        said += [
            f"resources.{field} (cloud only)"
            for field in _CLOUD_ONLY_RESOURCES
            if resources.get(field) is not None
        ]
        if _count(resources.get("instance_count")) > 1 and job.get("distribution") is None:
            said.append("resources.instance_count without distribution (one process here)")
    return said


def read_only_inputs(job: JobDict) -> list[str]:
    """The inputs Azure ML gives the job read-only: every data input (`path:`) but one in
    `direct` mode (ro_mount is the default; `download` writes are lost)."""
    return [
        name
        for name, spec in (job.get("inputs") or {}).items()
        if isinstance(spec, dict) and "path" in spec and spec.get("mode") != _NOT_MOUNTED
    ]


def cloud_environment(job: JobDict) -> str | None:
    """The environment the job names when it is not the scaffolding's build context (a
    curated, registry or workspace environment, an image, a conda file); None otherwise."""
    environment = job.get("environment")
    if not environment or (isinstance(environment, dict) and "build" in environment):
        return None
    return describe_environment(environment)


def describe_environment(environment: Any) -> str:
    """A job's `environment:` in a few words: its name, or its image and conda file."""
    if isinstance(environment, dict):
        parts = [
            f"{key} {environment[key]}" for key in ("image", "conda_file") if environment.get(key)
        ]
        return ", ".join(parts) or "its own environment"
    return str(environment) if environment else "no environment"


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 1
