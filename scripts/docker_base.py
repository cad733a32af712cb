"""`just docker-base`: local base images for machines that reach no image registry."""

from collections.abc import Sequence

from scripts.console import report
from scripts.console.cli import ArgumentParser, run_cli
from scripts.containers.base_images import ensure_base_image, ensure_uv_image, record
from scripts.containers.engine import require_engine
from scripts.containers.images import BASE_SETTING, UV_SETTING
from scripts.project.layout import Project


def parser() -> ArgumentParser:
    return ArgumentParser(
        prog="just docker-base",
        description="Build, once, the two images docker/Dockerfile starts from, without a "
        "registry: a Debian base with the project's Python (debootstrap; root) and a uv image "
        f"holding the uv installed here. Records them in .env.local ({BASE_SETTING}, "
        f"{UV_SETTING}), so `just local --docker` and `just docker-build` build from them; "
        "Azure ML still builds from the public images. An image already built is reused.",
    )


def main(argv: Sequence[str], project: Project) -> int:
    parser().parse_args(argv)
    require_engine("just docker-base", "keep the public images (no .env.local entries)")
    uv, uv_built = ensure_uv_image()  # first: it checks the installed uv in an instant
    base, base_built = ensure_base_image(project)
    record(project, base, uv)
    for image, built in ((base, base_built), (uv, uv_built)):
        report.note(f"{image}: {'built now' if built else 'reused'}")
    report.note(f"recorded in .env.local: {BASE_SETTING}={base}, {UV_SETTING}={uv}")
    return 0


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
