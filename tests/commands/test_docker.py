"""Docker parity with a real engine: `just local --docker` running jobs in the image built
from their run folder's environment/ (as Azure ML builds it), `just docker-build`, and the
local base images of `just docker-base`.

No image registry is reachable here, so every build uses `just docker-base`'s images: a
Debian base made with debootstrap and the uv binary that runs these tests (.ci/run builds
them first; here they are built if missing, then reused by tag). Builds and containers use
the host network (no bridge). Without a Docker engine this module is skipped, except in CI,
where .ci/run starts one and its absence is a failure.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scripts import docker_build, local
from scripts.containers.base_images import ensure_base_image, ensure_uv_image, record
from scripts.project.layout import Project
from tests.helpers import REPOSITORY, Outcome, newest_folder, run, start_script, write

Cli = Callable[..., Outcome]
HAS_LIBGOMP = "ldconfig -p | grep -q libgomp.so.1"


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    return run(["docker", *args], REPOSITORY)


@pytest.fixture(scope="module")
def engine() -> None:
    if shutil.which("docker") and docker("info").returncode == 0:
        return
    if os.environ.get("CI"):
        pytest.fail("no Docker engine: .ci/run should have started dockerd")
    pytest.skip("no Docker engine on this machine")


@pytest.fixture(scope="module")
def base_images(engine: None, project: Path) -> tuple[str, str]:
    """`just docker-base`'s images (built once per machine: debootstrap takes minutes)."""
    return ensure_base_image(Project(project))[0], ensure_uv_image()[0]


@pytest.fixture
def docker_workspace(workspace: Path, base_images: tuple[str, str]) -> Path:
    """The tiny workspace, set to build from the local base images (.env.local)."""
    record(Project(workspace), *base_images)
    return workspace


@pytest.fixture(scope="module")
def docker_project(project: Path, base_images: tuple[str, str]) -> Path:
    record(Project(project), *base_images)
    return project


def manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "run.json").read_text())  # type: ignore[no-any-return]


def test_a_job_runs_in_its_image_with_inputs_read_only_and_outputs_written_back(
    docker_workspace: Path, cli: Cli
) -> None:
    alpha = docker_workspace / "experiments" / "alpha"
    write(alpha / "data" / "a.txt", "input text\n")
    write(
        alpha / "azure-ml-job.yaml",
        """
        type: command
        code: .
        command: >-
          cat ${{inputs.data}}/a.txt > outputs/seen.txt
          && echo "$GREETING" >> outputs/seen.txt
          && (touch ${{inputs.data}}/b.txt 2>/dev/null && echo writable || echo read-only)
          >> outputs/seen.txt
          && python -c "import alpha, shared, idna, sys; print(sys.prefix)" >> outputs/seen.txt
          && exit 3
        inputs:
          data:
            type: uri_folder
            path: data
        environment_variables:
          PYTHONPATH: src
          GREETING: hello from the job spec
        environment:
          build:
            path: environment
        """,
    )

    outcome = cli(local.main, docker_workspace, "alpha", "--docker")

    assert outcome.code == 3, outcome.err
    folder = newest_folder(docker_workspace)
    assert (folder / "code" / "outputs" / "seen.txt").read_text().splitlines() == [
        "input text",
        "hello from the job spec",
        "read-only",
        "/opt/venv",  # the image's environment, not one of this machine's
    ]
    assert not (alpha / "data" / "b.txt").exists()
    recorded = manifest(folder)
    assert recorded["status"] == "FAILED" and recorded["exit_code"] == 3
    assert str(recorded["docker_image"]).startswith("azureml-job/alpha:")
    assert docker("ps", "-aq", "--filter", f"name={folder.name}").stdout == ""  # removed


def test_an_unchanged_environment_reuses_its_image_a_changed_one_gets_a_new_one(
    docker_workspace: Path, cli: Cli
) -> None:
    first = cli(local.main, docker_workspace, "beta", "--docker", "--set", "command=true")
    again = cli(local.main, docker_workspace, "beta", "--docker", "--set", "command=true")
    image = manifest(newest_folder(docker_workspace))["docker_image"]
    without_idna = cli(
        local.main, docker_workspace, "beta", "--docker", "--set", "command=python -c 'import idna'"
    )
    pyproject = docker_workspace / "experiments" / "beta" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("['certifi']", "['certifi', 'idna']"))
    run(["uv", "lock", "--quiet"], docker_workspace, check=True)
    with_idna = cli(
        local.main, docker_workspace, "beta", "--docker", "--set", "command=python -c 'import idna'"
    )

    assert first.code == again.code == 0, first.err + again.err
    assert f"environment: image {image} (reused)" in again.err
    assert without_idna.code == 1 and "No module named 'idna'" in without_idna.err
    assert with_idna.code == 0, with_idna.err
    assert manifest(newest_folder(docker_workspace))["docker_image"] != image


def test_declared_system_packages_are_in_the_image_and_only_there(
    docker_workspace: Path, cli: Cli
) -> None:
    """libgomp1 (what LightGBM needs) is not in the Debian base: only a declaration adds it."""
    pyproject = docker_workspace / "experiments" / "alpha" / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '[tool.job-image]\nsystem-packages = ["libgomp1"]\n'
    )

    declared = cli(
        local.main, docker_workspace, "alpha", "--docker", "--set", f"command={HAS_LIBGOMP}"
    )
    undeclared = cli(
        local.main, docker_workspace, "beta", "--docker", "--set", f"command={HAS_LIBGOMP}"
    )

    assert declared.code == 0, declared.err
    assert undeclared.code == 1, undeclared.err


