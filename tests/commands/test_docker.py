"""The job image: docker/Dockerfile built from a real run folder's environment/ with a real
Docker engine, as Azure ML builds it (no target: the last stage, job-runner).

Image registries are unreachable here, so both build arguments get local images: a Debian
base made with debootstrap, and the uv binary that runs these tests. Builds and containers
use the host network (no bridge). On a machine without a Docker engine this module is
skipped, except in CI, where .ci/run starts one and its absence is a failure.
"""

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.project.layout import Project
from scripts.runfolder.isolate import check_source, create_run_folder
from tests.helpers import REPOSITORY, run

BASE_IMAGE = "local/debian-python:bookworm"
UV_IMAGE = "local/uv:tests"
JOB_IMAGE = "local/job-runner:tests"


def docker(*args: str, cwd: Path = REPOSITORY) -> subprocess.CompletedProcess[str]:
    return run(["docker", *args], cwd)


@pytest.fixture(scope="module")
def engine() -> None:
    if shutil.which("docker") and docker("info").returncode == 0:
        return
    if os.environ.get("CI"):
        pytest.fail("no Docker engine: .ci/run should have started dockerd")
    pytest.skip("no Docker engine on this machine")


@pytest.fixture(scope="module")
def base_image(engine: None, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Debian bookworm with the Python of .python-version (built once, then reused)."""
    if docker("image", "inspect", BASE_IMAGE).returncode == 0:
        return BASE_IMAGE
    version = (REPOSITORY / ".python-version").read_text().strip()
    rootfs = tmp_path_factory.mktemp("rootfs")
    run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include=python{version},ca-certificates",
            "bookworm",
            str(rootfs),
        ],
        REPOSITORY,
        check=True,
    )
    # The host's CA bundle: package downloads may pass through a TLS-inspecting proxy.
    shutil.copyfile(
        "/etc/ssl/certs/ca-certificates.crt", rootfs / "etc/ssl/certs/ca-certificates.crt"
    )
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    subprocess.run(
        [
            "docker",
            "import",
            "--change",
            "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
            "-",
            BASE_IMAGE,
        ],
        stdin=tar.stdout,
        check=True,
        capture_output=True,
    )
    assert tar.wait() == 0
    return BASE_IMAGE


@pytest.fixture(scope="module")
def uv_image(engine: None, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An image with /uv and /uvx, like ghcr.io/astral-sh/uv, from the running uv."""
    context = tmp_path_factory.mktemp("uv-image")
    uv = Path(os.environ.get("UV") or shutil.which("uv") or "uv").resolve()
    for name in ("uv", "uvx"):
        shutil.copy2(uv.with_name(name), context / name)
    (context / "Dockerfile").write_text("FROM scratch\nCOPY uv uvx /\n")
    assert docker("build", "--network", "host", "-q", "-t", UV_IMAGE, str(context)).returncode == 0
    return UV_IMAGE


@pytest.fixture(scope="module")
def job_image(project: Path, base_image: str, uv_image: str) -> Iterator[tuple[str, Path]]:
    run_folder = create_run_folder(check_source(Project(project), "example_experiment"))
    build = docker(
        "build",
        "--network",
        "host",
        "--build-arg",
        f"BASE_IMAGE={base_image}",
        "--build-arg",
        f"UV_IMAGE={uv_image}",
        "-t",
        JOB_IMAGE,
        str(run_folder / "environment"),
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    yield JOB_IMAGE, run_folder
    docker("rmi", "-f", JOB_IMAGE)


def in_container(image: str, run_folder: Path, command: str) -> subprocess.CompletedProcess[str]:
    """The run folder's code root as the working directory, as in an Azure ML job."""
    return docker(
        "run", "--rm", "--network", "host", "-v", f"{run_folder / 'code'}:/job", "-w", "/job",
        "-e", "PYTHONPATH=src", image, "bash", "-c", command,
    )  # fmt: skip


def test_job_image_runs_the_python_of_python_version(job_image: tuple[str, Path]) -> None:
    version = (REPOSITORY / ".python-version").read_text().strip()
    result = in_container(*job_image, "python --version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Python {version}.")


def test_job_image_holds_the_experiments_requirements(job_image: tuple[str, Path]) -> None:
    result = in_container(*job_image, "python -c 'import example_experiment.main, shared'")
    assert result.returncode == 0, result.stderr


def test_job_image_holds_nothing_else(job_image: tuple[str, Path]) -> None:
    # SQLAlchemy is what `just local` adds for its SQLite store; the image must not have it.
    result = in_container(*job_image, "python -c 'import sqlalchemy'")
    assert result.returncode == 1
    assert "No module named 'sqlalchemy'" in result.stderr
