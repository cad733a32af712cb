"""Run records on the tiny workspace: run.json, logs, statuses, `just runs`, `just rerun`."""

import hashlib
import json
import os
import signal
import time
from pathlib import Path

from tests.helpers import (
    add_job,
    newest_folder,
    run,
    script,
    start_script,
    start_slow_job,
    write,
)


def manifest_of(folder: Path) -> dict[str, object]:
    return json.loads((folder / "run.json").read_text())


def test_manifest_records_the_run(workspace: Path) -> None:
    add_job(
        workspace / "experiments" / "beta",
        "echo to-stdout && echo to-stderr >&2 && echo ${{inputs.greeting}}",
        extra="inputs:\n  greeting: hello\n",
    )
    commit = run(["git", "rev-parse", "HEAD"], workspace, check=True).stdout.strip()

    result = script(workspace, "local", "beta", "--set", "inputs.greeting=bonjour")

    assert result.returncode == 0, result.stderr
    assert "to-stdout" in result.stdout and "to-stderr" in result.stderr  # streamed live
    folder = newest_folder(workspace)
    manifest = manifest_of(folder)
    requirements = (folder / "environment" / "requirements.txt").read_bytes()
    assert manifest["experiment"] == "beta"
    assert manifest["run_name"] == folder.name
    assert manifest["command"] == "echo to-stdout && echo to-stderr >&2 && echo bonjour"
    assert manifest["inputs"] == {"greeting": "bonjour"}
    assert manifest["environment_variables"] == {"PYTHONPATH": "src"}
    assert manifest["requirements_sha256"] == hashlib.sha256(requirements).hexdigest()
    assert manifest["git"] == {
        "commit": commit,
        "branch": "main",
        "dirty": True,  # add_job changed the job file
        "diff_stat": "1 file changed, 3 insertions(+), 1 deletion(-)",
    }
    assert manifest["status"] == "FINISHED" and manifest["exit_code"] == 0
    assert manifest["started"] <= manifest["ended"]  # type: ignore[operator]
    assert isinstance(manifest["duration_seconds"], float)
    log = (folder / "logs" / "std_log.txt").read_text()
    assert "to-stdout" in log and "to-stderr" in log and "bonjour" in log


def test_failed_job_is_recorded_failed(workspace: Path) -> None:
    add_job(workspace / "experiments" / "beta", "python -c 'raise SystemExit(3)'")

    assert script(workspace, "local", "beta").returncode == 3

    manifest = manifest_of(newest_folder(workspace))
    assert (manifest["status"], manifest["exit_code"]) == ("FAILED", 3)


def test_sigint_to_the_job_records_killed(workspace: Path) -> None:
    process, folder = start_slow_job(workspace)

    os.kill(int((folder / "pid").read_text()), signal.SIGINT)
    _, stderr = process.communicate(timeout=30)

    assert process.returncode == 130, stderr
    manifest = manifest_of(folder)
    assert (manifest["status"], manifest["exit_code"]) == ("KILLED", 130)
    assert "started" in (folder / "logs" / "std_log.txt").read_text()


def test_sigterm_to_the_runner_records_killed(workspace: Path) -> None:
    process, folder = start_slow_job(workspace)

    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)

    assert process.returncode == 143, stderr
    assert "scripts/" not in stderr  # no traceback from the tooling
    assert manifest_of(folder)["status"] == "KILLED"


def test_manifest_says_running_while_the_job_runs(workspace: Path) -> None:
    process, folder = start_slow_job(workspace)
    try:
        assert manifest_of(folder)["status"] == "RUNNING"
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.communicate(timeout=30)


def test_runs_lists_newest_first(workspace: Path) -> None:
    add_job(workspace / "experiments" / "beta", "python -c 'raise SystemExit(1)'")
    script(workspace, "local", "beta")
    time.sleep(1.1)  # run names sort by their second
    script(workspace, "local", "alpha")

    listing = script(workspace, "runs").stdout.splitlines()
    only_beta = script(workspace, "runs", "beta").stdout.splitlines()

    assert listing[0].split() == ["RUN", "EXPERIMENT", "STATUS", "DURATION", "METRICS"]
    assert [line.split()[1:3] for line in listing[1:]] == [
        ["alpha", "FINISHED"],
        ["beta", "FAILED"],
    ]
    assert [line.split()[1] for line in only_beta[1:]] == ["beta"]


def test_runs_without_runs_says_how_to_start(workspace: Path) -> None:
    result = script(workspace, "runs")
    assert result.returncode == 0
    assert "no local runs yet" in result.stderr


def test_rerun_repeats_the_recorded_run_after_the_source_changed(workspace: Path) -> None:
    experiment = workspace / "experiments" / "beta"
    add_job(experiment, "echo value=${{inputs.x}}", extra="inputs:\n  x: 1\n")
    first = script(workspace, "local", "beta", "--set", "inputs.x=42")
    original = newest_folder(workspace)
    add_job(experiment, "echo changed", extra="inputs:\n  x: 1\n")
    write(experiment / "src" / "beta" / "__init__.py", "raise RuntimeError('changed')\n")
    time.sleep(1.1)

    again = script(workspace, "rerun", str(original))

    assert again.returncode == 0, again.stderr
    assert first.stdout.splitlines()[0] == again.stdout.splitlines()[0] == "value=42"
    rerun_folder = newest_folder(workspace)
    assert rerun_folder != original
    manifest = manifest_of(rerun_folder)
    assert manifest["rerun_of"] == str(original)
    assert manifest["run_name"] == rerun_folder.name
    assert manifest["command"] == manifest_of(original)["command"]
    assert "changed" not in (rerun_folder / "src" / "beta" / "__init__.py").read_text()


def test_rerun_of_a_missing_or_non_run_folder(workspace: Path) -> None:
    write(workspace / "runs" / "beta" / "not-a-run" / "notes.txt", "x")
    for argument, problem in [
        ("runs/beta/absent", "is not a folder"),
        ("runs/beta/not-a-run", "is not a run folder"),
    ]:
        result = script(workspace, "rerun", argument)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and problem in result.stderr


def test_a_closed_terminal_does_not_stall_the_job(workspace: Path) -> None:
    add_job(workspace / "experiments" / "beta", "python -c 'print(*range(200000), sep=chr(10))'")
    process = start_script(workspace, "local", "beta")
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # like `just local beta | head -0`

    assert process.wait(timeout=120) == 0, process.stderr.read()
    log = (newest_folder(workspace) / "logs" / "std_log.txt").read_text().splitlines()
    assert log[-1] == "199999"
