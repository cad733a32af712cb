"""Images built from a Docker build context, with the build's progress shown; a job's
image tagged by the hash of what goes into it, so an unchanged one is never built twice."""

import contextlib
import hashlib
import json
import re
import subprocess
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from scripts.console import report
from scripts.console.errors import CommandError, UsageError
from scripts.containers.engine import DOCKER, docker
from scripts.project.experiments import JobImage
from scripts.project.layout import Project

JOB_IMAGES = "azureml-job"  # repository of job images: azureml-job/EXPERIMENT:DIGEST
DEVCONTAINER = "devcontainer"  # docker/Dockerfile's development stage
# Settings (.env.local, written by `just docker-base`) naming local images that replace
# docker/Dockerfile's public defaults, and the build arguments they are passed as.
BASE_SETTING = "DOCKER_BASE_IMAGE"
UV_SETTING = "DOCKER_UV_IMAGE"
_BUILD_ARGUMENTS = {BASE_SETTING: "BASE_IMAGE", UV_SETTING: "UV_IMAGE"}
# A build step as the classic builder ("Step 3/9 : RUN ...") and BuildKit ("#7 [job-runner
# 2/3] RUN ...") print it.
_STEP = re.compile(r"(Step \d+/\d+) : |(#\d+ \[[^\]]+\]) ")
_ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # the classic builder colours RUN's stderr
_TAIL_LINES = 20  # of a failed build's output, shown with the failing step


@dataclass(frozen=True)
class Image:
    tag: str
    built: bool  # now, or found and reused
    environment: dict[str, str]  # its ENV


def job_image(
    project: Project, context: Path, experiment: str, declared: JobImage, log: Path | None
) -> Image:
    """The image of build context `context` (a run folder's environment/, built as Azure ML
    builds it: its Dockerfile's last stage, from the local base images the settings name
    but where the experiment `declared` its own), built now unless an image of the same
    context and build arguments exists; the build's output in `log`."""
    build_args = _build_arguments(project, declared)
    tag = f"{JOB_IMAGES}/{repository_name(experiment)}:{context_digest(context, build_args)}"
    found = image_environment(tag)
    if found is not None:
        return Image(tag, False, found)
    build(context, tag, build_args, log)
    built = image_environment(tag)
    if built is None:
        raise CommandError(f"docker build reported success, but there is no image {tag}")
    return Image(tag, True, built)


def build_devcontainer(project: Project) -> str:
    """docker/Dockerfile's devcontainer stage, built from the repository root as
    .devcontainer/devcontainer.json builds it; its tag."""
    tag = f"{repository_name(project.root.name)}-{DEVCONTAINER}"
    build_args = _build_arguments(project, JobImage())
    build(project.root, tag, build_args, None, target=DEVCONTAINER, dockerfile=project.dockerfile)
    return tag


def _build_arguments(project: Project, declared: JobImage) -> dict[str, str]:
    """The local images the settings name, as build arguments; BASE_IMAGE not for an
    experiment that `declared` its own base image."""
    return {
        argument: project.settings[setting]
        for setting, argument in _BUILD_ARGUMENTS.items()
        if setting in project.settings and not (declared.base_image and argument == "BASE_IMAGE")
    }


def context_digest(context: Path, build_args: dict[str, str]) -> str:
    """A hash of every file in `context` (names and bytes) and of the images the build
    arguments name (their IDs: a rebuilt base image makes a new job image)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        digest.update(f"{path.relative_to(context).as_posix()}\0".encode())
        digest.update(path.read_bytes() + b"\0")
    identities = {name: _set_image_id(image) for name, image in sorted(build_args.items())}
    digest.update(json.dumps(identities, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def image_environment(tag: str) -> dict[str, str] | None:
    """The ENV of image `tag`, or None when there is no such image here."""
    found = docker("image", "inspect", "--format", "{{json .Config.Env}}", tag)
    if found.returncode != 0:
        return None
    pairs = (entry.partition("=") for entry in json.loads(found.stdout) or [])
    return {name: value for name, _, value in pairs}


def build(
    context: Path,
    tag: str,
    build_args: dict[str, str],
    log: Path | None,
    target: str | None = None,
    dockerfile: Path | None = None,
) -> None:
    """`docker build` on the host network; each step shown as it starts, everything in `log`.
    A failure is a CommandError naming the failing step, after its last lines."""
    argv = [DOCKER, "build", "--network", "host", "--tag", tag]
    for name, value in sorted(build_args.items()):
        argv += ["--build-arg", f"{name}={value}"]
    if target:
        argv += ["--target", target]
    if dockerfile:
        argv += ["--file", str(dockerfile)]
    report.note(f"building image {tag} (docker build {context}) ...")
    with contextlib.ExitStack() as stack:
        if log:
            log.parent.mkdir(parents=True, exist_ok=True)
        output = stack.enter_context(log.open("w")) if log else None
        process = subprocess.Popen(
            [*argv, str(context)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        stack.callback(_stopped, process)
        step, since_step = "its start", deque[str](maxlen=_TAIL_LINES)
        assert process.stdout is not None
        for line in process.stdout:
            if output:
                output.write(line)
            started = _STEP.match(line)
            if started:
                step = started[1] or started[2]
                since_step.clear()
                report.note(f"  {line.strip()}")
            else:
                since_step.append(_ANSI_COLOUR.sub("", line.rstrip()))
        code = process.wait()
    if code != 0:
        for line in since_step:
            report.note(f"  | {line}")
        raise CommandError(f"building image {tag} failed at {step}: see its last lines above")


def _stopped(process: "subprocess.Popen[str]") -> None:
    """The build, stopped if it still runs (Ctrl-C, an error here): the engine cancels it."""
    if process.poll() is None:
        process.terminate()
        process.wait()


def missing_base_images(project: Project) -> list[str]:
    """The images docker/Dockerfile starts from (the settings' local ones, else its
    defaults) that are not on this machine."""
    defaults = dict(re.findall(r"^ARG (\w+)=(\S+)$", project.dockerfile.read_text(), re.MULTILINE))
    wanted = {argument: defaults.get(argument) for argument in _BUILD_ARGUMENTS.values()}
    wanted |= _build_arguments(project, JobImage())
    return sorted(image for image in wanted.values() if image and image_id(image) is None)


def image_id(image: str) -> str | None:
    """The ID of `image`, or None when there is no such image here."""
    found = docker("image", "inspect", "--format", "{{.Id}}", image)
    return found.stdout.strip() if found.returncode == 0 else None


def _set_image_id(image: str) -> str:
    """The ID of an image the settings name; a UsageError when it is not here."""
    found = image_id(image)
    if found is None:
        raise UsageError(
            f"image {image} (from .env.local) is not on this machine: run `just docker-base`, "
            "or remove it from .env.local to use the public images"
        )
    return found


def repository_name(name: str) -> str:
    """`name` as Docker allows a repository path component: lower case, separators inside."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "experiment"
