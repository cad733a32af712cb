"""Where a run is tracked: the local store (runs/mlflow.db, or a run's own), or a team's
MLflow tracking server. Both do the few things the runner needs around a job: create its
run, log its inputs, attach its files, end it, read its latest metrics and its metric
histories, and hand the job the variables its own MLflow reads.

A server is spoken to over MLflow's REST API with the standard library: each call is one
HTTP request (milliseconds), where `import mlflow` alone would add seconds to every run.
Its URI may carry credentials (`https://user:password@host`, or MLFLOW_TRACKING_USERNAME /
PASSWORD / TOKEN beside it): the job gets them, and nothing recorded ever does (`where`).
"""

import base64
import json
import os
import re
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

from scripts.console.errors import StoreError
from scripts.project.git import strip_credentials
from scripts.project.layout import Project
from scripts.tracking import store as sqlite
from scripts.tracking.project_store import (
    TRACKING_URI_VARIABLE,
    ensure_experiment,
    tracking_variables,
)
from scripts.tracking.store import Ended, TrackedRun

if TYPE_CHECKING:
    import ssl
    from urllib.error import HTTPError

REQUEST_TIMEOUT_SECONDS = 10.0
# What MLflow reads besides the URI to reach a server: the login (secrets, masked in any
# message) and how TLS is checked; the runner uses them, and passes them on to the job.
TOKEN_VARIABLE = "MLFLOW_TRACKING_TOKEN"
SECRET_VARIABLES = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", TOKEN_VARIABLE)
INSECURE_TLS_VARIABLE = "MLFLOW_TRACKING_INSECURE_TLS"  # "true": certificates not checked
CA_BUNDLE_VARIABLE = "MLFLOW_TRACKING_SERVER_CERT_PATH"  # the server's CA, a file
CREDENTIAL_VARIABLES = (*SECRET_VARIABLES, INSECURE_TLS_VARIABLE, CA_BUNDLE_VARIABLE)
_BATCH = 100  # MLflow's limit of params (and tags) per log-batch request
_ARTIFACTS_SCHEME = "mlflow-artifacts:"
AZUREML_SCHEME = "azureml"  # a workspace's tracking URI: its REST API is https


@dataclass(frozen=True)
class LocalStore:
    """An MLflow SQLite store and the folder of its artifacts."""

    path: Path
    artifacts: Path
    remote = False

    @property
    def where(self) -> str:
        return str(self.path)

    def ensure_experiment(self, name: str) -> None:
        ensure_experiment(self.path, self.artifacts, name)

    def create_run(
        self, experiment: str, run_id: str, run_name: str, tags: dict[str, str]
    ) -> TrackedRun:
        return sqlite.create_run(self.path, experiment, run_id, run_name, tags)

    def record_params(self, run_id: str, params: dict[str, str]) -> None:
        sqlite.record_params(self.path, run_id, params)

    def record_metrics(self, run_id: str, metrics: dict[str, float], seconds: float) -> None:
        sqlite.record_metrics(self.path, run_id, metrics, seconds)

    def record_tags(self, run_id: str, tags: dict[str, str]) -> None:
        sqlite.record_tags(self.path, run_id, tags)

    def finish_run(self, run_id: str, status: str, end_seconds: float) -> None:
        sqlite.finish_run(self.path, run_id, status, end_seconds)

    def ended_run(self, run_id: str) -> Ended | None:
        return sqlite.ended_run(self.path, run_id)

    def latest_metrics(self, run_id: str) -> dict[str, float]:
        return sqlite.latest_metrics(self.path, run_id)

    def metric_histories(self, run_ids: list[str], key: str) -> dict[str, list[float]]:
        return sqlite.metric_histories(self.path, run_ids, key)

    def attach_artifacts(self, run: TrackedRun, folder: Path, name: str) -> bool:
        return sqlite.attach_artifacts(run, folder, name)

    def job_variables(self, experiment: str, run_id: str) -> dict[str, str]:
        return tracking_variables(self.path, experiment, run_id)


