"""Moving data between a local folder and Azure Blob Storage with azure-storage-blob, with
the care a data scientist needs for gigabytes: parallel, resumable (a partial file goes on
from where it stopped), verified (size, and MD5 where the service keeps one), and never
leaving a folder that looks complete when it is not (the data is gathered in a staging
folder that is renamed at the end)."""

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from scripts.console import report
from scripts.console.errors import CommandError

CHUNK = 4 * 1024 * 1024
PARALLEL = 4
PARTIAL = ".partial"  # a file still being downloaded
STAGING_PREFIX = ".downloading-"  # the folder a download gathers into


@dataclass(frozen=True)
class Remote:
    """Where the data is: a container and a path in it, a folder (every blob below it) or,
    with `is_file`, one blob."""

    container: Any  # azure.storage.blob.ContainerClient
    prefix: str
    is_file: bool = False

    def blobs(self) -> list[Any]:
        """The blobs it holds: the one named `prefix`, or those in the folder `prefix`
        (`a/1` holds `a/1/x`, not `a/10/x`)."""
        if self.is_file:
            found = self.container.list_blobs(name_starts_with=self.prefix)
            return [blob for blob in found if blob.name == self.prefix]
        folder = f"{self.prefix.rstrip('/')}/" if self.prefix.strip("/") else ""
        return list(self.container.list_blobs(name_starts_with=folder))


@dataclass
class Progress:
    """Bytes to move and moved so far; `report` is called now and then with both."""

    total: int = 0
    done: int = 0
    report: Callable[["Progress"], None] | None = None
    started: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _reported: float = 0.0

    def line(self) -> str:
        """How far it is, for a person: megabytes moved of all, and the rate."""
        seconds = max(time.monotonic() - self.started, 1e-6)
        return (
            f"{self.done / 1e6:,.1f} of {self.total / 1e6:,.1f} MB, "
            f"{self.done / seconds / 1e6:,.1f} MB/s"
        )

    def add(self, count: int) -> None:
        with self._lock:
            self.done += count
            now = time.monotonic()
            if self.report and now - self._reported >= 0.5:
                self._reported = now
                self.report(self)


@contextmanager
def shown_progress(stopped: str) -> Iterator[Progress]:
    """A Progress shown as it goes (redrawn on a terminal); a storage or network failure in
    the block becomes one line: what the storage refused and what to do, or for a failure
    on the way (the network, a timeout), `stopped`."""
    from azure.core.exceptions import AzureError

    progress = Progress(report=lambda p: report.progress(f"  {p.line()}"))
    try:
        yield progress
    except AzureError as error:  # azure-core's: the network, the storage account
        raise CommandError(_refused(error, stopped)) from None
    finally:
        report.progress_done()


def _refused(error: Exception, stopped: str) -> str:
    status = getattr(error, "status_code", None)
    code = getattr(error, "error_code", None) or type(error).__name__
    if type(error).__name__ == "ClientAuthenticationError" and status is None:
        return "not logged in to Azure: run `az login` (and `az account set` if needed)"
    if status in (401, 403):
        return (
            f"the storage account refused access ({status} {code}): your login or the "
            "datastore's credential may not use it; ask for a 'Storage Blob Data' role on the "
            "account (Reader to download, Contributor to upload)"
        )
    if status == 404:
        return (
            f"not found in the storage account (404 {code}): check the asset's datastore "
            "and path (`just data-list NAME`)"
        )
    return f"{stopped} ({code})"


def staging_folder(destination: Path) -> Path:
    return destination.with_name(f"{STAGING_PREFIX}{destination.name}")


def download(remote: Remote, destination: Path, progress: Progress) -> int:
    """Everything under `remote` into the folder `destination`, which appears only when all
    of it is there; the bytes transferred by this call (a resumed download moves only what
    was missing)."""
    if destination.exists():
        raise CommandError(f"{destination} already exists: remove it to download it again")
    blobs = remote.blobs()
    if not blobs:
        raise CommandError(f"nothing is stored under {remote.prefix!r}: check the asset's path")
    places = {blob.name: _relative(blob, remote) for blob in blobs}
    staging = staging_folder(destination)
    staging.mkdir(parents=True, exist_ok=True)
    progress.total = sum(blob.size for blob in blobs)
    with ThreadPoolExecutor(PARALLEL) as pool:
        jobs = [
            pool.submit(_download_blob, remote, blob, staging / places[blob.name], progress)
            for blob in blobs
        ]
        moved = sum(job.result() for job in jobs)
    os.replace(staging, destination)
    return moved


def _relative(blob: Any, remote: Remote) -> str:
    """A blob's path below the prefix (a single blob: its own name); a CommandError for a
    name that would lead out of the download (`..`)."""
    name = str(blob.name)
    rest = name[len(remote.prefix) :].lstrip("/") or name.rsplit("/", 1)[-1]
    parts = PurePosixPath(rest).parts
    if not parts or ".." in parts or PurePosixPath(rest).is_absolute():
        raise CommandError(
            f"blob {name} leads out of the folder it is downloaded into: nothing is "
            "downloaded; rename the blob in its storage account"
        )
    return rest


def _download_blob(remote: Remote, blob: Any, target: Path, progress: Progress) -> int:
    """One blob into `target`: skipped if complete, continued from a partial file; verified
    by size and MD5 (when the service has one) before it takes its name. Bytes moved."""
    expected = blob.content_settings.content_md5 if blob.content_settings else None
    if target.is_file() and target.stat().st_size == blob.size and _matches(target, expected):
        progress.add(blob.size)
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + PARTIAL)
    offset = partial.stat().st_size if partial.exists() else 0
    if offset > blob.size:
        partial.unlink()
        offset = 0
    progress.add(offset)
    resumed_from = offset
    client = remote.container.get_blob_client(blob.name)
    with partial.open("ab") as file:
        while offset < blob.size:
            length = min(CHUNK, blob.size - offset)
            data = client.download_blob(offset=offset, length=length).readall()
            file.write(data)
            file.flush()
            offset += len(data)
            progress.add(len(data))
    if partial.stat().st_size != blob.size or not _matches(partial, expected):
        partial.unlink()
        raise CommandError(f"{blob.name} arrived damaged (size or MD5 differs): download it again")
    os.replace(partial, target)
    return int(blob.size) - resumed_from


def _md5(path: Path) -> bytes:
    digest = hashlib.md5()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(CHUNK), b""):
            digest.update(block)
    return digest.digest()


def _matches(path: Path, md5: bytes | bytearray | None) -> bool:
    return not md5 or _md5(path) == bytes(md5)


def upload(source: Path, remote: Remote, progress: Progress) -> None:
    """The file or folder `source` under `remote.prefix`, each blob with its MD5; a blob
    already there is never overwritten (the storage refuses, and so does the upload)."""
    files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
    progress.total = sum(path.stat().st_size for path in files)
    from azure.storage.blob import ContentSettings

    def send(path: Path) -> None:
        name = remote.prefix
        if path != source:
            name = f"{remote.prefix.rstrip('/')}/{path.relative_to(source).as_posix()}"
        settings = ContentSettings(content_md5=bytearray(_md5(path)))
        with path.open("rb") as data:
            remote.container.upload_blob(name, data, overwrite=False, content_settings=settings)
        progress.add(path.stat().st_size)

    with ThreadPoolExecutor(PARALLEL) as pool:
        for job in [pool.submit(send, path) for path in files]:
            job.result()


def remove(remote: Remote) -> None:
    """Delete the blobs `remote` holds (an upload that was not registered)."""
    for blob in remote.blobs():
        remote.container.delete_blob(blob.name)
