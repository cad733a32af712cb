"""Helpers for the tests: real projects in temporary folders, driven through the real
scripts, uv and git.

Two kinds of project:
- `workspace`: a tiny uv workspace (two experiments and `shared`, each with one small
  dependency) locked with real uv, for fast tests of isolation and local runs.
- `project`: a copy of this repository (example experiment included), for runs of the
  example with the real MLflow store, and end to end through `just`.

Commands run in-process against either (the `cli` fixture, conftest.py) unless a test needs
them as a process of their own: signals, a closed pipe, `just` itself.
"""

import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
PROJECT_FILES = [
    "scripts",
    "experiments",
    "shared",
    "templates",
    "docker",
    "justfile",
    "pyproject.toml",
    "uv.lock",
    ".python-version",
    ".gitignore",
    ".env",
    "docs",
    "mkdocs.yml",
]
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}


@dataclass(frozen=True)
class Outcome:
    """What a command did: exit code, stdout, stderr."""

    code: int
    out: str
    err: str

    @property
    def error_line(self) -> str:
        """The one line a failed command printed (asserting it is exactly one)."""
        lines = self.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), self.err
        assert "Traceback" not in self.err
        return lines[0].removeprefix("error: ")


def run(
    args: list[str], cwd: Path, check: bool = False, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, env=os.environ | GIT_IDENTITY | (env or {})
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{args} failed ({result.returncode}):\n{result.stderr}")
    return result


def start_script(root: Path, command: str, *args: str) -> subprocess.Popen[str]:
    """`python -m scripts.<command>` started in `root`, its output piped; it leads its own
    process group, as a terminal's foreground job does."""
    return subprocess.Popen(
        [sys.executable, "-m", f"scripts.{command}", *args],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def started_pids(marks: Path, count: int, process: subprocess.Popen[str]) -> list[int]:
    """The pids that `count` jobs of the runner `process` wrote as `marks`/pid_*, once they
    are all there (waiting up to 120 s; the runner's output if they never are)."""
    deadline = time.monotonic() + 120
    while len(list(marks.glob("pid_*"))) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    pids = [int(path.read_text()) for path in marks.glob("pid_*")]
    assert len(pids) == count, process.communicate()
    return pids


def copy_repository(root: Path) -> Path:
    """A committed copy of this repository's project files (no tests, no environments) at
    `root`."""
    root.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", ".venv", "outputs", ".pytest_cache")
    for name in PROJECT_FILES:
        source = REPOSITORY / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=ignore)
        else:
            shutil.copy2(source, root / name)
    git_commit_all(root)
    return root


ROOT_FILES = ("pyproject.toml", "uv.lock")


def workspace_state(root: Path) -> dict[str, bytes | list[str]]:
    """The root files' bytes and the experiments there are."""
    state: dict[str, bytes | list[str]] = {name: (root / name).read_bytes() for name in ROOT_FILES}
    state["experiments"] = sorted(p.name for p in (root / "experiments").iterdir())
    return state


def just(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`just ARGS` in `root`, asserted to succeed."""
    result = run(["just", *args], root)
    assert result.returncode == 0, f"just {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


def git_commit_all(root: Path, message: str = "snapshot") -> None:
    if not (root / ".git").exists():
        run(["git", "init", "-q", "-b", "main"], root, check=True)
    run(["git", "add", "-A"], root, check=True)
    run(["git", "commit", "-q", "-m", message], root, check=True)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def add_member(root: Path, folder: str, name: str, dependencies: list[str]) -> Path:
    """A workspace member with src layout; `shared` in `dependencies` is the workspace one."""
    member = root / folder
    sources = (
        "[tool.uv.sources]\nshared = { workspace = true }\n" if "shared" in dependencies else ""
    )
    write(
        member / "pyproject.toml",
        f"""
        [project]
        name = "{name}"
        version = "0.1.0"
        requires-python = ">=3.11"
        dependencies = {dependencies!r}
        [build-system]
        requires = ["uv_build>=0.8,<0.14"]
        build-backend = "uv_build"
        """,
    )
    if sources:
        with (member / "pyproject.toml").open("a") as file:
            file.write(sources)
    package = name.replace("-", "_")
    write(member / "src" / package / "__init__.py", "")
    return member


def add_job(experiment: Path, command: str, extra: str = "") -> None:
    write(
        experiment / "azure-ml-job.yaml",
        f"""
        type: command
        experiment_name: {experiment.name}
        code: .
        command: {command}
        environment_variables:
          PYTHONPATH: src
        environment:
          build:
            path: environment
        """,
    )
    if extra:
        with (experiment / "azure-ml-job.yaml").open("a") as file:
            file.write(textwrap.dedent(extra).lstrip())


@contextmanager
def local_index(folder: Path) -> Iterator[str]:
    """A package index (PEP 503's simple layout) on 127.0.0.1 serving one package that is
    on no other index, `localpkg` 1.0+cpu (a local version, as a CPU build of torch has);
    its URL, while the block runs."""
    source = folder / "localpkg"
    write(
        source / "pyproject.toml",
        """
        [project]
        name = "localpkg"
        version = "1.0+cpu"
        requires-python = ">=3.11"
        [build-system]
        requires = ["uv_build>=0.8,<0.14"]
        build-backend = "uv_build"
        """,
    )
    write(source / "src" / "localpkg" / "__init__.py", 'WHERE = "from the local index"\n')
    pages = folder / "index" / "simple" / "localpkg"
    pages.mkdir(parents=True)
    run(["uv", "build", "--wheel", "--quiet", "--out-dir", str(pages)], source, check=True)
    (wheel,) = pages.glob("*.whl")
    (pages / "index.html").write_text(f'<a href="{wheel.name}">{wheel.name}</a>\n')
    handler = partial(SimpleHTTPRequestHandler, directory=str(folder / "index"))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/simple"
        finally:
            server.shutdown()


def use_index(member: Path, url: str, requirement: str = "localpkg==1.0+cpu") -> None:
    """Member `member` depends on `requirement` from the index at `url` only (as uv's docs
    pin torch to a CPU index: `[[tool.uv.index]]`, explicit, and `[tool.uv.sources]`)."""
    project_file = member / "pyproject.toml"
    text = project_file.read_text().replace(
        "dependencies = [", f"dependencies = [{requirement!r}, "
    )
    text += (
        f'\n[[tool.uv.index]]\nname = "local"\nurl = "{url}"\nexplicit = true\n'
        '\n[tool.uv.sources]\nlocalpkg = { index = "local" }\n'
    )
    project_file.write_text(text)


def run_folders(root: Path) -> set[Path]:
    return {p.parent for p in (root / "runs").glob("*/*/environment")}


def newest_folder(root: Path) -> Path:
    return max(run_folders(root), key=lambda folder: folder.name)


def lingering(ignoring: str = "") -> str:
    """A process of a job's command that prints "started", then sleeps and, if nothing
    stopped it, writes ./finished; `ignoring` names signals it ignores (e.g. "SIGINT,")."""
    ignore = f"[signal.signal(s, signal.SIG_IGN) for s in ({ignoring})]; " if ignoring else ""
    return (
        f"python -c 'import signal, time; {ignore}"
        'print("started", flush=True); time.sleep(30); open("finished", "w")\''
    )


# Commands of several processes, as jobs write them: the shell stays, the work is its child.
SHAPES = {
    "sequence": "{job}; echo done",
    "background and wait": "{job} & {job}; wait",
    "and-list": "true && {job}",
}

SLOW_JOB = (
    'python -c \'import os, time; open("pid", "w").write(str(os.getpid())); '
    'print("started", flush=True); time.sleep(60)\''
)


def start_slow_job(workspace: Path) -> tuple[subprocess.Popen[str], Path]:
    """`just local beta` with a job that writes its pid to ./pid and sleeps; returned once
    the job runs, with its run folder."""
    add_job(workspace / "experiments" / "beta", SLOW_JOB)
    process = start_script(workspace, "local", "beta")
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "started"
    return process, newest_folder(workspace)


PIPELINE = "pipeline.yml"  # the pipeline file tests write into an experiment


def wired_pipeline(workspace: Path) -> None:
    """alpha's pipeline: `make` (alpha's component: idna) writes words, `use` (beta's
    component: certifi, no idna) reads them; written in the file after the step it uses."""
    alpha, beta = workspace / "experiments" / "alpha", workspace / "experiments" / "beta"
    write(
        alpha / "make.yml",
        """
        type: command
        inputs:
          greeting: {type: string}
          suffix: {type: string, optional: true}
        outputs:
          words: {type: uri_folder}
        code: .
        command: >-
          python -c "import idna, sys; open(sys.argv[1] + '/words.txt', 'w').write(sys.argv[2])"
          ${{outputs.words}} ${{inputs.greeting}}$[[-${{inputs.suffix}}]]
        environment: {build: {path: environment}}
        """,
    )
    write(
        beta / "use.yml",
        """
        type: command
        inputs:
          words: {type: uri_folder}
        outputs:
          result: {type: uri_folder}
        code: .
        command: >-
          python -c "import certifi, sys, importlib.util;
          assert importlib.util.find_spec('idna') is None, 'idna belongs to alpha';
          text = open(sys.argv[1] + '/words.txt').read();
          open(sys.argv[2] + '/result.txt', 'w').write(text.upper())"
          ${{inputs.words}} ${{outputs.result}}
        environment: {build: {path: environment}}
        """,
    )
    write(
        alpha / PIPELINE,
        """
        type: pipeline
        experiment_name: wired
        settings: {default_compute: azureml:cpu-cluster}
        inputs:
          greeting: hello
        outputs:
          final: {type: uri_folder}
        jobs:
          use:
            type: command
            component: ../beta/use.yml
            inputs:
              words: ${{parent.jobs.make.outputs.words}}
            outputs:
              result: ${{parent.outputs.final}}
          make:
            component: ./make.yml
            inputs:
              greeting: ${{parent.inputs.greeting}}
        """,
    )
