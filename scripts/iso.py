"""`just iso EXP`: pack an experiment into a new run folder and print its path."""

from collections.abc import Sequence

from scripts.console import report
from scripts.console.cli import ArgumentParser, add_job_file_option, experiment_parser, run_cli
from scripts.jobspec.job import SWEEP, is_pipeline
from scripts.project.layout import JOB_FILE_NAME, Project
from scripts.runfolder.isolate import check_source, create_run_folder, experiment_job


def parser() -> ArgumentParser:
    parser = experiment_parser(
        "iso",
        "Copy the code root of EXP's job (its `code:` folder, honouring .amlignore) with "
        "shared code into runs/EXP/<run>/code/, next to the Docker build context in "
        "environment/: exactly what an Azure ML job receives (a sweep's: its trial's); a "
        "pipeline's steps each in steps/STEP/ of one run folder. Prints the run folder last.",
    )
    add_job_file_option(parser, JOB_FILE_NAME, "command, pipeline or sweep job")
    return parser


def main(argv: Sequence[str], project: Project) -> int:
    args = parser().parse_args(argv)
    job = experiment_job(project, args.experiment, args.file)
    if is_pipeline(job):
        from scripts.runfolder.pipeline import create_pipeline_folder  # pipelines' only

        report.result(str(create_pipeline_folder(project, args.experiment, args.file)))
    else:  # a sweep's folder holds its trial's code root; each trial's is made as it runs
        sweep = job.get("type") == SWEEP
        source = check_source(project, args.experiment, args.file, any_job=sweep)
        report.result(str(create_run_folder(source)))
    return 0


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
