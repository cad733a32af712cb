"""`just local` on the tiny workspace: isolation from the project venv, exit codes, the
job's context. In-process (the `cli` fixture) with real uv environments and real job
processes; Ctrl-C needs a real process group and runs `just local` as its own process."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from mlflow import MlflowClient

from scripts import aml, local, rerun
from scripts.jobspec.overrides import Override
from scripts.runner import prepare
from tests.helpers import (
    SHAPES,
    Outcome,
    add_job,
    lingering,
    newest_folder,
    run,
    run_folders,
    start_script,
    start_slow_job,
    use_index,
    write,
)


def only_run_folder(root: Path) -> Path:
    (folder,) = run_folders(root)
    return folder


def test_declared_dependencies_and_shared_are_importable(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    outcome = cli(local.main, workspace, "alpha")

    assert outcome.code == 0, outcome.err
    assert "hello from shared" in outcome.out


def test_an_undeclared_import_fails_as_it_would_in_azure_ml(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    # yaml is in the project's venv (the tooling uses it) but alpha does not declare it.
    assert subprocess.run([sys.executable, "-c", "import yaml"]).returncode == 0
    add_job(workspace / "experiments" / "alpha", "python -c 'import yaml'")

    outcome = cli(local.main, workspace, "alpha")

    assert outcome.code == 1
    assert "No module named 'yaml'" in outcome.err


def test_payload_exit_code_propagates(workspace: Path, cli: Callable[..., Outcome]) -> None:
    add_job(workspace / "experiments" / "beta", "python -c 'import sys; sys.exit(7)'")

    outcome = cli(local.main, workspace, "beta")

    assert outcome.code == 7
    assert outcome.err.splitlines()[-1].startswith(
        f"run {only_run_folder(workspace).name} ended with exit code 7 after "
    )  # and the folder is kept for inspection


def test_environment_is_reused_while_requirements_are_unchanged(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    first, second = cli(local.main, workspace, "beta"), cli(local.main, workspace, "beta")

    assert "built now" in first.err
    assert "reused" in second.err
    environments = list((workspace / "runs" / ".venvs").iterdir())
    assert len(environments) == 1 and not environments[0].name.startswith(".")


def test_an_environment_is_built_without_bytecode_python_keeps_what_a_job_compiles(
    workspace: Path, cli: Callable[..., Outcome], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    add_job(workspace / "experiments" / "beta", "exit 0")

    assert cli(local.main, workspace, "beta").code == 0

    (environment,) = (workspace / "runs" / ".venvs").iterdir()
    assert not list(environment.glob("lib/python*/site-packages/*/__pycache__/*.pyc"))


WAIT_FOR_THE_COMPILER = """
import os, time
environment = os.environ["VIRTUAL_ENV"].encode()

def compiling():
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                parts = file.read().split(b"\\0")
        except OSError:
            continue
        if b"compileall" in parts and any(environment in part for part in parts):
            return True
    return False

deadline = time.monotonic() + 120
while compiling() and time.monotonic() < deadline:
    time.sleep(0.05)
"""


def test_where_a_job_cannot_keep_bytecode_its_environment_is_compiled_alongside_it(
    workspace: Path, cli: Callable[..., Outcome], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PYTHONDONTWRITEBYTECODE, which the job inherits, keeps Python from keeping what a job
    compiles: the environment's modules are compiled while the job runs (here it waits for
    that), once; the build compiles none, which would hold up the first run."""
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    experiment = workspace / "experiments" / "beta"
    write(experiment / "wait.py", WAIT_FOR_THE_COMPILER)
    add_job(experiment, "python wait.py")

    assert cli(local.main, workspace, "beta").code == 0

    (environment,) = (workspace / "runs" / ".venvs").iterdir()
    assert (environment / ".bytecode-compiled").exists()
    assert list(environment.glob("lib/python*/site-packages/*/__pycache__/*.pyc"))


