"""`just aml EXP`: submit the isolated run folder to Azure ML as a command or sweep job."""

import os
import shutil
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from scripts import experiment_commit
from scripts.amljob import build_job, job_yaml
from scripts.cli import ArgumentParser, add_set_option, experiment_parser, run_cli
from scripts.config import load_settings
from scripts.errors import CommandError, UsageError
from scripts.experiment_commit import ExperimentCommit
from scripts.gitinfo import git_state
from scripts.jobspec import parse_override
from scripts.project import JOB_FILE_NAME
from scripts.runfolder import check_source, create_run_folder
from scripts.workspace import Workspace, ml_client, workspace_from_settings

if TYPE_CHECKING:
    from scripts.amljob import AmlJob


def submit(
    job: "AmlJob", client: Any, workspace: Workspace, experiment: ExperimentCommit | None = None
) -> str:
    """Create the job through `client` (an MLClient; tests inject a fake), linked to the
    experiment commit if there is one; its name."""
    if experiment:
        os.environ.update(experiment.azureml_git_variables())  # read by create_or_update
    try:
        created = client.jobs.create_or_update(job)
    except Exception as error:  # the SDK's and azure-core's, mapped to what to do
        raise CommandError(explain(error, workspace)) from None
    print(f"submitted {created.name}: {created.studio_url}", flush=True)
    name: str = created.name
    return name


def follow(name: str, client: Any, workspace: Workspace) -> int:
    """Stream the job's logs until it ends; 0 only if it completed."""
    try:
        client.jobs.stream(name)
        status = client.jobs.get(name).status
    except Exception as error:
        raise CommandError(explain(error, workspace)) from None
    print(f"job {name} ended: {status}", file=sys.stderr)
    return 0 if status == "Completed" else 1


def explain(error: Exception, workspace: Workspace) -> str:
    """One line saying what to do about a submission failure."""
    kind = type(error).__name__
    text = " ".join(str(error).split())
    status = getattr(error, "status_code", None)
    where = (
        f"workspace {workspace.name!r} in resource group {workspace.resource_group!r}, "
        f"subscription {workspace.subscription_id}"
    )
    if kind in ("ClientAuthenticationError", "CredentialUnavailableError"):
        if "Azure CLI not found" in text:
            return "the Azure CLI is not installed: `uv tool install azure-cli`, then `az login`"
        return "not logged in to Azure: run `az login` (and `az account set` if needed)"
    if kind == "ServiceRequestError":
        return f"cannot reach Azure ({text[:120]}): check the network connection"
    if status == 403:
        return f"no permission to submit jobs to {where}: ask for a role on the workspace"
    if status == 404 or kind == "ResourceNotFoundError":
        if "compute" in text.lower():
            return f"compute not found in {where}: choose one with --set compute=azureml:NAME"
        return f"{where} not found: check .env.local"
    return f"submission failed ({kind}: {text[:200]})"


def parser() -> ArgumentParser:
    parser = experiment_parser(
        "aml",
        "Isolate EXP (see `just iso`) and submit the run folder to Azure ML as a command or "
        "sweep job named after it, through azure-ai-ml. Authenticates with `az login`.",
    )
    parser.add_argument(
        "-f",
        "--file",
        default=JOB_FILE_NAME,
        help=f"job YAML inside the experiment (default {JOB_FILE_NAME})",
    )
    add_set_option(parser, "compute=azureml:gpu-cluster or inputs.epochs=10")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="build and validate the job offline, print it as YAML; submit nothing",
    )
    parser.add_argument("--stream", action="store_true", help="follow the job's logs until it ends")
    parser.add_argument(
        "--exp",
        metavar="MESSAGE",
        help="record HEAD as a commit with this message on EXPERIMENTS_BRANCH (also with "
        "--dry-run), link the job to it and push the branch to origin once the job is submitted",
    )
    return parser


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    overrides = [parse_override(text) for text in args.overrides]
    settings = load_settings()
    workspace = None if args.dry_run else workspace_from_settings(settings)
    source = check_source(args.experiment)
    if not (source.folder / args.file).is_file():
        raise UsageError(f"{source.folder / args.file} does not exist: check -f/--file")
    experiment = None
    if args.exp is not None:
        branch = experiment_commit.experiments_branch(settings)
        experiment = experiment_commit.prepare(args.exp, branch)
    run_folder = create_run_folder(source)
    try:
        git = experiment.git_state() if experiment else git_state()
        job = build_job(run_folder, args.file, overrides, git, args.exp)
        if experiment:
            experiment_commit.record(experiment)
    except BaseException:  # nothing was submitted: the folder would only be clutter
        shutil.rmtree(run_folder)
        raise
    print(f"run folder: {run_folder}", file=sys.stderr)
    if workspace is None:
        print(job_yaml(job), end="")
        if experiment:
            print(
                f"{experiment.branch}: {experiment.commit} (dry run: not pushed)", file=sys.stderr
            )
        return 0
    client = ml_client(workspace)
    name = (
        submit_experiment(job, client, workspace, experiment)
        if experiment
        else submit(job, client, workspace)
    )
    return follow(name, client, workspace) if args.stream else 0


def submit_experiment(
    job: "AmlJob", client: Any, workspace: Workspace, experiment: ExperimentCommit
) -> str:
    """Submit linked to the recorded commit, then push it; if the submission fails or is
    interrupted, the branch goes back to where it was."""
    try:
        name = submit(job, client, workspace, experiment)
    except BaseException:
        experiment_commit.undo(experiment)
        raise
    experiment_commit.push(experiment)
    print(f"{experiment.branch}: {experiment.commit} pushed to origin", file=sys.stderr)
    return name


if __name__ == "__main__":
    run_cli(main)
