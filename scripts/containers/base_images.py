"""Local stand-ins for docker/Dockerfile's two public images, for machines that reach no
image registry: a Debian base made with debootstrap (with the project's Python, so uv
downloads none) and a uv image holding the uv installed here. `just docker-base` builds
them and records them in .env.local; every local build then passes them as build
arguments (Azure ML, which reaches the registries, builds with the defaults)."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from scripts.console import report
from scripts.console.errors import CommandError, UsageError
from scripts.containers.engine import DOCKER
from scripts.containers.images import BASE_SETTING, UV_SETTING, build, image_id
from scripts.project.layout import Project
from scripts.project.uv import uv_binary

DEBIAN_RELEASE = "bookworm"  # docker/Dockerfile's default base is debian:bookworm-slim
# A TLS-inspecting proxy's root, when the host trusts one, must be trusted inside too.
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def base_image_tag(project: Project) -> str:
    return f"local/debian-python{project.python_minor_version()}:{DEBIAN_RELEASE}"


def uv_image_tag() -> str:
    """local/uv:VERSION, the version the installed uv reports."""
    try:
        reported = subprocess.run(
            [uv_binary(), "--version"], capture_output=True, text=True, check=False
        ).stdout.split()
    except OSError as error:
        raise UsageError(f"uv cannot be run ({error.strerror}): reinstall it") from None
    if len(reported) < 2 or reported[0] != "uv":
        raise UsageError(f"`{uv_binary()} --version` does not report a uv version: reinstall uv")
    return f"local/uv:{reported[1]}"


def ensure_base_image(project: Project) -> tuple[str, bool]:
    """The local Debian base image, and whether it was built now (it takes minutes: once)."""
    tag = base_image_tag(project)
    if image_id(tag) is not None:
        return tag, False
    if shutil.which("debootstrap") is None:
        raise UsageError(
            "just docker-base needs debootstrap: install it (apt-get install debootstrap)"
        )
    if os.geteuid() != 0:
        raise UsageError("debootstrap needs root: run `sudo uv run just docker-base`")
    project.runs.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=project.runs, prefix=".docker-base-") as scratch:
        rootfs = Path(scratch) / "rootfs"
        _debootstrap(rootfs, f"python{project.python_minor_version()}")
        if HOST_CA_BUNDLE.is_file():
            shutil.copyfile(HOST_CA_BUNDLE, rootfs / HOST_CA_BUNDLE.relative_to("/"))
        _import(rootfs, tag)
    return tag, True


def ensure_uv_image() -> tuple[str, bool]:
    """An image with /uv and /uvx (as ghcr.io/astral-sh/uv has them) from the installed
    uv, and whether it was built now."""
    tag = uv_image_tag()
    if image_id(tag) is not None:
        return tag, False
    uv = Path(uv_binary()).resolve()
    with tempfile.TemporaryDirectory() as context:
        for name in ("uv", "uvx"):
            _check_linux_executable(uv.with_name(name))
            shutil.copy2(uv.with_name(name), Path(context) / name)
        (Path(context) / "Dockerfile").write_text("FROM scratch\nCOPY uv uvx /\n")
        build(Path(context), tag, {}, None)
    return tag, True


def record(project: Project, base: str, uv: str) -> None:
    """The images as the project's settings, in .env.local (other lines kept)."""
    from dotenv import set_key

    local = project.settings_files[-1]
    set_key(local, BASE_SETTING, base, quote_mode="never")
    set_key(local, UV_SETTING, uv, quote_mode="never")


def _check_linux_executable(path: Path) -> None:
    """A UsageError unless `path` is a Linux executable: a version manager's shim (a
    script) or macOS's uv would not run in the image."""
    try:
        with path.open("rb") as file:
            linux = file.read(4) == b"\x7fELF"
    except OSError:
        raise UsageError(f"{path} is missing: reinstall uv") from None
    if not linux:
        raise UsageError(
            f"{path} is not a Linux executable (a shim, or a build for another system): run "
            "`UV=/path/to/linux/uv just docker-base` with the uv binary itself"
        )


def _debootstrap(rootfs: Path, python: str) -> None:
    """A minimal Debian with `python` and CA certificates; its progress shown."""
    argv = [
        "debootstrap", "--variant=minbase", f"--include={python},ca-certificates",
        DEBIAN_RELEASE, str(rootfs),
    ]  # fmt: skip
    report.note(f"debootstrap {DEBIAN_RELEASE} with {python} (a few minutes, once) ...")
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    last = ""
    try:
        assert process.stdout is not None
        for line in process.stdout:
            last = line.strip() or last
            report.progress(f"  {last[:100]}")
    finally:
        if process.poll() is None:
            process.terminate()
        code = process.wait()
        report.progress_done()
    if code != 0:
        raise CommandError(f"debootstrap failed: {last} (is {python} in Debian {DEBIAN_RELEASE}?)")


def _import(rootfs: Path, tag: str) -> None:
    """`rootfs` as image `tag`, trusting the CA bundle in it (uv reads SSL_CERT_FILE)."""
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    imported = subprocess.run(
        [DOCKER, "import", "--change", f"ENV SSL_CERT_FILE={HOST_CA_BUNDLE}", "-", tag],
        stdin=tar.stdout,
        capture_output=True,
        text=True,
        check=False,
    )
    if tar.wait() != 0 or imported.returncode != 0:
        raise CommandError(f"docker import of the Debian base failed: {imported.stderr.strip()}")
