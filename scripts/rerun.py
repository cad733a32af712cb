"""`just rerun RUN_DIR`: run a run folder again, exactly as recorded, as a new run.

Everything comes from the folder: the code and environment/ it holds, and the command,
inputs and job environment variables in its run.json; not from the experiment's current
sources, which may have changed since. A pipeline's run folder runs every step again
(scripts/pipelines/), each as its own run.json recorded it.
"""

import os
from collections.abc import Sequence

from scripts.console.cli import ArgumentParser, run_cli, stop_signals_as_ctrl_c
from scripts.project.layout import Project
from scripts.runfolder.manifest import PIPELINE
from scripts.runfolder.recorded import recorded_run
from scripts.runner.prepare import prepare_rerun
from scripts.runner.run import run_tracked


def parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="just rerun",
        description="Run RUN_DIR again as a new run: same code, command, inputs and "
        "environment, all taken from the folder and its run.json. Exits with the job's code. "
        "A pipeline's run folder runs all its steps again, none reused.",
    )
    parser.add_argument(
        "run_dir", metavar="RUN_DIR", help="e.g. runs/EXP/<run> (relative to the project)"
    )
    return parser


def main(argv: Sequence[str], project: Project) -> int:
    args = parser().parse_args(argv)
    folder, recorded = recorded_run(project, args.run_dir)
    if recorded.kind == PIPELINE:
        from scripts.pipelines.prepare import prepare_pipeline_rerun  # pipelines' modules
        from scripts.pipelines.run import run_pipeline

        with stop_signals_as_ctrl_c():
            pipeline = prepare_pipeline_rerun(project, folder, recorded)
        return run_pipeline(pipeline, os.cpu_count() or 1)
    with stop_signals_as_ctrl_c():
        return run_tracked(prepare_rerun(project, args.run_dir))


if __name__ == "__main__":
    run_cli(main, Project.of_tooling)
