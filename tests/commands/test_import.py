"""`just import` on copies of this repository, with real uv: jobs shaped like Azure ML's
public examples (`code: src`, `python main.py`, a curated environment or a conda file, a
remote `uri_file` input) imported, given their packages and one `--set`, then run locally
and dry-run; refusals and failures leave the workspace as it was."""

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from scripts import import_job
from scripts.jobspec.job import load_job
from tests.helpers import Outcome, just, run, workspace_state, write

# Written as Azure ML's scikit-learn iris example is: not this project's style on purpose.
MAIN = """
import argparse,csv
from sklearn.svm import SVC
def main():
    p=argparse.ArgumentParser();p.add_argument("--iris-csv");p.add_argument("--C",type=float)
    a=p.parse_args()
    rows=list(csv.reader(open(a.iris_csv)))[1:]
    X=[[float(v) for v in r[:4]] for r in rows];y=[r[4] for r in rows]
    print("accuracy", SVC(C=a.C).fit(X,y).score(X,y))
if __name__=="__main__":main()
"""
IRIS = (
    "sepal_length,sepal_width,petal_length,petal_width,species\n"
    "5.1,3.5,1.4,0.2,setosa\n7.0,3.2,4.7,1.4,versicolor\n6.3,3.3,6.0,2.5,virginica\n"
    "4.9,3.0,1.4,0.2,setosa\n6.4,3.2,4.5,1.5,versicolor\n5.8,2.7,5.1,1.9,virginica\n"
)
CURATED = "azureml://registries/azureml/environments/sklearn-1.5/labels/latest"
IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04"
REMOTE_CSV = "wasbs://datasets@azuremlexamples.blob.core.windows.net/iris.csv"


def public_example(folder: Path, environment: list[str], conda: str | None = None) -> Path:
    """A job folder as azureml-examples has them: job.yml beside src/main.py."""
    write(folder / "src" / "main.py", MAIN)
    if conda:
        write(folder / "conda.yaml", conda)
    lines = [
        "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json",
        "code: src",
        "command: >-",
        "  python main.py",
        "  --iris-csv ${{inputs.iris_csv}}",
        "  --C ${{inputs.C}}",
        "inputs:",
        "  iris_csv:",
        "    type: uri_file",
        f"    path: {REMOTE_CSV}",
        "  C: 0.8",
        *environment,
        "compute: azureml:cpu-cluster",
        "display_name: sklearn-iris-example",
        "experiment_name: sklearn-iris-example",
    ]
    job = folder / "job.yml"
    job.write_text("\n".join(lines) + "\n")
    return job


@pytest.mark.slow
def test_a_curated_environment_job_is_imported_then_runs_and_submits(
    fresh: Path,
    tmp_path: Path,
) -> None:
    job = public_example(tmp_path / "examples" / "iris", [f"environment: {CURATED}"])
    data = write(tmp_path / "iris.csv", IRIS)

    imported = just(fresh, "import", str(job))
    run(["uv", "add", "-q", "--package", "iris", "scikit-learn"], fresh, check=True)
    local = just(fresh, "local", "iris", "--set", f"inputs.iris_csv.path={data}")
    dry_run = just(fresh, "aml", "iris", "--dry-run", "--set", "compute=azureml:cpu-cluster")

    assert imported.stdout.strip() == "experiments/iris"
    assert "to do: the job ran in " + CURATED in imported.stderr
    assert "(its code imports scikit-learn)" in imported.stderr  # what `uv add` takes
    assert "`just local iris --set inputs.iris_csv.path=LOCAL_PATH`" in imported.stderr
    experiment = fresh / "experiments" / "iris"
    assert (experiment / "src" / "main.py").read_text() == (
        job.parent / "src" / "main.py"
    ).read_text()
    assert local.stdout.strip() == "accuracy 1.0"
    assert "code: " in dry_run.stdout and "/code\n" in dry_run.stdout
    just(fresh, "lint")  # the imported code is left as it came, and lint passes


