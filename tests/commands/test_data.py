"""Data transfers with the real azure-storage-blob client against Azurite, the Azure Storage
emulator (npm package `azurite`), on 127.0.0.1: upload, download, resume after a download
killed mid-way, integrity, and a destination that appears only when complete."""

import base64
import hashlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError

from scripts import bench, data_download, data_list, data_register
from scripts.bench import AZURITE_ACCOUNT, AZURITE_KEY
from scripts.cloud.data_assets import BlobLocation
from scripts.cloud.transfers import (
    PARTIAL,
    Progress,
    Remote,
    download,
    shown_progress,
    staging_folder,
    upload,
)
from scripts.console.errors import CommandError
from tests.fake_azure import FakeClient, FakeData, FakeDatastores, http_error
from tests.helpers import REPOSITORY, Outcome, write


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
download(Remote(client, "big", is_file=True), Path(destination), Progress())
"""


def test_a_killed_download_resumes_and_is_never_taken_for_complete(
    azurite: str, container: Any, tmp_path: Path
) -> None:
    size = 64 * 1024 * 1024
    source = tmp_path / "big"
    source.write_bytes(os.urandom(size))
    upload(source, Remote(container, "big", is_file=True), Progress())
    destination = tmp_path / "data" / "big" / "1"
    partial = staging_folder(destination) / f"big{PARTIAL}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            DOWNLOADER,
            azurite,
            container.container_name,
            AZURITE_ACCOUNT,
            AZURITE_KEY,
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
    moved = download(Remote(container, "big", is_file=True), destination, Progress())

    assert moved == size - arrived
    assert (destination / "big").read_bytes() == source.read_bytes()


def test_a_download_takes_its_folder_or_its_file_and_nothing_beside(
    container: Any, tmp_path: Path
) -> None:
    """A prefix is not a folder: version 1 of an asset is not versions 10-19, and the file
    table.csv is not table.csv.bak."""
    for name in ("assets/digits/1/a.csv", "assets/digits/10/b.csv", "assets/digits/1.bak"):
        container.upload_blob(name, name.encode())
    for name in ("tables/table.csv", "tables/table.csv.bak"):
        container.upload_blob(name, name.encode())

    download(Remote(container, "assets/digits/1"), tmp_path / "folder", Progress())
    download(Remote(container, "tables/table.csv", is_file=True), tmp_path / "file", Progress())

    assert sorted(p.name for p in (tmp_path / "folder").rglob("*")) == ["a.csv"]
    assert sorted(p.name for p in (tmp_path / "file").rglob("*")) == ["table.csv"]


def test_a_blob_name_leading_out_of_the_download_is_refused(container: Any, tmp_path: Path) -> None:
    """Blob Storage takes a backslash for a slash: `x/..\\y` is stored as `x/../y`."""
    container.upload_blob("assets/x/a.csv", b"a")
    container.upload_blob("assets/x/..\\escaped.txt", b"b")
    destination = tmp_path / "data" / "x" / "1"

    with pytest.raises(CommandError, match=r"assets/x/\.\./escaped\.txt leads out of"):
        download(Remote(container, "assets/x"), destination, Progress())

    assert not destination.exists()
    assert not list(tmp_path.rglob("escaped.txt"))


def storage_refusal(azurite: str, container: Any, refusal: str) -> Any:
    """A container client the storage refuses, for real: a wrong key (403), a container
    that is not there (404), nothing listening (the network)."""
    from azure.storage.blob import ContainerClient

    key = {"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY}
    if refusal == "403":
        another_key = base64.b64encode(b"not the account's key" * 3).decode()
        wrong = {"account_name": AZURITE_ACCOUNT, "account_key": another_key}
        return ContainerClient(azurite, container.container_name, credential=wrong)
    if refusal == "404":
        return ContainerClient(azurite, "not-there", credential=key)
    closed = f"http://127.0.0.1:{bench.free_port()}/{AZURITE_ACCOUNT}"
    return ContainerClient(closed, container.container_name, credential=key, retry_total=0)


@pytest.mark.parametrize(
    ("refusal", "says"),
    [
        ("403", "the storage account refused access (403"),
        ("404", "not found in the storage account (404"),
        ("network", "the download stopped: run the same command again"),
    ],
)
def test_a_storage_refusal_says_what_it_was(
    azurite: str, container: Any, tmp_path: Path, refusal: str, says: str
) -> None:
    client = storage_refusal(azurite, container, refusal)

    with (
        pytest.raises(CommandError) as raised,
        shown_progress("the download stopped: run the same command again") as progress,
    ):
        download(Remote(client, "assets/x"), tmp_path / "x", progress)

    assert says in str(raised.value)
    if refusal != "network":
        assert "run the same command again" not in str(raised.value)


def test_damaged_data_is_refused(container: Any, tmp_path: Path) -> None:
    from azure.storage.blob import ContentSettings

    blob = container.upload_blob("table.csv", b"a,b\n1,2\n")
    blob.set_http_headers(ContentSettings(content_md5=bytearray(16)))  # not its content's
    destination = tmp_path / "data" / "table" / "1"

    with pytest.raises(CommandError, match="arrived damaged"):
        download(Remote(container, "table.csv", is_file=True), destination, Progress())

    assert not destination.exists()
    assert not list(staging_folder(destination).rglob(f"*{PARTIAL}"))


@pytest.fixture
def configured(tmp_path: Path) -> Path:
    """A project folder with workspace settings (the client is faked: nothing reaches Azure)."""
    write(
        tmp_path / ".env.local",
        "AZUREML_SUBSCRIPTION_ID=0\nAZUREML_RESOURCE_GROUP=rg\nAZUREML_WORKSPACE=ws\n",
    )
    return tmp_path


def test_data_download_puts_the_asset_where_just_local_finds_it(
    configured: Path, container: Any, cli: Callable[..., Outcome], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The MLClient is a fake (its data and datastores operations), injected; the bytes come
    through the real azure-storage-blob client from Azurite. What is not pointed at Azurite:
    the account URL made from the datastore (https://ACCOUNT.blob.ENDPOINT; Azurite puts
    the account in the path), so the container client is swapped after it is checked."""
    upload_folder = configured / "upload"
    write(upload_folder / "train.csv", "a\n1\n")
    upload(upload_folder, Remote(container, "LocalUpload/abc/digits"), Progress())
    path = (
        "azureml://subscriptions/0/resourcegroups/rg/workspaces/ws/datastores/"
        "workspaceblobstore/paths/LocalUpload/abc/digits"
    )
    for name in ("LocalUpload/def/table.csv", "LocalUpload/def/table.csv.bak"):
        container.upload_blob(name, name.encode())
    table = "azureml://datastores/workspaceblobstore/paths/LocalUpload/def/table.csv"
    datastores = FakeDatastores(container.container_name)
    assets = FakeData(
        {("digits", "3"): path, ("digits", "12"): path, ("table", "1"): table},
        kinds={("table", "1"): "uri_file"},
    )
    client = FakeClient(data=assets, datastores=datastores)
    locations: list[BlobLocation] = []

    def to_azurite(location: BlobLocation) -> Any:
        locations.append(location)
        return container

    monkeypatch.setattr(data_download, "ml_client", lambda workspace: client)
    monkeypatch.setattr(data_download, "container_client", to_azurite)

    latest = cli(data_download.main, configured, "digits@latest")
    again = cli(data_download.main, configured, "digits:12")
    missing = cli(data_download.main, configured, "digits:4")
    one_file = cli(data_download.main, configured, "table:1")

    assert latest.code == 0, latest.err
    assert latest.out.strip() == "data/digits/12"
    assert (configured / "data" / "digits" / "12" / "train.csv").read_text() == "a\n1\n"
    assert datastores.looked_up == [("workspaceblobstore", True)] * 2  # digits:12, table:1
    location = locations[0]
    assert location.account_url == "https://examplestorage.blob.core.windows.net"
    assert (location.prefix, location.credential) == ("LocalUpload/abc/digits", "a-datastore-key")
    assert (again.code, again.err.strip()) == (0, "data/digits/12 is already here")
    assert missing.code == 2
    assert missing.error_line.startswith("data asset digits:4 not found in workspace 'ws'")
    assert one_file.code == 0, one_file.err
    assert [p.name for p in (configured / "data" / "table" / "1").iterdir()] == ["table.csv"]


