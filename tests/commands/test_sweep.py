"""Sweep jobs run locally (`just local -f SWEEP`): real trial processes under one
Supervisor, the real MLflow store. Trials that log with MLflow run in the example
experiment's environment (`project`); the others in the tiny workspace's. Signals need
the runner as a process of its own. No test reaches Azure."""

import json
import os
import re
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from mlflow import MlflowClient

from scripts import aml, iso, local, rerun, runs
from tests.helpers import Outcome, newest_folder, run_folders, start_script, started_pids, write

SWEEP = "sweep.yml"

# A trial of the tiny workspace: marks when it starts and ends (MARKS), then exits.
MARKING_TRIAL = """
import os, sys, time, pathlib
marks = pathlib.Path(os.environ["MARKS"])
marks.mkdir(exist_ok=True)
x = os.environ["AZUREML_SWEEP_x"]
print("trial of x =", x, flush=True)
(marks / f"pid_{x}").write_text(str(os.getpid()))
(marks / f"start_{x}").write_text(repr(time.time()))
time.sleep(float(sys.argv[2]))
(marks / f"end_{x}").write_text(repr(time.time()))
sys.exit(int(sys.argv[3]))
"""

# A trial of the example's environment: logs x as `score` at each of `intervals`, a pause
# apart, then writes x into its output `model`; exits 3 for a negative x.
LOGGING_TRIAL = """
import sys, time
import mlflow

x, intervals, pause = float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
if x < 0:
    sys.exit(3)
for _ in range(intervals):
    mlflow.log_metric("score", x)
    time.sleep(pause)
open(sys.argv[4] + "/x.txt", "w").write(sys.argv[1])
"""


def manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "run.json").read_text())  # type: ignore[no-any-return]


def trials(folder: Path) -> list[dict[str, Any]]:
    """The run.json of each trial of the sweep in `folder`, in the order they started."""
    return [manifest(folder / "steps" / name) for name in manifest(folder)["steps"]]


def marking_sweep(
    workspace: Path, marks: Path, values: list[int], seconds: float, **limits: int
) -> None:
    """beta's sweep.yml: a grid over x of `values`, trials sleeping `seconds`; x=9 exits 1."""
    experiment = workspace / "experiments" / "beta"
    write(experiment / "trial.py", MARKING_TRIAL)
    limits = {"max_total_trials": 100} | limits
    write(
        experiment / SWEEP,
        f"""
        type: sweep
        trial:
          code: .
          command: >-
            python trial.py ${{{{search_space.x}}}} ${{{{inputs.seconds}}}}
            $(test ${{{{search_space.x}}}} = 9 && echo 1 || echo 0)
          environment_variables:
            MARKS: {marks}
          environment:
            build:
              path: environment
        inputs:
          seconds: {seconds}
        search_space:
          x: {{type: choice, values: {values}}}
        sampling_algorithm: grid
        objective: {{goal: maximize, primary_metric: score}}
        limits: {json.dumps(limits)}
        """,
    )