@pytest.mark.slow
def test_a_conda_file_becomes_the_members_dependencies(
    fresh: Path,
    tmp_path: Path,
    cli: Callable[..., Outcome],
) -> None:
    """Conda's pins for an older Python (numpy 1.21, which scipy 1.14 and later refuse) do
    not resolve: the ones the resolver names are taken unpinned, the others kept; a package
    with no PyPI equivalent is named; the job file keeps every line but its environment."""
    conda = """
    name: sklearn-env
    channels:
      - conda-forge
    dependencies:
      - python=3.8
      - pip
      - numpy=1.21
      - scipy >=1.14 <2
      - six=1.16
      - cudatoolkit=11.3
      - pip:
        - scikit-learn
    """
    environment = ["environment:", f"  image: {IMAGE}", "  conda_file: conda.yaml"]
    job = public_example(tmp_path / "examples" / "iris-conda", environment, conda)

    outcome = cli(import_job.main, fresh, str(job), "iris_conda")

    assert outcome.code == 0, outcome.err
    assert "numpy==1.21.* (from the conda file) does not resolve for Python 3.11" in outcome.err
    assert "conda package left out: cudatoolkit=11.3 (no PyPI package" in outcome.err
    pyproject = (fresh / "experiments" / "iris_conda" / "pyproject.toml").read_text()
    dependencies = re.search(r"^dependencies = (\[.*\])$", pyproject, re.MULTILINE)
    assert dependencies is not None
    declared = json.loads(dependencies[1])
    assert declared[0] == "numpy" and "six==1.16.*" in declared  # the one kept its pin
    assert "scikit-learn" in declared
    written = (fresh / "experiments" / "iris_conda" / "azure-ml-job.yaml").read_text()
    kept = [line for line in job.read_text().splitlines() if line not in environment]
    assert [line for line in written.splitlines() if line in kept] == kept
    assert "environment:\n  build:\n    path: environment\n" in written


@pytest.mark.slow
def test_a_failed_import_leaves_the_workspace_as_it_was(
    fresh: Path,
    tmp_path: Path,
    cli: Callable[..., Outcome],
) -> None:
    conda = "dependencies:\n  - pip:\n    - no-such-package-on-any-index-0a1b2c\n"
    environment = ["environment:", f"  image: {IMAGE}", "  conda_file: conda.yaml"]
    job = public_example(tmp_path / "broken", environment, conda)
    before = workspace_state(fresh)

    outcome = cli(import_job.main, fresh, str(job))

    assert outcome.code == 1
    assert outcome.err.splitlines()[-1].startswith("error: `uv lock` failed: ")
    assert "Traceback" not in outcome.err
    assert workspace_state(fresh) == before  # the new folder removed, the root files restored


JOB_FILE_SHAPES = {
    # JSON is YAML: azure-ai-ml loads a job written so.
    "as_json": '{"$schema": "https://azuremlschemas.azureedge.net/latest/commandJob.schema.json", '
    '"code": "src", "command": "python main.py", "environment": "azureml:sklearn@latest", '
    '"compute": "azureml:cpu-cluster"}\n',
    # The environment given an anchor, used again further down.
    "anchored": "code: src\ncommand: python main.py\nenvironment: &runtime azureml:sklearn@1\n"
    "tags:\n  runtime: *runtime\n",
    # The top-level mapping indented.
    "indented": "  code: src\n  command: python main.py  # as written\n"
    "  environment: azureml:sklearn@latest\n",
}


@pytest.mark.slow
def test_job_files_of_any_yaml_shape_are_imported_as_valid_job_files(
    fresh: Path, tmp_path: Path, cli: Callable[..., Outcome]
) -> None:
    """The environment is replaced in the YAML, not in its lines: what is written loads as
    a job, with the build context, and azure-ai-ml accepts it (the import checks)."""
    for name, text in JOB_FILE_SHAPES.items():
        folder = tmp_path / name
        write(folder / "src" / "main.py", "print('hello')\n")
        write(folder / "conda.yaml", "dependencies:\n  - pip:\n    - six\n")
        (folder / "job.yml").write_text(text)

        outcome = cli(import_job.main, fresh, str(folder / "job.yml"))

        assert outcome.code == 0, outcome.err
        written = load_job(fresh / "experiments" / name / "azure-ml-job.yaml")
        assert written["environment"] == {"build": {"path": "environment"}}
        assert written["command"] == "python main.py"
    assert "# as written" in (fresh / "experiments" / "indented" / "azure-ml-job.yaml").read_text()


