"""The run folder's environment/Dockerfile: docker/Dockerfile with the experiment's
`[tool.job-image]` written in, since Azure ML builds it without build arguments.

Rendering is deterministic: an experiment that declares nothing gets docker/Dockerfile
byte for byte, and the same declarations always give the same bytes, so an unchanged
environment keeps its build context's hash and Azure ML reuses its image.
"""

from scripts.console.errors import UsageError
from scripts.project.experiments import JOB_IMAGE_TABLE, JobImage

BASE_IMAGE_DEFAULT = "ARG BASE_IMAGE="  # the line whose default `base-image` replaces
JOB_STAGE = "FROM base AS job-runner"  # the line `system-packages` are installed after


def render_dockerfile(template: str, image: JobImage) -> str:
    """`template` (docker/Dockerfile) with `image` written in."""
    lines = template.splitlines(keepends=True)
    rendered = []
    for line in lines:
        if image.base_image and line.startswith(BASE_IMAGE_DEFAULT):
            ending = line[len(line.rstrip("\r\n")) :]
            line = f"{BASE_IMAGE_DEFAULT}{image.base_image}{ending}"
        rendered.append(line)
        if image.system_packages and line.rstrip() == JOB_STAGE:
            rendered.append(_apt_install(image.system_packages))
    for needed, declared in (
        (BASE_IMAGE_DEFAULT, image.base_image),
        (JOB_STAGE, image.system_packages),
    ):
        if declared and not any(line.startswith(needed) for line in lines):
            raise UsageError(
                f"docker/Dockerfile has no line starting {needed!r}, where [tool."
                f"{JOB_IMAGE_TABLE}] is written in: restore that line"
            )
    return "".join(rendered)


def _apt_install(packages: tuple[str, ...]) -> str:
    listed = " \\\n        ".join(packages)
    return (
        "RUN apt-get update \\\n"
        "    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\\n"
        f"        {listed} \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
    )