def test_a_damaged_environment_is_rebuilt(workspace: Path, cli: Callable[..., Outcome]) -> None:
    assert cli(local.main, workspace, "beta").code == 0
    (environment,) = (workspace / "runs" / ".venvs").iterdir()
    (environment / "bin" / "python").unlink()  # half-deleted by hand

    outcome = cli(local.main, workspace, "beta")

    assert outcome.code == 0, outcome.err
    assert f"local environment {environment.name} is damaged (no bin/python)" in outcome.err
    assert [p.name for p in (workspace / "runs" / ".venvs").iterdir()] == [environment.name]
    assert (environment / "bin" / "python").exists()


def test_job_context_matches_azure_ml(workspace: Path, cli: Callable[..., Outcome]) -> None:
    """Working directory = the code root, ./outputs and ./logs made before the job starts
    (Azure ML's documented hello-world writes ./outputs/helloworld.txt with a shell `>`),
    environment_variables set, outputs under the run, the tooling's Python out of the way."""
    experiment = workspace / "experiments" / "beta"
    add_job(
        experiment,
        "python -c \"import os, sys; print(os.getcwd()); print(os.environ['GREETING']); "
        'print(sys.prefix)" && touch ${{outputs.model}}/weights.bin && echo hi > ./logs/own.txt',
        extra="""
        outputs:
          model:
            type: uri_folder
        """,
    )
    text = (experiment / "azure-ml-job.yaml").read_text()
    (experiment / "azure-ml-job.yaml").write_text(
        text.replace("  PYTHONPATH: src\n", "  PYTHONPATH: src\n  GREETING: hi there\n")
    )

    outcome = cli(local.main, workspace, "beta")

    folder = only_run_folder(workspace)
    assert outcome.code == 0, outcome.err
    cwd, greeting, prefix = outcome.out.splitlines()
    assert (cwd, greeting) == (str(folder / "code"), "hi there")
    assert Path(prefix).parent == workspace / "runs" / ".venvs"
    assert (folder / "code" / "outputs" / "model" / "weights.bin").is_file()


