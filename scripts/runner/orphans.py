"""Runs whose runner died before it could record them (SIGKILL, a crash, a reboot): found
by the processes named in their run.json, recorded in run.json and MLflow (KILLED, or what
MLflow already has if the runner got that far), and their job, if it outlived the runner,
stopped. Processes are told apart by their start time, never by a pid alone."""

import os
import signal
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from scripts.console import report
from scripts.console.errors import ToolingError, from_os_error
from scripts.project.layout import Project
from scripts.runfolder.layout import FALLBACK_ARTIFACTS, FALLBACK_STORE, step_folder
from scripts.runfolder.manifest import PARENTS, Recorded, read_manifest, timestamp
from scripts.tracking.trackers import LocalStore, Tracker, team_server

Identity = dict[str, int | str]  # {"pid": ..., "start": ...}, as run.json records a process
_PROC = Path("/proc")


def identity(pid: int) -> Identity:
    """What tells this process apart from a later one given the same pid: its start time
    (empty where the platform does not say)."""
    return {"pid": pid, "start": _start_time(pid) or ""}


def alive(process: Identity) -> bool:
    """Whether the recorded process may still run: its pid is taken, by it (same start
    time) or, where no start time was recorded, by a process that may be it."""
    pid = int(process["pid"])
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError, OverflowError):  # gone, or someone else's
        return False
    return not process["start"] or _start_time(pid) == process["start"]


def stop_job(process: Identity) -> bool:
    """SIGTERM to the recorded job and the processes of its group, only if it is certainly
    that process (its recorded start time matches); whether it was told to stop."""
    pid = int(process["pid"])
    if not process["start"] or _start_time(pid) != process["start"]:
        return False
    try:
        if os.getpgid(pid) == pid:  # the job leads a process group: all of it
            os.killpg(pid, signal.SIGTERM)
        else:
            os.kill(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def settle_orphans(project: Project, recorded: list[Recorded]) -> None:
    """Record each RUNNING run whose runner is gone (its manifest updated in `recorded` and
    in its folder); a run that cannot be settled is named and left as it is."""
    for run in recorded:
        manifest = run.manifest
        if manifest.status != "RUNNING" or manifest.runner is None or alive(manifest.runner):
            continue
        try:
            status = _settle(project, run)
        except (ToolingError, OSError) as error:
            failure = from_os_error(error) if isinstance(error, OSError) else error
            report.warning(f"run {run.folder.name}: not settled ({failure}); left as it is")
            continue
        report.warning(f"run {run.folder.name}: its runner is gone (killed?); recorded {status}")


def _settle(project: Project, run: Recorded) -> str:
    """The run's outcome recorded, from what exists: MLflow's end if the runner recorded it
    there before it died, else KILLED; a pipeline's steps (a sweep's trials, a sweep step's
    trials) that were running too."""
    store = _store_of(project, run)
    _settle_children(store, run)
    return _settle_in(store, run)


def _settle_children(store: Tracker | None, run: Recorded) -> None:
    if run.manifest.kind not in PARENTS:
        return
    for child in run.manifest.steps:
        folder = run.folder / step_folder(child)
        try:
            manifest = read_manifest(folder)
        except FileNotFoundError:  # it never started
            continue
        if manifest.status == "RUNNING":
            _settle_children(store, Recorded(folder, manifest))
            _settle_in(store, Recorded(folder, manifest))


def _settle_in(store: Tracker | None, run: Recorded) -> str:
    """`run`, tracked in `store` (None: a server that is not this project's now, whose run
    is left as it is), settled."""
    manifest = run.manifest
    if manifest.job is not None and alive(manifest.job):
        stop_job(manifest.job)
    run_id = manifest.tracking_run_id if store is not None else None
    ended = store.ended_run(run_id) if store is not None and run_id else None
    if ended is not None:
        manifest.status = ended.status
        manifest.ended = (
            datetime.fromtimestamp(ended.end_seconds).astimezone().isoformat(timespec="seconds")
        )
    else:
        manifest.status, manifest.ended = "KILLED", timestamp()
        if store is not None and run_id:
            store.finish_run(run_id, "KILLED", datetime.now().timestamp())
    manifest.write(run.folder)
    return manifest.status


def _store_of(project: Project, run: Recorded) -> Tracker | None:
    """Where the run's MLflow run is, from what exists (never a path or server run.json
    names): the project's team server if run.json names it, else its own store when it has
    one, else the project's; None for a server the project no longer names."""
    recorded = run.manifest.tracking_store
    local = LocalStore(project.store, project.artifacts)
    if urlsplit(recorded).scheme:  # a server's URI, not a store's path
        server = team_server(project)
        return server if server is not None and server.where == recorded else None
    own = run.folder / FALLBACK_STORE
    if own.is_file() and not own.is_symlink():
        return LocalStore(own, run.folder / FALLBACK_ARTIFACTS)
    return local


def _start_time(pid: int) -> str | None:
    if not _PROC.is_dir():  # macOS, BSDs: ask psutil (imported only there)
        return _start_time_from_psutil(pid)
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]  # field 22; the name before may hold spaces


def _start_time_from_psutil(pid: int) -> str | None:
    import psutil

    try:
        return f"{psutil.Process(pid).create_time():.3f}"
    except (psutil.Error, OverflowError, ValueError):
        return None
