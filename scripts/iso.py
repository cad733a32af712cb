"""`just iso EXP`: pack an experiment into a new run folder and print its path."""

from collections.abc import Sequence

from scripts.cli import experiment_parser, run_cli
from scripts.runfolder import check_source, create_run_folder


def main(argv: Sequence[str]) -> int:
    parser = experiment_parser(
        "iso",
        "Copy EXP (honouring its .amlignore), shared code and its Docker build context into "
        "runs/EXP/<run>/, exactly what an Azure ML job receives. Prints the run folder last.",
    )
    args = parser.parse_args(argv)
    print(create_run_folder(check_source(args.experiment)))
    return 0


if __name__ == "__main__":
    run_cli(main)
