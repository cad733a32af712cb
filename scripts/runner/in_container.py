"""`just local --docker`: the job's container, made of the image Azure ML would build from
the run folder's environment/, with this machine's paths mounted where the job expects them.

Mounted at their own paths: runs/ (the run folder, whose code/ is the working directory,
and the MLflow store with its artifacts, so the job logs into the same run as without
Docker) and each local input, read-only as Azure ML mounts them. The job image holds the
job's requirements only; what `just local` adds for the SQLite store (SQLAlchemy, Alembic)
is mounted into its site-packages, read-only, as it is installed into a local environment.
"""

from dataclasses import dataclass
from pathlib import Path

from scripts.console.errors import UsageError
from scripts.containers.images import Image, job_image
from scripts.containers.jobs import JobContainer, Mount
from scripts.project.experiments import JobImage
from scripts.project.layout import Project
from scripts.runfolder.layout import CODE, DOCKER_BUILD_LOG, ENVIRONMENT
from scripts.runner.environments import REQUIREMENTS_FILE, ensure_image_packages

_NOT_MOUNTED = {REQUIREMENTS_FILE, "bin"}  # of the local-tracking packages' folder


@dataclass(frozen=True)
class Docker:
    """What `--docker` asks for."""

    gpus: str | None = None


def job_container(
    project: Project,
    folder: Path,
    request: Docker,
    declared: JobImage,
    inputs: list[Path],
    extra: str,
    experiment: str,
) -> tuple[JobContainer, Image]:
    """The container of run folder `folder`'s job (a pipeline step's folder too), and its
    image (built now or reused; `experiment`'s, whose [tool.job-image] is `declared`);
    `inputs` are the local inputs' paths, `extra` the local-tracking packages to add."""
    image = job_image(
        project, folder / ENVIRONMENT, experiment, declared, folder / DOCKER_BUILD_LOG
    )
    mounts = [Mount(project.runs, project.runs, read_only=False)]
    mounts += [Mount(path, path, read_only=True) for path in inputs]
    if extra:
        mounts += _added_packages(ensure_image_packages(project, extra), image, project)
    container = JobContainer(
        image=image.tag,
        name=f"just-local-{'-'.join(folder.relative_to(project.runs).parts)}",
        workdir=folder / CODE,
        mounts=tuple(mounts),
        gpus=request.gpus,
    )
    return container, image


def _added_packages(packages: Path, image: Image, project: Project) -> list[Mount]:
    """Each package in `packages`, mounted into the site-packages of the image's venv."""
    venv = image.environment.get("VIRTUAL_ENV")
    if not venv:
        raise UsageError(
            f"image {image.tag} sets no VIRTUAL_ENV: docker/Dockerfile's job-runner stage must "
            "keep its `ENV VIRTUAL_ENV=...`"
        )
    site_packages = Path(venv) / "lib" / f"python{project.python_minor_version()}" / "site-packages"
    return [
        Mount(entry, site_packages / entry.name, read_only=True)
        for entry in sorted(packages.iterdir())
        if entry.name not in _NOT_MOUNTED
    ]
