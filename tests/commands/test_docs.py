"""`just docs` on a copy of this repository: built strictly, a broken link is one line and
leaves the site as it was, `--serve` serves the generated pages on 127.0.0.1 until stopped,
and a fresh tooling environment gets the group the docs need when they first need it."""

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from scripts import docs
from scripts.console.cli import free_port
from tests.helpers import Outcome, run, start_script


def test_a_broken_link_fails_the_build_in_one_line_and_keeps_the_site_built_before(
    fresh: Path, cli: Callable[..., Outcome]
) -> None:
    assert cli(docs.main, fresh).code == 0
    built = (fresh / "runs" / "docs-site" / "index.html").read_text()
    with (fresh / "docs" / "index.md").open("a") as page:
        page.write("\nSee [the missing page](missing.md).\n")

    outcome = cli(docs.main, fresh)

    assert outcome.code == 1
    assert "'missing.md', but the target is not found" in outcome.err  # MkDocs' own warning
    last = outcome.err.splitlines()[-1]  # after MkDocs' lines, the tooling's one
    assert last.startswith("error: the docs did not build: fix what MkDocs names above")
    assert "Traceback" not in outcome.err
    assert (fresh / "runs" / "docs-site" / "index.html").read_text() == built
    left = [path.name for path in (fresh / "runs").iterdir()]
    assert "docs-site" in left and not [name for name in left if "partial" in name]
    assert ".removing" not in left


@pytest.mark.slow
def test_a_fresh_tooling_environment_gets_the_check_group_when_docs_first_need_it(
    fresh: Path,
) -> None:
    """`uv run` installs the tooling's dev group alone (what `just local` needs); the first
    recipe needing another group installs it, once."""
    run(["uv", "sync", "--frozen", "--quiet"], fresh, check=True)
    python = fresh / ".venv" / "bin" / "python"
    environment = os.environ | {"VIRTUAL_ENV": str(fresh / ".venv")}

    def installed(module: str) -> bool:
        found = f"import importlib.util; print(importlib.util.find_spec({module!r}) is not None)"
        return run([str(python), "-c", found], fresh).stdout.strip() == "True"

    assert not installed("mkdocs") and not installed("flask") and installed("azure.ai.ml")
    docs_build = [str(python), "-m", "scripts.docs"]
    first, again = (
        subprocess.run(docs_build, cwd=fresh, env=environment, capture_output=True, text=True)
        for _ in range(2)
    )

    assert first.returncode == again.returncode == 0, first.stderr
    assert "installing MkDocs into the tooling's environment (once): check" in first.stderr
    assert "installing" not in again.stderr
    assert installed("mkdocs") and not installed("flask")  # the ui group still waits


@pytest.mark.slow
def test_serve_shows_the_generated_reference_on_localhost_until_stopped(fresh: Path) -> None:
    port = free_port()
    process = start_script(fresh, "docs", "--serve", "--port", str(port))
    url = f"http://127.0.0.1:{port}/reference/recipes/"
    page = ""
    deadline = time.monotonic() + 120
    while not page and process.poll() is None and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                page = response.read().decode()
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)

    assert "just local" in page and "usage: just local" in page, stderr
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))  # nothing listens any more
