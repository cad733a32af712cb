"""`just docs` on a copy of this repository's documentation: built strictly, a broken link is
one line and leaves the site as it was, and `--serve` serves the generated pages on
127.0.0.1 until stopped."""

import shutil
import signal
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from scripts import docs
from scripts.console.cli import free_port
from tests.helpers import REPOSITORY, Outcome, start_script


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """What the docs are built from: mkdocs.yml, docs/, and the justfile and scripts/ the
    generated pages come from."""
    for name in ("docs", "scripts", "mkdocs.yml", "justfile"):
        source = REPOSITORY / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, tmp_path / name)
    return tmp_path


def test_a_broken_link_fails_the_build_in_one_line_and_keeps_the_site_built_before(
    site: Path, cli: Callable[..., Outcome]
) -> None:
    assert cli(docs.main, site).code == 0
    built = (site / "runs" / "docs-site" / "index.html").read_text()
    with (site / "docs" / "index.md").open("a") as page:
        page.write("\nSee [the missing page](missing.md).\n")

    outcome = cli(docs.main, site)

    assert outcome.code == 1
    assert "'missing.md', but the target is not found" in outcome.err  # MkDocs' own warning
    last = outcome.err.splitlines()[-1]  # after MkDocs' lines, the tooling's one
    assert last.startswith("error: the docs did not build: fix what MkDocs names above")
    assert "Traceback" not in outcome.err
    assert (site / "runs" / "docs-site" / "index.html").read_text() == built
    assert sorted(path.name for path in (site / "runs").iterdir()) == ["docs-site"]


@pytest.mark.slow
def test_serve_shows_the_generated_reference_on_localhost_until_stopped(site: Path) -> None:
    port = free_port()
    process = start_script(site, "docs", "--serve", "--port", str(port))
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
