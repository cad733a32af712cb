"""Data transfers with the real azure-storage-blob client against Azurite, the Azure Storage
emulator (npm package `azurite`), on 127.0.0.1: upload, download, resume after a download
killed mid-way, integrity, and a destination that appears only when complete."""

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.cloud.transfers import PARTIAL, Progress, Remote, download, staging_folder, upload
from scripts.console.errors import CommandError
from tests.helpers import REPOSITORY, write

# Azurite's documented development account (public, for the emulator only).
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Azurite's Blob service on 127.0.0.1 and a free port; its account URL."""
    binary = shutil.which("azurite-blob")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("azurite-blob is not installed: .ci/run installs it with npm")
        pytest.skip("azurite-blob is not installed (npm install -g azurite)")
    port = free_port()
    server = subprocess.Popen(
        [binary, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence",
         "--skipApiVersionCheck", "--silent"],
        cwd=tmp_path_factory.mktemp("azurite"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        for _ in range(400):
            assert server.poll() is None, f"azurite-blob did not start: {server.communicate()[1]}"
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/{ACCOUNT}"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def container(azurite: str, request: pytest.FixtureRequest) -> Any:
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient(azurite, credential={"account_name": ACCOUNT, "account_key": KEY})
    name = request.node.name.lower().replace("_", "-")[:60].strip("-")
    client = service.create_container(name)
    yield client
    client.delete_container()


def test_a_folder_goes_up_and_comes_back_whole(container: Any, tmp_path: Path) -> None:
    source = tmp_path / "digits"
    write(source / "train.csv", "a,b\n1,2\n")
    write(source / "nested" / "test.csv", "a,b\n3,4\n")
    (source / "big.bin").write_bytes(os.urandom(9 * 1024 * 1024))  # more than one chunk
    destination = tmp_path / "data" / "digits" / "1"

    upload(source, Remote(container, "assets/digits/1"), Progress())
    moved = download(Remote(container, "assets/digits/1"), destination, Progress())

    assert moved == sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
    for path in source.rglob("*"):
        if path.is_file():
            assert (destination / path.relative_to(source)).read_bytes() == path.read_bytes()
    assert not staging_folder(destination).exists()
    with pytest.raises(CommandError, match="already exists: remove it to download it again"):
        download(Remote(container, "assets/digits/1"), destination, Progress())


DOWNLOADER = """
import sys
from pathlib import Path
from azure.storage.blob import ContainerClient
from scripts.cloud import transfers
from scripts.cloud.transfers import Progress, Remote, download
transfers.CHUNK = 256 * 1024  # many small requests: slow enough to be killed mid-way
url, container, account, key, destination = sys.argv[1:]
client = ContainerClient(url, container, credential={"account_name": account, "account_key": key})
download(Remote(client, "big"), Path(destination), Progress())
"""


def test_a_killed_download_resumes_and_is_never_taken_for_complete(
    azurite: str, container: Any, tmp_path: Path
) -> None:
    size = 64 * 1024 * 1024
    source = tmp_path / "big"
    source.write_bytes(os.urandom(size))
    upload(source, Remote(container, "big"), Progress())
    destination = tmp_path / "data" / "big" / "1"
    partial = staging_folder(destination) / f"big{PARTIAL}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            DOWNLOADER,
            azurite,
            container.container_name,
            ACCOUNT,
            KEY,
            str(destination),
        ],
        cwd=REPOSITORY,
    )
    for _ in range(600):  # until part of it has arrived
        if partial.exists() and partial.stat().st_size >= 8 * 1024 * 1024:
            break
        time.sleep(0.01)
    process.kill()
    process.wait()

    assert not destination.exists()  # only the staging folder, with the partial file
    arrived = partial.stat().st_size
    assert 0 < arrived < size
    moved = download(Remote(container, "big"), destination, Progress())

    assert moved == size - arrived
    assert (destination / "big").read_bytes() == source.read_bytes()


def test_damaged_data_is_refused(container: Any, tmp_path: Path) -> None:
    from azure.storage.blob import ContentSettings

    blob = container.upload_blob("table.csv", b"a,b\n1,2\n")
    blob.set_http_headers(ContentSettings(content_md5=bytearray(16)))  # not its content's
    destination = tmp_path / "data" / "table" / "1"

    with pytest.raises(CommandError, match="arrived damaged"):
        download(Remote(container, "table.csv"), destination, Progress())

    assert not destination.exists()
    assert not list(staging_folder(destination).rglob(f"*{PARTIAL}"))
