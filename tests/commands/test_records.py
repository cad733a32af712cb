"""Run records on the tiny workspace: run.json, logs, statuses, `just runs`, `just rerun`.

In-process (the `cli` fixture) but for what needs the runner as a process of its own:
signals, and a terminal that goes away.
"""

import dataclasses
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from scripts import iso, local, rerun, runs
from scripts.console import report
from scripts.console.errors import UsageError
from scripts.runfolder.layout import find_run_folders
from scripts.runfolder.manifest import Manifest, read_manifest, read_manifests, read_records
from scripts.runner import orphans
from scripts.runner.run import status_of
from tests.helpers import (
    REPOSITORY,
    SHAPES,
    SLOW_JOB,
    Outcome,
    add_job,
    lingering,
    newest_folder,
    run,
    start_script,
    start_slow_job,
    write,
)


def manifest_of(folder: Path) -> dict[str, object]:
    return json.loads((folder / "run.json").read_text())


def test_manifest_records_the_run(workspace: Path, cli: Callable[..., Outcome]) -> None:
    add_job(
        workspace / "experiments" / "beta",
        "echo to-stdout && echo to-stderr >&2 && echo ${{inputs.greeting}}",
        extra="inputs:\n  greeting: hello\n",
    )
    commit = run(["git", "rev-parse", "HEAD"], workspace, check=True).stdout.strip()

    outcome = cli(local.main, workspace, "beta", "--set", "inputs.greeting=bonjour")

    assert outcome.code == 0, outcome.err
    assert "to-stdout" in outcome.out and "to-stderr" in outcome.err  # streamed live
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
    log = (folder / "user_logs" / "std_log.txt").read_text()
    assert "to-stdout" in log and "to-stderr" in log and "bonjour" in log


def test_failed_job_is_recorded_failed(workspace: Path, cli: Callable[..., Outcome]) -> None:
    add_job(workspace / "experiments" / "beta", "python -c 'raise SystemExit(3)'")

    assert cli(local.main, workspace, "beta").code == 3

    manifest = manifest_of(newest_folder(workspace))
    assert (manifest["status"], manifest["exit_code"]) == ("FAILED", 3)


