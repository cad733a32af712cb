"""The job image's pure pieces: [tool.job-image] read from a member's pyproject.toml and
rendered into the build context's Dockerfile, the context's digest, and the `docker run`
command line of a job's process. Real images are built in tests/commands/test_docker.py."""

import re
from pathlib import Path

import pytest

from scripts.console.errors import UsageError
from scripts.containers.images import context_digest
from scripts.containers.jobs import JobContainer, Mount
from scripts.project.experiments import JobImage, read_package
from scripts.project.layout import Project
from scripts.runfolder.dockerfile import render_dockerfile
from tests.helpers import REPOSITORY, write

TEMPLATE = (REPOSITORY / "docker" / "Dockerfile").read_text()


def declared(tmp_path: Path, table: str) -> JobImage:
    member = tmp_path / "experiments" / "exp"
    write(member / "pyproject.toml", f'[project]\nname = "exp"\nversion = "0"\n{table}')
    return read_package(Project(tmp_path), member).image


def test_nothing_declared_renders_docker_dockerfile_byte_for_byte(tmp_path: Path) -> None:
    image = declared(tmp_path, "")

    assert image == JobImage()
    assert render_dockerfile(TEMPLATE, image) == TEMPLATE


def test_system_packages_are_installed_first_in_job_runner_sorted_once(tmp_path: Path) -> None:
    image = declared(
        tmp_path, '[tool.job-image]\nsystem-packages = ["libgomp1", "curl", "libgomp1"]\n'
    )

    rendered = render_dockerfile(TEMPLATE, image)

    job_runner = rendered.split("FROM base AS job-runner\n")[1]
    assert job_runner.startswith("RUN apt-get update")
    assert re.search(r"curl \\\n\s+libgomp1 \\\n", job_runner)
    assert rendered.count("apt-get install") == 1
    # Declared in another order: the same bytes (Azure ML reuses the image).
    again = declared(tmp_path, '[tool.job-image]\nsystem-packages = ["curl", "libgomp1"]\n')
    assert render_dockerfile(TEMPLATE, again) == rendered


def test_a_base_image_becomes_the_default_azure_ml_builds_with(tmp_path: Path) -> None:
    """Azure ML passes no build arguments: the declared image must be the ARG's default."""
    base = "mcr.microsoft.com/azureml/openmpi4.1.0-cuda11.8-cudnn8-ubuntu22.04:latest"
    image = declared(tmp_path, f'[tool.job-image]\nbase-image = "{base}"\n')

    rendered = render_dockerfile(TEMPLATE, image)

    assert f"ARG BASE_IMAGE={base}\n" in rendered
    assert "debian:bookworm-slim" not in rendered.split("ARG BASE_IMAGE=")[1].split("\n")[0]
    assert rendered.replace(base, "debian:bookworm-slim") == TEMPLATE


@pytest.mark.parametrize(
    "table",
    [
        '[tool.job-image]\nsystem-packages = ["libgomp1 && curl evil"]\n',
        '[tool.job-image]\nsystem-packages = "libgomp1"\n',
        '[tool.job-image]\nbase-image = "debian\\nRUN rm -rf /"\n',
        "[tool.job-image]\nbase-image = 3\n",
        '[tool]\njob-image = "libgomp1"\n',
    ],
)
def test_a_declaration_that_is_not_a_name_is_refused(tmp_path: Path, table: str) -> None:
    with pytest.raises(UsageError, match=r"\[tool\.job-image\]"):
        declared(tmp_path, table)


def test_an_edited_dockerfile_without_the_anchor_lines_is_refused() -> None:
    edited = TEMPLATE.replace("FROM base AS job-runner", "FROM base AS runner")

    with pytest.raises(UsageError, match="restore that line"):
        render_dockerfile(edited, JobImage(system_packages=("libgomp1",)))
    assert render_dockerfile(edited, JobImage()) == edited


def test_the_context_digest_follows_every_byte_and_name(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", "FROM scratch\n")
    write(tmp_path / "requirements.txt", "idna==3.10\n")
    first = context_digest(tmp_path, {})

    assert context_digest(tmp_path, {}) == first
    write(tmp_path / "requirements.txt", "idna==3.11\n")
    assert context_digest(tmp_path, {}) != first
    (tmp_path / "requirements.txt").rename(tmp_path / "other.txt")
    assert len({first, context_digest(tmp_path, {})}) == 2


def test_a_job_process_runs_at_the_same_paths_its_inputs_read_only(tmp_path: Path) -> None:
    container = JobContainer(
        image="azureml-job/exp:0123",
        name="just-local-exp-run",
        workdir=tmp_path / "run" / "code",
        mounts=(
            Mount(tmp_path / "runs", tmp_path / "runs", read_only=False),
            Mount(tmp_path / "in,put", tmp_path / "in,put", read_only=True),
        ),
        gpus="all",
    )

    argv = container.run_argv(1, ["SECRET_TOKEN", "RANK"], "python main.py")

    assert argv[:2] == ["docker", "run"]
    assert argv[argv.index("--network") : argv.index("--network") + 2] == ["--network", "host"]
    assert {"--rm", "--init"} <= set(argv)
    assert argv[argv.index("--name") + 1] == "just-local-exp-run-1"
    assert argv[argv.index("--workdir") + 1] == str(tmp_path / "run" / "code")
    mounts = [argv[i + 1] for i, word in enumerate(argv) if word == "--mount"]
    assert mounts[0] == f"type=bind,source={tmp_path}/runs,target={tmp_path}/runs"
    assert mounts[1] == (
        f'type=bind,"source={tmp_path}/in,put","target={tmp_path}/in,put",readonly'
    )
    assert argv[argv.index("--gpus") + 1] == "all"
    # Variables by name only: their values never appear on a command line.
    assert [argv[i + 1] for i, word in enumerate(argv) if word == "--env"][-2:] == [
        "RANK",
        "SECRET_TOKEN",
    ]
    assert argv[-4:] == ["azureml-job/exp:0123", "bash", "-c", "python main.py"]
