"""`just iso`, in-process on the tiny workspace: run-folder contents, determinism, ignore
rules, credentials, requirements per experiment."""

import os
import re
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts import iso
from scripts.project.layout import Project
from scripts.runfolder import isolate
from scripts.runfolder.isolate import check_source, create_run_folder
from scripts.runfolder.names import new_run_name
from tests.helpers import Outcome, add_job, run, write

RUN_NAME = re.compile(r"\d{8}_\d{6}_[a-z]+_[a-z]+_[a-z0-9]{6}")


def isolated(workspace: Path, experiment: str) -> Path:
    return create_run_folder(check_source(Project(workspace), experiment))


def files_under(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_run_folder_holds_experiment_shared_and_environment(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    outcome = cli(iso.main, workspace, "alpha")

    assert outcome.code == 0, outcome.err
    folder = Path(outcome.out.strip())  # the path is all iso prints on stdout
    assert folder.parent == workspace / "runs" / "alpha"
    assert RUN_NAME.fullmatch(folder.name)
    code = folder / "code"  # the job's `code: .`: the experiment
    assert (code / "azure-ml-job.yaml").is_file()
    assert (folder / "job.yaml").read_bytes() == (code / "azure-ml-job.yaml").read_bytes()
    assert (code / "src" / "alpha" / "__init__.py").is_file()
    assert "hello from shared" in (code / "src" / "shared" / "__init__.py").read_text()
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
    first, second = isolated(workspace, "alpha"), isolated(workspace, "alpha")

    assert first != second
    assert files_under(first / "environment") == files_under(second / "environment")
    assert "uv export" not in (first / "environment" / "requirements.txt").read_text()


def test_requirements_follow_the_lock_not_a_stale_cache(workspace: Path) -> None:
    """Exports are cached under runs/.cache/ by the lock's hash: a new lock, new text."""
    before = (isolated(workspace, "beta") / "environment" / "requirements.txt").read_text()
    pyproject = workspace / "experiments" / "beta" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("['certifi']", "['certifi', 'idna']"))
    run(["uv", "lock", "--quiet"], workspace, check=True)

    after = (isolated(workspace, "beta") / "environment" / "requirements.txt").read_text()
    assert "idna==" not in before and "idna==" in after


@pytest.fixture
def taken_names(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Run names handed out in order: the first one is given twice."""
    names = ["20260102_030405_calm_otter_aaaaaa"] * 2 + ["20260102_030405_calm_otter_bbbbbb"]
    monkeypatch.setattr(isolate, "new_run_name", lambda: names.pop(0))
    yield names


def test_a_name_taken_by_a_run_started_in_the_same_instant_is_not_reused(
    workspace: Path, taken_names: list[str]
) -> None:
    first, second = isolated(workspace, "beta"), isolated(workspace, "beta")

    assert (first.name, second.name) == (
        "20260102_030405_calm_otter_aaaaaa",
        "20260102_030405_calm_otter_bbbbbb",
    )
    assert (first / "environment").is_dir() and (second / "environment").is_dir()


def test_run_names_in_the_same_second_differ() -> None:
    from datetime import datetime

    moment = datetime(2026, 1, 2, 3, 4, 5)
    names = {new_run_name(moment) for _ in range(50)}

    assert len(names) == 50
    assert all(name.startswith("20260102_030405_") and RUN_NAME.fullmatch(name) for name in names)


def test_requirements_hold_only_the_experiments_own_dependencies(workspace: Path) -> None:
    alpha = (isolated(workspace, "alpha") / "environment" / "requirements.txt").read_text()
    beta = (isolated(workspace, "beta") / "environment" / "requirements.txt").read_text()

    def names(requirements: str) -> set[str]:
        return {line.split("==")[0] for line in requirements.splitlines() if "==" in line}

    assert names(alpha) == {"idna", "six"}  # six arrives through shared
    assert names(beta) == {"certifi"}


def test_shared_is_left_out_when_not_a_dependency(workspace: Path) -> None:
    assert not (isolated(workspace, "beta") / "code" / "src" / "shared").exists()


def test_amlignore_is_honoured(workspace: Path) -> None:
    experiment = workspace / "experiments" / "alpha"
    write(experiment / ".amlignore", "data/\n*.log\n!keep.log\n")
    write(experiment / "data" / "big.bin", "x")
    write(experiment / "train.log", "x")
    write(experiment / "keep.log", "x")
    write(experiment / "notes" / "data" / "nested.txt", "x")

    folder = isolated(workspace, "alpha") / "code"

    assert not (folder / "data").exists()
    assert not (folder / "train.log").exists()
    assert (folder / "keep.log").is_file()
    assert not (folder / "notes" / "data").exists()  # `data/` matches at any depth
    assert (folder / ".amlignore").is_file()


def test_shared_amlignore_is_honoured(workspace: Path) -> None:
    write(workspace / "shared" / ".amlignore", "*.tmp\n")
    write(workspace / "shared" / "src" / "shared" / "scratch.tmp", "x")

    folder = isolated(workspace, "alpha") / "code"

    assert (folder / "src" / "shared" / "__init__.py").is_file()
    assert not (folder / "src" / "shared" / "scratch.tmp").exists()


def test_gitignore_applies_when_there_is_no_amlignore(workspace: Path) -> None:
    experiment = workspace / "experiments" / "alpha"
    write(experiment / ".gitignore", "scratch/\n")
    write(experiment / "scratch" / "tmp.txt", "x")

    assert not (isolated(workspace, "alpha") / "code" / "scratch").exists()


SECRET = "s3cr3tVALUE0123456789abcdefXYZ"  # fake; must never reach a run folder or a log
# Where real credentials turn up in experiment folders, each with a fake value.
CREDENTIAL_FILES = {
    # by name
    ".env": f"TOKEN={SECRET}\n",
    ".Env": f"TOKEN={SECRET}\n",
    ".env.local": f"TOKEN={SECRET}\n",
    "config/.env.production": f"TOKEN={SECRET}\n",
    "id_rsa": f"{SECRET}\n",
    "keys/id_ed25519": f"{SECRET}\n",
    "certs/client.pem": f"{SECRET}\n",
    "certs/tls.key": f"{SECRET}\n",
    "store.pfx": f"{SECRET}\n",
    "putty/server.ppk": f"{SECRET}\n",
    ".netrc": f"machine x login y password {SECRET}\n",
    "_netrc": f"machine x login y password {SECRET}\n",
    ".git/config": f"{SECRET}\n",
    ".azure/accessTokens.json": f"{SECRET}\n",
    "home/.ssh/config": f"{SECRET}\n",
    "secrets.json": f'{{"token": "{SECRET}"}}\n',
    "config/credentials.json": f'{{"token": "{SECRET}"}}\n',
    # by content
    "aws/credentials": f"[default]\naws_access_key_id = AKIAABCDEFGHIJKLMNOP\n"
    f"aws_secret_access_key = {SECRET}\n",
    "tools/.npmrc": f"//registry.npmjs.org/:_authToken={SECRET}\n",
    "notes.txt": f"-----BEGIN OPENSSH PRIVATE KEY-----\n{SECRET}\n",
    "bundle.crt": "-----BEGIN CERTIFICATE-----\n" + "A" * 300 + "\n-----END CERTIFICATE-----\n"
    f"-----BEGIN RSA PRIVATE KEY-----\n{SECRET}\n-----END RSA PRIVATE KEY-----\n",
    "signing.asc": f"-----BEGIN PGP PRIVATE KEY BLOCK-----\n{SECRET}\n",
    "azure/sp.json": f'{{"clientId": "x", "clientSecret": "{SECRET}", "tenantId": "y"}}\n',
    "src/alpha/storage.py": 'CONNECTION = "DefaultEndpointsProtocol=https;AccountName=a;'
    f'AccountKey={SECRET}+/==;EndpointSuffix=core.windows.net"\n',
    "src/alpha/sas.py": f'URL = "https://a.blob.core.windows.net/c?sv=2024-01-01&sig={SECRET}"\n',
    "ci/token.txt": f"ghp_{'A' * 36}\n{SECRET}\n",
    # the usual client credential files of shells, databases, clouds, clusters and registries
    ".envrc": f"export TOKEN={SECRET}\n",
    ".pgpass": f"localhost:5432:db:user:{SECRET}\n",
    ".my.cnf": f"[client]\npassword={SECRET}\n",
    "kubeconfig": f"users:\n- user:\n    token: {SECRET}\n",
    "home/.kube/config": f"token: {SECRET}\n",
    ".boto": f"[Credentials]\ngs_secret_access_key = {SECRET}\n",
    ".s3cfg": f"[default]\nsecret_key = {SECRET}\n",
    "kaggle.json": f'{{"username": "me", "key": "{SECRET}"}}\n',
    "gcloud/application_default_credentials.json": f'{{"refresh_token": "{SECRET}"}}\n',
    "home/.gem/credentials": f"---\n:rubygems_api_key: {SECRET}\n",
    "home/.cargo/credentials.toml": f'[registry]\ntoken = "{SECRET}"\n',
    "rclone.conf": f"[remote]\ntype = s3\nsecret_access_key = {SECRET}\n",
    ".databrickscfg": f"[DEFAULT]\ntoken = {SECRET}\n",
    ".vault-token": f"{SECRET}\n",
    "infra/terraform.tfstate": f'{{"outputs": {{"password": "{SECRET}"}}}}\n',
    ".streamlit/secrets.toml": f'password = "{SECRET}"\n',
    ".yarnrc.yml": f'npmAuthToken: "{SECRET}"\n',
    ".htpasswd": f"user:{SECRET}\n",
    ".bash_history": f"export AZURE_CLIENT_SECRET={SECRET}\n",
    "keys/snowflake.p8": f"{SECRET}\n",
    "home/.huggingface/token": f"{SECRET}\n",
    # tokens by content, wherever they are
    "src/alpha/db.py": f'URL = "postgresql://analyst:{SECRET}@db.example.com/warehouse"\n',
    "src/alpha/hub.py": f'TOKEN = "hf_{"a" * 34}"  # {SECRET}\n',
    "src/alpha/upload.py": f'TOKEN = "pypi-AgEIcHlwaS5vcmc{"B" * 60}"  # {SECRET}\n',
    "src/alpha/llm.py": f'KEY = "sk-{"C" * 20}T3BlbkFJ{"D" * 20}"  # {SECRET}\n',
    "src/alpha/aad.py": f'CLIENT_SECRET = "abc8Q~{"E" * 34}"  # {SECRET}\n',
    "src/alpha/maps.py": f'KEY = "AIza{"F" * 35}"  # {SECRET}\n',
    "src/alpha/gitlab.py": f'TOKEN = "glpat-{"G" * 20}"  # {SECRET}\n',
    "src/alpha/notify.py": "HOOK = 'https://hooks.slack.com/services/T0001/B0001/"
    f"{'H' * 24}'  # {SECRET}\n",
    "src/alpha/workspace.py": f'TOKEN = "dapi{"0" * 32}"  # {SECRET}\n',
    "notebooks/session.txt": f"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.{'I' * 43}\n"
    f"{SECRET}\n",
}
HARMLESS_FILES = {
    "environment.md": "not a credential\n",
    "docs/keys.md": "Keep your private key out of the repository; use a key vault.\n",
    "src/alpha/settings.py": 'ACCOUNT = "a"\nKEY_VAULT = "https://kv.vault.azure.net"\n',
    "config/params.json": '{"learning_rate": 0.01}\n',
    ".ssh": "a file, not the folder\n",
    "src/alpha/credentials.py": "def load():  # reads them from a key vault\n    ...\n",
    "docs/database.md": "Connect with postgresql://localhost/warehouse (no password).\n",
    "src/alpha/connect.py": 'URL = f"postgresql://{user}:{password}@{host}/warehouse"\n',
}


def test_credentials_are_never_copied(workspace: Path, cli: Callable[..., Outcome]) -> None:
    experiment = workspace / "experiments" / "alpha"
    for name, text in {**CREDENTIAL_FILES, **HARMLESS_FILES}.items():
        write(experiment / name, text)

    outcome = cli(iso.main, workspace, "alpha")

    copied = files_under(Path(outcome.out.strip()) / "code")
    assert not [name for name, content in copied.items() if SECRET.encode() in content]
    assert set(HARMLESS_FILES) <= set(copied)
    for name in ("notes.txt", "aws/credentials", "src/alpha/storage.py", "bundle.crt"):
        assert f"warning: not copied, looks like a credential: {name}" in outcome.err
    assert SECRET not in outcome.err + outcome.out


def test_symbolic_links_are_followed_inside_the_repository_only(
    workspace: Path, tmp_path: Path, cli: Callable[..., Outcome]
) -> None:
    """As Azure ML's upload does (os.walk(followlinks=True)), a link is copied as its
    target's content, under its own name; but never from outside the repository."""
    experiment = workspace / "experiments" / "alpha"
    write(workspace / "docs" / "notes.md", "inside\n")
    write(tmp_path / "outside" / "secret.txt", "outside\n")
    (experiment / "notes.md").symlink_to(workspace / "docs" / "notes.md")
    (experiment / "docs").symlink_to(workspace / "docs")
    (experiment / "leak.txt").symlink_to(tmp_path / "outside" / "secret.txt")
    (experiment / "leak").symlink_to(tmp_path / "outside")
    (experiment / "up").symlink_to("..")  # a folder that holds the link: endless
    (experiment / "dangling").symlink_to("/nonexistent/data.csv")
    (experiment / "loop").symlink_to("loop")

    outcome = cli(iso.main, workspace, "alpha")

    assert outcome.code == 0, outcome.err
    folder = Path(outcome.out.strip()) / "code"
    assert (folder / "notes.md").read_text() == "inside\n"
    assert not (folder / "notes.md").is_symlink()
    assert (folder / "docs" / "notes.md").read_text() == "inside\n"
    assert not {"leak.txt", "leak", "up", "dangling", "loop"} & {p.name for p in folder.iterdir()}
    assert sorted(line for line in outcome.err.splitlines() if line.startswith("warning:")) == [
        "warning: not copied, a broken or looping symbolic link: dangling",
        "warning: not copied, a broken or looping symbolic link: loop",
        "warning: not copied, a symbolic link to a folder that holds it: up",
        "warning: not copied, a symbolic link to outside the repository: leak",
        "warning: not copied, a symbolic link to outside the repository: leak.txt",
    ]
    assert "outside" not in "".join(files_under(folder).keys())


def test_what_is_not_a_regular_file_is_skipped_never_opened(
    workspace: Path, cli: Callable[..., Outcome], monkeypatch: pytest.MonkeyPatch
) -> None:
    experiment = workspace / "experiments" / "alpha"
    os.mkfifo(experiment / "stream")  # opening it would block for ever
    monkeypatch.chdir(experiment)  # a socket's path is short (108 bytes): bound relative
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind("control.sock")
        outcome = cli(iso.main, workspace, "alpha")

    assert outcome.code == 0, outcome.err
    assert "warning: not copied, not a regular file (a FIFO, socket or device): stream" in (
        outcome.err
    )
    assert "not a regular file (a FIFO, socket or device): control.sock" in outcome.err


def test_ignored_data_is_never_opened(workspace: Path) -> None:
    """A FIFO blocks whoever opens it: isolation would never end if it read ignored data."""
    experiment = workspace / "experiments" / "alpha"
    write(experiment / ".amlignore", "data/\n*.bin\n")
    (experiment / "data").mkdir()
    os.mkfifo(experiment / "data" / "stream")
    os.mkfifo(experiment / "huge.bin")
    folders: list[Path] = []
    worker = threading.Thread(
        target=lambda: folders.append(isolated(workspace, "alpha")), daemon=True
    )

    worker.start()
    worker.join(timeout=60)

    assert folders, "isolation opened an ignored FIFO and blocked"
    code = folders[0] / "code"
    assert (code / "src" / "alpha").is_dir()
    assert not (code / "data").exists()
    assert not (code / "huge.bin").exists()


def test_what_is_copied_is_what_azure_ml_would_upload(workspace: Path) -> None:
    """Negations bring files back out of ignored folders, nested ignore files are not read,
    and the run folder's .amlignore applies to shared code too: compared with azure-ai-ml's
    own listing of what it uploads from the run folder."""
    from azure.ai.ml._utils._asset_utils import get_ignore_file, get_upload_files_from_folder

    experiment = workspace / "experiments" / "alpha"
    write(experiment / ".amlignore", "data/\n!data/keep.csv\n*.log\n!important.log\ndraft*\n")
    for name in [
        "data/big.bin",
        "data/keep.csv",
        "data/deeper/x.csv",
        "train.log",
        "important.log",
        "notes/draft.md",
        "notes/final.md",
        "src/alpha/sub/.amlignore",  # nested: azure-ai-ml does not read it
        "src/alpha/sub/mod.py",
    ]:
        write(experiment / name, "x\n")
    write(experiment / "src" / "alpha" / "sub" / ".amlignore", "*.py\n")
    write(workspace / "shared" / "src" / "shared" / "data" / "table.csv", "x\n")
    write(workspace / "shared" / "src" / "shared" / "util.py", "x = 1\n")

    folder = isolated(workspace, "alpha") / "code"

    listing: Any = get_upload_files_from_folder(folder, ignore_file=get_ignore_file(folder))
    uploaded = {destination for _, destination in listing}  # (local path, upload path) pairs
    assert set(files_under(folder)) == uploaded
    assert {"data/keep.csv", "important.log", "src/alpha/sub/mod.py"} <= uploaded
    assert "src/shared/util.py" in uploaded and "src/shared/data/table.csv" not in uploaded


def test_code_names_the_code_root_and_environment_stays_outside(workspace: Path) -> None:
    """`code: src` as public examples write it: src/ is the code root, `shared` sits at its
    top (beside the scripts), the job file and environment/ stay outside it."""
    experiment = workspace / "experiments" / "alpha"
    add_job(experiment, "python main.py")
    job = experiment / "azure-ml-job.yaml"
    job.write_text(job.read_text().replace("code: .", "code: src"))
    write(experiment / "src" / "main.py", "print('hi')\n")
    write(experiment / "src" / ".amlignore", "*.tmp\n")
    write(experiment / "src" / "scratch.tmp", "x\n")
    write(experiment / ".amlignore", "src/private/\n")  # the experiment's rules apply too
    write(experiment / "src" / "private" / "key.txt", "x\n")

    folder = isolated(workspace, "alpha")

    assert sorted(files_under(folder / "code")) == [
        ".amlignore",
        "alpha/__init__.py",
        "main.py",
        "shared/__init__.py",
    ]
    assert (folder / "job.yaml").read_text() == job.read_text()
    assert (folder / "environment" / "requirements.txt").is_file()


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("../beta", "code: ../beta in azure-ml-job.yaml is not a folder inside"),
        ("missing", "code: missing in azure-ml-job.yaml is not a folder inside"),
        ("azureml:my-code:1", "code: azureml:my-code:1 in azure-ml-job.yaml is not a local folder"),
    ],
)
def test_code_outside_the_experiment_is_refused(
    workspace: Path, cli: Callable[..., Outcome], code: str, problem: str
) -> None:
    experiment = workspace / "experiments" / "alpha"
    add_job(experiment, "python main.py")
    job = experiment / "azure-ml-job.yaml"
    job.write_text(job.read_text().replace("code: .", f"code: {code}"))

    outcome = cli(iso.main, workspace, "alpha")

    assert outcome.code == 2
    assert outcome.error_line.startswith(problem)
    assert not (workspace / "runs" / "alpha").exists() or not any(
        (workspace / "runs" / "alpha").iterdir()
    )
