"""A throwaway PostgreSQL server on 127.0.0.1, for tests that need a real one (the backend
store of a real `mlflow server`): its own cluster, port and password, stopped on exit."""

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scripts.console.cli import LOCALHOST, free_port

TOOLS = ("initdb", "pg_ctl", "createdb")
USER = DATABASE = "mlflow"


def bin_folder() -> Path:
    """The folder holding PostgreSQL's initdb, pg_ctl and createdb: initdb's on PATH, its
    symlinks resolved (a link in /usr/local/bin may point into Debian's folder, where createdb
    is too), else Debian's /usr/lib/postgresql/VERSION/bin, the newest version first."""
    on_path = shutil.which("initdb")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    debian = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(debian, key=lambda folder: _version(folder.parent.name), reverse=True)
    for folder in candidates:
        if all((folder / tool).is_file() for tool in TOOLS):
            return folder
    raise FileNotFoundError(
        "PostgreSQL's initdb, pg_ctl and createdb are neither on PATH nor in"
        " /usr/lib/postgresql/*/bin: `apt-get install postgresql` installs them"
    )


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def _as_server_user() -> list[str]:
    """PostgreSQL refuses to run as root: as root, its programs run as the `postgres` user
    (Debian's package makes it), keeping only the right to search and read any folder, since
    the cluster may sit under one that is root's alone (pytest's /tmp/pytest-of-root is 0700)."""
    if os.geteuid() != 0:
        return []
    return [
        "setpriv",
        "--reuid=postgres",
        "--regid=postgres",
        "--init-groups",
        "--inh-caps=+dac_read_search",
        "--ambient-caps=+dac_read_search",
    ]


@contextmanager
def postgresql(folder: Path) -> Iterator[str]:
    """A new cluster in folder/postgres, served on a free port of 127.0.0.1 only (its unix
    sockets in the cluster folder, not the system's), with database `mlflow` owned by
    superuser `mlflow`: yields its SQLAlchemy URI (psycopg2's), and stops the server on exit."""
    tools = bin_folder()
    run_as = _as_server_user()
    cluster = folder / "postgres"
    cluster.mkdir(mode=0o700)
    if run_as:
        shutil.chown(cluster, "postgres", "postgres")
    password = secrets.token_hex(16)  # hex: nothing to escape in the URI
    pwfile = folder / "postgres-password"
    pwfile.touch(mode=0o600)
    pwfile.write_text(password + "\n")
    initdb = [*run_as, str(tools / "initdb"), f"--pgdata={cluster}", f"--pwfile={pwfile}"]
    options = [f"--username={USER}", "--auth=scram-sha-256", "--no-locale", "--encoding=UTF8"]
    # --no-sync (and fsync off below): a test's data, nothing to keep after a crash.
    initdb += [*options, "--no-sync"]
    subprocess.run(initdb, check=True, cwd=cluster, stdout=subprocess.DEVNULL)
    pwfile.unlink()
    port = free_port()
    sockets = str(cluster).replace("'", "''")
    with (cluster / "postgresql.conf").open("a") as conf:  # initdb 15 has no -c
        conf.write(f"listen_addresses = '{LOCALHOST}'\nport = {port}\nfsync = off\n")
        conf.write(f"unix_socket_directories = '{sockets}'\n")
    pg_ctl = [*run_as, str(tools / "pg_ctl"), f"--pgdata={cluster}", "--silent"]
    try:
        log = cluster / "server.log"
        subprocess.run([*pg_ctl, "start", "--wait", f"--log={log}"], check=True, cwd=cluster)
        createdb = [str(tools / "createdb"), f"--host={LOCALHOST}", f"--port={port}"]
        createdb += [f"--username={USER}", DATABASE]
        subprocess.run(createdb, check=True, env={**os.environ, "PGPASSWORD": password})
        # The driver named: SQLAlchemy 2.1's default for postgresql:// is psycopg (3), and
        # the check group installs psycopg2, the driver MLflow's server is written for.
        yield f"postgresql+psycopg2://{USER}:{password}@{LOCALHOST}:{port}/{DATABASE}"
    finally:
        if (cluster / "postmaster.pid").exists():  # not if the server never started
            subprocess.run([*pg_ctl, "stop", "--mode=fast", "--wait"], check=True, cwd=cluster)
