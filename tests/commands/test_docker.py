"""Docker parity with a real engine: `just local --docker` running jobs in the image built
from their run folder's environment/ (as Azure ML builds it), `just docker-build`, and the
local base images of `just docker-base`.

No image registry is reachable here, so every build uses `just docker-base`'s images: a
Debian base made with debootstrap and the uv binary that runs these tests (.ci/run builds
them first; here they are built if missing, then reused by tag). Builds and containers use
the host network (no bridge). Without a Docker engine this module is skipped, except in CI,
where .ci/run starts one and its absence is a failure.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scripts import bench, docker_base, docker_build, local
from scripts.containers.base_images import ensure_base_image, ensure_uv_image, record
from scripts.project.layout import Project
from scripts.runner.disk import survey, unneeded_environments
from scripts.runner.environments import image_packages_key
from tests.commands.test_local import DISTRIBUTED, RENDEZVOUS
from tests.commands.test_sweep import marking_sweep
from tests.commands.test_tracking import add_skewed_experiment, skewed_run
from tests.helpers import (
    PIPELINE,
    REPOSITORY,
    Outcome,
    add_job,
    newest_folder,
    run,
    start_script,
    use_index,
    wired_pipeline,
    write,
)

Cli = Callable[..., Outcome]


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    return run(["docker", *args], REPOSITORY)


@pytest.fixture(scope="module")
def engine() -> None:
    if shutil.which("docker") and docker("info").returncode == 0:
        return
    if os.environ.get("CI"):
        pytest.fail("no Docker engine: .ci/run should have started dockerd")
    pytest.skip("no Docker engine on this machine")


@pytest.fixture(scope="module")
def base_images(engine: None, project: Path) -> tuple[str, str]:
    """`just docker-base`'s images (built once per machine: debootstrap takes minutes)."""
    return ensure_base_image(Project(project))[0], ensure_uv_image()[0]


@pytest.fixture
def docker_workspace(workspace: Path, base_images: tuple[str, str]) -> Path:
    """The tiny workspace, set to build from the local base images (.env.local)."""
    record(Project(workspace), *base_images)
    return workspace


@pytest.fixture(scope="module")
def docker_project(project: Path, base_images: tuple[str, str]) -> Path:
    record(Project(project), *base_images)
    return project


def run_folder(outcome: Outcome) -> Path:
    """The run folder `just local` named (several runs may start within one second)."""
    found = re.search(r"^run folder: +(\S+) ", outcome.err, re.MULTILINE)
    assert found, outcome.err
    return Path(found[1])


def manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "run.json").read_text())  # type: ignore[no-any-return]


def test_a_job_runs_in_its_image_with_inputs_read_only_and_outputs_written_back(
    docker_workspace: Path, cli: Cli
) -> None:
    alpha = docker_workspace / "experiments" / "alpha"
    write(alpha / "data" / "a.txt", "input text\n")
    write(
        alpha / "azure-ml-job.yaml",
        """
        type: command
        code: .
        command: >-
          cat ${{inputs.data}}/a.txt > outputs/seen.txt
          && echo "$GREETING" >> outputs/seen.txt
          && (touch ${{inputs.data}}/b.txt 2>/dev/null && echo writable || echo read-only)
          >> outputs/seen.txt
          && python -c "import alpha, shared, idna, sys; print(sys.prefix)" >> outputs/seen.txt
          && exit 3
        inputs:
          data:
            type: uri_folder
            path: data
        environment_variables:
          PYTHONPATH: src
          GREETING: hello from the job spec
        environment:
          build:
            path: environment
        """,
    )

    outcome = cli(local.main, docker_workspace, "alpha", "--docker")

    assert outcome.code == 3, outcome.err
    folder = run_folder(outcome)
    assert (folder / "code" / "outputs" / "seen.txt").read_text().splitlines() == [
        "input text",
        "hello from the job spec",
        "read-only",
        "/opt/venv",  # the image's environment, not one of this machine's
    ]
    assert not (alpha / "data" / "b.txt").exists()
    recorded = manifest(folder)
    assert recorded["status"] == "FAILED" and recorded["exit_code"] == 3
    assert str(recorded["docker_image"]).startswith("azureml-job/alpha:")
    assert docker("ps", "-aq", "--filter", f"name={folder.name}").stdout == ""  # removed


