"""`just aml EXP`: submit the isolated run folder to Azure ML as a command, sweep or pipeline
job."""

from collections.abc import Sequence
from typing import TYPE_CHECKING

from scripts.cloud import experiment_commit
from scripts.cloud.job import build_job, build_pipeline_job, job_yaml
from scripts.cloud.submission import follow, submit, submit_experiment
from scripts.cloud.workspace import ml_client, workspace_from_settings
from scripts.console import report
from scripts.console.cli import (
    ArgumentParser,
    add_job_file_option,
    add_set_option,
    experiment_parser,
    run_cli,
)
from scripts.jobspec.job import check_command_job, is_pipeline
from scripts.jobspec.overrides import apply_overrides, parse_override
from scripts.jobspec.pipeline import describe_graph
from scripts.project.layout import JOB_FILE_NAME, Project
from scripts.runfolder.isolate import check_source, fill_run_folder, new_run_folder
from scripts.runfolder.pipeline import check_pipeline_source, fill_pipeline_folder

if TYPE_CHECKING:
    from scripts.jobspec.schema import AmlJob


def parser() -> ArgumentParser:
    parser = experiment_parser(
        "aml",
        "Isolate EXP (see `just iso`) and submit the run folder to Azure ML as a command, "
        "sweep or pipeline job named after it, through azure-ai-ml. Authenticates with `az login`.",
    )
    add_job_file_option(parser, JOB_FILE_NAME, "command, sweep or pipeline job")
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


def main(argv: Sequence[str], project: Project) -> int:
    args = parser().parse_args(argv)
    overrides = [parse_override(text) for text in args.overrides]
    workspace = None if args.dry_run else workspace_from_settings(project)
    source = check_source(project, args.experiment, args.file, any_job=True)
    pipeline = (
        check_pipeline_source(project, args.experiment, args.file, args.overrides, cloud=True)
        if is_pipeline(source.job)
        else None
    )
    document = apply_overrides(source.job, overrides, source.job_file)
    if overrides and document.get("type", "command") == "command":
        check_command_job(document, source.job_file, after_set=True)
    code = None if pipeline else source.code(document)
    experiment = None
    if args.exp is not None:
        branch = experiment_commit.experiments_branch(project.git, project.settings)
        experiment = experiment_commit.prepare(project.git, args.exp, branch)
    # Until the job is valid (and the commit recorded), a failure removes the run folder:
    # nothing was submitted, the folder would only be clutter.
    with new_run_folder(project, source.name) as run_folder:
        git = experiment.git_state() if experiment else project.git.state()
        job: AmlJob
        if pipeline:
            fill_pipeline_folder(run_folder, pipeline.source, pipeline.pipeline, pipeline.steps)
            job = build_pipeline_job(run_folder, git, args.exp)
        else:
            fill_run_folder(run_folder, source, code)
            job = build_job(run_folder, source.job_file, document, overrides, git, args.exp)
        if experiment:
            experiment_commit.record(experiment)
    report.note(f"run folder: {run_folder}")
    if workspace is None:
        report.result(job_yaml(job), end="")
        for line in describe_graph(pipeline.pipeline) if pipeline else []:
            report.note(line)
        if experiment:
            report.note(f"{experiment.branch}: {experiment.commit} (dry run: not pushed)")
        return 0
    client = ml_client(workspace)
    name = (
        submit_experiment(job, client, workspace, experiment)
        if experiment
        else submit(job, client, workspace)
    )
    return follow(name, client, workspace) if args.stream else 0


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
