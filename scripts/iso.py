"""`just iso EXP`: pack an experiment into a new run folder and print its path."""

from collections.abc import Sequence

from scripts.console import report
from scripts.console.cli import ArgumentParser, add_job_file_option, experiment_parser, run_cli
from scripts.jobspec.job import is_pipeline
from scripts.project.layout import JOB_FILE_NAME, Project
from scripts.runfolder.isolate import check_source, create_run_folder, experiment_job


def parser() -> ArgumentParser:
    parser = experiment_parser(
        "iso",
        "Copy the code root of EXP's job (its `code:` folder, honouring .amlignore) with "
        "shared code into runs/EXP/<run>/code/, next to the Docker build context in "
        "environment/: exactly what an Azure ML job receives; a pipeline's steps each in "
        "steps/STEP/ of one run folder. Prints the run folder last.",
    )
    add_job_file_option(parser, JOB_FILE_NAME, "command or pipeline job")
    return parser


def main(argv: Sequence[str], project: Project) -> int:
    args = parser().parse_args(argv)
    if is_pipeline(experiment_job(project, args.experiment, args.file)):
        from scripts.runfolder.pipeline import create_pipeline_folder  # pipelines' only

        report.result(str(create_pipeline_folder(project, args.experiment, args.file)))
    else:
        report.result(str(create_run_folder(check_source(project, args.experiment, args.file))))
    return 0


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