def test_a_failing_build_shows_its_step_and_leaves_no_run_folder(
    docker_workspace: Path, cli: Cli
) -> None:
    pyproject = docker_workspace / "experiments" / "alpha" / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '[tool.job-image]\nsystem-packages = ["no-such-package-x"]\n'
    )

    outcome = cli(local.main, docker_workspace, "alpha", "--docker")

    assert outcome.code == 1
    lines = outcome.err.strip().splitlines()
    failed = re.fullmatch(
        r"error: building image azureml-job/alpha:\w+ failed at (Step \d+/\d+): "
        r"see its last lines above",
        lines[-1],
    )
    assert failed, lines[-1]
    assert any(line.startswith(f"  {failed[1]} : RUN apt-get update") for line in lines)
    assert "  | E: Unable to locate package no-such-package-x" in lines  # its last lines
    assert not (docker_workspace / "runs" / "alpha").exists() or not any(
        (docker_workspace / "runs" / "alpha").iterdir()
    )


def test_sigterm_stops_the_container(docker_workspace: Path, cli: Cli) -> None:
    assert cli(local.main, docker_workspace, "beta", "--docker", "--set", "command=true").code == 0
    sleeper = "python -c 'import time; print(\"started\", flush=True); time.sleep(120)'"
    process = start_script(
        docker_workspace, "local", "beta", "--docker", "--set", f"command={sleeper}"
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "started"
    folder = newest_folder(docker_workspace)
    assert docker("ps", "-q", "--filter", f"name={folder.name}").stdout.strip()

    process.send_signal(signal.SIGTERM)

    assert process.wait(timeout=60) == 128 + signal.SIGTERM
    assert manifest(folder)["status"] == "KILLED"
    deadline = time.monotonic() + 10  # --rm: the engine removes it as it exits
    while (
        docker("ps", "-aq", "--filter", f"name={folder.name}").stdout
        and time.monotonic() < deadline
    ):
        time.sleep(0.2)
    assert docker("ps", "-aq", "--filter", f"name={folder.name}").stdout == ""


def test_the_example_logs_into_the_same_store_from_its_container(
    docker_project: Path, cli: Cli
) -> None:
    """The image holds the job's requirements only; the SQLite store's client packages are
    mounted in, as `just local` installs them into a local environment."""
    outcome = cli(
        local.main, docker_project, "example_experiment", "--docker", "--set", "inputs.epochs=2"
    )

    assert outcome.code == 0, outcome.err
    folder = newest_folder(docker_project)
    recorded = manifest(folder)
    assert recorded["tracking_store"] == str(docker_project / "runs" / "mlflow.db")
    assert {"test_accuracy", "test_f1_macro"} <= set(recorded["metrics"])
    assert (folder / "code" / "outputs" / "model.joblib").is_file()


def test_docker_build_makes_the_job_image_local_docker_reuses(
    docker_project: Path, cli: Cli
) -> None:
    built = cli(docker_build.main, docker_project, "job-runner", "example_experiment")
    image = built.out.strip()
    version = (REPOSITORY / ".python-version").read_text().strip()

    def inside(command: str) -> subprocess.CompletedProcess[str]:
        return docker("run", "--rm", "--network", "host", image, "bash", "-c", command)

    assert built.code == 0, built.err
    assert inside("python --version").stdout.startswith(f"Python {version}.")
    assert inside("python -c 'import sklearn, mlflow, azureml.mlflow'").returncode == 0
    # SQLAlchemy is what `just local` adds for its SQLite store: never in the image.
    assert "No module named 'sqlalchemy'" in inside("python -c 'import sqlalchemy'").stderr
    ran = cli(local.main, docker_project, "example_experiment", "--docker", "--set", "command=true")
    assert f"environment: image {image} (reused)" in ran.err


def test_the_devcontainer_stage_builds_and_syncs_the_workspace(
    docker_project: Path, cli: Cli
) -> None:
    """What VS Code builds (its features, git and the Azure CLI, come from ghcr.io, which
    is unreachable here): uv, the project's Python, and `just` once the workspace is synced
    (postCreateCommand). The host's uv cache spares the downloads."""
    built = cli(docker_build.main, docker_project, "devcontainer")
    cache = run(["uv", "cache", "dir"], REPOSITORY, check=True).stdout.strip()
    workspace = shutil.copytree(docker_project, docker_project.parent / "devcontainer-workspace")
    shutil.rmtree(workspace / "runs", ignore_errors=True)

    synced = docker(
        "run", "--rm", "--network", "host", "-v", f"{workspace}:/workspace", "-w", "/workspace",
        "-v", f"{cache}:/root/.cache/uv", built.out.strip(),
        "bash", "-c", "uv sync --frozen --quiet && .venv/bin/just --list",
    )  # fmt: skip

    assert built.code == 0, built.err
    assert synced.returncode == 0, synced.stderr
    assert "local *ARGS" in synced.stdout


def test_without_an_engine_docker_runs_stop_in_one_line(
    workspace: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{workspace}/no-engine.sock")

    outcome = cli(local.main, workspace, "alpha", "--docker")

    assert outcome.code == 2
    assert "just local --docker needs" in outcome.error_line
    assert outcome.error_line.endswith("or run without --docker")
    assert not (workspace / "runs" / "alpha").exists()