@contextmanager
def tiny_disk(folder: Path) -> Iterator[Path]:
    """`folder` on a 1 MB tmpfs of its own (root may mount one; the test is skipped
    elsewhere)."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.fixture
def small_disk(workspace: Path) -> Iterator[Path]:
    """runs/beta/ on a disk of its own, nearly full."""
    with tiny_disk(workspace / "runs" / "beta") as folder:
        yield folder


def test_a_full_disk_while_the_job_runs_still_records_it(
    small_disk: Path, workspace: Path, cli: Callable[..., Outcome]
) -> None:
    add_job(
        workspace / "experiments" / "beta",
        # Once the runner has logged "before" (it writes as the job prints, but not at once
        # on a busy machine), the disk is full from here on.
        "echo before; "
        "for i in $(seq 200); do grep -q before ../user_logs/std_log.txt && break; "
        "sleep 0.05; done; "
        "head -c 2000000 /dev/zero > fill; yes x | head -c 100000; echo after; true",
    )

    outcome = cli(local.main, workspace, "beta")

    assert outcome.code == 0, outcome.err  # the job's own exit code
    assert "Traceback" not in outcome.err
    (folder,) = {p.parent for p in small_disk.glob("*/run.json")}
    manifest = manifest_of(folder)
    assert (manifest["status"], manifest["exit_code"]) == ("FINISHED", 0)
    assert (folder / "user_logs" / "std_log.txt").read_text().startswith("before\n")
    assert "warning: std_log.txt is incomplete: No space left on device" in outcome.err
    assert outcome.out.endswith("after\n")  # the job went on, its output too


@pytest.mark.parametrize(
    ("code", "stopped", "status"),
    [
        (0, False, "FINISHED"),
        (1, False, "FAILED"),
        (130, False, "KILLED"),
        (137, False, "KILLED"),
        (143, False, "KILLED"),
        (0, True, "FINISHED"),  # stopped, but the job finished anyway
        (2, True, "KILLED"),  # stopped, and the job gave up with its own code
    ],
)
def test_final_status(code: int, stopped: bool, status: str) -> None:
    assert status_of(code, stopped) == status


def a_manifest(run_name: str, **recorded: object) -> Manifest:
    given: dict[str, object] = {
        "experiment": "beta",
        "mlflow_experiment": "beta",
        "command": "echo 1",
        "inputs": {"x": "1"},
        "environment_variables": {"A": "b"},
        "requirements_sha256": "0" * 64,
        "local_tracking_requirements": "",
        "git": None,
        "output_folders": ["outputs/model"],
    }
    return Manifest(run_name=run_name, **(given | recorded))  # type: ignore[arg-type]


def test_a_manifest_is_written_atomically_and_read_back(tmp_path: Path) -> None:
    manifest = a_manifest("20260101_000000_run", status="FINISHED", metrics={"loss": 0.5})

    manifest.write(tmp_path)

    assert read_manifest(tmp_path) == manifest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]  # no staging file left


def test_a_manifest_of_every_older_version_is_read_and_a_newer_one_refused(
    tmp_path: Path,
) -> None:
    written = a_manifest("20260101_000000_run", status="FINISHED")
    version_1 = {  # before versions: no `version`, no pipeline fields
        key: value
        for key, value in dataclasses.asdict(written).items()
        if key not in ("version", "kind", "parent_run_id", "steps", "pipeline_outputs")
    }
    (tmp_path / "run.json").write_text(json.dumps(version_1))

    read = read_manifest(tmp_path)

    assert (read.version, read.kind, read.steps) == (1, "command", [])
    assert dataclasses.replace(read, version=written.version) == written
    (tmp_path / "run.json").write_text(json.dumps(version_1 | {"version": 99}))
    with pytest.raises(ValueError, match=r"run\.json is version 99, newer than this tooling"):
        read_manifest(tmp_path)


def test_a_rerun_manifest_keeps_what_the_run_was_given_and_nothing_it_recorded() -> None:
    recorded = a_manifest(
        "20260101_000000_old",
        tracking_store="/x/mlflow.db",
        started="2026-01-01T00:00:00+00:00",
        status="FAILED",
        ended="2026-01-01T00:00:01+00:00",
        duration_seconds=1.0,
        exit_code=1,
        tracking_run_id="abc",
        metrics={"loss": 0.5},
    )

    again = recorded.for_rerun("20260102_000000_new", rerun_of="/runs/beta/old")

    assert again == a_manifest("20260102_000000_new", rerun_of="/runs/beta/old")


def test_manifests_are_listed_newest_first_and_unreadable_ones_named(tmp_path: Path) -> None:
    for name in ("20260101_000000_a", "20260103_000000_c", "20260102_000000_b"):
        (tmp_path / "beta" / name).mkdir(parents=True)
        a_manifest(name).write(tmp_path / "beta" / name)
    write(tmp_path / "beta" / "20260104_000000_broken" / "run.json", "{not json")

    found, unreadable = read_manifests(find_run_folders(tmp_path, "beta").folders)

    assert [(run.folder.name, run.manifest.run_name) for run in found] == [
        ("20260103_000000_c", "20260103_000000_c"),
        ("20260102_000000_b", "20260102_000000_b"),
        ("20260101_000000_a", "20260101_000000_a"),
    ]
    assert unreadable == [tmp_path / "beta" / "20260104_000000_broken"]
    assert read_manifests(find_run_folders(tmp_path, "alpha").folders) == ([], [])


def test_the_runs_table() -> None:
    finished = a_manifest(
        "20260102_000000_b",
        status="FINISHED",
        duration_seconds=75.25,
        metrics={"loss": 0.123456, "accuracy": 0.9, "f1": 0.8, "recall": 0.7},
    )
    running = a_manifest("20260101_000000_a")

    rows = [runs.HEADER, runs.row(finished), runs.row(running)]

    assert report.table(rows).splitlines() == [
        "RUN                EXPERIMENT  WHERE  STATUS    DURATION  METRICS",
        "20260102_000000_b  beta        local  FINISHED  1m15.2s   "
        "accuracy=0.9  f1=0.8  loss=0.1235",
        "20260101_000000_a  beta        local  RUNNING   -",
    ]


def test_local_and_cloud_runs_are_listed_newest_first_and_compared(tmp_path: Path) -> None:
    local = a_manifest(
        "20260102_000000_local",
        started="2026-01-02T00:00:00+00:00",
        status="FINISHED",
        inputs={"epochs": "20", "learning_rate": "0.01"},
        metrics={"accuracy": 0.91, "loss": 0.3},
    )
    cloud = a_manifest(
        "quiet_job_x1",
        started="2026-01-03T00:00:00+00:00",
        status="FINISHED",
        inputs={"epochs": "20", "learning_rate": "0.05"},
        metrics={"accuracy": 0.95},
        job_name="quiet_job_x1",
    )
    for manifest, folder in ((local, local.run_name), (cloud, f"{cloud.run_name}/cloud")):
        (tmp_path / "beta" / folder).mkdir(parents=True)
        manifest.write(tmp_path / "beta" / folder)

    found, unreadable = read_records(find_run_folders(tmp_path).folders)

    assert unreadable == []
    assert [(run.manifest.run_name, run.manifest.where) for run in found] == [
        ("quiet_job_x1", "cloud"),
        ("20260102_000000_local", "local"),
    ]
    compared = runs.compared(runs.chosen(found, ["20260102_000000_local", "quiet_job_x1"]))
    assert report.table(compared).splitlines() == [
        "                     20260102_000000_local  quiet_job_x1",
        "where                local                  cloud",
        "status               FINISHED               FINISHED",
        "duration             -                      -",
        "param learning_rate  0.01                   0.05",
        "metric accuracy      0.91                   0.95",
        "metric loss          0.3                    -",
        "(the same in all)",
        "param epochs         20                     20",
    ]
    with pytest.raises(UsageError, match="no run 'gone' here"):
        runs.chosen(found, ["gone", "quiet_job_x1"])


@pytest.mark.slow
def test_sigint_to_the_job_records_killed(workspace: Path) -> None:
    process, folder = start_slow_job(workspace)

    os.kill(int((folder / "code" / "pid").read_text()), signal.SIGINT)
    _, stderr = process.communicate(timeout=30)

    assert process.returncode == 130, stderr
    manifest = manifest_of(folder)
    assert (manifest["status"], manifest["exit_code"]) == ("KILLED", 130)
    assert "started" in (folder / "user_logs" / "std_log.txt").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_or_sighup_to_the_runner_stops_the_whole_job(workspace: Path, stop: int) -> None:
    add_job(
        workspace / "experiments" / "beta", SHAPES["background and wait"].format(job=lingering())
    )
    process = start_script(workspace, "local", "beta")
    assert process.stdout is not None
    assert process.stdout.readline().startswith("started")  # the two may print at once
    folder = newest_folder(workspace)

    process.send_signal(stop)  # passed on to every process of the job
    _, stderr = process.communicate(timeout=30)

    assert process.returncode == 128 + stop, stderr
    assert "scripts/" not in stderr  # no traceback from the tooling
    assert manifest_of(folder)["status"] == "KILLED"
    assert not (folder / "code" / "finished").exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("ignored", "trap", "presses", "code"),
    [
        ("signal.SIGINT,", "", 2, 143),
        ("signal.SIGINT, signal.SIGTERM", "trap '' INT TERM; ", 3, 137),
    ],
)
def test_ctrl_c_again_terminates_then_kills_a_job_that_ignores_it(
    workspace: Path, ignored: str, trap: str, presses: int, code: int
) -> None:
    """The job's child ignores Ctrl-C (and its shell too, and SIGTERM, for the third
    press): each press reaches every process of the job, the last one ends all of them."""
    stubborn = lingering(ignoring=ignored)
    add_job(workspace / "experiments" / "beta", f"{trap}{stubborn}; echo done")
    process = start_script(workspace, "local", "beta")
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "started"
    folder = newest_folder(workspace)

    for _ in range(presses):
        os.killpg(process.pid, signal.SIGINT)  # the terminal's Ctrl-C, to the whole group
        time.sleep(0.5)
    _, stderr = process.communicate(timeout=30)

    assert process.returncode == code, stderr
    assert "stopping: the job got Ctrl-C; press it again within 5 s" in stderr
    assert manifest_of(folder)["status"] == "KILLED"
    assert not (folder / "code" / "finished").exists()


@pytest.mark.slow
def test_sigterm_to_just_reaches_the_job_and_leaves_no_orphan(workspace: Path) -> None:
    """What `timeout`, CI cancellation and IDEs send. just passes SIGTERM to its child, which
    is the runner itself (recipes `exec` it): no shell in between to die and orphan it."""
    shutil.copy2(REPOSITORY / "justfile", workspace / "justfile")
    add_job(workspace / "experiments" / "beta", SLOW_JOB)
    process = subprocess.Popen(
        ["just", "local", "beta"],
        cwd=workspace,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "started"
    folder = newest_folder(workspace)
    job = int((folder / "code" / "pid").read_text())

    process.send_signal(signal.SIGTERM)  # to just alone
    _, stderr = process.communicate(timeout=30)

    assert process.returncode == 143, stderr
    assert manifest_of(folder)["status"] == "KILLED"
    with pytest.raises(ProcessLookupError):
        os.kill(job, 0)  # the job is gone too


@pytest.mark.slow
def test_a_run_whose_runner_was_killed_is_recorded_killed_by_the_next_listing(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    process, folder = start_slow_job(workspace)
    job = int((folder / "code" / "pid").read_text())
    process.kill()  # SIGKILL: the runner records nothing; its job lives on, orphaned
    process.communicate(timeout=30)
    assert manifest_of(folder)["status"] == "RUNNING"

    listing = cli(runs.main, workspace)

    assert [row.split()[3] for row in listing.out.splitlines()[1:]] == ["KILLED"]
    assert f"run {folder.name}: its runner is gone (killed?); recorded KILLED" in listing.err
    assert manifest_of(folder)["status"] == "KILLED"
    for _ in range(100):  # the orphaned job was told to stop
        try:
            os.kill(job, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the orphaned job still runs")
    assert "recorded KILLED" not in cli(runs.main, workspace).err  # recorded once


@pytest.mark.slow
def test_manifest_says_running_and_the_log_grows_while_the_job_runs(workspace: Path) -> None:
    process, folder = start_slow_job(workspace)
    try:
        assert manifest_of(folder)["status"] == "RUNNING"
        assert (folder / "user_logs" / "std_log.txt").read_text() == "started\n"
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.communicate(timeout=30)


def test_runs_lists_the_runs_local_recorded(workspace: Path, cli: Callable[..., Outcome]) -> None:
    add_job(workspace / "experiments" / "beta", "python -c 'raise SystemExit(1)'")
    cli(local.main, workspace, "beta")
    write(workspace / "runs" / "beta" / "20260101_000000_broken" / "run.json", "{")

    listing = cli(runs.main, workspace)
    only_alpha = cli(runs.main, workspace, "alpha")

    rows = listing.out.splitlines()
    assert rows[0].split() == runs.HEADER
    assert [row.split()[1:4] for row in rows[1:]] == [["beta", "local", "FAILED"]]
    assert f"warning: {workspace}/runs/beta/20260101_000000_broken has no readable" in listing.err
    assert (only_alpha.code, only_alpha.out) == (0, "")
    assert "no runs yet: start one with `just local EXP`" in only_alpha.err


def test_rerun_repeats_the_recorded_run_after_the_source_changed(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    experiment = workspace / "experiments" / "beta"
    add_job(experiment, "echo value=${{inputs.x}}", extra="inputs:\n  x: 1\n")
    write(experiment / "src" / "beta" / "logs" / "keep.txt", "code, not a log\n")
    first = cli(local.main, workspace, "beta", "--set", "inputs.x=42")
    (original,) = {p.parent for p in (workspace / "runs").glob("beta/*/run.json")}
    add_job(experiment, "echo changed", extra="inputs:\n  x: 1\n")
    write(experiment / "src" / "beta" / "__init__.py", "raise RuntimeError('changed')\n")
    write(original / "code" / "outputs" / "model.bin", "written by the first run\n")
    outside = write(workspace.parent / "outside.txt", "not the repository's\n")
    (original / "code" / "src" / "leak.txt").symlink_to(outside)  # placed there by hand

    again = cli(rerun.main, workspace, str(original.relative_to(workspace)))

    assert again.code == 0, again.err
    assert first.out.splitlines()[0] == again.out.splitlines()[0] == "value=42"
    (rerun_folder,) = {p.parent for p in (workspace / "runs").glob("beta/*/run.json")} - {original}
    assert (rerun_folder / "code" / "src" / "beta" / "logs" / "keep.txt").is_file()
    assert not any((rerun_folder / "code" / "outputs").iterdir())  # made afresh, empty
    assert (rerun_folder / "user_logs" / "std_log.txt").read_text() == "value=42\n"  # its own log
    manifest = manifest_of(rerun_folder)
    assert manifest["rerun_of"] == str(original)
    assert manifest["run_name"] == rerun_folder.name
    assert manifest["command"] == manifest_of(original)["command"]
    assert "changed" not in (rerun_folder / "code" / "src" / "beta" / "__init__.py").read_text()
    assert not (rerun_folder / "code" / "src" / "leak.txt").exists()  # nothing from outside
    assert "not copied, a symbolic link: code/src/leak.txt" in again.err


def test_secrets_in_environment_variables_reach_the_job_but_not_the_record(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    secret, connection = "s3cr3t-TOKEN-value", "DefaultEndpointsProtocol=https;AccountKey=abc=="
    experiment = workspace / "experiments" / "beta"
    add_job(experiment, 'echo "$API_TOKEN|$STORAGE|$PYTHONPATH"')
    job = experiment / "azure-ml-job.yaml"
    job.write_text(
        job.read_text().replace(
            "  PYTHONPATH: src\n",
            f"  PYTHONPATH: src\n  API_TOKEN: {secret}\n  STORAGE: '{connection}'\n",
        )
    )

    first = cli(local.main, workspace, "beta")
    (original,) = {p.parent for p in (workspace / "runs").glob("beta/*/run.json")}
    again = cli(rerun.main, workspace, str(original))

    assert first.out == again.out == f"{secret}|{connection}|src\n"
    for folder in {p.parent for p in (workspace / "runs").glob("beta/*/run.json")}:
        assert manifest_of(folder)["environment_variables"] == {
            "PYTHONPATH": "src",
            "API_TOKEN": "***",
            "STORAGE": "***",
        }
        assert secret not in (folder / "run.json").read_text()
    assert "warning: environment variable API_TOKEN looks like a secret" in first.err
    assert "warning: environment variable STORAGE looks like a secret" in first.err


def test_rerun_of_a_folder_made_by_iso_says_what_to_run(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    made = Path(cli(iso.main, workspace, "beta").out.strip())

    outcome = cli(rerun.main, workspace, str(made))

    assert outcome.code == 2
    assert outcome.error_line == (
        f"{made} was made by `just iso` and has not run, so there is nothing to repeat: "
        "run `just local beta`"
    )


def test_rerun_of_a_folder_that_is_not_a_run(workspace: Path, cli: Callable[..., Outcome]) -> None:
    write(workspace / "runs" / "beta" / "not-a-run" / "notes.txt", "x")

    outcome = cli(rerun.main, workspace, "runs/beta/not-a-run")

    assert outcome.code == 2
    assert "runs/beta/not-a-run is not a run folder (no readable run.json)" in outcome.error_line


@pytest.mark.slow
def test_a_closed_terminal_does_not_stall_the_job(workspace: Path) -> None:
    add_job(workspace / "experiments" / "beta", "python -c 'print(*range(200000), sep=chr(10))'")
    process = start_script(workspace, "local", "beta")
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # like `just local beta | head -0`

    assert process.wait(timeout=120) == 0, process.stderr.read()
    log = (newest_folder(workspace) / "user_logs" / "std_log.txt").read_text().splitlines()
    assert log[-1] == "199999"


def orphaned_record(folder: Path, **fields: object) -> Path:
    """run.json of a run whose runner is gone (a pid that has exited), still RUNNING."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    folder.mkdir(parents=True)
    record = {
        "experiment": "beta",
        "mlflow_experiment": "beta",
        "run_name": folder.name,
        "command": "true",
        "inputs": {},
        "environment_variables": {},
        "requirements_sha256": "",
        "local_tracking_requirements": "",
        "git": None,
        "runner": {"pid": gone.pid, "start": "1"},
    }
    (folder / "run.json").write_text(json.dumps(record | fields))
    return folder