@contextmanager
def logging_sweep(project: Path, text: str) -> Iterator[str]:
    """A sweep file of the example experiment whose trial is LOGGING_TRIAL (`text`: what
    follows `trial:` and `search_space:`), removed afterwards (`project` is shared)."""
    experiment = project / "experiments" / "example_experiment"
    code = write(experiment / "sweep_code" / "trial.py", LOGGING_TRIAL).parent
    job_file = write(
        experiment / "logging-sweep.yaml",
        """
        type: sweep
        trial:
          code: sweep_code
          command: >-
            python trial.py ${{search_space.x}} ${{inputs.intervals}} ${{inputs.pause}}
            ${{outputs.model}}
          environment:
            build:
              path: environment
        outputs:
          model: {type: uri_folder}
        objective: {goal: maximize, primary_metric: score}
        """
        + text,
    )
    try:
        yield job_file.name
    finally:
        job_file.unlink()
        for path in sorted(code.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        code.rmdir()


def client(root: Path) -> MlflowClient:
    return MlflowClient(f"sqlite:///{root / 'runs' / 'mlflow.db'}")


@pytest.mark.slow
def test_trials_are_child_runs_ranked_by_their_score_and_the_best_ones_outputs_are_the_sweeps(
    project: Path, cli: Callable[..., Outcome]
) -> None:
    sweep = """
        inputs: {intervals: 2, pause: 0}
        search_space:
          x: {type: choice, values: [1, 3, -1, 2]}
        sampling_algorithm: grid
        limits: {max_total_trials: 4, max_concurrent_trials: 2}
        """
    with logging_sweep(project, sweep) as job_file:
        outcome = cli(local.main, project, "example_experiment", "-f", job_file)

    assert outcome.code == 0, outcome.err  # a failed trial does not fail the sweep
    folder = newest_folder(project)
    record = manifest(folder)
    name = folder.name
    assert record["steps"] == [f"{name}_{i}" for i in (1, 2, 3, 4)]
    ran = trials(folder)
    assert [(t["kind"], t["trial_values"], t["status"], t["score"]) for t in ran] == [
        ("trial", {"x": 1}, "FINISHED", 1.0),
        ("trial", {"x": 3}, "FINISHED", 3.0),
        ("trial", {"x": -1}, "FAILED", None),
        ("trial", {"x": 2}, "FINISHED", 2.0),
    ]
    assert ran[1]["command"].startswith("python trial.py 3 2 0 ")
    assert ran[1]["environment_variables"]["AZUREML_SWEEP_x"] == "3"
    assert (record["status"], record["best_trial"]) == ("FINISHED", f"{name}_2")
    assert record["pipeline_outputs"] == {"model": "code/outputs/model"}  # the best's, placed
    assert (folder / "code" / "outputs" / "model" / "x.txt").read_text() == "3"

    tracking = client(project)
    sweep_run = tracking.get_run(record["tracking_run_id"])
    assert sweep_run.info.status == "FINISHED"
    assert sweep_run.data.tags["best_child_run_id"] == ran[1]["tracking_run_id"]
    assert sweep_run.data.tags["score"] == "3.0"
    assert json.loads(sweep_run.data.tags["primary_metric_config"]) == {
        "name": "score",
        "goal": "maximize",
    }
    for trial in ran:
        child = tracking.get_run(trial["tracking_run_id"])
        assert child.info.run_name == trial["run_name"]
        assert child.data.tags["mlflow.parentRunId"] == sweep_run.info.run_id
        assert child.data.params["x"] == str(trial["trial_values"]["x"])
    assert tracking.get_metric_history(ran[1]["tracking_run_id"], "score")[-1].value == 3.0

    last = outcome.err.strip().splitlines()[-3:]
    assert last[0] == f"best trial: {name}_2, score 3 (maximize): x=3"
    assert last[1].startswith(f"  its run folder: {folder / 'steps' / f'{name}_2'}")
    assert last[2].startswith(f"sweep {name} ended FINISHED (exit code 0)")
    listed = cli(runs.main, project, "example_experiment").out.splitlines()
    at = next(i for i, line in enumerate(listed) if line.startswith(name + " "))
    assert [line.split()[1] for line in listed[at + 1 : at + 5]] == [
        f"{name}_2",
        f"{name}_4",
        f"{name}_1",
        f"{name}_3",
    ]
    assert "(best)" in listed[at + 1]


@pytest.mark.slow
def test_a_bandit_policy_stops_a_trial_outside_its_slack_and_says_so(
    project: Path, cli: Callable[..., Outcome]
) -> None:
    sweep = """
        inputs: {intervals: 20, pause: 0.5}
        search_space:
          x: {type: choice, values: [1.0, 0.1]}
        sampling_algorithm: grid
        early_termination: {type: bandit, slack_amount: 0.5, delay_evaluation: 1}
        limits: {max_total_trials: 2, max_concurrent_trials: 2}
        """
    with logging_sweep(project, sweep) as job_file:
        outcome = cli(local.main, project, "example_experiment", "-f", job_file)

    assert outcome.code == 0, outcome.err
    folder = newest_folder(project)
    good, bad = trials(folder)
    assert (good["status"], good["stopped_by"]) == ("FINISHED", None)
    assert bad["status"] == "KILLED"
    assert bad["stopped_by"].startswith("bandit policy at interval ")
    assert "outside the slack of the best 1: cut-off 0.5" in bad["stopped_by"]
    assert f"trial 2: stopped by the {bad['stopped_by']}" in outcome.err
    assert not (
        folder / "steps" / bad["run_name"] / "code" / "outputs" / "model" / "x.txt"
    ).exists()
    assert manifest(folder)["best_trial"] == good["run_name"]
    assert "(1 stopped early)" in outcome.err.strip().splitlines()[-1]
    listed = cli(runs.main, project, "example_experiment").out
    assert re.search(
        rf"└ {bad['run_name']} +example_experiment +local +KILLED \(stopped early\)", listed
    )


@pytest.mark.parametrize(("max_parallel", "overlapped"), [("2", True), ("1", False)])
def test_trials_run_at_the_same_time_up_to_the_limit_and_the_machine(
    workspace: Path,
    cli: Callable[..., Outcome],
    tmp_path: Path,
    max_parallel: str,
    overlapped: bool,
) -> None:
    marks = tmp_path / "marks"
    marking_sweep(workspace, marks, [1, 2, 3], 1.0, max_concurrent_trials=4)

    outcome = cli(local.main, workspace, "beta", "-f", SWEEP, "--max-parallel", max_parallel)

    spans = [
        (float((marks / f"start_{x}").read_text()), float((marks / f"end_{x}").read_text()))
        for x in (1, 2, 3)
    ]
    assert (spans[1][0] < spans[0][1]) is overlapped  # trial 2 started before 1 ended
    at_once = "2 at a time (limits.max_concurrent_trials 4, capped by --max-parallel 2"
    assert (at_once in outcome.err) is overlapped, outcome.err


def test_a_sweep_of_failed_trials_exits_with_the_first_failure_and_shows_its_log(
    workspace: Path, cli: Callable[..., Outcome], tmp_path: Path
) -> None:
    marking_sweep(workspace, tmp_path / "marks", [9, 9], 0)

    outcome = cli(local.main, workspace, "beta", "-f", SWEEP)

    assert outcome.code == 1
    folder = newest_folder(workspace)
    assert [trial["status"] for trial in trials(folder)] == ["FAILED", "FAILED"]
    assert manifest(folder)["status"] == "FAILED" and manifest(folder)["best_trial"] is None
    assert re.search(r"^trial [12]'s log, .* ends:\n  trial of x = 9$", outcome.err, re.M)
    assert outcome.err.strip().splitlines()[-1].endswith("2 FAILED")


def test_a_sweep_whose_trials_log_no_primary_metric_fails_and_names_it(
    workspace: Path, cli: Callable[..., Outcome], tmp_path: Path
) -> None:
    marking_sweep(workspace, tmp_path / "marks", [1], 0)

    outcome = cli(local.main, workspace, "beta", "-f", SWEEP)

    assert outcome.code == 1
    assert "no trial logged 'score' (objective.primary_metric)" in outcome.err


def test_limits_timeout_stops_the_running_trials_and_starts_no_more(
    workspace: Path, cli: Callable[..., Outcome], tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    marking_sweep(workspace, marks, [1, 2, 3, 4], 30, max_concurrent_trials=2, timeout=2)

    outcome = cli(local.main, workspace, "beta", "-f", SWEEP)

    assert outcome.code == 1
    assert "the sweep ran past its limits.timeout (2 s)" in outcome.err
    folder = newest_folder(workspace)
    assert [trial["status"] for trial in trials(folder)] == ["KILLED", "KILLED"]
    assert not list(marks.glob("end_*"))


def test_limits_trial_timeout_stops_each_trial_after_it(
    workspace: Path, cli: Callable[..., Outcome], tmp_path: Path
) -> None:
    marking_sweep(workspace, tmp_path / "marks", [1], 30, trial_timeout=1)

    outcome = cli(local.main, workspace, "beta", "-f", SWEEP)

    (trial,) = trials(newest_folder(workspace))
    assert (trial["timeout_seconds"], trial["status"]) == (1, "KILLED")
    assert "the job ran past its limits.timeout (1 s)" in outcome.err


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])
def test_a_stop_signal_stops_every_running_trial_and_leaves_every_run_killed(
    workspace: Path, tmp_path: Path, stop: str
) -> None:
    marks = tmp_path / "marks"
    marking_sweep(workspace, marks, [1, 2, 3], 30, max_concurrent_trials=2)
    process = start_script(workspace, "local", "beta", "-f", SWEEP)
    pids = started_pids(marks, 2, process)

    if stop == "SIGINT":
        os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C: the runner's group
    else:
        os.kill(process.pid, signal.SIGTERM)
    _, err = process.communicate(timeout=60)

    assert process.returncode == 130 and "scripts/" not in err
    folder = newest_folder(workspace)
    record = manifest(folder)
    assert record["status"] == "KILLED" and len(record["steps"]) == 2  # the third: never
    tracking = client(workspace)
    for run in (record, *trials(folder)):
        assert run["status"] == "KILLED"
        assert tracking.get_run(run["tracking_run_id"]).info.status == "KILLED"
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_sweep_whose_runner_was_killed_is_settled_with_its_trials(
    workspace: Path, tmp_path: Path, cli: Callable[..., Outcome]
) -> None:
    marks = tmp_path / "marks"
    marking_sweep(workspace, marks, [1], 30)
    process = start_script(workspace, "local", "beta", "-f", SWEEP)
    started_pids(marks, 1, process)

    process.kill()  # SIGKILL: the runner records nothing
    process.communicate(timeout=30)
    cli(runs.main, workspace)

    folder = newest_folder(workspace)
    assert manifest(folder)["status"] == "KILLED"
    assert [trial["status"] for trial in trials(folder)] == ["KILLED"]


