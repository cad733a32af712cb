"""`just docker-build [devcontainer|job-runner] [EXP]`: the project's images, without VS Code."""

import tempfile
from collections.abc import Sequence
from pathlib import Path

from scripts.console import report
from scripts.console.cli import ArgumentParser, run_cli
from scripts.console.errors import UsageError
from scripts.containers.engine import require_engine
from scripts.containers.images import DEVCONTAINER, build_devcontainer, job_image
from scripts.project.experiments import experiment_names
from scripts.project.layout import Project
from scripts.runfolder.isolate import check_source, write_build_context
from scripts.runfolder.layout import ENVIRONMENT

JOB_RUNNER = "job-runner"


def parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="just docker-build",
        description="Build docker/Dockerfile's images and print their tags: `devcontainer` "
        "(the development environment .devcontainer/ builds), `job-runner EXP` or just `EXP` "
        "(EXP's job image, from the build context `just iso` writes: the image `just local "
        "--docker` then reuses), `job-runner` (every experiment's); nothing: all of them. "
        "Uses the local base images of `just docker-base` when .env.local names them.",
    )
    parser.add_argument(
        "what", nargs="*", metavar="[devcontainer|job-runner] [EXP]", help="what to build"
    )
    return parser


def main(argv: Sequence[str], project: Project) -> int:
    target, experiments = _chosen(parser().parse_args(argv).what, project)
    require_engine("just docker-build", "build on a machine with Docker")
    if target in (None, DEVCONTAINER):
        report.result(build_devcontainer(project))
    for experiment in experiments:
        report.result(_build_job_image(project, experiment))
    return 0


def _chosen(words: list[str], project: Project) -> tuple[str | None, list[str]]:
    """The target named (None: both) and the experiments whose job images to build."""
    target = words[0] if words and words[0] in (DEVCONTAINER, JOB_RUNNER) else None
    named = words[1:] if target else words
    if len(named) > 1 or (target == DEVCONTAINER and named):
        raise UsageError(
            f"give at most one experiment, after {JOB_RUNNER} or alone (see `just docker-build "
            "--help`)"
        )
    if target == DEVCONTAINER:
        return target, []
    return target or (JOB_RUNNER if named else None), named or experiment_names(project)


def _build_job_image(project: Project, experiment: str) -> str:
    source = check_source(project, experiment)
    with tempfile.TemporaryDirectory() as scratch:
        context = Path(scratch) / ENVIRONMENT
        write_build_context(context, source)
        image = job_image(project, context, experiment, source.image, None)
    if not image.built:
        report.note(f"{image.tag}: reused (its build context is unchanged)")
    return image.tag


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
