"""A pipeline job read into its graph (scripts/jobspec/pipeline.py), in-process: the order
the bindings give, every binding checked, the steps that cannot run here refused, and the
type checks of literal inputs. What azure-ai-ml itself refuses is tested where the SDK
judges (tests/commands/test_pipeline.py)."""

from pathlib import Path
from typing import Any

import pytest

from scripts.console.errors import UsageError
from scripts.jobspec.job import load_job
from scripts.jobspec.pipeline import (
    ComponentInput,
    check_literal,
    check_step_overrides,
    describe_graph,
    read_pipeline,
)
from scripts.runfolder.snapshot import content_hash
from tests.helpers import write

COMPONENT = """
type: command
inputs:
  data: {type: uri_folder, optional: true}
  n: {type: integer, default: 1}
outputs:
  out: {type: uri_folder}
command: echo $[[${{inputs.data}}]] ${{inputs.n}} > ${{outputs.out}}/x
"""


def pipeline(tmp_path: Path, jobs: dict[str, Any], **top: Any) -> Any:
    """The pipeline of `jobs` read from tmp_path/p.yml, beside component c.yml."""
    write(tmp_path / "c.yml", COMPONENT)
    document = {"type": "pipeline", "jobs": jobs, **top}
    return read_pipeline(document, tmp_path / "p.yml", tmp_path)


def step(**inputs: Any) -> dict[str, Any]:
    return {"component": "./c.yml", "inputs": inputs}


SWEEP_STEP = {
    "type": "sweep",
    "trial": "./c.yml",
    "search_space": {"n": {"type": "choice", "values": [1, 2]}},
    "objective": {"goal": "maximize", "primary_metric": "acc"},
    "sampling_algorithm": "grid",
}


def test_a_sweep_step_searches_over_its_trial_components_inputs(tmp_path: Path) -> None:
    read = pipeline(
        tmp_path,
        {
            "search": {**SWEEP_STEP, "inputs": {"data": "${{parent.jobs.first.outputs.out}}"}},
            "first": step(),
            "after": step(data="${{parent.jobs.search.outputs.out}}"),
        },
    )

    search = read.steps["search"]
    assert read.order == ("first", "search", "after")
    assert (search.kind, list(search.inputs), search.outputs) == ("sweep", ["data", "n"], ("out",))
    assert search.sweep is not None and list(search.sweep.space) == ["n"]


def test_the_order_comes_from_the_bindings_not_the_file(tmp_path: Path) -> None:
    read = pipeline(
        tmp_path,
        {
            "last": step(data="${{parent.jobs.middle.outputs.out}}"),
            "middle": step(data="${{ parent.jobs.first.outputs.out }}"),
            "first": step(n="${{parent.inputs.n}}"),
            "alone": step(),
        },
        inputs={"n": 3},
    )

    assert read.order == ("first", "middle", "last", "alone")
    assert read.steps["last"].upstream == {"middle"}
    assert describe_graph(read)[2] == "step last: after middle.outputs.out -> data"


@pytest.mark.parametrize(
    ("jobs", "top", "message"),
    [
        (
            {
                "a": step(data="${{parent.jobs.b.outputs.out}}"),
                "b": step(data="${{parent.jobs.a.outputs.out}}"),
            },
            {},
            "step 'a' depends on itself through a -> b -> a: the bindings of a pipeline must "
            "not form a cycle",
        ),
        (
            {"a": step(data="${{parent.jobs.nope.outputs.out}}")},
            {},
            "step 'a', input 'data': ${{parent.jobs.nope.outputs.out}} names no step (steps: a)",
        ),
        (
            {"a": step(), "b": step(data="${{parent.jobs.a.outputs.model}}")},
            {},
            "step 'b', input 'data': ${{parent.jobs.a.outputs.model}}: step 'a' declares no "
            "such output (declared: out)",
        ),
        (
            {"a": step(n="${{parent.inputs.epochs}}")},
            {"inputs": {"n": 1}},
            "step 'a', input 'n': ${{parent.inputs.epochs}} names no pipeline input",
        ),
        (
            {"a": step(size=3)},
            {},
            "step 'a' gives input 'size', which its component does not declare (declared: data, n)",
        ),
        (
            {"a": step(n="run-${{parent.inputs.n}}")},
            {"inputs": {"n": 1}},
            "step 'a', input 'n': 'run-${{parent.inputs.n}}' binds only part of its value: "
            "give the whole value as one ${{parent...}} binding",
        ),
        (
            {"a": {"component": "./missing.yml"}},
            {},
            "step 'a': component ./missing.yml does not exist",
        ),
        (
            {"a": {"component": "../../elsewhere.yml"}},
            {},
            "step 'a': component ../../elsewhere.yml is outside the project: keep component "
            "files in an experiment's folder",
        ),
        (
            {"a": {"component": "azureml://registries/azureml/components/train/versions/1"}},
            {},
            "step 'a' cannot run locally (its component "
            "azureml://registries/azureml/components/train/versions/1 lives in a registry): "
            "`just aml` submits the pipeline as it is",
        ),
        (
            {"a": {"component": "azureml:train:3"}},
            {},
            "step 'a' cannot run locally (its component azureml:train:3 lives in the "
            "workspace): `just aml` submits the pipeline as it is",
        ),
        (
            {"a": {"type": "parallel", "component": "./c.yml"}},
            {},
            "step 'a' cannot run locally (a 'parallel' step: a parallel job splits its data "
            "over a cluster's nodes): `just aml` submits the pipeline as it is",
        ),
        (
            {"a": {"type": "command"}},
            {},
            "step 'a' in p.yml has neither `component:` nor `command:`",
        ),
        (
            {"a": {"type": "sweep", "search_space": {"n": {"type": "choice", "values": [1]}}}},
            {},
            "step 'a' in p.yml is a sweep with no `trial:` component",
        ),
        (
            {"a": {**SWEEP_STEP, "search_space": {"k": {"type": "choice", "values": [1]}}}},
            {},
            "step 'a': search_space.k is no input of its trial component (inputs: data, n): a "
            "trial gives its values as inputs",
        ),
        (
            {"a-b": step()},
            {},
            "step 'a-b' in p.yml is not a plain name: use letters, digits and '_', starting "
            "with a letter or '_'",
        ),
    ],
)
def test_a_pipeline_that_cannot_run_is_refused_naming_the_step(
    tmp_path: Path, jobs: dict[str, Any], top: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError) as refused:
        pipeline(tmp_path, jobs, **top)

    assert str(refused.value).startswith(message)