def test_a_trial_reruns_alone_and_a_sweeps_folder_is_not_rerun(
    workspace: Path, cli: Callable[..., Outcome], tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    marking_sweep(workspace, marks, [5], 0)
    cli(local.main, workspace, "beta", "-f", SWEEP)
    folder = newest_folder(workspace)
    (marks / "end_5").unlink()

    again = cli(rerun.main, workspace, str(folder / "steps" / f"{folder.name}_1"))
    refused = cli(rerun.main, workspace, str(folder))

    assert again.code == 0, again.err
    assert (marks / "end_5").exists()  # the trial's command, its value written in, again
    assert refused.code == 2
    assert refused.error_line.startswith(f"{folder} is a sweep's run folder, which is not run")


def test_a_sweep_refused_leaves_no_run_folder(
    workspace: Path, cli: Callable[..., Outcome], tmp_path: Path
) -> None:
    marking_sweep(workspace, tmp_path / "marks", [1], 0)
    sweep = workspace / "experiments" / "beta" / SWEEP
    sweep.write_text(sweep.read_text().replace("search_space.x", "search_space.y", 1))

    outcome = cli(local.main, workspace, "beta", "-f", SWEEP)

    assert outcome.code == 2
    assert "uses ${{search_space.y}} but the search space has no such entry" in outcome.error_line
    assert run_folders(workspace) == set()


def test_dry_run_lists_the_trials_a_sweep_would_run_and_makes_nothing(
    project: Path, cli: Callable[..., Outcome]
) -> None:
    before = run_folders(project)
    sweep = ["example_experiment", "-f", "azure-ml-sweep-job.yaml"]

    listed = cli(local.main, project, *sweep, "--dry-run", "--set", "limits.max_total_trials=3")

    assert listed.code == 0, listed.err
    trials = listed.out.splitlines()
    assert [line.split(":")[0] for line in trials] == ["trial 1", "trial 2", "trial 3"]
    assert trials[0].startswith("trial 1: learning_rate=") and " hidden_units=" in trials[0]
    assert "3 trials (random sampling), at most 4 at a time, ranked by test_accuracy" in listed.err
    assert run_folders(project) == before


def test_iso_makes_a_sweeps_folder_with_its_trials_code_and_runs_nothing(
    workspace: Path, cli: Callable[..., Outcome], tmp_path: Path
) -> None:
    marking_sweep(workspace, tmp_path / "marks", [1], 0)

    outcome = cli(iso.main, workspace, "beta", "-f", SWEEP)

    assert outcome.code == 0, outcome.err
    folder = Path(outcome.out.strip().splitlines()[-1])
    assert (folder / "code" / "trial.py").is_file() and (folder / "job.yaml").is_file()
    assert not (folder / "steps").exists() and not (tmp_path / "marks").exists()


@pytest.mark.slow
def test_a_bayesian_sweep_learns_from_its_trials_and_says_the_cloud_will_differ(
    project: Path, cli: Callable[..., Outcome]
) -> None:
    sweep = """
        inputs: {intervals: 1, pause: 0}
        search_space:
          x: {type: uniform, min_value: 0, max_value: 1}
        sampling_algorithm: bayesian
        limits: {max_total_trials: 3, max_concurrent_trials: 1}
        """
    with logging_sweep(project, sweep) as job_file:
        outcome = cli(local.main, project, "example_experiment", "-f", job_file)

    assert outcome.code == 0, outcome.err
    assert "bayesian sampling: values drawn by optuna's TPE sampler" in outcome.err
    ran = trials(newest_folder(project))
    assert [trial["score"] for trial in ran] == [trial["trial_values"]["x"] for trial in ran]
    assert (
        manifest(newest_folder(project))["best_trial"]
        == max(ran, key=lambda t: t["score"])["run_name"]
    )


def test_dry_run_lists_a_sobol_sweeps_trials(
    workspace: Path, cli: Callable[..., Outcome], tmp_path: Path
) -> None:
    marking_sweep(workspace, tmp_path / "marks", [1], 0)
    sweep = workspace / "experiments" / "beta" / SWEEP
    sobol = sweep.read_text().replace(
        "sampling_algorithm: grid", "sampling_algorithm: {type: random, rule: sobol, seed: 2}"
    )
    sweep.write_text(
        sobol.replace("{type: choice, values: [1]}", "{type: uniform, min_value: 0, max_value: 4}")
    )

    listed = cli(
        local.main,
        workspace,
        "beta",
        "-f",
        SWEEP,
        "--dry-run",
        "--set",
        "limits.max_total_trials=4",
    )

    assert listed.code == 0, listed.err
    values = [float(line.split("x=")[1]) for line in listed.out.splitlines()]
    assert sorted(int(value) for value in values) == [0, 1, 2, 3]  # one in each quarter
    assert "4 trials (sobol sampling)" in listed.err
    assert run_folders(workspace) == set()


TRIAL_COMPONENT = """
type: command
inputs:
  x: {type: number}
  intervals: {type: integer}
  pause: {type: number}
outputs:
  model: {type: uri_folder}
code: .
environment: {build: {path: ../environment}}
command: python trial.py ${{inputs.x}} ${{inputs.intervals}} ${{inputs.pause}} ${{outputs.model}}
"""

SWEEP_PIPELINE = """
type: pipeline
settings: {default_compute: azureml:cpu-cluster}
jobs:
  search:
    type: sweep
    trial: ./sweep_code/trial.yml
    inputs: {intervals: 1, pause: 0}
    search_space:
      x: {type: choice, values: [1, 3, 2]}
    objective: {goal: maximize, primary_metric: score}
    sampling_algorithm: grid
    limits: {max_total_trials: 3, max_concurrent_trials: 2}
  use:
    command: cp ${{inputs.model}}/x.txt ${{outputs.seen}}/
    inputs:
      model: ${{parent.jobs.search.outputs.model}}
    outputs:
      seen: {type: uri_folder}
    environment: {build: {path: environment}}
"""


@pytest.mark.slow
def test_a_sweep_step_runs_its_trials_and_the_next_step_gets_the_best_ones_outputs(
    project: Path, cli: Callable[..., Outcome]
) -> None:
    experiment = project / "experiments" / "example_experiment"
    before = run_folders(project)
    with logging_sweep(project, "search_space: {x: {type: choice, values: [1]}}\n"):
        write(experiment / "sweep_code" / "trial.yml", TRIAL_COMPONENT)
        pipeline = write(experiment / "sweep-pipeline.yaml", SWEEP_PIPELINE)
        try:
            ran = cli(local.main, project, "example_experiment", "-f", pipeline.name)
            again = cli(local.main, project, "example_experiment", "-f", pipeline.name)
            listed = cli(runs.main, project, "example_experiment")
            submitted = cli(
                aml.main, project, "example_experiment", "-f", pipeline.name, "--dry-run"
            )
        finally:
            pipeline.unlink()

    assert ran.code == 0, ran.err
    made = run_folders(project) - before  # two runs, and the folder `just aml` submits
    (isolated,) = [folder for folder in made if not (folder / "run.json").exists()]
    ran_twice = [folder for folder in made if folder != isolated]
    (first,) = [f for f in ran_twice if not manifest(f / "steps" / "search")["reused_from"]]
    (second,) = [folder for folder in ran_twice if folder != first]
    search = first / "steps" / "search"
    record = manifest(search)
    assert (record["kind"], record["status"]) == ("sweep", "FINISHED")
    assert record["steps"] == ["search_1", "search_2", "search_3"]
    assert record["best_trial"] == "search_2"
    assert (first / "steps" / "use" / "code" / "outputs" / "seen" / "x.txt").read_text() == "3"
    tracking = client(project)
    pipeline_id = manifest(first)["tracking_run_id"]
    assert tracking.get_run(record["tracking_run_id"]).data.tags["mlflow.parentRunId"] == (
        pipeline_id
    )
    best = manifest(search / "steps" / "search_2")
    assert (
        tracking.get_run(best["tracking_run_id"]).data.tags["mlflow.parentRunId"]
        == (record["tracking_run_id"])
    )
    assert "step search: best trial search_2, score 3: x=3" in ran.err
    assert again.code == 0, again.err  # unchanged: the sweep step as a whole reused
    assert manifest(second / "steps" / "search")["reused_from"] == str(search)
    assert manifest(second / "steps" / "use")["reused_from"] == str(first / "steps" / "use")
    at = next(i for i, line in enumerate(listed.out.splitlines()) if line.startswith(first.name))
    nested = listed.out.splitlines()[at + 1 : at + 6]
    assert [line.split()[:2] for line in nested] == [
        ["└", "search"],
        ["└", "search_2"],
        ["└", "search_3"],
        ["└", "search_1"],
        ["└", "use"],
    ]
    assert nested[1].startswith("    └ search_2 (best)")
    folders = run_folders(project)
    refused = cli(rerun.main, project, str(first))
    assert refused.code == 2 and run_folders(project) == folders
    assert refused.error_line.startswith(f"{first}: its step 'search' is a sweep, which is not")
    assert submitted.code == 0, submitted.err  # the trial component's code, from its run folder
    trial = yaml.safe_load(submitted.out)["jobs"]["search"]["trial"]
    assert trial["code"] == str(isolated / "steps" / "search" / "code")


def marking_pipeline(workspace: Path, marks: Path, other: str, limits: str) -> None:
    """beta's pipeline.yml: a sweep step `search` of MARKING_TRIAL's trials sleeping 30 s
    (`limits` its limits), beside an independent inline step `other` running `other`."""
    experiment = workspace / "experiments" / "beta"
    write(experiment / "trial.py", MARKING_TRIAL)
    write(
        experiment / "trial.yml",
        f"""
        type: command
        inputs: {{x: {{type: integer}}, seconds: {{type: number}}}}
        code: .
        environment: {{build: {{path: environment}}}}
        environment_variables: {{MARKS: {marks}}}
        command: python trial.py ${{{{inputs.x}}}} ${{{{inputs.seconds}}}} 0
        """,
    )
    write(
        experiment / "pipeline.yml",
        f"""
        type: pipeline
        settings: {{default_compute: azureml:cpu-cluster}}
        jobs:
          search:
            type: sweep
            trial: ./trial.yml
            inputs: {{seconds: 30}}
            search_space: {{x: {{type: choice, values: [1, 2, 3]}}}}
            objective: {{goal: maximize, primary_metric: score}}
            sampling_algorithm: grid
            limits: {limits}
          other:
            command: {other}
            environment: {{build: {{path: environment}}}}
        """,
    )


def test_a_failed_step_stops_a_running_sweep_step_and_no_trial_starts_after_it(
    workspace: Path, cli: Callable[..., Outcome], tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    marking_pipeline(
        workspace, marks, "sleep 2; exit 3", "{max_total_trials: 3, max_concurrent_trials: 1}"
    )

    outcome = cli(local.main, workspace, "beta", "-f", "pipeline.yml")

    assert outcome.code == 3
    folder = newest_folder(workspace)
    search = folder / "steps" / "search"
    assert (manifest(folder / "steps" / "other")["status"], manifest(search)["status"]) == (
        "FAILED",
        "KILLED",
    )
    assert [trial["status"] for trial in trials(search)] == ["KILLED"]
    assert not list(marks.glob("end_*"))


def test_a_sweep_steps_timeout_stops_its_trials_only(
    workspace: Path, cli: Callable[..., Outcome], tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    marking_pipeline(
        workspace, marks, "sleep 4", "{max_total_trials: 3, max_concurrent_trials: 2, timeout: 1}"
    )

    outcome = cli(
        local.main,
        workspace,
        "beta",
        "-f",
        "pipeline.yml",
        "--set",
        "settings.continue_on_step_failure=true",
    )

    folder = newest_folder(workspace)
    assert manifest(folder / "steps" / "other")["status"] == "FINISHED", outcome.err
    assert [trial["status"] for trial in trials(folder / "steps" / "search")] == [
        "KILLED",
        "KILLED",
    ]