HELLO_MAIN = """
import mlflow
from sklearn.linear_model import LogisticRegression
from helpers import load
"""


@pytest.mark.slow
def test_what_is_left_to_do_names_what_the_job_needs_and_nothing_else(
    fresh: Path, tmp_path: Path, cli: Callable[..., Outcome]
) -> None:
    """Two jobs of one folder, shaped like azureml-examples' basics: named after their files;
    the packages the command's script reaches (as distributions), MLflow's cloud package,
    the install the command does itself, data left behind and a URL given as a value."""
    folder = tmp_path / "jobs" / "basics"
    write(folder / "src" / "main.py", HELLO_MAIN)
    write(folder / "src" / "helpers.py", "import pandas\ndef load(): ...\n")
    write(folder / "src" / "tools" / "plot.py", "import matplotlib\n")  # not run by the job
    write(tmp_path / "jobs" / "assets" / "data" / "part.csv", "a\n1\n")
    job_text = "\n".join(
        [
            "code: src",
            "command: >-",
            "  pip install -r requirements.txt &&",
            "  python main.py --data ${{inputs.data}} --source ${{inputs.source}}",
            "inputs:",
            "  data:",
            "    type: uri_folder",
            "    path: ../assets/data",
            "  source: https://example.com/table.csv",
            f"environment: {CURATED}",
        ]
    )
    write(folder / "hello-world.yml", job_text + "\n")
    write(folder / "hello-world-env.yml", job_text + "\ndisplay_name: with-env\n")

    first = cli(import_job.main, fresh, str(folder / "hello-world.yml"))
    second = cli(import_job.main, fresh, str(folder / "hello-world-env.yml"))

    assert first.code == second.code == 0, first.err + second.err
    assert (first.out.strip(), second.out.strip()) == (
        "experiments/basics_hello_world",
        "experiments/basics_hello_world_env",
    )
    todo = [line for line in first.err.splitlines() if line.startswith("to do: ")]
    assert "(its code imports mlflow-skinny, pandas, scikit-learn)" in todo[0]
    assert any("in Azure ML it also needs azureml-mlflow" in line for line in todo)
    assert any("installs packages itself (pip install)" in line for line in todo)
    assert any("input 'data' is ../assets/data, which was not imported" in line for line in todo)
    assert any("input 'source' is a URL given as a value" in line for line in todo)


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["missing.yml"], "is not a file: give the path of an Azure ML job YAML"),
        (["outside.yml"], "conda_file: ../conda.yaml in outside.yml is outside the job's folder"),
        (["job.yml", "example_experiment"], "experiments/example_experiment already exists"),
        (["job.yml", "Bad-Name"], "invalid experiment name 'Bad-Name'"),
        (["broken-pipeline.yml"], "step 'train': component ./nope.yml does not exist"),
    ],
)
def test_refusals_are_one_line_and_change_nothing(
    project: Path, tmp_path: Path, cli: Callable[..., Outcome], args: list[str], problem: str
) -> None:
    public_example(tmp_path, [f"environment: {CURATED}"])
    write(tmp_path.parent / "conda.yaml", "dependencies: [six]\n")
    write(
        tmp_path / "outside.yml",
        "code: src\ncommand: python main.py\nenvironment:\n"
        f"  image: {IMAGE}\n  conda_file: ../conda.yaml\n",
    )
    write(
        tmp_path / "broken-pipeline.yml",
        "type: pipeline\njobs:\n  train:\n    component: ./nope.yml\n",
    )
    before = workspace_state(project)

    outcome = cli(import_job.main, project, str(tmp_path / args[0]), *args[1:])

    assert outcome.code == 2
    assert problem in outcome.error_line
    assert workspace_state(project) == before


LIGHTGBM_MAIN = """
import argparse
import lightgbm as lgbm
import pandas as pd
from utils import split
parser = argparse.ArgumentParser()
parser.add_argument("--iris-csv")
args = parser.parse_args()
train, test = split(pd.read_csv(args.iris_csv))
"""