@dataclass(frozen=True)
class TeamServer:
    """An MLflow tracking server at `uri` (http or https, credentials allowed), with the
    CREDENTIAL_VARIABLES set beside it, and the local store a run goes on in when the
    server stops answering."""

    uri: str
    fallback: LocalStore
    credentials: dict[str, str] = field(default_factory=dict)
    job_uri: str = ""  # the URI the job's MLflow is given, when not `uri` (azureml://)
    remote = True

    @property
    def where(self) -> str:
        """The server as recorded and shown: no user, password or query."""
        return shown_uri(self.job_uri or self.uri)

    def ensure_experiment(self, name: str) -> None:
        self.experiment_id(name)

    def experiment_id(self, name: str) -> str:
        """Experiment `name`'s id, the experiment created if the server has none."""
        found = self._call("GET", "experiments/get-by-name", {"experiment_name": name}, absent=True)
        if found is not None:
            return str(found["experiment"]["experiment_id"])
        try:
            return str(self._call("POST", "experiments/create", {"name": name})["experiment_id"])
        except StoreError:  # made meanwhile by another run
            found = self._call("GET", "experiments/get-by-name", {"experiment_name": name})
            return str(found["experiment"]["experiment_id"])

    def create_run(
        self, experiment: str, run_id: str, run_name: str, tags: dict[str, str]
    ) -> TrackedRun:
        """A new RUNNING run; the server gives it its id (`run_id` is the tooling's only)."""
        body = {
            "experiment_id": self.experiment_id(experiment),
            "run_name": run_name,
            "start_time": int(time.time() * 1000),
            "tags": _pairs(tags),
        }
        info = self._call("POST", "runs/create", body)["run"]["info"]
        return TrackedRun(str(info["run_id"]), str(info["artifact_uri"]))

    def record_params(self, run_id: str, params: dict[str, str]) -> None:
        """`params`, but none the job logged itself (MLflow refuses to change one)."""
        logged = {p["key"] for p in self._run(run_id)["data"].get("params", [])}
        new = {k: v[: sqlite.MAX_PARAM_LENGTH] for k, v in params.items() if k not in logged}
        for chunk in _chunks(_pairs(new)):
            self._call("POST", "runs/log-batch", {"run_id": run_id, "params": chunk})

    def record_metrics(self, run_id: str, metrics: dict[str, float], seconds: float) -> None:
        moment = int(seconds * 1000)
        values = [
            {"key": k, "value": v, "timestamp": moment, "step": 0} for k, v in metrics.items()
        ]
        for chunk in _chunks(values):
            self._call("POST", "runs/log-batch", {"run_id": run_id, "metrics": chunk})

    def record_tags(self, run_id: str, tags: dict[str, str]) -> None:
        shortened = {k: v[: sqlite.MAX_TAG_LENGTH] for k, v in tags.items()}
        for chunk in _chunks(_pairs(shortened)):
            self._call("POST", "runs/log-batch", {"run_id": run_id, "tags": chunk})

    def finish_run(self, run_id: str, status: str, end_seconds: float) -> None:
        body = {"run_id": run_id, "status": status, "end_time": int(end_seconds * 1000)}
        self._call("POST", "runs/update", body)

    def ended_run(self, run_id: str) -> Ended | None:
        info = self._run(run_id)["info"]
        if info.get("status") not in ("FINISHED", "FAILED", "KILLED") or not info.get("end_time"):
            return None
        return Ended(info["status"], int(info["end_time"]) / 1000)

    def latest_metrics(self, run_id: str) -> dict[str, float]:
        metrics = self._run(run_id)["data"].get("metrics", [])
        return {m["key"]: float(m["value"]) for m in sorted(metrics, key=lambda m: m["key"])}

    def metric_histories(self, run_ids: list[str], key: str) -> dict[str, list[float]]:
        """Each run's values of `key` in MLflow's order (step, then time), NaN left out."""
        histories: dict[str, list[float]] = {}
        for run_id in run_ids:
            points: list[dict[str, Any]] = []
            token = ""
            while True:
                query = {"run_id": run_id, "metric_key": key, "max_results": "25000"}
                page = self._call("GET", "metrics/get-history", query | {"page_token": token})
                points += page.get("metrics", [])
                token = page.get("next_page_token", "")
                if not token:
                    break
            ordered = sorted(points, key=lambda p: (int(p.get("step", 0)), int(p["timestamp"])))
            values = [float(p["value"]) for p in ordered]
            histories[run_id] = [value for value in values if value == value]
        return histories

    def attach_artifacts(self, run: TrackedRun, folder: Path, name: str) -> bool:
        """Upload `folder` as the run's artifacts `name/`, through the server's proxied
        artifact store; False when the server does not proxy artifacts (its artifact
        URI names a store the client would have to write itself)."""
        if not run.artifact_uri.startswith(_ARTIFACTS_SCHEME):
            return False
        root = run.artifact_uri[len(_ARTIFACTS_SCHEME) :].lstrip("/")
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
            relative = path.relative_to(folder).as_posix()
            target = quote(f"{root}/{name}/{relative}")
            url = f"{self._base}/api/2.0/mlflow-artifacts/artifacts/{target}"
            try:
                self._request("PUT", url, path.read_bytes())
            except _Refused as refused:
                raise StoreError(self._said(f"refused {name}/{relative} ({refused})")) from None
        return True

    def job_variables(self, experiment: str, run_id: str) -> dict[str, str]:
        """What the job's MLflow reads: the server's URI without its user and password,
        which go in MLflow's own variables instead (MLflow prints the URI it logs to)."""
        parts = urlsplit(self.uri)
        from_uri = {
            "MLFLOW_TRACKING_USERNAME": urllib.parse.unquote(parts.username or ""),
            "MLFLOW_TRACKING_PASSWORD": urllib.parse.unquote(parts.password or ""),
        }
        return {
            TRACKING_URI_VARIABLE: self.job_uri or self._base,
            "MLFLOW_EXPERIMENT_NAME": experiment,
            "MLFLOW_RUN_ID": run_id,
            **{name: value for name, value in from_uri.items() if value},
            **self.credentials,
        }

    def check(self) -> None:
        """A StoreError unless the server answers a call of its API (with the login: one
        that expired counts as no answer)."""
        self._call("GET", "experiments/search", {"max_results": "1"})

    @property
    def _base(self) -> str:
        """The server's URI without credentials, where its API's paths go."""
        return shown_uri(self.uri).rstrip("/")

    def _run(self, run_id: str) -> dict[str, Any]:
        run: dict[str, Any] = self._call("GET", "runs/get", {"run_id": run_id})["run"]
        return run

    def _call(self, method: str, endpoint: str, body: dict[str, Any], absent: bool = False) -> Any:
        """One call of MLflow's REST API; None for a RESOURCE_DOES_NOT_EXIST when `absent`
        allows it; a StoreError for anything else that is not an answer."""
        url = f"{self._base}/api/2.0/mlflow/{endpoint}"
        if method == "GET":
            url += "?" + urllib.parse.urlencode(body)
            data = None
        else:
            data = json.dumps(body).encode()
        try:
            return json.loads(self._request(method, url, data) or b"{}")
        except _Refused as refused:
            if absent and refused.code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise StoreError(self._said(f"refused {endpoint} ({refused})")) from None

    def _request(self, method: str, url: str, data: bytes | None) -> bytes:
        import urllib.error  # with http.client: milliseconds every local run would pay
        import urllib.request

        request = urllib.request.Request(url, data=data, method=method, headers=self._headers())
        try:
            with urllib.request.urlopen(
                request, timeout=REQUEST_TIMEOUT_SECONDS, context=self._tls()
            ) as answer:
                body: bytes = answer.read()
                return body
        except urllib.error.HTTPError as error:
            raise _Refused.of(error) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise StoreError(self._said(f"did not answer ({reason})")) from None

    def _tls(self) -> "ssl.SSLContext | None":
        """How the server's certificate is checked, as MLflow's client does it."""
        import ssl

        if self.credentials.get(INSECURE_TLS_VARIABLE, "").lower() == "true":
            unchecked = ssl.create_default_context()  # asked for by name
            unchecked.check_hostname, unchecked.verify_mode = False, ssl.CERT_NONE
            return unchecked
        if self.credentials.get(CA_BUNDLE_VARIABLE):
            return ssl.create_default_context(cafile=self.credentials[CA_BUNDLE_VARIABLE])
        return None

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        parts = urlsplit(self.uri)
        user = parts.username or self.credentials.get("MLFLOW_TRACKING_USERNAME")
        password = parts.password or self.credentials.get("MLFLOW_TRACKING_PASSWORD")
        token = self.credentials.get(TOKEN_VARIABLE)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        elif user:
            pair = f"{urllib.parse.unquote(user)}:{urllib.parse.unquote(password or '')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        return headers

    def _said(self, what: str) -> str:
        text = f"the MLflow tracking server {self.where} {what}"
        for name in SECRET_VARIABLES:
            if self.credentials.get(name):
                text = text.replace(self.credentials[name], "***")
        return redacted(text, self.uri)


