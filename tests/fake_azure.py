"""A fake standing in for the one object that talks to Azure: MLClient (its `jobs`, `data`
and `datastores`).

Everything else is real: tests inject it where the command gets its client
(`scripts.aml.ml_client`) or pass it to `scripts.cloud.submission.submit`. It records
what would have been sent, including the git details azure-ai-ml's own code would add.
"""

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from azure.ai.ml.operations._job_ops_helper import get_git_properties


@dataclass
class FakeJobs:
    """Stands in for MLClient.jobs."""

    raises: BaseException | None = None
    final_status: str = "Completed"
    created: list[Any] = field(default_factory=list)
    git_properties: list[dict[str, str]] = field(default_factory=list)
    streamed: list[str] = field(default_factory=list)

    def create_or_update(self, job: Any) -> Any:
        if self.raises:
            raise self.raises
        self.created.append(job)
        # What azure-ai-ml adds to the job's properties when it submits (its own code).
        self.git_properties.append(get_git_properties())
        return SimpleNamespace(name=job.name, studio_url=f"https://ml.azure.com/runs/{job.name}")

    def stream(self, name: str) -> None:
        self.streamed.append(name)

    def get(self, name: str) -> Any:
        return SimpleNamespace(name=name, status=self.final_status)


@dataclass
class FakeData:
    """Stands in for MLClient.data: registered assets, (name, version) -> path, of type
    uri_folder unless `kinds` says otherwise."""

    assets: dict[tuple[str, str], str]
    kinds: dict[tuple[str, str], str] = field(default_factory=dict)
    registered: list[Any] = field(default_factory=list)

    def create_or_update(self, data: Any) -> Any:
        """Registers a new version; an existing one is refused, as the service refuses it."""
        from azure.core.exceptions import ResourceExistsError

        if (data.name, str(data.version)) in self.assets:
            error = ResourceExistsError(f"data asset {data.name}:{data.version} already exists")
            error.status_code = 409
            raise error
        self.registered.append(data)
        self.assets[(data.name, str(data.version))] = data.path
        return data

    def get(self, name: str, version: str | None = None, label: str | None = None) -> Any:
        from azure.core.exceptions import ResourceNotFoundError

        if label == "latest":
            versions = [v for n, v in self.assets if n == name]
            version = max(versions, key=int) if versions else None
        path = self.assets.get((name, version or ""))
        if path is None:
            raise ResourceNotFoundError(f"data asset {name} not found")
        kind = self.kinds.get((name, version or ""), "uri_folder")
        return SimpleNamespace(name=name, version=version, path=path, type=kind)

    def list(self, name: str | None = None) -> list[Any]:
        """The assets (name, latest version), or the versions of `name`, as the SDK lists."""
        created = SimpleNamespace(created_at="2026-11-20T10:00:00.000000+00:00")
        if name:
            versions = sorted((v for n, v in self.assets if n == name), key=int)
            return [
                SimpleNamespace(name=name, version=v, type="uri_folder", creation_context=created)
                for v in versions
            ]
        names = sorted({n for n, _ in self.assets})
        return [
            SimpleNamespace(
                name=n,
                latest_version=max((v for m, v in self.assets if m == n), key=int),
                creation_context=created,
            )
            for n in names
        ]


@dataclass
class FakeDatastores:
    """Stands in for MLClient.datastores: every name is a Blob datastore with a key."""

    container: str
    looked_up: list[tuple[str, bool]] = field(default_factory=list)

    def get_default(self) -> Any:
        return SimpleNamespace(name="workspaceblobstore")

    def get(self, name: str, include_secrets: bool = False) -> Any:
        self.looked_up.append((name, include_secrets))
        return SimpleNamespace(
            name=name,
            protocol="https",
            account_name="examplestorage",
            endpoint="core.windows.net",
            container_name=self.container,
            credentials=SimpleNamespace(account_key="a-datastore-key"),
        )


@dataclass
class FakeClient:
    jobs: FakeJobs = field(default_factory=FakeJobs)
    data: FakeData | None = None
    datastores: FakeDatastores | None = None


def http_error(status: int, message: str) -> Any:
    """What azure-core raises for an HTTP status from Azure."""
    from azure.core.exceptions import HttpResponseError

    error = HttpResponseError(message=message)
    error.status_code = status
    return error