def test_each_step_of_a_pipeline_runs_in_its_own_experiments_image(
    docker_workspace: Path, cli: Cli
) -> None:
    wired_pipeline(docker_workspace)  # make: alpha's component, use: beta's

    outcome = cli(local.main, docker_workspace, "alpha", "-f", PIPELINE, "--docker")

    assert outcome.code == 0, outcome.err
    folder = run_folder(outcome)
    images = {step: manifest(folder / "steps" / step)["docker_image"] for step in ("make", "use")}
    assert images["make"].startswith("azureml-job/alpha:")
    assert images["use"].startswith("azureml-job/beta:")  # no idna there: use checks it
    assert (folder / "steps/use/code/outputs/result/result.txt").read_text() == "HELLO"
    assert docker("ps", "-aq", "--filter", f"name={folder.name}").stdout == ""  # removed


def test_every_trial_of_a_sweep_runs_in_the_one_image_of_its_experiment(
    docker_workspace: Path, cli: Cli
) -> None:
    marks = docker_workspace / "runs" / "marks"  # runs/ is mounted into the container
    marking_sweep(docker_workspace, marks, [1, 2], 0)

    outcome = cli(local.main, docker_workspace, "beta", "-f", "sweep.yml", "--docker")

    assert outcome.code == 1  # its trials log no score: no best trial
    folder = run_folder(outcome)
    ran = [manifest(folder / "steps" / name) for name in manifest(folder)["steps"]]
    assert [trial["status"] for trial in ran] == ["FINISHED", "FINISHED"]
    (image,) = {trial["docker_image"] for trial in ran}
    assert image.startswith("azureml-job/beta:")
    assert (marks / "end_2").is_file()
    assert docker("ps", "-aq", "--filter", f"name={folder.name}").stdout == ""  # removed


def test_an_unchanged_environment_reuses_its_image_a_changed_one_gets_a_new_one(
    docker_workspace: Path, package_index: str, cli: Cli
) -> None:
    """The new dependency comes from an index of its own (as a CPU build of torch does):
    the image is built with it, as Azure ML builds it from the same requirements.txt."""
    first = cli(local.main, docker_workspace, "beta", "--docker", "--set", "command=true")
    again = cli(local.main, docker_workspace, "beta", "--docker", "--set", "command=true")
    image = manifest(run_folder(again))["docker_image"]
    imports = "command=python -c 'import localpkg; print(localpkg.WHERE)'"
    without = cli(local.main, docker_workspace, "beta", "--docker", "--set", imports)
    use_index(docker_workspace / "experiments" / "beta", package_index)
    run(["uv", "lock", "--quiet"], docker_workspace, check=True)
    with_it = cli(local.main, docker_workspace, "beta", "--docker", "--set", imports)

    assert first.code == again.code == 0, first.err + again.err
    assert f"environment: image {image} (reused)" in again.err
    assert without.code == 1 and "No module named 'localpkg'" in without.err
    assert with_it.code == 0, with_it.err
    assert with_it.out.strip() == "from the local index"
    assert manifest(run_folder(with_it))["docker_image"] != image


def test_lightgbm_imports_in_the_image_only_when_its_experiment_declares_libgomp1(
    docker_workspace: Path, cli: Cli
) -> None:
    """LightGBM's library needs libgomp.so.1, which a workstation usually has and the Debian
    base does not: the experiment that declares libgomp1 gets it in its image, the other
    fails inside its container as it would fail on Azure ML."""
    for name, dependencies in (("alpha", "['shared', 'idna']"), ("beta", "['certifi']")):
        pyproject = docker_workspace / "experiments" / name / "pyproject.toml"
        text = pyproject.read_text().replace(dependencies, f"{dependencies[:-1]}, 'lightgbm']")
        if name == "alpha":
            text += '[tool.job-image]\nsystem-packages = ["libgomp1"]\n'
        pyproject.write_text(text)
    run(["uv", "lock", "--quiet"], docker_workspace, check=True)
    imports = "command=python -c 'import lightgbm'"

    declared = cli(local.main, docker_workspace, "alpha", "--docker", "--set", imports)
    undeclared = cli(local.main, docker_workspace, "beta", "--docker", "--set", imports)

    assert declared.code == 0, declared.err
    assert undeclared.code == 1
    assert "libgomp.so.1: cannot open shared object file" in undeclared.err


