"""Runs whose runner died before it could record them (SIGKILL, a crash, a reboot): found
by the processes named in their run.json, recorded KILLED in run.json and MLflow, and their
job, if it outlived the runner, stopped."""

import os
import signal
import time
from pathlib import Path

from scripts.console import report
from scripts.console.errors import StoreError
from scripts.project.layout import Project
from scripts.runfolder.manifest import Manifest, timestamp
from scripts.tracking.store import finish_run

Identity = dict[str, int | str]  # {"pid": ..., "start": ...}, as run.json records a process


def identity(pid: int) -> Identity:
    """What tells this process apart from a later one given the same pid: its start time
    (in clock ticks since boot, from /proc; empty where there is no /proc)."""
    return {"pid": pid, "start": _start_time(pid) or ""}


def alive(process: Identity) -> bool:
    pid = int(process["pid"])
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):  # gone, or the pid is someone else's now
        return False
    return not process["start"] or _start_time(pid) == process["start"]


def settle_orphans(project: Project, manifests: list[Manifest]) -> None:
    """Record KILLED each RUNNING run whose runner is gone (updating `manifests` too)."""
    for manifest in manifests:
        if manifest.status != "RUNNING" or manifest.runner is None or alive(manifest.runner):
            continue
        if manifest.job is not None and alive(manifest.job):
            os.kill(int(manifest.job["pid"]), signal.SIGTERM)
        manifest.status = "KILLED"
        manifest.ended = timestamp()
        _finish_tracked(manifest)
        manifest.write(project.runs / manifest.experiment / manifest.run_name)
        report.warning(f"run {manifest.run_name}: its runner is gone (killed?); recorded KILLED")


def _finish_tracked(manifest: Manifest) -> None:
    if manifest.tracking_run_id is None:
        return
    try:
        finish_run(Path(manifest.tracking_store), manifest.tracking_run_id, "KILLED", time.time())
    except (StoreError, OSError) as error:
        report.warning(f"run {manifest.run_name}: MLflow not updated: {error}")


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]  # field 22; the name before may hold spaces