def test_data_list_shows_the_workspaces_assets_and_what_is_here(
    configured: Path, cli: Callable[..., Outcome], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The MLClient is a fake (its data operations), injected."""
    path = "azureml://datastores/workspaceblobstore/paths/x"
    assets = FakeData({("digits", "3"): path, ("digits", "12"): path, ("iris", "1"): path})
    monkeypatch.setattr(data_list, "ml_client", lambda workspace: FakeClient(data=assets))
    write(configured / "data" / "digits" / "3" / "train.csv", "a\n" * 500_000)
    write(configured / "data" / "digits" / "12" / "train.csv", "a\n")
    write(configured / "data" / "digits" / ".downloading-13" / "train.csv.partial", "a\n")

    registered = cli(data_list.main, configured)
    versions = cli(data_list.main, configured, "digits")
    local = cli(data_list.main, configured, "--local")

    assert registered.out.splitlines() == [
        "asset   latest  created",
        "digits  12      2026-11-20T10:00:00",
        "iris    1       2026-11-20T10:00:00",
    ]
    assert [line.split()[:2] for line in versions.out.splitlines()] == [
        ["version", "type"],
        ["3", "uri_folder"],
        ["12", "uri_folder"],
    ]
    assert local.out.splitlines() == [
        "asset   version  size",
        "digits  3        1.0 MB",
        "digits  12       0.0 MB",
        "digits  13       0.0 MB (download unfinished)",
    ]


def test_data_register_uploads_then_registers_and_never_overwrites(
    configured: Path, container: Any, cli: Callable[..., Outcome], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The MLClient is a fake (data, datastores), injected; the upload goes through the real
    azure-storage-blob client into Azurite, the container swapped in as for downloads."""
    assets = FakeData({("digits", "3"): "azureml://datastores/workspaceblobstore/paths/old"})
    client = FakeClient(data=assets, datastores=FakeDatastores(container.container_name))
    monkeypatch.setattr(data_register, "ml_client", lambda workspace: client)
    monkeypatch.setattr(data_register, "container_client", lambda location: container)
    folder = write(configured / "prepared" / "train.csv", "a\n1\n").parent

    outcome = cli(data_register.main, configured, str(folder), "--name", "digits")
    refused = cli(data_register.main, configured, str(folder), "--name", "digits", "--version", "3")

    assert outcome.code == 0, outcome.err
    assert outcome.out.strip() == "azureml:digits:4"  # the next version
    (blob,) = container.list_blobs()
    upload_folder = blob.name.removesuffix("/train.csv")
    assert re.fullmatch(r"just-data-register/digits/4/[0-9T]+-[a-z0-9]{6}", upload_folder)
    assert bytes(blob.content_settings.content_md5) == hashlib.md5(b"a\n1\n").digest()
    (registered,) = assets.registered
    assert (registered.name, registered.version, registered.type) == ("digits", "4", "uri_folder")
    assert registered.path == f"azureml://datastores/workspaceblobstore/paths/{upload_folder}"
    assert refused.code == 2
    assert refused.error_line.startswith("digits:3 is already registered")
    assert len(list(container.list_blobs())) == 1  # nothing uploaded for it

    spec = write(
        configured / "digits.yml",
        """
        $schema: https://azuremlschemas.azureedge.net/latest/data.schema.json
        name: digits
        version: "5"
        type: uri_folder
        description: digits, cleaned
        path: ./prepared
        """,
    )
    from_spec = cli(data_register.main, configured, str(spec))
    assert (from_spec.code, from_spec.out.strip()) == (0, "azureml:digits:5")
    assert assets.registered[-1].description == "digits, cleaned"


def test_two_registrations_of_one_version_never_write_over_each_other(
    configured: Path, container: Any, cli: Callable[..., Outcome], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both see version 4 free; the other one registers it first. The fake refuses the
    existing version, as the service does; the other one's bytes stay as they were, and
    this upload is removed."""
    theirs = "just-data-register/digits/4/theirs/train.csv"
    container.upload_blob(theirs, b"their data\n")

    class Raced(FakeData):
        def get(self, name: str, version: str | None = None, label: str | None = None) -> Any:
            from azure.core.exceptions import ResourceNotFoundError

            raise ResourceNotFoundError("not yet")  # as it was when this one checked

    path = f"azureml://datastores/workspaceblobstore/paths/{theirs.removesuffix('/train.csv')}"
    assets = Raced({("digits", "4"): path})
    client = FakeClient(data=assets, datastores=FakeDatastores(container.container_name))
    monkeypatch.setattr(data_register, "ml_client", lambda workspace: client)
    monkeypatch.setattr(data_register, "container_client", lambda location: container)
    folder = write(configured / "prepared" / "train.csv", "my data\n").parent

    outcome = cli(data_register.main, configured, str(folder), "--name", "digits", "--version", "4")

    assert outcome.code == 1
    assert (
        outcome.err.strip()
        .splitlines()[-1]
        .startswith(
            "error: digits:4 was registered meanwhile, by another registration: nothing is "
            "registered and this upload is removed"
        )
    )
    assert [blob.name for blob in container.list_blobs()] == [theirs]
    assert container.download_blob(theirs).readall() == b"their data\n"
    assert assets.registered == []


@pytest.mark.parametrize(
    ("error", "advice"),
    [
        (ClientAuthenticationError("no token"), "not logged in to Azure: run `az login`"),
        (ServiceRequestError("connection refused"), "check the network connection"),
        (http_error(403, "Forbidden"), "no permission in workspace 'ws'"),
    ],
)
def test_azures_refusals_are_one_line(
    configured: Path,
    cli: Callable[..., Outcome],
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    advice: str,
) -> None:
    """The MLClient is a fake whose data operations raise what azure-core raises."""

    class Refusing(FakeData):
        def get(self, name: str, version: str | None = None, label: str | None = None) -> Any:
            raise error

        def list(self, name: str | None = None) -> list[Any]:
            raise error

    client = FakeClient(data=Refusing({}))
    for command in (data_download, data_list):
        monkeypatch.setattr(command, "ml_client", lambda workspace: client)

    for outcome in (
        cli(data_download.main, configured, "digits:1"),
        cli(data_list.main, configured),
    ):
        assert outcome.code == 1
        assert advice in outcome.error_line