def test_inputs_and_overrides_reach_the_command(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    add_job(
        workspace / "experiments" / "beta",
        "echo epochs=${{inputs.epochs}} $[[limit=${{inputs.limit}}]]",
        extra="inputs:\n  epochs: 10\n  limit: 5\n",
    )

    outcome = cli(
        local.main, workspace, "beta", "--set", "inputs.epochs=3", "--set", "inputs.limit="
    )

    assert outcome.code == 0, outcome.err
    assert outcome.out.strip() == "epochs=3"


@pytest.mark.slow
def test_ctrl_c_keeps_the_run_folder(workspace: Path) -> None:
    process, folder = start_slow_job(workspace)

    os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole group
    _, stderr = process.communicate(timeout=30)

    assert process.returncode == 130, stderr
    assert 'File "<string>"' in stderr  # the job's own KeyboardInterrupt...
    assert "scripts/" not in stderr  # ...but no traceback from the tooling
    assert folder.is_dir()


def test_the_job_is_handed_its_mlflow_run_named_and_tagged(
    workspace: Path, cli: Callable[..., Outcome], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the runner's MLflow variables reach the job, none from the caller's shell."""
    monkeypatch.setenv("MLFLOW_RUN_ID", "0123456789abcdef")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", "7")
    add_job(
        workspace / "experiments" / "beta",
        "printenv MLFLOW_RUN_ID MLFLOW_TRACKING_URI; env | grep -c ^MLFLOW_",
    )
    commit = run(["git", "rev-parse", "HEAD"], workspace, check=True).stdout.strip()

    outcome = cli(local.main, workspace, "beta")  # the job file changed since the commit: dirty

    run_id, tracking_uri, count = outcome.out.splitlines()
    assert count == "3"  # MLFLOW_RUN_ID, MLFLOW_TRACKING_URI, MLFLOW_EXPERIMENT_NAME
    assert tracking_uri == f"sqlite:///{workspace / 'runs' / 'mlflow.db'}"
    tracked = MlflowClient(tracking_uri).get_run(run_id)
    assert tracked.info.run_name == only_run_folder(workspace).name
    assert {k: v for k, v in tracked.data.tags.items() if k.startswith("mlflow.source.git")} == {
        "mlflow.source.git.commit": commit,
        "mlflow.source.git.branch": "main",
        "mlflow.source.git.dirty": "true",
    }


def test_every_run_is_an_mlflow_run_whether_or_not_the_job_uses_mlflow(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    """A job that never imports MLflow, and fails: its run is still there, FAILED, with its
    logs, and its inputs as parameters."""
    add_job(
        workspace / "experiments" / "beta",
        "echo working on ${{inputs.rows}} rows; exit 3",
        extra="inputs:\n  rows: 100\n",
    )

    outcome = cli(local.main, workspace, "beta")

    assert outcome.code == 3
    manifest = json.loads((only_run_folder(workspace) / "run.json").read_text())
    client = MlflowClient(f"sqlite:///{workspace / 'runs' / 'mlflow.db'}")
    tracked = client.get_run(manifest["tracking_run_id"])
    assert tracked.info.status == "FAILED"
    assert tracked.info.run_name == manifest["run_name"]
    assert tracked.data.params == {"rows": "100"}
    log = client.download_artifacts(tracked.info.run_id, "user_logs/std_log.txt")
    assert Path(log).read_text() == "working on 100 rows\n"


def test_the_runner_leaves_signal_handling_as_it_found_it(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    before = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}

    assert cli(local.main, workspace, "beta").code == 0

    assert {signum: signal.getsignal(signum) for signum in before} == before


def answers(port: int) -> bool:
    with socket.socket() as client:
        client.settimeout(1)
        return client.connect_ex(("127.0.0.1", port)) == 0


def start_debug_run(project: Path, timeout: int, job: str) -> tuple[subprocess.Popen[str], int]:
    """`just local example_experiment --debug --set JOB`, returned once its Python process
    waits for a debugger, and the port it listens on. (Nothing may connect before the IDE
    does: debugpy takes the first connection for it.)"""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = start_script(
        project, "local", "example_experiment", "--set", job,
        "--debug", "--debug-port", str(port), "--debug-timeout", str(timeout),
    )  # fmt: skip
    assert process.stderr is not None
    for line in process.stderr:  # the first --debug run installs debugpy first
        if line.startswith(f"waiting up to {timeout} s for a debugger to attach on"):
            return process, port
    raise AssertionError(f"the job never waited: {process.communicate()}")


def attach(port: int, breakpoint_file: Path, line: int) -> list[str]:
    """What an IDE does to attach (the Debug Adapter Protocol, over TCP): initialize,
    attach, a breakpoint, configurationDone, continue when stopped; the events and
    responses it got until the debuggee ended."""
    seen: list[str] = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        stream = connection.makefile("rwb")

        def send(seq: int, command: str, arguments: dict[str, object]) -> None:
            body = json.dumps(
                {"seq": seq, "type": "request", "command": command, "arguments": arguments}
            ).encode()
            stream.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            stream.flush()

        send(1, "initialize", {"adapterID": "debugpy", "clientID": "test"})
        send(2, "attach", {"justMyCode": True})
        while "event terminated" not in seen:
            length = int(stream.readline().split(b":")[1])
            stream.readline()  # the blank line ending the header
            message = json.loads(stream.read(length))
            seen.append(f"{message['type']} {message.get('event') or message.get('command')}")
            if seen[-1] == "event initialized":
                source = {"path": str(breakpoint_file)}
                send(3, "setBreakpoints", {"source": source, "breakpoints": [{"line": line}]})
                send(4, "configurationDone", {})
            if seen[-1] == "event stopped":
                send(5, "continue", {"threadId": message["body"]["threadId"]})
    return seen


@pytest.mark.slow
def test_debug_waits_on_localhost_for_an_ide_then_runs_the_job(project: Path) -> None:
    """A breakpoint set in the experiment's own source (not the run folder's copy) stops."""
    main = project / "experiments" / "example_experiment" / "src" / "example_experiment" / "main.py"
    lines = main.read_text().splitlines()
    line = lines.index("def main(argv: Sequence[str] | None = None) -> dict[str, float]:") + 2
    process, port = start_debug_run(project, 60, "inputs.epochs=1")

    protocol = attach(port, main, line)
    out, err = process.communicate(timeout=60)

    assert process.returncode == 0, err
    assert "event stopped" in protocol
    assert "test accuracy" in out


@pytest.mark.slow
def test_debug_ends_cleanly_when_nothing_attaches(project: Path) -> None:
    """After --debug-timeout seconds the job stops without running; the run is recorded,
    the port released."""
    before = run_folders(project)
    process, port = start_debug_run(project, 3, "command=python -c 'print(\"the job ran\")'")

    out, err = process.communicate(timeout=60)

    assert process.returncode == 1, err
    assert "no debugger attached within 3 s: the job was not run" in err
    assert "the job ran" not in out
    (folder,) = run_folders(project) - before
    assert json.loads((folder / "run.json").read_text())["status"] == "FAILED"
    assert not answers(port)


@pytest.mark.slow
def test_ctrl_c_while_waiting_for_a_debugger_ends_the_run_killed(project: Path) -> None:
    before = run_folders(project)
    process, _ = start_debug_run(project, 60, "command=python -c 'print(\"the job ran\")'")

    os.killpg(process.pid, signal.SIGINT)  # the terminal's Ctrl-C
    out, err = process.communicate(timeout=60)

    assert process.returncode == 130, err
    assert "Traceback" not in err and "Fatal" not in err
    assert "the job ran" not in out
    (folder,) = run_folders(project) - before
    assert json.loads((folder / "run.json").read_text())["status"] == "KILLED"


@pytest.mark.slow
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_job_past_its_time_limit_is_stopped_with_all_its_processes(
    workspace: Path, cli: Callable[..., Outcome], shape: str
) -> None:
    """limits.timeout, as Azure ML cancels a job: SIGTERM to every process of the command
    (not its shell alone), the run KILLED."""
    add_job(
        workspace / "experiments" / "beta",
        SHAPES[shape].format(job=lingering()),
        "limits:\n  timeout: 1\n",
    )

    outcome = cli(local.main, workspace, "beta")

    assert outcome.code == 143  # the job ended by SIGTERM
    assert "the job ran past its limits.timeout (1 s): stopping it" in outcome.err
    folder = only_run_folder(workspace)
    manifest = json.loads((folder / "run.json").read_text())
    assert (manifest["status"], manifest["timeout_seconds"]) == ("KILLED", 1)
    assert not (folder / "code" / "finished").exists()  # no process of it ran on
    assert "done" not in outcome.out


def test_pip_in_the_command_never_reaches_outside_the_jobs_environment(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    """The run's environment has no pip, nor has the job's image: the first `pip` on PATH
    would be yours, installing into your own Python. It fails instead, as in the image."""
    add_job(
        workspace / "experiments" / "beta",
        'pip install --target ./outputs/installed six; echo "pip=$?"; '
        'pip3 --version; echo "pip3=$?"',
    )

    outcome = cli(local.main, workspace, "beta")

    assert outcome.code == 0, outcome.err
    assert "pip=127" in outcome.out and "pip3=127" in outcome.out
    assert "the job's environment has no pip, as on Azure ML" in outcome.err
    assert not (only_run_folder(workspace) / "code" / "outputs" / "installed").exists()


@pytest.mark.slow
def test_a_package_from_another_index_is_installed_from_it(
    workspace: Path, package_index: str, cli: Callable[..., Outcome]
) -> None:
    """A member pinning a package to an index of its own (`[[tool.uv.index]]`, as for a CPU
    build of torch): the index travels with the requirements, so the environment builds."""
    beta = workspace / "experiments" / "beta"
    use_index(beta, package_index)
    run(["uv", "lock", "--quiet"], workspace, check=True)
    add_job(beta, "python -c 'import localpkg; print(localpkg.WHERE)'")

    outcome = cli(local.main, workspace, "beta")

    assert outcome.code == 0, outcome.err
    assert outcome.out.strip() == "from the local index"
    requirements = (only_run_folder(workspace) / "environment" / "requirements.txt").read_text()
    assert requirements.splitlines()[0] == f"--extra-index-url {package_index}"
    assert "localpkg==1.0+cpu" in requirements.splitlines()


@pytest.mark.slow
def test_processes_a_job_leaves_behind_end_with_it(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    """A command that starts a process and ends without waiting for it: on Azure ML the
    job's container goes with it, so the process does too."""
    add_job(workspace / "experiments" / "beta", f"{lingering()} & sleep 1; echo launched")

    outcome = cli(local.main, workspace, "beta")

    assert outcome.code == 0, outcome.err
    assert "left processes running: stopping them" in outcome.err
    folder = only_run_folder(workspace)
    assert not (folder / "code" / "finished").exists()
    assert json.loads((folder / "run.json").read_text())["status"] == "FINISHED"


def test_what_a_local_run_does_not_apply_is_said_in_one_line_each(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    add_job(
        workspace / "experiments" / "beta",
        "echo done",
        "compute: azureml:gpu-cluster\nresources:\n  shm_size: 8g\n",
    )
    job_file = workspace / "experiments" / "beta" / "azure-ml-job.yaml"
    job_file.write_text(
        job_file.read_text().replace(
            "environment:\n  build:\n    path: environment\n",
            "environment: azureml:sklearn-env@latest\n",
        )
    )

    outcome = cli(local.main, workspace, "beta")

    assert outcome.code == 0, outcome.err
    lines = outcome.err.splitlines()
    assert "not applied locally: compute (cloud only), resources.shm_size (cloud only)" in lines
    assert (
        "environment: the cloud runs this job in azureml:sklearn-env@latest; locally it runs "
        "in the experiment's own uv environment (its pyproject.toml)"
    ) in lines


def test_any_job_file_of_the_experiment_runs_and_reruns(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    beta = workspace / "experiments" / "beta"
    spec = (beta / "azure-ml-job.yaml").read_text().replace("import certifi", "print(42)")
    (beta / "jobs").mkdir()
    (beta / "jobs" / "other.yaml").write_text(spec)

    ran = cli(local.main, workspace, "beta", "-f", "jobs/other.yaml")
    folder = only_run_folder(workspace)
    again = cli(rerun.main, workspace, str(folder))
    outside = cli(local.main, workspace, "beta", "-f", "../alpha/azure-ml-job.yaml")
    missing = cli(local.main, workspace, "beta", "-f", "jobs/absent.yaml")

    assert (ran.code, again.code) == (0, 0), ran.err + again.err
    assert ran.out.startswith("42") and again.out.startswith("42")
    assert json.loads((folder / "run.json").read_text())["job_file"] == "jobs/other.yaml"
    assert (outside.code, missing.code) == (2, 2)
    assert outside.error_line.startswith("-f ../alpha/azure-ml-job.yaml is outside")
    assert missing.error_line.endswith("jobs/absent.yaml does not exist: check -f/--file")


def test_code_src_runs_its_script_with_inputs_from_the_job_files_folder(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    """A job as Azure ML's public examples write it: `code: src`, `python main.py`, shared
    code imported from beside the script, a relative input that .amlignore keeps out of the
    code snapshot (it is data, read where it is)."""
    experiment = workspace / "experiments" / "alpha"
    write(
        experiment / "azure-ml-job.yaml",
        """
        type: command
        code: src
        command: python main.py ${{inputs.table}}
        inputs:
          table:
            type: uri_file
            path: ./data/table.csv
        environment:
          build:
            path: environment
        """,
    )
    write(
        experiment / "src" / "main.py",
        "import os, sys\nfrom shared import GREETING\n"
        "print(sorted(os.listdir('.')), GREETING, open(sys.argv[1]).read().strip())\n",
    )
    write(experiment / ".amlignore", "data/\n")
    table = write(experiment / "data" / "table.csv", "rows\n")

    outcome = cli(local.main, workspace, "alpha")

    assert outcome.code == 0, outcome.err
    assert outcome.out.strip() == (
        "['alpha', 'logs', 'main.py', 'outputs', 'shared'] hello from shared rows"
    )
    manifest = json.loads((only_run_folder(workspace) / "run.json").read_text())
    assert manifest["inputs"] == {"table": str(table)}


def test_what_the_dry_run_refuses_local_refuses_alike(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    """`optional: true` on a command job's input: azure-ai-ml's schema refuses it, so the
    local run does, before anything is made, in the dry run's words."""
    add_job(
        workspace / "experiments" / "beta",
        "echo ${{inputs.seed}}",
        extra="inputs:\n  seed:\n    type: integer\n    optional: true\n",
    )

    dry_run = cli(aml.main, workspace, "beta", "--dry-run")
    locally = cli(local.main, workspace, "beta")

    assert dry_run.code == locally.code == 2
    assert locally.error_line == dry_run.error_line
    assert locally.error_line.startswith(
        "azure-ml-job.yaml is not a valid Azure ML job: inputs.seed"
    )
    assert not run_folders(workspace)  # nothing made, by either


def test_the_sdks_verdict_is_kept_per_job_file_and_sets(
    workspace: Path, cli: Callable[..., Outcome], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A repeated run does not check again (azure-ai-ml takes seconds to import), nor does a
    new value of a literal input (the SDK keeps any text there: tests/core/test_jobspec.py);
    an edited job file or other `--set`s are checked anew."""
    experiment = workspace / "experiments" / "beta"
    add_job(experiment, "echo ${{inputs.epochs}}", extra="inputs:\n  epochs: 1\n")
    assert cli(local.main, workspace, "beta").code == 0
    checked: list[Path] = []

    def check(job_file: Path, sets: list[Override], placed: list[Override]) -> list[Override]:
        checked.append(job_file)
        return sets

    monkeypatch.setattr(prepare, "typed_overrides", check)

    assert cli(local.main, workspace, "beta").code == 0
    assert checked == []
    assert cli(local.main, workspace, "beta", "--set", "inputs.epochs=2").code == 0
    assert checked == [experiment / "azure-ml-job.yaml"]
    new_value = cli(local.main, workspace, "beta", "--set", "inputs.epochs=3 or more")
    assert (new_value.code, new_value.out, len(checked)) == (0, "3 or more\n", 1)
    add_job(experiment, "echo ${{inputs.epochs}}!", extra="inputs:\n  epochs: 1\n")
    assert cli(local.main, workspace, "beta").code == 0
    assert len(checked) == 2


RENDEZVOUS = """
import os, socket, sys, time
rank, size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
me = f"{rank}:{os.environ['LOCAL_RANK']}:{os.environ['NODE_RANK']}"
address = (os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]))
if rank == 0:
    with socket.create_server(address) as server:
        peers = [server.accept()[0].makefile().readline().strip() for _ in range(size - 1)]
    print("rank 0 met", " ".join(sorted(peers)))
else:
    for _ in range(200):
        try:
            with socket.create_connection(address) as link:
                link.sendall(f"{me}\\n".encode())
            break
        except ConnectionRefusedError:
            time.sleep(0.05)
    print("rank", rank, "sent", me)
"""

DISTRIBUTED = """
resources:
  instance_count: 2
distribution:
  type: pytorch
  process_count_per_instance: 2
"""


def test_a_pytorch_job_runs_every_rank_and_they_meet_on_localhost(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    """2 nodes x 2 processes: four processes rendezvous at MASTER_ADDR:MASTER_PORT (plain
    sockets: no torch needed); the terminal shows rank 0, each rank logs to its own file."""
    experiment = workspace / "experiments" / "beta"
    write(experiment / "rendezvous.py", RENDEZVOUS)
    add_job(experiment, "python rendezvous.py", extra=DISTRIBUTED)

    outcome = cli(local.main, workspace, "beta")

    assert outcome.code == 0, outcome.err
    assert outcome.out.strip() == "rank 0 met 1:1:0 2:0:1 3:1:1"
    logs = only_run_folder(workspace) / "user_logs"
    assert sorted(p.name for p in logs.iterdir()) == [
        f"std_log_process_{rank}.txt" for rank in range(4)
    ]
    assert (logs / "std_log_process_2.txt").read_text() == "rank 2 sent 2:0:1\n"
    manifest = json.loads((only_run_folder(workspace) / "run.json").read_text())
    assert manifest["distribution"] == {
        "type": "pytorch",
        "instance_count": 2,
        "process_count_per_instance": 2,
    }


def test_set_values_are_typed_as_azure_ai_ml_types_them(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    """`az ml job create --set limits.timeout=5` means the integer 5: the SDK's schema types
    every value given on the command line, and so does a local run (the same sets pass
    `just aml --dry-run`)."""
    experiment = workspace / "experiments" / "beta"
    write(experiment / "rendezvous.py", RENDEZVOUS)
    add_job(experiment, "python rendezvous.py")
    sets = [
        "limits.timeout=600",
        "resources.instance_count=2",
        "distribution.type=pytorch",
        "distribution.process_count_per_instance=2",
    ]
    arguments = [arg for value in sets for arg in ("--set", value)]

    outcome = cli(local.main, workspace, "beta", *arguments)

    assert outcome.code == 0, outcome.err
    assert outcome.out.strip() == "rank 0 met 1:1:0 2:0:1 3:1:1"
    manifest = json.loads((only_run_folder(workspace) / "run.json").read_text())
    assert manifest["timeout_seconds"] == 600
    assert manifest["distribution"]["process_count_per_instance"] == 2
    assert cli(aml.main, workspace, "beta", "--dry-run", *arguments).code == 0


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("command=", "has no `command` (after --set): add the command the job runs"),
        ("command=  ", "has no `command` (after --set): add the command the job runs"),
        ("environment_variables=abc", "`environment_variables` must be a mapping (after --set)"),
        ("limits.timeout=soon", "limits.timeout: Not a valid integer"),
    ],
)
def test_a_set_that_breaks_the_job_is_refused_alike_by_local_and_aml(
    workspace: Path, cli: Callable[..., Outcome], value: str, says: str
) -> None:
    locally = cli(local.main, workspace, "beta", "--set", value)
    dry_run = cli(aml.main, workspace, "beta", "--dry-run", "--set", value)

    assert locally.code == dry_run.code == 2, locally.err + dry_run.err
    assert says in locally.error_line and says in dry_run.error_line
    assert not run_folders(workspace)


def test_the_first_failing_rank_stops_the_others(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    experiment = workspace / "experiments" / "beta"
    write(
        experiment / "ranks.py",
        """
        import glob, os, sys, time
        open(f"pid_{os.environ['RANK']}", "w").write(str(os.getpid()))
        while os.environ["RANK"] == "3":
            if len(glob.glob("pid_*")) == 4:  # every rank is running
                sys.exit(3)
            time.sleep(0.02)
        time.sleep(60)
        """,
    )
    add_job(experiment, "python ranks.py", extra=DISTRIBUTED)

    outcome = cli(local.main, workspace, "beta")

    assert outcome.code == 3
    assert "warning: process 3 failed (exit code 3): stopping the others" in outcome.err
    folder = only_run_folder(workspace)
    assert json.loads((folder / "run.json").read_text())["status"] == "FAILED"
    for rank in range(3):
        with pytest.raises(ProcessLookupError):
            os.kill(int((folder / "code" / f"pid_{rank}").read_text()), 0)


@pytest.mark.slow
def test_ctrl_c_stops_every_rank(workspace: Path) -> None:
    experiment = workspace / "experiments" / "beta"
    write(
        experiment / "ranks.py",
        """
        import os, time
        open(f"pid_{os.environ['RANK']}", "w").write(str(os.getpid()))
        print("started", flush=True)
        time.sleep(60)
        """,
    )
    add_job(experiment, "python ranks.py", extra=DISTRIBUTED)
    process = start_script(workspace, "local", "beta")
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "started"  # rank 0; the others start alike
    folder = only_run_folder(workspace) / "code"
    for _ in range(200):
        if len(list(folder.glob("pid_*"))) == 4:
            break
        time.sleep(0.05)

    os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole group
    process.communicate(timeout=30)

    assert process.returncode == 130
    for pid_file in folder.glob("pid_*"):
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid_file.read_text()), 0)


@pytest.mark.slow
def test_every_rank_logs_into_the_one_mlflow_run(
    project: Path, cli: Callable[..., Outcome]
) -> None:
    experiment = project / "experiments" / "example_experiment"
    job_file = write(
        experiment / "ranks.yaml",
        """
        type: command
        code: .
        command: >-
          python -c "import mlflow, os; mlflow.log_metric('rank_' + os.environ['RANK'], 1)"
        environment:
          build:
            path: environment
        distribution:
          type: pytorch
          process_count_per_instance: 2
        """,
    )
    try:
        outcome = cli(local.main, project, "example_experiment", "-f", job_file.name)
    finally:
        job_file.unlink()

    assert outcome.code == 0, outcome.err
    manifest = json.loads((newest_folder(project) / "run.json").read_text())
    client = MlflowClient(f"sqlite:///{project / 'runs' / 'mlflow.db'}")
    metrics = client.get_run(manifest["tracking_run_id"]).data.metrics
    assert metrics == {"rank_0": 1.0, "rank_1": 1.0}


def test_a_write_into_a_read_only_input_is_reported(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    """Azure ML mounts data inputs read-only (ro_mount, the default): locally they are your
    own files, so a write is reported (a permission would not stop a job run as root)."""
    experiment = workspace / "experiments" / "beta"
    data = write(experiment / "data" / "rows.csv", "a\n").parent
    inputs = "inputs:\n  data:\n    type: uri_folder\n    path: ./data\n"
    add_job(experiment, "cat ${{inputs.data}}/rows.csv", extra=inputs)
    reading = cli(local.main, workspace, "beta")
    add_job(experiment, "echo b >> ${{inputs.data}}/rows.csv", extra=inputs)

    writing = cli(local.main, workspace, "beta")

    assert reading.code == writing.code == 0
    assert "read-only" not in reading.err
    assert (
        f"warning: the job changed its input 'data' ({data / 'rows.csv'}), which Azure ML "
        "gives it read-only"
    ) in writing.err


def test_an_mpi_job_gets_open_mpis_variables_and_says_mpirun_is_not_used(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    add_job(
        workspace / "experiments" / "beta",
        "echo rank $OMPI_COMM_WORLD_RANK of $OMPI_COMM_WORLD_SIZE",
        extra="distribution:\n  type: mpi\n  process_count_per_instance: 2\n",
    )

    outcome = cli(local.main, workspace, "beta")

    assert outcome.code == 0, outcome.err
    assert outcome.out == "rank 0 of 2\n"
    logs = only_run_folder(workspace) / "user_logs"
    assert (logs / "std_log_process_1.txt").read_text() == "rank 1 of 2\n"
    assert "no mpirun starts them: code that calls MPI itself" in outcome.err


def test_data_references_resolve_to_their_local_copies(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    """`:VERSION`, `@latest` among versions 1, 3 and 12, a datastore path and a `uri_file`
    asset, from data/ as `just data-download` leaves it; a missing one says how to get it."""
    data = workspace / "data"
    for version in ("1", "3", "12"):
        (data / "digits" / version).mkdir(parents=True)
    (data / "datastores" / "workspaceblobstore" / "raw" / "2024").mkdir(parents=True)
    rows = write(data / "table" / "1" / "rows.csv", "a\n")
    add_job(
        workspace / "experiments" / "beta",
        "echo ${{inputs.a}} ${{inputs.b}} ${{inputs.c}} ${{inputs.d}}",
        extra="""
        inputs:
          a: {type: uri_folder, path: "azureml:digits:3"}
          b: {type: uri_folder, path: "azureml:digits@latest"}
          c: {type: uri_folder, path: "azureml://datastores/workspaceblobstore/paths/raw/2024"}
          d: {type: uri_file, path: "azureml:table:1"}
        """,
    )

    found = cli(local.main, workspace, "beta")
    missing = cli(local.main, workspace, "beta", "--set", "inputs.a.path=azureml:digits:7")

    assert found.code == 0, found.err
    assert found.out.split() == [
        str(data / "digits" / "3"),
        str(data / "digits" / "12"),
        str(data / "datastores" / "workspaceblobstore" / "raw" / "2024"),
        str(rows),
    ]
    assert "azureml:digits@latest is data/digits/12, the latest version here" in found.err
    assert missing.code == 2
    assert missing.error_line.endswith("(or `just data-download digits:7`)")
