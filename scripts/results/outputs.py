"""A fetched job's named outputs: where Azure ML stored each (a sweep's: its best trial's;
a pipeline's: the step output it is bound to; a reused step's: the original's), and the
download into cloud/outputs/NAME with the resumable, verified transfers of `just
data-download` (never azure-ai-ml's jobs.download, which drops some pipeline outputs)."""

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.cloud.data_assets import asking_azure, blob_location
from scripts.cloud.jobs import CloudJob, default_output_path, get_job
from scripts.cloud.transfers import Remote, download, shown_progress
from scripts.cloud.workspace import AzureML
from scripts.console import report
from scripts.console.errors import UsageError
from scripts.results.tree import Fetched
from scripts.runfolder.layout import OUTPUTS, output_folder
from scripts.runfolder.manifest import PIPELINE, SWEEP
from scripts.tracking.remote import download_folder


@dataclass(frozen=True)
class Located:
    name: str
    path: str  # azureml://datastores/…/paths/… or a Blob URL


def check_outputs(job: CloudJob, asked: list[str]) -> None:
    """A UsageError for outputs of a job that has not ended (Azure ML downloads none
    before), or an output the job does not have."""
    if not job.ended:
        raise UsageError(
            f"job {job.name} is {job.status}: its outputs are complete once it ends; "
            "add --wait, or leave out --outputs/--all to fetch its metrics and logs so far"
        )
    unknown = [name for name in asked if name not in job.outputs]
    if unknown:
        known = ", ".join(sorted(job.outputs)) or "none"
        raise UsageError(f"job {job.name} has no output {unknown[0]!r}: its outputs: {known}")


def locate(azure: AzureML, tree: Fetched, name: str) -> Located:
    """Where output `name` of the job is stored."""
    job = tree.job
    if job.outputs.get(name):
        return Located(name, str(job.outputs[name]))
    if tree.kind == SWEEP:
        best = tree.best_child
        if best is None:
            raise UsageError(f"sweep {job.name} has no best trial, so no outputs to fetch")
        trial = get_job(azure.client, best.job.name, azure.workspace)
        return Located(name, trial.outputs.get(name) or _default(azure, trial.name, name))
    if tree.kind == PIPELINE and name in job.bound_outputs:
        step, output = job.bound_outputs[name]
        child = next((c for c in tree.children if c.folder == step), None)
        if child is not None:
            source = child.job.reused_from or child.job.name
            return Located(name, _default(azure, source, output))
    return Located(name, _default(azure, job.reused_from or job.name, name))


def fetch_artifact_outputs(mlflow: Any, tree: Fetched, record: Path, uri: str) -> None:
    """The job's ./outputs, which Azure ML keeps with its artifacts, into record/outputs/
    beside its named outputs (a name taken by one of those is left out)."""
    run = tree.run
    if run is None or OUTPUTS not in run.artifact_folders:
        return
    report.note("outputs/: downloading the job's ./outputs")
    staging = record / f".{OUTPUTS}.artifacts"
    shutil.rmtree(staging, ignore_errors=True)
    download_folder(mlflow, run.run_id, OUTPUTS, staging, uri)
    (record / OUTPUTS).mkdir(exist_ok=True)
    for entry in sorted(staging.iterdir()):
        if not (record / OUTPUTS / entry.name).exists():
            entry.rename(record / OUTPUTS / entry.name)
    shutil.rmtree(staging)


def _default(azure: AzureML, job: str, output: str) -> str:
    path = default_output_path(job, output)
    return f"azureml://datastores/{azure.default_datastore}/paths/{path}"


def fetch_output(azure: AzureML, located: Located, record: Path) -> None:
    """Output `located` into record/outputs/NAME, unless it is there already."""
    destination = record / output_folder(located.name)
    if destination.exists():
        report.note(f"output {located.name}: already here ({destination})")
        return
    location = asking_azure(
        lambda: blob_location(azure.client, located.path, azure.credential()),
        None,
        azure.workspace,
    )
    report.note(f"output {located.name}: downloading {located.path}")
    stopped = "the download stopped: fetch again to go on where it stopped"
    with shown_progress(stopped) as progress:
        moved = download(Remote(azure.container(location), location.prefix), destination, progress)
    seconds = max(time.monotonic() - progress.started, 1e-6)
    report.note(
        f"output {located.name}: {moved / 1e6:,.1f} MB in {seconds:.1f} s "
        f"({moved / seconds / 1e6:.1f} MB/s) into {destination}"
    )
