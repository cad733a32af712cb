"""`just iso`: run-folder contents, determinism, ignore rules, credentials, requirements."""

import os
import re
import subprocess
import sys
from pathlib import Path

from scripts.names import new_run_name
from tests.helpers import script, write

RUN_NAME = re.compile(r"\d{8}_\d{6}_[a-z]+_[a-z]+_[a-z0-9]{6}")


def iso(root: Path, experiment: str) -> Path:
    result = script(root, "iso", experiment)
    assert result.returncode == 0, result.stderr
    folder = Path(result.stdout.strip().splitlines()[-1])
    assert folder.is_dir()
    return folder


def files_under(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_run_folder_holds_experiment_shared_and_environment(workspace: Path) -> None:
    folder = iso(workspace, "alpha")

    assert folder.parent == workspace / "runs" / "alpha"
    assert RUN_NAME.fullmatch(folder.name)
    assert (folder / "azure-ml-job.yaml").is_file()
    assert (folder / "src" / "alpha" / "__init__.py").is_file()
    assert "hello from shared" in (folder / "src" / "shared" / "__init__.py").read_text()
    environment = folder / "environment"
    assert sorted(p.name for p in environment.iterdir()) == [
        ".python-version",
        "Dockerfile",
        "requirements.txt",
    ]
    assert (environment / "Dockerfile").read_bytes() == (
        workspace / "docker/Dockerfile"
    ).read_bytes()
    assert (environment / ".python-version").read_text() == (
        workspace / ".python-version"
    ).read_text()


def test_environment_is_byte_identical_across_runs(workspace: Path) -> None:
    first, second = iso(workspace, "alpha"), iso(workspace, "alpha")

    assert first != second
    assert files_under(first / "environment") == files_under(second / "environment")
    assert "uv export" not in (first / "environment" / "requirements.txt").read_text()


def test_runs_started_together_get_distinct_folders(workspace: Path) -> None:
    command = [sys.executable, "-m", "scripts.iso", "beta"]
    processes = [
        subprocess.Popen(command, cwd=workspace, stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    folders = {process.communicate()[0].strip() for process in processes}

    assert all(process.returncode == 0 for process in processes)
    assert len(folders) == 4


def test_run_names_in_the_same_second_differ() -> None:
    from datetime import datetime

    moment = datetime(2026, 1, 2, 3, 4, 5)
    names = {new_run_name(moment) for _ in range(50)}

    assert len(names) == 50
    assert all(name.startswith("20260102_030405_") and RUN_NAME.fullmatch(name) for name in names)


def test_requirements_hold_only_the_experiments_own_dependencies(workspace: Path) -> None:
    alpha = (iso(workspace, "alpha") / "environment" / "requirements.txt").read_text()
    beta = (iso(workspace, "beta") / "environment" / "requirements.txt").read_text()

    def names(requirements: str) -> set[str]:
        return {line.split("==")[0] for line in requirements.splitlines() if "==" in line}

    assert names(alpha) == {"idna", "six"}  # six arrives through shared
    assert names(beta) == {"certifi"}


def test_shared_is_left_out_when_not_a_dependency(workspace: Path) -> None:
    assert not (iso(workspace, "beta") / "src" / "shared").exists()


def test_amlignore_is_honoured(workspace: Path) -> None:
    experiment = workspace / "experiments" / "alpha"
    write(experiment / ".amlignore", "data/\n*.log\n!keep.log\n")
    write(experiment / "data" / "big.bin", "x")
    write(experiment / "train.log", "x")
    write(experiment / "keep.log", "x")
    write(experiment / "notes" / "data" / "nested.txt", "x")

    folder = iso(workspace, "alpha")

    assert not (folder / "data").exists()
    assert not (folder / "train.log").exists()
    assert (folder / "keep.log").is_file()
    assert not (folder / "notes" / "data").exists()  # `data/` matches at any depth
    assert (folder / ".amlignore").is_file()


def test_shared_amlignore_is_honoured(workspace: Path) -> None:
    write(workspace / "shared" / ".amlignore", "*.tmp\n")
    write(workspace / "shared" / "src" / "shared" / "scratch.tmp", "x")

    folder = iso(workspace, "alpha")

    assert (folder / "src" / "shared" / "__init__.py").is_file()
    assert not (folder / "src" / "shared" / "scratch.tmp").exists()


def test_gitignore_applies_when_there_is_no_amlignore(workspace: Path) -> None:
    experiment = workspace / "experiments" / "alpha"
    write(experiment / ".gitignore", "scratch/\n")
    write(experiment / "scratch" / "tmp.txt", "x")

    assert not (iso(workspace, "alpha") / "scratch").exists()


def test_credentials_are_never_copied(workspace: Path) -> None:
    experiment = workspace / "experiments" / "alpha"
    secret = "s3cr3t-value-123"
    credentials = [
        ".env",
        ".env.local",
        "config/.env.production",
        "id_rsa",
        "keys/id_ed25519",
        "certs/client.pem",
        "certs/tls.key",
        "store.pfx",
        ".netrc",
        ".git/config",
        ".azure/accessTokens.json",
    ]
    for name in credentials:
        write(experiment / name, f"TOKEN={secret}\n")
    write(experiment / "notes.txt", f"-----BEGIN OPENSSH PRIVATE KEY-----\n{secret}\n")
    write(experiment / "environment.md", "not a credential\n")

    result = script(workspace, "iso", "alpha")
    folder = Path(result.stdout.strip().splitlines()[-1])

    copied = files_under(folder)
    assert not [name for name, content in copied.items() if secret.encode() in content]
    assert "environment.md" in copied
    assert "not copied, looks like a credential: notes.txt" in result.stderr
    assert secret not in result.stderr + result.stdout


def test_ignored_data_is_never_opened(workspace: Path) -> None:
    """A FIFO blocks whoever opens it: iso would hang (and time out) if it read ignored data."""
    experiment = workspace / "experiments" / "alpha"
    write(experiment / ".amlignore", "data/\n*.bin\n")
    (experiment / "data").mkdir()
    os.mkfifo(experiment / "data" / "stream")
    os.mkfifo(experiment / "huge.bin")

    result = subprocess.run(
        [sys.executable, "-m", "scripts.iso", "alpha"],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    folder = Path(result.stdout.strip().splitlines()[-1])
    assert not (folder / "data").exists()
    assert not (folder / "huge.bin").exists()
