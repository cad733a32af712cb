"""Pipeline jobs run locally (`just local -f PIPELINE`), isolated and submitted, on the tiny
workspace: real uv environments per experiment, real step processes, the real MLflow
store; signals need the runner as a process of its own. azure-ai-ml judges the YAML; no
test reaches Azure (submission goes to the fake MLClient of tests/fake_azure.py)."""

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from mlflow import MlflowClient

from scripts import aml, iso, local, rerun, runs
from scripts.cloud.job import build_pipeline_job
from scripts.cloud.submission import submit
from scripts.cloud.workspace import Workspace
from scripts.jobspec.schema import job_document
from tests.fake_azure import FakeClient, FakeJobs
from tests.helpers import (
    PIPELINE,
    Outcome,
    run_folders,
    start_script,
    started_pids,
    wired_pipeline,
    write,
)

WORKSPACE = Workspace("00000000-0000-0000-0000-000000000000", "rg", "ws", None)


def only_run_folder(root: Path) -> Path:
    (folder,) = run_folders(root)
    return folder


def manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "run.json").read_text())  # type: ignore[no-any-return]


def status(folder: Path, step: str) -> object:
    record = folder / "steps" / step / "run.json"
    return manifest(record.parent)["status"] if record.exists() else "never started"


def run_pipeline(cli: Callable[..., Outcome], workspace: Path, *options: str) -> Outcome:
    """`just local beta -f pipeline.yml OPTIONS`, in-process."""
    return cli(local.main, workspace, "beta", "-f", PIPELINE, *options)