def test_settling_writes_only_the_run_folder_it_read(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    """The names inside run.json are data, not paths: a hand-edited one cannot make `just
    runs` write elsewhere."""
    folder = orphaned_record(
        workspace / "runs" / "beta" / "20260101_000000_edited_run_aaaaaa",
        experiment="../../escaped",
        run_name=".",
    )
    before = {p for p in workspace.parent.rglob("*") if ".git" not in p.parts}

    outcome = cli(runs.main, workspace)

    assert outcome.code == 0, outcome.err
    assert manifest_of(folder)["status"] == "KILLED"
    after = {p for p in workspace.parent.rglob("*") if ".git" not in p.parts}
    assert after - before == set()


def test_a_run_folder_renamed_after_its_runner_died_is_settled_where_it_is(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    first = orphaned_record(workspace / "runs" / "beta" / "20260101_000000_before_aaaaaa")
    renamed = first.rename(first.with_name("20260101_000000_after_bbbbbb"))

    outcome = cli(runs.main, workspace)

    assert outcome.code == 0, outcome.err
    assert manifest_of(renamed)["status"] == "KILLED"
    assert not first.exists()


def test_one_bad_run_folder_never_stops_the_listing(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    good = orphaned_record(workspace / "runs" / "beta" / "20260101_000001_good_aaaaaa")
    orphaned_record(
        workspace / "runs" / "beta" / "20260101_000002_edited_bbbbbb", inputs=["not", "a", "map"]
    )
    unwritable = orphaned_record(workspace / "runs" / "beta" / "20260101_000003_stuck_cccccc")
    (unwritable / ".run.json.partial").mkdir()  # no new run.json can be staged there

    outcome = cli(runs.main, workspace)

    assert outcome.code == 0, outcome.err
    assert "Traceback" not in outcome.err
    assert manifest_of(good)["status"] == "KILLED"
    assert "20260101_000002_edited_bbbbbb has no readable run.json" in outcome.err
    assert "run 20260101_000003_stuck_cccccc: not settled" in outcome.err
    assert "20260101_000001_good_aaaaaa" in outcome.out


def mlflow_end(workspace: Path, folder: Path) -> tuple[str, int | None]:
    """The status and end time the MLflow store holds for the run of `folder`."""
    with sqlite3.connect(workspace / "runs" / "mlflow.db") as connection:
        row = connection.execute(
            "SELECT status, end_time FROM runs WHERE name = ?", (folder.name,)
        ).fetchone()
    assert row is not None, f"no MLflow run named {folder.name}"
    return row[0], row[1]


@pytest.mark.slow
@pytest.mark.parametrize("stderr", ["/dev/full", "closed pipe"])
def test_a_full_or_closed_stderr_never_leaves_a_run_unsettled(workspace: Path, stderr: str) -> None:
    """`just local beta 2>/dev/full`, `just local beta 2>&1 | true`: nothing can be said,
    but the run is recorded all the same, with the job's exit code."""
    add_job(workspace / "experiments" / "beta", "echo hello; echo oops >&2; exit 3")
    if stderr == "/dev/full":
        with open("/dev/full", "w") as full:
            process = subprocess.Popen(
                [sys.executable, "-m", "scripts.local", "beta"], cwd=workspace, stderr=full
            )
    else:
        process = subprocess.Popen(
            [sys.executable, "-m", "scripts.local", "beta"],
            cwd=workspace,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert process.stdout is not None
        process.stdout.close()

    assert process.wait(timeout=120) == 3
    folder = newest_folder(workspace)
    assert (manifest_of(folder)["status"], manifest_of(folder)["exit_code"]) == ("FAILED", 3)
    status, ended = mlflow_end(workspace, folder)
    assert status == "FAILED" and ended is not None


@pytest.fixture
def small_artifact_store(workspace: Path) -> Iterator[Path]:
    """runs/mlartifacts/ (the MLflow artifacts of the project's store) on a disk of its
    own, nearly full."""
    with tiny_disk(workspace / "runs" / "mlartifacts") as folder:
        yield folder


def test_a_full_artifact_store_still_ends_the_mlflow_run(
    small_artifact_store: Path, workspace: Path, cli: Callable[..., Outcome]
) -> None:
    add_job(workspace / "experiments" / "beta", "head -c 3000000 /dev/zero > outputs/big.bin")

    outcome = cli(local.main, workspace, "beta")

    assert outcome.code == 0, outcome.err
    folder = newest_folder(workspace)
    assert manifest_of(folder)["status"] == "FINISHED"
    status, ended = mlflow_end(workspace, folder)
    assert status == "FINISHED" and ended is not None
    (warning,) = [line for line in outcome.err.splitlines() if "outputs" in line and "warn" in line]
    assert "No space left on device" in warning and "[(" not in warning


def test_a_command_the_system_refuses_to_start_is_recorded_failed(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    """Over 128 kB in one argument, exec fails (E2BIG): the run never started, and says so."""
    add_job(
        workspace / "experiments" / "beta", "echo ${{inputs.text}}", extra="inputs:\n  text: a\n"
    )

    outcome = cli(local.main, workspace, "beta", "--set", f"inputs.text={'x' * 200_000}")

    assert outcome.code == 126
    assert "Argument list too long" in outcome.err.strip().splitlines()[-1]
    assert "Traceback" not in outcome.err
    folder = newest_folder(workspace)
    assert (manifest_of(folder)["status"], manifest_of(folder)["exit_code"]) == ("FAILED", 126)
    assert mlflow_end(workspace, folder)[0] == "FAILED"


def test_an_input_longer_than_mlflow_keeps_is_said_and_reaches_the_job_whole(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    add_job(
        workspace / "experiments" / "beta",
        "echo ${{inputs.text}} | wc -c",
        extra="inputs:\n  text: a\n",
    )

    outcome = cli(local.main, workspace, "beta", "--set", f"inputs.text={'x' * 7000}")

    assert outcome.code == 0, outcome.err
    assert outcome.out.strip() == "7001"  # the job got it whole
    assert "input 'text' is 7,000 characters: its MLflow parameter keeps the first 6,000" in (
        outcome.err
    )
    with sqlite3.connect(workspace / "runs" / "mlflow.db") as connection:
        (length,) = connection.execute(
            "SELECT length(value) FROM params WHERE key = 'text'"
        ).fetchone()
    assert length == 6000


def test_settling_never_stops_a_process_by_its_pid_alone(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    """A recorded job without a start time (or with another one) may be anyone's process
    now: the run is settled, the process left alone."""
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        for name, start in (
            ("20260101_000001_no_start_aaaaaa", ""),
            ("20260101_000002_other_bbbbbb", "1"),
        ):
            orphaned_record(
                workspace / "runs" / "beta" / name, job={"pid": bystander.pid, "start": start}
            )

        outcome = cli(runs.main, workspace)

        assert outcome.code == 0, outcome.err
        assert outcome.err.count("recorded KILLED") == 2
        time.sleep(0.2)
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_processes_are_told_apart_where_there_is_no_proc(monkeypatch: pytest.MonkeyPatch) -> None:
    """macOS and the BSDs have no /proc: start times come from psutil there."""
    monkeypatch.setattr(orphans, "_PROC", Path("/no/proc/here"))
    other = subprocess.Popen(["sleep", "60"])
    try:
        me, them = orphans.identity(os.getpid()), orphans.identity(other.pid)

        assert me["start"] and them["start"] and me["start"] != them["start"]
        assert orphans.alive(me) and orphans.alive(them)
        assert not orphans.alive({"pid": other.pid, "start": "1.000"})
        assert not orphans.stop_job({"pid": other.pid, "start": "1.000"})
        assert other.poll() is None
        assert orphans.stop_job(them)
        assert other.wait(timeout=10) == -signal.SIGTERM
    finally:
        other.kill()
        other.wait()