def test_a_failing_build_shows_its_step_and_leaves_no_run_folder(
    docker_workspace: Path, cli: Cli
) -> None:
    pyproject = docker_workspace / "experiments" / "alpha" / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '[tool.job-image]\nsystem-packages = ["no-such-package-x"]\n'
    )

    outcome = cli(local.main, docker_workspace, "alpha", "--docker")

    assert outcome.code == 1
    lines = outcome.err.strip().splitlines()
    failed = re.fullmatch(
        r"error: building image azureml-job/alpha:\w+ failed at (Step \d+/\d+): "
        r"see its last lines above",
        lines[-1],
    )
    assert failed, lines[-1]
    assert any(line.startswith(f"  {failed[1]} : RUN apt-get update") for line in lines)
    assert "  | E: Unable to locate package no-such-package-x" in lines  # its last lines
    assert not list(docker_workspace.glob("runs/alpha/*"))


def test_sigterm_stops_the_container(docker_workspace: Path, cli: Cli) -> None:
    sleeper = "python -c 'import time; print(\"started\", flush=True); time.sleep(120)'"
    process = start_script(
        docker_workspace, "local", "beta", "--docker", "--set", f"command={sleeper}"
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "started"
    folder = newest_folder(docker_workspace)  # the only one
    assert docker("ps", "-q", "--filter", f"name={folder.name}").stdout.strip()

    process.send_signal(signal.SIGTERM)

    assert process.wait(timeout=60) == 128 + signal.SIGTERM
    assert manifest(folder)["status"] == "KILLED"
    deadline = time.monotonic() + 10  # --rm: the engine removes it as it exits
    while (
        docker("ps", "-aq", "--filter", f"name={folder.name}").stdout
        and time.monotonic() < deadline
    ):
        time.sleep(0.2)
    assert docker("ps", "-aq", "--filter", f"name={folder.name}").stdout == ""


def test_distributed_ranks_meet_across_their_containers(docker_workspace: Path, cli: Cli) -> None:
    """One container per process, on the host network: MASTER_ADDR 127.0.0.1 reaches rank 0."""
    experiment = docker_workspace / "experiments" / "beta"
    write(experiment / "rendezvous.py", RENDEZVOUS)
    add_job(experiment, "python rendezvous.py", extra=DISTRIBUTED)

    outcome = cli(local.main, docker_workspace, "beta", "--docker")

    assert outcome.code == 0, outcome.err
    assert outcome.out.strip() == "rank 0 met 1:1:0 2:0:1 3:1:1"
    folder = run_folder(outcome)
    assert (folder / "user_logs" / "std_log_process_3.txt").read_text() == "rank 3 sent 3:1:1\n"
    assert docker("ps", "-aq", "--filter", f"name={folder.name}").stdout == ""


def test_three_ctrl_c_kill_a_job_that_ignores_them_and_its_container(
    docker_workspace: Path,
) -> None:
    """A terminal's Ctrl-C goes to its whole foreground group: `docker run` is kept out of
    it (after three signals it gives up on its container, which would run on); the runner
    brings each one to the container."""
    stubborn = (
        "python -c 'import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
        'signal.signal(signal.SIGTERM, signal.SIG_IGN); print("started", flush=True); '
        "time.sleep(120)'"
    )
    process = start_script(
        docker_workspace, "local", "beta", "--docker", "--set", f"command={stubborn}"
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "started"
    folder = newest_folder(docker_workspace)  # the only one

    for _ in range(3):  # as a terminal sends Ctrl-C: to the foreground process group
        os.killpg(process.pid, signal.SIGINT)
        time.sleep(0.5)

    assert process.wait(timeout=60) == 128 + signal.SIGKILL
    assert manifest(folder)["status"] == "KILLED"
    assert docker("ps", "-aq", "--filter", f"name={folder.name}").stdout == ""


def test_a_job_ignoring_sigterm_past_its_timeout_is_killed_with_its_container(
    docker_workspace: Path, cli: Cli
) -> None:
    """SIGKILL cannot be passed on by `docker run`: the container is killed by name."""
    stubborn = (
        "python -c 'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "time.sleep(120)'"
    )
    add_job(docker_workspace / "experiments" / "beta", stubborn, extra="limits:\n  timeout: 2\n")

    outcome = cli(local.main, docker_workspace, "beta", "--docker")

    assert outcome.code == 128 + signal.SIGKILL, outcome.err
    assert "ran past its limits.timeout (2 s)" in outcome.err
    folder = run_folder(outcome)
    assert manifest(folder)["status"] == "KILLED"
    assert docker("ps", "-aq", "--filter", f"name={folder.name}").stdout == ""


def test_the_example_logs_into_the_same_store_from_its_container(
    docker_project: Path, cli: Cli
) -> None:
    """The image holds the job's requirements only; the SQLite store's client packages are
    mounted in, as `just local` installs them into a local environment."""
    outcome = cli(
        local.main, docker_project, "example_experiment", "--docker", "--set", "inputs.epochs=2"
    )

    assert outcome.code == 0, outcome.err
    folder = run_folder(outcome)
    recorded = manifest(folder)
    assert recorded["tracking_store"] == str(docker_project / "runs" / "mlflow.db")
    assert {"test_accuracy", "test_f1_macro"} <= set(recorded["metrics"])
    assert (folder / "code" / "outputs" / "model.joblib").is_file()
    # What was mounted into the image: the local-tracking packages, kept by `just clean --envs`.
    extra = recorded["local_tracking_requirements"]
    assert "sqlalchemy==" in extra
    project = Project(docker_project)
    mounted = project.environments / image_packages_key(project.python_version(), extra)
    assert (mounted / "sqlalchemy").is_dir()
    unneeded = unneeded_environments(project, survey(project))
    assert mounted not in {removable.path for removable in unneeded}


def test_a_job_of_another_mlflow_logs_through_the_server_from_its_container(
    docker_workspace: Path, cli: Cli
) -> None:
    """The local tracking server listens on 127.0.0.1, which the host network reaches."""
    add_skewed_experiment(docker_workspace, "mlflow-skinny==2.22.5")

    outcome = cli(local.main, docker_workspace, "skewed", "--docker")

    assert outcome.code == 0, outcome.err
    assert "through a local MLflow server" in outcome.err
    logged = skewed_run(docker_workspace, run_folder(outcome))
    assert logged.data.params["client"] == "2.22.5"
    assert logged.data.metrics["before"] == 1.0


def test_docker_build_makes_the_job_image_local_docker_reuses(
    docker_project: Path, cli: Cli
) -> None:
    built = cli(docker_build.main, docker_project, "job-runner", "example_experiment")
    image = built.out.strip()
    version = (REPOSITORY / ".python-version").read_text().strip()

    def inside(command: str) -> subprocess.CompletedProcess[str]:
        return docker("run", "--rm", "--network", "host", image, "bash", "-c", command)

    assert built.code == 0, built.err
    assert inside("python --version").stdout.startswith(f"Python {version}.")
    assert inside("python -c 'import sklearn, mlflow, azureml.mlflow'").returncode == 0
    # SQLAlchemy is what `just local` adds for its SQLite store: never in the image.
    assert "No module named 'sqlalchemy'" in inside("python -c 'import sqlalchemy'").stderr
    ran = cli(local.main, docker_project, "example_experiment", "--docker", "--set", "command=true")
    assert f"environment: image {image} (reused)" in ran.err


def test_the_devcontainer_stage_builds_and_syncs_the_workspace(
    docker_project: Path, cli: Cli
) -> None:
    """What VS Code builds (its features, git and the Azure CLI, come from ghcr.io, which
    is unreachable here): uv, the project's Python, and `just` once the workspace is synced
    (postCreateCommand). The host's uv cache spares the downloads."""
    built = cli(docker_build.main, docker_project, "devcontainer")
    cache = run(["uv", "cache", "dir"], REPOSITORY, check=True).stdout.strip()
    workspace = shutil.copytree(docker_project, docker_project.parent / "devcontainer-workspace")
    shutil.rmtree(workspace / "runs", ignore_errors=True)

    synced = docker(
        "run", "--rm", "--network", "host", "-v", f"{workspace}:/workspace", "-w", "/workspace",
        "-v", f"{cache}:/root/.cache/uv", built.out.strip(),
        "bash", "-c", "uv sync --frozen --quiet && .venv/bin/just --list",
    )  # fmt: skip

    assert built.code == 0, built.err
    assert synced.returncode == 0, synced.stderr
    assert "local *ARGS" in synced.stdout


def test_docker_base_reuses_its_images_and_records_them_in_env_local(
    workspace: Path, base_images: tuple[str, str], cli: Cli
) -> None:
    write(workspace / ".env.local", "AZUREML_WORKSPACE=mine\n")

    outcome = cli(docker_base.main, workspace)

    assert outcome.code == 0, outcome.err
    assert f"{base_images[0]}: reused" in outcome.err and f"{base_images[1]}: reused" in outcome.err
    assert Project(workspace).settings == {
        "AZUREML_WORKSPACE": "mine",
        "DOCKER_BASE_IMAGE": base_images[0],
        "DOCKER_UV_IMAGE": base_images[1],
    }


def test_the_bench_says_which_base_images_are_missing_and_goes_on(
    workspace: Path, base_images: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """An engine but not `just docker-base`'s images: the docker part is not measured, and
    says why in its own line; what comes after it is still measured."""
    write(workspace / ".env.local", f"DOCKER_BASE_IMAGE={base_images[0]}\n")  # no uv image
    dockerfile = (workspace / "docker" / "Dockerfile").read_text()
    found = re.search(r"^ARG UV_IMAGE=(\S+)$", dockerfile, re.MULTILINE)
    assert found and docker("image", "inspect", found[1]).returncode != 0  # not pulled here

    taken: list[str] = []
    bench.take("docker overhead", lambda: bench.bench_docker_overhead(Project(workspace), 1), taken)
    bench.take("next", lambda: {"next": "1.000 s"}, taken)

    assert (
        capsys.readouterr().out.splitlines()
        == taken
        == [
            f"docker overhead: not measured (the base images {found[1]} are not on this machine: "
            "`just docker-base` builds local ones)",
            "next: 1.000 s",
        ]
    )


def test_docker_base_refuses_a_uv_that_is_not_the_binary_itself(
    engine: None, workspace: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version manager's shim is a script: copied into FROM-scratch image, it cannot run."""
    for name in ("uv", "uvx"):
        shim = write(workspace / "shims" / name, '#!/bin/sh\necho "uv 0.0.1-shim"\n')
        shim.chmod(0o755)
    monkeypatch.setenv("UV", str(workspace / "shims" / "uv"))

    outcome = cli(docker_base.main, workspace)

    assert outcome.code == 2
    assert outcome.error_line.startswith(f"{workspace}/shims/uv is not a Linux executable")
    assert not (workspace / ".env.local").exists()


def test_options_that_need_or_exclude_docker_are_refused_before_anything(
    workspace: Path, cli: Cli
) -> None:
    gpus = cli(local.main, workspace, "alpha", "--gpus", "all")
    debug = cli(local.main, workspace, "alpha", "--docker", "--debug")

    assert (gpus.code, debug.code) == (2, 2)
    assert gpus.error_line.startswith("--gpus needs --docker")
    assert debug.error_line.startswith("--debug runs the job on this machine: drop --docker")
    assert not (workspace / "runs" / "alpha").exists()


def test_without_an_engine_docker_runs_stop_in_one_line(
    workspace: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{workspace}/no-engine.sock")

    outcome = cli(local.main, workspace, "alpha", "--docker")

    assert outcome.code == 2
    assert "just local --docker needs" in outcome.error_line
    assert outcome.error_line.endswith("or run without --docker")
    assert not (workspace / "runs" / "alpha").exists()