Tracker = LocalStore | TeamServer


def shown_uri(uri: str) -> str:
    """A tracking URI fit to show or record: without a user, password or query (where
    tokens go)."""
    parts = urlsplit(uri)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def redacted(text: str, uri: str) -> str:
    """`text` (an error's) without the secrets `uri` holds (its password, user and query)
    nor those of any URL in it."""
    text = strip_credentials(text)
    parts = urlsplit(uri)
    for secret in (parts.password, parts.username, parts.query):
        if secret:
            text = text.replace(secret, "***")
    return text


class _Refused(Exception):
    """The server's answer was an error: its MLflow error code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}"[:200])
        self.code = code

    @classmethod
    def of(cls, error: "HTTPError") -> "_Refused":
        try:
            answer = json.loads(error.read() or b"{}")
        except ValueError:
            answer = {}
        return cls(error.code, str(answer.get("error_code", "")), str(answer.get("message", "")))


def _pairs(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in values.items()]


def _chunks(items: list[Any]) -> list[list[Any]]:
    return [items[i : i + _BATCH] for i in range(0, len(items), _BATCH)]


def tracking_setting(project: Project, name: str) -> str:
    """An MLflow setting: given on the command line, else in the environment, else in the
    project's .env files; "" when unset. The files are parsed only if they give it a value
    (every local run asks, and python-dotenv's import costs milliseconds)."""
    overrides = dict(project.overrides)
    if name in overrides:
        return overrides[name]
    if os.environ.get(name):
        return os.environ[name]
    given = re.compile(rf"^\s*(export\s+)?{name}\s*=\s*[^\s#]", re.MULTILINE)
    files = [path for path in project.settings_files if path.is_file()]
    if not any(given.search(path.read_text(errors="replace")) for path in files):
        return ""
    return project.settings.get(name, "")


def team_server(project: Project) -> TeamServer | None:
    """The tracking server MLFLOW_TRACKING_URI names (see tracking_setting), if any."""
    return server_at(project, tracking_setting(project, TRACKING_URI_VARIABLE))


def server_at(project: Project, uri: str) -> TeamServer | None:
    """The tracking server at `uri`, if it is an MLflow server's http(s) URI or an Azure ML
    workspace's (azureml://, spoken to over https with the MLFLOW_TRACKING_TOKEN beside it,
    as Azure ML's own jobs are); None otherwise. Its local store is the project's."""
    scheme = urlsplit(uri).scheme
    if scheme not in ("http", "https", AZUREML_SCHEME):
        return None
    credentials = {
        name: value for name in CREDENTIAL_VARIABLES if (value := tracking_setting(project, name))
    }
    fallback = LocalStore(project.store, project.artifacts)
    if scheme == AZUREML_SCHEME:
        rest = urlunsplit(("https", *urlsplit(uri)[1:]))
        return TeamServer(rest, fallback, credentials, job_uri=uri)
    return TeamServer(uri, fallback, credentials)