@pytest.mark.slow
def test_a_lightgbm_job_is_imported_with_what_its_code_imports_named(
    fresh: Path, tmp_path: Path, cli: Callable[..., Outcome]
) -> None:
    """Shaped like azureml-examples' LightGBM iris job: a registry environment and a remote
    input; the modules its code imports are named (its own `utils` is not); a credential
    beside the code stays out of the repository."""
    job = public_example(tmp_path / "lightgbm" / "iris", [f"environment: {CURATED}"])
    write(job.parent / "src" / "main.py", LIGHTGBM_MAIN)
    write(job.parent / "src" / "utils.py", "def split(frame):\n    return frame, frame\n")
    write(job.parent / "src" / ".env", "STORAGE_KEY=not-for-the-repository\n")

    imported = cli(import_job.main, fresh, str(job))
    dry_run = just(fresh, "aml", "iris", "--dry-run", "--set", "compute=azureml:cpu-cluster")

    assert imported.code == 0, imported.err
    assert "(its code imports lightgbm, pandas)" in imported.err
    assert "warning: not copied, looks like a credential: .env" in imported.err
    assert not (fresh / "experiments" / "iris" / "src" / ".env").exists()
    assert "python main.py" in dry_run.stdout


def public_pipeline(folder: Path) -> Path:
    """A pipeline as azureml-examples write them: pipeline.yml beside one folder per
    component (its YAML and its src/), a curated environment and a conda one, local data."""
    write(folder / "data" / "iris.csv", IRIS)
    write(
        folder / "prep" / "src" / "prep.py",
        """
        import shutil,sys
        shutil.copy(sys.argv[1], sys.argv[2] + "/iris.csv")
        """,
    )
    write(
        folder / "prep" / "prep.yml",
        f"""
        $schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
        type: command
        name: prep_iris
        version: 3
        inputs:
          raw: {{type: uri_file}}
        outputs:
          clean: {{type: uri_folder}}
        code: ./src
        environment: {CURATED}
        command: python prep.py ${{{{inputs.raw}}}} ${{{{outputs.clean}}}}
        """,
    )
    write(folder / "train" / "src" / "main.py", MAIN)
    write(folder / "train" / "conda.yaml", "dependencies:\n  - pip:\n    - scikit-learn\n")
    write(
        folder / "train" / "train.yml",
        f"""
        type: command
        inputs:
          data: {{type: uri_folder}}
          C: {{type: number, default: 0.8}}
        code: ./src
        environment:
          image: {IMAGE}
          conda_file: ../train/conda.yaml
        command: python main.py --iris-csv ${{{{inputs.data}}}}/iris.csv --C ${{{{inputs.C}}}}
        """,
    )
    return write(
        folder / "pipeline.yml",
        """
        $schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json
        type: pipeline
        settings:
          default_compute: azureml:cpu-cluster  # the cluster the examples use
        inputs:
          raw: {type: uri_file, path: ./data/iris.csv}
        jobs:
          prep:
            type: command
            component: ./prep/prep.yml
            inputs:
              raw: ${{parent.inputs.raw}}
          train:
            type: command
            component: ./train/train.yml
            inputs:
              data: ${{parent.jobs.prep.outputs.clean}}
        """,
    )


@pytest.mark.slow
def test_a_pipeline_is_imported_with_its_components_and_code_and_runs(
    fresh: Path, tmp_path: Path, cli: Callable[..., Outcome]
) -> None:
    pipeline = public_pipeline(tmp_path / "iris-pipeline")

    outcome = cli(import_job.main, fresh, str(pipeline), "iris_steps")

    assert outcome.code == 0, outcome.err
    experiment = fresh / "experiments" / "iris_steps"
    assert (experiment / "prep" / "src" / "prep.py").is_file()
    assert (experiment / "train" / "src" / "main.py").is_file()
    prep = (experiment / "prep" / "prep.yml").read_text()
    assert "environment:\n  build:\n    path: ../environment\n" in prep
    assert "name: prep_iris\nversion: 3\n" in prep  # every other line as it was
    assert f"prep/prep.yml: environment was {CURATED}; now the experiment's build" in outcome.err
    assert "scikit-learn" in (experiment / "pyproject.toml").read_text()  # the conda file's
    assert "to do: input 'raw' is ./data/iris.csv, which was not imported" in outcome.err
    write(experiment / "data" / "iris.csv", IRIS)  # as the note says
    ran = run(["just", "local", "iris_steps", "-f", "pipeline.yml"], fresh)
    assert ran.returncode == 0, ran.stderr
    assert "step train: FINISHED" in ran.stderr