def test_steps_run_in_the_order_of_their_bindings_each_in_its_experiments_environment(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    wired_pipeline(workspace)

    outcome = cli(local.main, workspace, "alpha", "-f", PIPELINE)

    assert outcome.code == 0, outcome.err
    folder = only_run_folder(workspace)
    result = folder / "steps" / "use" / "code" / "outputs" / "result" / "result.txt"
    assert result.read_text() == "HELLO"  # make's output, passed to use
    record = manifest(folder)
    assert (record["kind"], record["status"], record["steps"]) == (
        "pipeline",
        "FINISHED",
        ["make", "use"],
    )
    assert record["pipeline_outputs"] == {"final": "steps/use/code/outputs/result"}
    make = manifest(folder / "steps" / "make")
    assert make["command"].endswith("outputs/words hello")
    assert (
        make["experiment"] == "alpha" and manifest(folder / "steps" / "use")["experiment"] == "beta"
    )
    client = MlflowClient(f"sqlite:///{workspace / 'runs' / 'mlflow.db'}")
    pipeline_run = client.get_run(str(record["tracking_run_id"]))
    assert pipeline_run.info.status == "FINISHED"
    assert pipeline_run.data.params == {"greeting": "hello"}
    for step in ("make", "use"):
        step_run = client.get_run(str(manifest(folder / "steps" / step)["tracking_run_id"]))
        assert step_run.info.run_name == step and step_run.info.status == "FINISHED"
        assert step_run.data.tags["mlflow.parentRunId"] == pipeline_run.info.run_id
        assert step_run.info.experiment_id == pipeline_run.info.experiment_id
    listed = cli(runs.main, workspace).out.splitlines()
    assert [line.split()[:3] for line in listed[2:4]] == [
        ["└", "make", "alpha"],
        ["└", "use", "beta"],
    ]


def test_set_reaches_a_steps_inputs_and_optional_parts_appear_with_a_value(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    wired_pipeline(workspace)

    outcome = cli(
        local.main,
        workspace,
        "alpha",
        "-f",
        PIPELINE,
        "--set",
        "inputs.greeting=hi",
        "--set",
        "jobs.make.inputs.suffix=there",
    )

    assert outcome.code == 0, outcome.err
    result = only_run_folder(workspace) / "steps/use/code/outputs/result/result.txt"
    assert result.read_text() == "HI-THERE"


@pytest.mark.parametrize(
    ("pipeline", "message"),
    [
        (
            "jobs:\n  a:\n    component: ./nope.yml\n",
            "step 'a': component ./nope.yml does not exist",
        ),
        (  # what azure-ai-ml refuses and the runner alone would not
            "jobs:\n  a:\n    command: echo hi\n    code: .\n"
            "    environment: {build: {path: environment}}\n"
            "    inputs:\n      n: {type: int, default: 1}\n",
            "the pipeline is not a valid Azure ML job: ",
        ),
    ],
)
def test_a_pipeline_refused_leaves_no_run_folder(
    workspace: Path, cli: Callable[..., Outcome], pipeline: str, message: str
) -> None:
    write(workspace / "experiments" / "beta" / PIPELINE, "type: pipeline\n" + pipeline)

    outcome = run_pipeline(cli, workspace)

    assert outcome.code == 2
    assert outcome.error_line.startswith(message)
    assert run_folders(workspace) == set()


# Inline steps of beta, each running steps.py in a mode, with files in `marks` (a folder)
# to tell each other, and the tests, how far they got.
STEPS = """
type: pipeline
settings: {{default_compute: azureml:cpu-cluster}}
inputs:
  marks: {marks}
  seconds: 60
jobs:
{jobs}
"""
STEP_SCRIPT = """
import os, sys, time
mode, marks, seconds, name = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]


def wait_for(found, limit):
    deadline = time.time() + limit
    while not found() and time.time() < deadline:
        time.sleep(0.05)
    return found()


def others_running():
    return [n for n in os.listdir(marks) if n.startswith("running_") and n != "running_" + name]


if mode == "stubborn":  # as slow, deaf to SIGTERM
    import signal
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    mode = "slow"
if mode == "slow":  # runs `seconds`, then says it finished
    open(f"{marks}/pid_{name}", "w").write(str(os.getpid()))
    time.sleep(seconds)
    open(f"{marks}/finished_{name}", "w")
elif mode == "fails":  # once a slow step runs
    wait_for(lambda: any(n.startswith("pid_") for n in os.listdir(marks)), 30)
    sys.exit("failing on purpose")
elif mode == "overlap":  # whether another overlap step ran while it did
    open(f"{marks}/running_{name}", "w")
    saw = wait_for(others_running, seconds)
    open(f"{marks}/saw_{name}", "w").write(str(bool(saw)))
    time.sleep(0.2)
    os.remove(f"{marks}/running_{name}")
"""


def steps_pipeline(workspace: Path, marks: Path, jobs: str) -> None:
    beta = workspace / "experiments" / "beta"
    marks.mkdir()
    write(beta / "steps.py", STEP_SCRIPT)
    write(beta / PIPELINE, STEPS.format(marks=marks, jobs=jobs))


def inline(name: str, mode: str, after: str | None = None) -> str:
    """Step `name` running steps.py in `mode`, after step `after` if given (bound to it)."""
    bound = f"\n      x: ${{{{parent.jobs.{after}.outputs.o}}}}" if after else ""
    return (
        f"  {name}:\n"
        f"    command: python steps.py {mode} ${{{{inputs.marks}}}} "
        f"${{{{inputs.seconds}}}} {name}\n"
        "    code: .\n"
        "    environment: {build: {path: environment}}\n"
        "    inputs:\n      marks: ${{parent.inputs.marks}}\n"
        f"      seconds: ${{{{parent.inputs.seconds}}}}{bound}\n"
        "    outputs:\n      o: {type: uri_folder}\n"
    )


def failure_pipeline(workspace: Path, marks: Path) -> None:
    """`slow` runs until told; `fails` fails once slow runs; a step after each, and `maybe`,
    whose input bound to fails's output is optional."""
    jobs = (
        inline("slow", "slow")
        + inline("fails", "fails")
        + inline("after_slow", "pass", after="slow")
        + inline("after_fails", "pass", after="fails")
        + "  maybe:\n    component: ./maybe.yml\n"
        + "    inputs:\n      x: ${{parent.jobs.fails.outputs.o}}\n"
    )
    steps_pipeline(workspace, marks, jobs)
    write(
        workspace / "experiments" / "beta" / "maybe.yml",
        """
        type: command
        inputs:
          x: {type: uri_folder, optional: true}
        code: .
        environment: {build: {path: environment}}
        command: python -c 'print("ran")' $[[--x ${{inputs.x}}]]
        """,
    )


def failure_statuses(folder: Path) -> tuple[object, ...]:
    """The statuses of slow, fails, after_slow and after_fails."""
    return tuple(status(folder, step) for step in ("slow", "fails", "after_slow", "after_fails"))


def test_a_failed_step_stops_the_running_ones_and_skips_the_rest(
    workspace: Path, cli: Callable[..., Outcome], tmp_path: Path
) -> None:
    failure_pipeline(workspace, tmp_path / "marks")

    outcome = run_pipeline(cli, workspace)

    assert outcome.code == 1, outcome.err
    folder = only_run_folder(workspace)
    assert failure_statuses(folder) == ("KILLED", "FAILED", "SKIPPED", "SKIPPED")
    assert not (tmp_path / "marks" / "finished_slow").exists()
    assert manifest(folder)["status"] == "FAILED"
    last = outcome.err.strip().splitlines()
    assert last[-1].startswith(f"pipeline {folder.name} ended FAILED at step fails (exit code 1)")
    log = folder / "steps" / "fails" / "user_logs" / "std_log.txt"
    assert last[-3:-1] == [f"step fails's log, {log}, ends:", "  failing on purpose"]


@pytest.mark.slow
def test_a_running_step_deaf_to_sigterm_is_killed_after_the_grace_period(
    workspace: Path, cli: Callable[..., Outcome], tmp_path: Path
) -> None:
    steps_pipeline(
        workspace, tmp_path / "marks", inline("slow", "stubborn") + inline("fails", "fails")
    )

    outcome = run_pipeline(cli, workspace)

    assert outcome.code == 1, outcome.err
    folder = only_run_folder(workspace)
    assert (status(folder, "slow"), status(folder, "fails")) == ("KILLED", "FAILED")
    assert manifest(folder / "steps" / "slow")["exit_code"] == 137  # SIGKILL
    assert not (tmp_path / "marks" / "finished_slow").exists()


def test_continue_on_step_failure_lets_the_independent_branches_finish(
    workspace: Path, cli: Callable[..., Outcome], tmp_path: Path
) -> None:
    failure_pipeline(workspace, tmp_path / "marks")

    outcome = run_pipeline(
        cli,
        workspace,
        "--set",
        "settings.continue_on_step_failure=true",
        "--set",
        "inputs.seconds=1",
    )

    assert outcome.code == 1, outcome.err
    folder = only_run_folder(workspace)
    assert failure_statuses(folder) == ("FINISHED", "FAILED", "FINISHED", "SKIPPED")
    maybe = manifest(folder / "steps" / "maybe")  # its input optional: it runs without it
    assert (maybe["status"], maybe["inputs"], maybe["command"]) == (
        "FINISHED",
        {"x": None},
        "python -c 'print(\"ran\")' ",
    )


@pytest.mark.parametrize(("max_parallel", "overlapped"), [("2", "True"), ("1", "False")])
def test_independent_steps_run_at_the_same_time_up_to_max_parallel(
    workspace: Path, cli: Callable[..., Outcome], tmp_path: Path, max_parallel: str, overlapped: str
) -> None:
    marks = tmp_path / "marks"
    steps_pipeline(workspace, marks, inline("a", "overlap") + inline("b", "overlap"))
    wait = "30" if overlapped == "True" else "0.5"  # each waits for the other up to this

    outcome = run_pipeline(
        cli, workspace, "--max-parallel", max_parallel, "--set", f"inputs.seconds={wait}"
    )

    assert outcome.code == 0, outcome.err
    assert {(marks / f"saw_{name}").read_text() for name in ("a", "b")} == {overlapped}


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_stop_signal_stops_every_running_step_and_leaves_every_run_killed(
    workspace: Path, tmp_path: Path, stop: str
) -> None:
    marks = tmp_path / "marks"
    steps_pipeline(
        workspace, marks, inline("a", "slow") + inline("b", "slow") + inline("later", "pass", "a")
    )
    process = start_script(workspace, "local", "beta", "-f", PIPELINE)
    pids = started_pids(marks, 2, process)

    if stop == "SIGINT":
        os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C: the runner's group
    else:
        os.kill(process.pid, getattr(signal, stop))
    _, err = process.communicate(timeout=60)

    assert process.returncode != 0 and "scripts/" not in err  # no traceback of the tooling
    folder = only_run_folder(workspace)
    assert (status(folder, "a"), status(folder, "b"), status(folder, "later")) == (
        "KILLED",
        "KILLED",
        "SKIPPED",
    )
    assert manifest(folder)["status"] == "KILLED"
    client = MlflowClient(f"sqlite:///{workspace / 'runs' / 'mlflow.db'}")
    for record in (folder, folder / "steps" / "a", folder / "steps" / "b"):
        assert client.get_run(str(manifest(record)["tracking_run_id"])).info.status == "KILLED"
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_iso_and_aml_isolate_every_steps_code_and_environment_in_one_run_folder(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    wired_pipeline(workspace)

    made = []
    outcomes = []
    for command, *options in ((iso,), (aml, "--dry-run"), (aml, "--dry-run")):
        before = run_folders(workspace)
        outcomes.append(cli(command.main, workspace, "alpha", "-f", PIPELINE, *options))
        assert outcomes[-1].code == 0, outcomes[-1].err
        (folder,) = run_folders(workspace) - before
        made.append(folder)
    isolated, first, second = outcomes

    assert Path(isolated.out.strip()) == made[0]
    for folder in made:
        assert (folder / "steps" / "use" / "code" / "use.yml").is_file()  # beta's code root
        assert (folder / "steps" / "make" / "code" / "make.yml").is_file()  # alpha's
        assert (folder / "steps" / "use" / "environment" / "requirements.txt").is_file()
    built = [yaml.safe_load(outcome.out) for outcome in (first, second)]
    for job, folder in zip(built, made[1:], strict=True):
        assert job["name"] == folder.name
        assert job["jobs"]["use"]["component"]["code"] == str(folder / "steps/use/code")
    versions = [
        {step: job["jobs"][step]["component"]["environment"]["version"] for step in ("make", "use")}
        for job in built
    ]
    assert versions[0] == versions[1]  # the SDK's own hash of each build context
    assert versions[0]["make"] != versions[0]["use"]  # alpha's and beta's requirements
    assert "step use: after make.outputs.words -> words" in first.err


def test_a_pipeline_submission_sends_each_steps_code_from_the_run_folder(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    from azure.ai.ml._utils._asset_utils import get_content_hash

    wired_pipeline(workspace)
    folders = []
    for _ in range(2):
        isolated = cli(iso.main, workspace, "alpha", "-f", PIPELINE)
        assert isolated.code == 0, isolated.err
        folders.append(Path(isolated.out.strip()))
    client = FakeClient(FakeJobs())

    assert submit(build_pipeline_job(folders[0], None), client, WORKSPACE) == folders[0].name

    (sent,) = client.jobs.created
    body = sent._to_rest_object()  # the REST body the SDK would send
    assert body.properties.job_type == "Pipeline"
    assert set(body.properties.jobs) == {"make", "use"}
    sent_code = job_document(sent)["jobs"]["make"]["component"]["code"]
    assert Path(sent_code) == folders[0] / "steps/make/code"
    hashes = [get_content_hash(folder / "steps/make/code") for folder in folders]
    assert hashes[0] == hashes[1]  # unchanged code: the same snapshot, reused by Azure ML


def test_a_pipeline_whose_runner_was_killed_is_settled_with_its_steps(
    workspace: Path, tmp_path: Path, cli: Callable[..., Outcome]
) -> None:
    marks = tmp_path / "marks"
    steps_pipeline(workspace, marks, inline("a", "slow") + inline("later", "pass", "a"))
    process = start_script(workspace, "local", "beta", "-f", PIPELINE)
    (job,) = started_pids(marks, 1, process)  # step a's: the only step running

    process.kill()  # SIGKILL: the runner records nothing
    process.communicate(timeout=30)
    listed = cli(runs.main, workspace)

    folder = only_run_folder(workspace)
    assert (manifest(folder)["status"], status(folder, "a"), status(folder, "later")) == (
        "KILLED",
        "KILLED",
        "never started",
    )
    assert "  └ later" in listed.out and "SKIPPED" in listed.out
    deadline = time.monotonic() + 30  # the step's job, which outlived its runner, is stopped
    while os.path.exists(f"/proc/{job}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (
        not os.path.exists(f"/proc/{job}")
        or "zombie" in Path(f"/proc/{job}/status").read_text().lower()
    )


def test_a_pipeline_reruns_every_step_as_recorded_and_a_step_reruns_alone(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    wired_pipeline(workspace)
    assert cli(local.main, workspace, "alpha", "-f", PIPELINE).code == 0
    pipeline = only_run_folder(workspace)
    (workspace / "experiments" / "alpha" / "make.yml").unlink()  # the sources are not used

    again = cli(rerun.main, workspace, str(pipeline))
    step = cli(rerun.main, workspace, str(pipeline / "steps" / "use"))

    assert again.code == 0, again.err
    assert step.code == 0, step.err
    (rerun_pipeline,) = {f for f in run_folders(workspace) if f.parent.name == "alpha"} - {pipeline}
    record = manifest(rerun_pipeline)
    assert (record["kind"], record["rerun_of"], record["steps"]) == (
        "pipeline",
        str(pipeline),
        ["make", "use"],
    )
    use = manifest(rerun_pipeline / "steps" / "use")
    assert use["inputs"]["words"] == str(rerun_pipeline / "steps/make/code/outputs/words")
    assert use["reused_from"] is None and use["parent_run_id"] == record["tracking_run_id"]
    result = rerun_pipeline / "steps" / "use" / "code" / "outputs" / "result" / "result.txt"
    assert result.read_text() == "HELLO"
    (rerun_step,) = run_folders(workspace) - {pipeline, rerun_pipeline}
    assert rerun_step.parent.name == "beta"  # the experiment of the step's component
    alone = rerun_step / "code" / "outputs" / "result" / "result.txt"
    assert alone.read_text() == "HELLO"  # from the pipeline's make output, as recorded


def step_records(folder: Path) -> dict[str, dict[str, Any]]:
    return {step: manifest(folder / "steps" / step) for step in ("make", "use")}


def test_a_step_is_reused_when_nothing_azure_ml_compares_changed(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    wired_pipeline(workspace)
    assert cli(local.main, workspace, "alpha", "-f", PIPELINE).code == 0
    (first,) = run_folders(workspace)

    again = cli(local.main, workspace, "alpha", "-f", PIPELINE)

    assert again.code == 0, again.err
    (second,) = run_folders(workspace) - {first}
    records = step_records(second)
    assert {step: record["reused_from"] for step, record in records.items()} == {
        "make": str(first / "steps" / "make"),
        "use": str(first / "steps" / "use"),
    }
    assert f"step use: reused from {first}/steps/use" in again.err
    assert manifest(second)["pipeline_outputs"] == {
        "final": f"../{first.name}/steps/use/code/outputs/result"
    }
    client = MlflowClient(f"sqlite:///{workspace / 'runs' / 'mlflow.db'}")
    reused = client.get_run(records["use"]["tracking_run_id"])
    original = step_records(first)["use"]["tracking_run_id"]
    assert reused.info.status == "FINISHED"
    assert (reused.data.tags["azureml.isreused"], reused.data.tags["azureml.reusedrunid"]) == (
        "true",
        original,
    )
    assert reused.data.tags["mlflow.parentRunId"] == manifest(second)["tracking_run_id"]
    listed = cli(runs.main, workspace).out.splitlines()
    under_second = listed.index(next(line for line in listed if line.startswith(second.name)))
    assert listed[under_second + 1].split()[1:6] == ["make", "alpha", "local", "FINISHED", "reused"]


@pytest.mark.parametrize(
    ("change", "plans"),
    [
        ("a pipeline input", ["runs (input greeting changed", "runs (input words changed"]),
        ("force_rerun", ["runs (settings.force_rerun)", "runs (settings.force_rerun)"]),
        ("a component's code", ["reused from", "runs (code changed"]),
        ("not deterministic", ["runs (its component is not deterministic)", "runs (input words"]),
    ],
)
def test_dry_run_says_which_steps_would_be_reused_and_what_changed_and_makes_nothing(
    workspace: Path, cli: Callable[..., Outcome], change: str, plans: list[str]
) -> None:
    wired_pipeline(workspace)
    assert cli(local.main, workspace, "alpha", "-f", PIPELINE).code == 0
    made = run_folders(workspace)
    options = {
        "a pipeline input": ["--set", "inputs.greeting=hey"],
        "force_rerun": ["--set", "settings.force_rerun=true"],
    }.get(change, [])
    if change == "a component's code":  # a file in use's code root, beta's folder
        (workspace / "experiments" / "beta" / "note.txt").write_text("changed\n")
    if change == "not deterministic":
        make = workspace / "experiments" / "alpha" / "make.yml"
        make.write_text(make.read_text() + "is_deterministic: false\n")

    outcome = cli(local.main, workspace, "alpha", "-f", PIPELINE, "--dry-run", *options)

    assert outcome.code == 0, outcome.err
    assert run_folders(workspace) == made  # nothing made
    make_plan, use_plan = outcome.out.splitlines()
    assert make_plan.startswith(f"step make: {plans[0]}")
    assert use_plan.startswith(f"step use: {plans[1]}")


def test_a_nested_pipeline_runs_its_steps_in_place_bound_through_its_inputs_and_outputs(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    wired_pipeline(workspace)
    alpha = workspace / "experiments" / "alpha"
    write(
        alpha / "words.yml",
        """
        type: pipeline
        inputs:
          word: {type: string, default: unused}
        outputs:
          words: {type: uri_folder}
        jobs:
          make:
            component: ./make.yml
            inputs:
              greeting: ${{parent.inputs.word}}
            outputs:
              words: ${{parent.outputs.words}}
        """,
    )
    write(
        alpha / PIPELINE,
        """
        type: pipeline
        settings: {default_compute: azureml:cpu-cluster}
        jobs:
          use:
            component: ../beta/use.yml
            inputs:
              words: ${{parent.jobs.inner.outputs.words}}
          inner:
            type: pipeline
            component: ./words.yml
            inputs:
              word: nested
        """,
    )

    outcome = cli(local.main, workspace, "alpha", "-f", PIPELINE)
    dry = cli(aml.main, workspace, "alpha", "-f", PIPELINE, "--dry-run")

    assert outcome.code == 0, outcome.err
    (folder,) = run_folders(workspace) - {Path(dry.err.split("run folder: ")[1].split()[0])}
    assert manifest(folder)["steps"] == ["inner.make", "use"]
    result = folder / "steps" / "use" / "code" / "outputs" / "result" / "result.txt"
    assert result.read_text() == "NESTED"
    assert dry.code == 0, dry.err
    submitted = yaml.safe_load(dry.out)["jobs"]["inner"]["component"]["jobs"]["make"]
    assert submitted["component"]["code"].endswith("/steps/inner.make/code")


def test_a_step_only_azure_ml_runs_is_refused_locally_and_submitted_as_written(
    workspace: Path, cli: Callable[..., Outcome]
) -> None:
    wired_pipeline(workspace)
    pipeline = workspace / "experiments" / "alpha" / PIPELINE
    registry = (
        "azureml://registries/azureml/components/microsoft_azureml_automl_forecast/versions/1"
    )
    pipeline.write_text(
        pipeline.read_text() + f"  forecast:\n    type: command\n    component: {registry}\n"
    )

    local_run = cli(local.main, workspace, "alpha", "-f", PIPELINE)
    dry = cli(aml.main, workspace, "alpha", "-f", PIPELINE, "--dry-run")

    assert local_run.code == 2
    assert local_run.error_line.startswith(
        f"step 'forecast' cannot run locally (its component {registry} lives in a registry)"
    )
    assert dry.code == 0, dry.err
    submitted = yaml.safe_load(dry.out)["jobs"]
    assert submitted["forecast"]["component"] == registry
    assert submitted["use"]["component"]["code"].endswith("/steps/use/code")