def test_an_inline_step_is_its_own_component(tmp_path: Path) -> None:
    read = pipeline(
        tmp_path,
        {"hello": {"command": "echo ${{inputs.who}}", "inputs": {"who": "world"}}},
    )

    (hello,) = read.steps.values()
    assert hello.component_file == tmp_path / "p.yml"
    assert hello.given["who"].value == "world"


@pytest.mark.parametrize(
    ("declared", "value", "expected"),
    [
        (ComponentInput("n", "integer", minimum=1, maximum=10), "7", "7"),
        (
            ComponentInput("n", "integer", minimum=1),
            0,
            "step 's', input 'n' (integer): 0 is below its min: give at least 1",
        ),
        (
            ComponentInput("n", "integer"),
            "2.5",
            "step 's', input 'n' (integer): '2.5' is not a whole number: give a whole number",
        ),
        (
            ComponentInput("r", "number", maximum=0.5),
            "0.75",
            "step 's', input 'r' (number): 0.75 is above its max: give at most 0.5",
        ),
        (ComponentInput("r", "number"), 0.25, "0.25"),
        (ComponentInput("b", "boolean"), True, "True"),
        (ComponentInput("b", "boolean"), "false", "False"),
        (
            ComponentInput("b", "boolean"),
            "yes",
            "step 's', input 'b' (boolean): 'yes' is not a boolean: give true or false",
        ),
        (ComponentInput("m", "string", enum=("a", "b")), "b", "b"),
        (
            ComponentInput("m", "string", enum=("a", "b")),
            "c",
            "step 's', input 'm' (string): 'c' is not in its enum: give one of a, b",
        ),
    ],
)
def test_literal_inputs_are_checked_as_azure_ml_checks_them(
    declared: ComponentInput, value: Any, expected: str
) -> None:
    try:
        result = check_literal("s", declared, value)
    except UsageError as error:
        result = str(error)

    assert result == expected


def test_settings_flags_take_text_as_set_gives_it(tmp_path: Path) -> None:
    read = pipeline(tmp_path, {"a": step()}, settings={"continue_on_step_failure": "true"})

    assert read.continue_on_step_failure and not read.force_rerun
    with pytest.raises(UsageError, match=r"settings\.force_rerun must be true or false"):
        pipeline(tmp_path, {"a": step()}, settings={"force_rerun": "sometimes"})


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("jobs.b.inputs.n", "--set jobs.b.inputs.n: p.yml has no step 'b' (steps: a)"),
        ("jobs.a", "--set jobs.a: set a field of the step, e.g. --set jobs.a.inputs.NAME=VALUE"),
    ],
)
def test_a_set_on_a_step_names_one_that_exists(tmp_path: Path, key: str, message: str) -> None:
    with pytest.raises(UsageError) as refused:
        check_step_overrides({"jobs": {"a": step()}}, [tuple(key.split("."))], tmp_path / "p.yml")

    assert str(refused.value) == message


def test_a_component_file_is_not_taken_for_a_job(tmp_path: Path) -> None:
    component = write(
        tmp_path / "train.yml",
        "$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json\n"
        + COMPONENT,
    )

    with pytest.raises(UsageError, match=r"train\.yml is a component, not a job: run the pipeline"):
        load_job(component)


def test_the_content_hash_is_azure_mls_for_a_folder_and_for_a_file(tmp_path: Path) -> None:
    """What step reuse compares: a code root's hash, and a local data input's (a file too)."""
    from azure.ai.ml._utils._asset_utils import get_content_hash

    write(tmp_path / "code" / "B.py", "print('b')\n")
    write(tmp_path / "code" / "a" / "x.txt", "x\n")
    data = write(tmp_path / "data.csv", "1,2\n")
    before = content_hash(data)
    data.write_text("1,3\n")

    assert content_hash(tmp_path / "code") == get_content_hash(tmp_path / "code")
    assert content_hash(data) == get_content_hash(data) != before
