"""Fixtures: real projects in temporary folders (see tests/helpers.py), and `cli`, which runs
a command in-process against one of them. Tests that need a Docker engine or Azurite are
marked `docker` or `azurite` from the fixtures they use, as are those sharing the example's
end-to-end run (`slow`; other slow tests are marked by hand), so `just test --fast` leaves
them out; the run ends with what each test module cost."""

import os
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient

from scripts import bench
from scripts.bench import AZURITE_ACCOUNT, AZURITE_KEY
from scripts.console.cli import exit_code
from scripts.project.layout import Project
from tests.helpers import (
    REPOSITORY,
    Outcome,
    add_job,
    add_member,
    copy_repository,
    git_commit_all,
    local_index,
    run,
    write,
)

Main = Callable[[Sequence[str], Project], int]
# A fixture that makes a test need a service or seconds, and the marker that says so.
FIXTURE_MARKERS = {
    "engine": "docker",
    "azurite": "azurite",
    "team_server": "slow",  # `mlflow server` on PostgreSQL: seconds to start
    "example_run": "slow",  # the example run end to end
    "store": "slow",  # the project's store, made by a run of the example if need be
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, marker in FIXTURE_MARKERS.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(marker)


_MODULE_SECONDS: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    module = report.nodeid.split("::")[0]
    _MODULE_SECONDS[module] = _MODULE_SECONDS.get(module, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """What each test module cost (set-up and tear-down included), the costliest first."""
    if not _MODULE_SECONDS:
        return
    terminalreporter.section("seconds per test module")
    for module, seconds in sorted(_MODULE_SECONDS.items(), key=lambda item: -item[1]):
        terminalreporter.write_line(f"{seconds:7.1f}  {module}")


@pytest.fixture(scope="session")
def locked_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """alpha -> shared -> six, alpha -> idna; beta -> certifi. Locked once per session."""
    root = tmp_path_factory.mktemp("workspace-template")
    for name in ("scripts", "docker", ".python-version"):
        source = REPOSITORY / name
        copy = shutil.copytree if source.is_dir() else shutil.copy2
        copy(source, root / name)
    shutil.rmtree(root / "scripts" / "__pycache__", ignore_errors=True)
    write(
        root / "pyproject.toml",
        """
        [tool.uv.workspace]
        members = ["experiments/*", "shared"]
        [dependency-groups]
        local-debug = ["debugpy>=1.8,<2"]
        """,
    )
    add_member(root, "shared", "shared", ["six"])
    write(root / "shared" / "src" / "shared" / "__init__.py", "GREETING = 'hello from shared'\n")
    alpha = add_member(root, "experiments/alpha", "alpha", ["shared", "idna"])
    add_job(alpha, "python -c 'import alpha, shared, idna; print(shared.GREETING)'")
    beta = add_member(root, "experiments/beta", "beta", ["certifi"])
    add_job(beta, "python -c 'import certifi'")
    write(root / ".gitignore", "runs/\ndata/\n.venv/\n")
    run(["uv", "lock", "--quiet"], root, check=True)
    # An MLflow store with its schema, as the first run makes it (MLflow's migrations take
    # seconds): each copy adds its own experiments, artifacts in its own runs/.
    MlflowClient(f"sqlite:///{root / 'runs' / 'mlflow.db'}").search_experiments()
    return root


@pytest.fixture
def workspace(locked_workspace: Path, tmp_path: Path) -> Path:
    """A fresh copy of the locked workspace, committed to git, for one test to change."""
    root = tmp_path / "workspace"
    shutil.copytree(locked_workspace, root, symlinks=True)
    git_commit_all(root)
    return root


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed copy of this repository: its experiments, scripts and lock."""
    return copy_repository(tmp_path_factory.mktemp("project") / "repo")


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    """A committed copy of this repository for one test to change."""
    return copy_repository(tmp_path / "repo")


@pytest.fixture(scope="session")
def package_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of an index on 127.0.0.1 holding `localpkg`, which no other index has."""
    with local_index(tmp_path_factory.mktemp("package-index")) as url:
        yield url


@pytest.fixture
def cli(capfd: pytest.CaptureFixture[str]) -> Callable[..., Outcome]:
    """`cli(module.main, root, *args)`: the command, in this process, on the project at
    `root`, as `run_cli` runs it (failures become one line); its code, stdout and stderr
    (file-descriptor level, so a job's own output is in them too)."""

    def call(main: Main, root: Path, *args: str) -> Outcome:
        capfd.readouterr()
        code = exit_code(lambda: main(list(args), Project(root)))
        out, err = capfd.readouterr()
        return Outcome(code, out, err)

    return call


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Azurite's Blob service on 127.0.0.1 and a free port (bench's launcher); its URL."""
    binary = shutil.which("azurite-blob")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("azurite-blob is not installed: .ci/run installs it with npm")
        pytest.skip("azurite-blob is not installed (npm install -g azurite)")
    with bench.azurite(binary, tmp_path_factory.mktemp("azurite")) as url:
        yield url


@pytest.fixture
def container(azurite: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A new Blob container in Azurite for one test (azure.storage.blob's ContainerClient)."""
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient(
        azurite, credential={"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY}
    )
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:60].strip("-")
    client = service.create_container(name)
    yield client
    client.delete_container()
