"""A fake standing in for the one object that talks to Azure: MLClient (its `jobs`, `data`,
`datastores` and `workspaces`).

Everything else is real: tests inject it where the command gets its client
(`scripts.aml.ml_client`, or the AzureML of `scripts.cloud.workspace.connect`) or pass it to
`scripts.cloud.submission.submit`. It records what would have been sent, including the
git details azure-ai-ml's own code would add, and keeps what it was sent as the service
does: a job goes to the REST body azure-ai-ml makes of it and comes back through the SDK's
own reading of that body (`Job._from_rest_object`); child jobs come back as the service
lists them (run-history Runs read by the SDK); an unknown job name is refused as the
service refuses it (ResourceNotFoundError).
"""

import copy
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from azure.ai.ml.operations._job_ops_helper import get_git_properties


@dataclass
class Child:
    """A child job as the service lists it: a pipeline's step, a sweep's trial."""

    name: str
    display_name: str
    status: str = "Completed"
    properties: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeJobs:
    """Stands in for MLClient.jobs. A submitted job is kept as its REST body, its status
    `final_status`; `finish` plays the service's part (the job's status, properties, child
    jobs); `statuses` are the statuses `get` reports, one per call, before the job's own."""

    raises: BaseException | None = None
    final_status: str = "Completed"
    created: list[Any] = field(default_factory=list)
    git_properties: list[dict[str, str]] = field(default_factory=list)
    streamed: list[str] = field(default_factory=list)
    bodies: dict[str, Any] = field(default_factory=dict)
    children: dict[str, list[Child]] = field(default_factory=dict)
    statuses: dict[str, list[str]] = field(default_factory=dict)

    def create_or_update(self, job: Any) -> Any:
        if self.raises:
            raise self.raises
        self.created.append(job)
        # What azure-ai-ml adds to the job's properties when it submits (its own code).
        self.git_properties.append(get_git_properties())
        node = job._to_job() if hasattr(job, "_to_job") else job  # a command: as submitted
        body = node._to_rest_object()
        body.name = job.name
        body.properties.status = self.final_status  # as `--stream` finds it at the end
        self.bodies[job.name] = body
        return SimpleNamespace(name=job.name, studio_url=studio_url(job.name))

    def finish(
        self,
        name: str,
        status: str = "Completed",
        properties: dict[str, str] | None = None,
        children: list[Child] | None = None,
    ) -> None:
        """What the service records of job `name` once it ran."""
        body = self.bodies[name]
        body.properties.status = status
        body.properties.properties = {**(body.properties.properties or {}), **(properties or {})}
        self.children[name] = children or []

    def stream(self, name: str) -> None:
        self.streamed.append(name)

    def get(self, name: str) -> Any:
        """The job as the SDK reads the service's answer: a submitted job from its REST body,
        a child job from run history (as azure-ai-ml's jobs.get does for a pipeline's step)."""
        from azure.ai.ml.entities import Job
        from azure.ai.ml.entities._job.job_service import JobService

        child = self._child(name)
        if child is not None:
            return Job._from_rest_object(_run_history(child))
        if name not in self.bodies:
            raise _not_found(name)
        body = copy.deepcopy(self.bodies[name])
        pending = self.statuses.get(name)
        if pending:
            body.properties.status = pending.pop(0)
        body.properties.services = {
            "Studio": JobService(endpoint=studio_url(name))._to_rest_object()
        }
        return Job._from_rest_object(body)

    def list(self, parent_job_name: str | None = None) -> list[Any]:
        """The child jobs of `parent_job_name`, from run history; the SDK asks for the
        parent first, so an unknown parent is refused as `get` refuses it."""
        from azure.ai.ml.entities import Job

        assert parent_job_name, "the tooling lists child jobs only"
        self.get(parent_job_name)
        return [
            Job._from_rest_object(_run_history(child))
            for child in self.children.get(parent_job_name, [])
        ]

    def _child(self, name: str) -> Child | None:
        found = (c for children in self.children.values() for c in children if c.name == name)
        return next(found, None)


def _run_history(child: Child) -> Any:
    """A child job as run history returns it (the REST model azure-ai-ml reads)."""
    from azure.ai.ml._restclient.runhistory.models import Compute, Run

    return Run(
        run_id=child.name,
        display_name=child.display_name,
        status=child.status,
        experiment_id="00000000-0000-0000-0000-000000000001",
        properties=child.properties,
        tags={},
        compute=Compute(target="cpu-cluster"),
    )


def studio_url(name: str) -> str:
    return f"https://ml.azure.com/runs/{name}"


def _not_found(name: str) -> Exception:
    from azure.core.exceptions import ResourceNotFoundError

    error = ResourceNotFoundError(f"(UserError) Job {name} not found")
    error.status_code = 404
    return error


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
class FakeWorkspaces:
    """Stands in for MLClient.workspaces: the workspace's MLflow is `tracking_uri` (in
    tests, a real MLflow server on 127.0.0.1)."""

    tracking_uri: str

    def get(self, name: str) -> Any:
        return SimpleNamespace(name=name, mlflow_tracking_uri=self.tracking_uri)


@dataclass
class FakeClient:
    jobs: FakeJobs = field(default_factory=FakeJobs)
    data: FakeData | None = None
    datastores: FakeDatastores | None = None
    workspaces: FakeWorkspaces | None = None


def http_error(status: int, message: str) -> Any:
    """What azure-core raises for an HTTP status from Azure."""
    from azure.core.exceptions import HttpResponseError

    error = HttpResponseError(message=message)
    error.status_code = status
    return error
