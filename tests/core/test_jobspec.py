"""The job spec in-process: `--set` parsing and applying, inputs resolved to local values,
the command rendered with `${{ }}` references and `$[[ ]]` optional parts, and what the SDK
keeps of a literal input's text."""

import json
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scripts.console.errors import UsageError
from scripts.jobspec.command import render_command
from scripts.jobspec.distribution import Distribution, process_variables, read_distribution
from scripts.jobspec.inputs import resolve_inputs
from scripts.jobspec.job import MASK, JobDict, environment_variables, load_job, masked
from scripts.jobspec.overrides import Override, apply_overrides, parse_override
from scripts.jobspec.parity import (
    cloud_environment,
    not_applied_locally,
    read_only_inputs,
    time_limit,
)
from scripts.jobspec.schema import literal_input_keys, typed_overrides
from tests.helpers import write

JOB_FILE = Path("experiments/beta/azure-ml-job.yaml")


def test_set_parses_dotted_keys_and_keeps_everything_after_the_first_equals() -> None:
    override = parse_override("inputs.query.value=a=b")
    assert (override.path, override.value, override.key) == (
        ("inputs", "query", "value"),
        "a=b",
        "inputs.query.value",
    )


def test_set_replaces_values_and_creates_missing_mappings_in_a_copy() -> None:
    job: dict[str, Any] = {"command": "x", "inputs": {"epochs": 10, "data": {"path": "./d"}}}
    overrides = [
        parse_override(text)
        for text in ("inputs.epochs=3", "inputs.data.path=/other", "resources.instance_count=2")
    ]

    changed = apply_overrides(job, overrides, JOB_FILE)

    assert changed["inputs"] == {"epochs": "3", "data": {"path": "/other"}}
    assert changed["resources"] == {"instance_count": "2"}
    assert job["inputs"]["epochs"] == 10  # the original is untouched


def test_set_into_a_value_says_how_to_set_the_value() -> None:
    with pytest.raises(UsageError, match=r"inputs.epochs is a value, not a mapping; set it with "):
        apply_overrides({"inputs": {"epochs": 10}}, [parse_override("inputs.epochs.x=1")], JOB_FILE)


def test_a_job_file_that_is_not_a_command_job_is_refused(tmp_path: Path) -> None:
    for text, problem in [
        ("- a list\n", "must be a YAML mapping of an Azure ML command job"),
        ("type: pipeline\ncommand: x\n", "is a 'pipeline' job: this command runs command jobs"),
        ("command: x\ninputs: [a]\n", "`inputs` must be a mapping"),
    ]:
        with pytest.raises(UsageError, match=problem):
            load_job(write(tmp_path / "job.yaml", text))


def test_a_job_file_that_expands_without_bound_is_refused_at_once(tmp_path: Path) -> None:
    """Nine levels of nine aliases: 9**9 values once expanded, from under 1 KB of YAML."""
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"] + [
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)
    ]
    bomb = write(tmp_path / "job.yaml", "command: echo\ninputs:\n  " + "\n  ".join(levels) + "\n")
    assert bomb.stat().st_size < 1024

    with pytest.raises(UsageError, match=r"expands to over 100,000 values \(nested YAML anchors"):
        load_job(bomb)


def test_a_huge_job_file_is_not_read(tmp_path: Path) -> None:
    huge = write(tmp_path / "job.yaml", "command: echo\n" + "# padding\n" * 200_000)

    with pytest.raises(UsageError, match=r"job.yaml is over 1,000,000 bytes: is it a job spec\?"):
        load_job(huge)


def test_environment_variables_are_strings_a_process_can_hold() -> None:
    job = {"environment_variables": {"A": "x=y", "N": 3, "F": 0.5, "B": True}}
    assert environment_variables(job, JOB_FILE) == {"A": "x=y", "N": "3", "F": "0.5", "B": "True"}


@pytest.mark.parametrize(
    ("variables", "problem"),
    [
        ({"A=B": "1"}, "environment variable 'A=B' in azure-ml-job.yaml: a name must be"),
        ({"A": "x\0y"}, "environment variable A in azure-ml-job.yaml holds a NUL character"),
        ({"A": {"nested": 1}}, "environment variable A in azure-ml-job.yaml is not a string"),
        ({"A": None}, "environment variable A in azure-ml-job.yaml is not a string"),
    ],
)
def test_environment_variables_no_process_can_hold(variables: dict[str, Any], problem: str) -> None:
    with pytest.raises(UsageError, match=re.escape(problem)):
        environment_variables({"environment_variables": variables}, JOB_FILE)


@pytest.fixture
def experiment(tmp_path: Path) -> Path:
    folder = tmp_path / "experiments" / "beta"
    write(folder / "sample" / "rows.csv", "a,b\n")
    return folder


def inputs_of(experiment: Path, inputs: dict[str, Any]) -> dict[str, str | None]:
    data = experiment.parent.parent / "data"
    return resolve_inputs({"command": "x", "inputs": inputs}, experiment, data)


def test_inputs_resolve_to_local_values(experiment: Path) -> None:
    data_asset = experiment.parent.parent / "data" / "digits" / "3"
    data_asset.mkdir(parents=True)

    resolved = inputs_of(
        experiment,
        {
            "epochs": 10,
            "rate": {"type": "number", "default": 0.5},
            "given": {"type": "string", "value": "x", "default": "y"},
            "limit": {"type": "integer", "optional": True},
            "train": {"type": "uri_folder", "path": "./sample"},
            "file": {"type": "uri_file", "path": "file://sample/rows.csv"},
            "asset": {"type": "uri_folder", "path": "azureml:digits:3"},
        },
    )

    assert resolved == {
        "epochs": "10",
        "rate": "0.5",
        "given": "x",
        "limit": None,
        "train": str(experiment / "sample"),
        "file": str(experiment / "sample" / "rows.csv"),
        "asset": str(data_asset),
    }


def test_paths_are_quoted_for_the_shell(tmp_path: Path, experiment: Path) -> None:
    spaced = tmp_path / "other data"
    spaced.mkdir()

    resolved = inputs_of(experiment, {"train": {"path": str(spaced)}})

    assert resolved["train"] == shlex.quote(str(spaced))
    assert shlex.split(f"python x.py {resolved['train']}")[-1] == str(spaced)


@pytest.mark.parametrize(
    "remote",
    [
        "azureml:digits:9",
        "azureml:digits@latest",
        "azureml://datastores/workspaceblobstore/paths/digits/",
        "wasbs://data@account.blob.core.windows.net/digits/",
        "https://example.invalid/digits.csv",
    ],
)
def test_remote_input_without_a_local_copy_needs_an_override(experiment: Path, remote: str) -> None:
    with pytest.raises(UsageError) as refused:
        inputs_of(experiment, {"asset": {"type": "uri_folder", "path": remote}})

    message = str(refused.value)
    assert message.startswith(f"input 'asset' is remote ({remote}) and has no local copy: ")
    assert "--set inputs.asset.path=LOCAL_PATH" in message
    if remote.startswith("azureml:digits"):
        assert message.endswith(f"(or `just data-download {remote.removeprefix('azureml:')}`)")
    if remote.startswith("azureml://"):
        assert message.endswith("(or copy it to data/datastores/workspaceblobstore/digits/)")


def test_missing_local_path_is_a_usage_error(experiment: Path) -> None:
    with pytest.raises(UsageError, match=r"input 'train': .*/absent does not exist; create it"):
        inputs_of(experiment, {"train": {"path": "./absent"}})


COMMAND_JOB = {
    "command": "train ${{inputs.data}} $[[--limit ${{ inputs.limit }}]] --out ${{outputs.model}}",
    "inputs": {"data": {"path": "."}, "limit": {"type": "integer", "optional": True}},
    "outputs": {"model": {"type": "uri_folder"}},
}
OUTPUTS = {"model": "outputs/model"}


def test_references_are_replaced_and_optional_parts_dropped_without_a_value() -> None:
    without = render_command(COMMAND_JOB, {"data": "/d", "limit": None}, OUTPUTS)
    given = render_command(COMMAND_JOB, {"data": "/d", "limit": "5"}, OUTPUTS)

    assert without == "train /d  --out outputs/model"
    assert given == "train /d --limit 5 --out outputs/model"


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        ("run ${{inputs.missing}}", "uses ${{inputs.missing}} but the job declares no such input"),
        ("run ${{outputs.other}}", "uses ${{outputs.other}} but the job declares no such output"),
        ("run ${{inputs.limit}}", "input 'limit' has no value: run with --set inputs.limit=VALUE"),
    ],
)
def test_references_that_cannot_be_rendered(command: str, problem: str) -> None:
    job = COMMAND_JOB | {"command": command}
    with pytest.raises(UsageError, match=re.escape(problem)):
        render_command(job, {"data": "/d", "limit": None}, OUTPUTS)


def test_an_empty_set_means_no_value_and_an_empty_path_is_refused(experiment: Path) -> None:
    job = {"command": "x", "inputs": {"limit": {"type": "integer", "default": 3}}}
    emptied = apply_overrides(job, [parse_override("inputs.limit=")], experiment / "job.yaml")

    assert resolve_inputs(emptied, experiment, experiment) == {"limit": None}
    with pytest.raises(UsageError, match=r"input 'train' has an empty path: give one with --set"):
        inputs_of(experiment, {"train": {"type": "uri_folder", "path": ""}})


def test_every_field_a_local_run_does_not_apply_is_named() -> None:
    job = {
        "command": "x",
        "compute": "azureml:gpu-cluster",
        "identity": {"type": "managed"},
        "services": {"ssh": {"type": "ssh"}},
        "queue_settings": {"job_tier": "spot"},
        "resources": {"instance_count": 2, "shm_size": "8g", "docker_args": "--ipc=host"},
        "distribution": {"type": "pytorch", "process_count_per_instance": 2},
        "inputs": {"data": {"path": ".", "mode": "ro_mount"}, "n": 3},
    }

    assert not_applied_locally(job) == [
        "compute (cloud only)",
        "services (cloud only)",
        "identity (cloud only)",
        "queue_settings (cloud only)",
        "resources.shm_size (cloud only)",
        "resources.docker_args (cloud only)",
    ]
    assert not_applied_locally({"command": "x", "resources": {"instance_count": 1}}) == []
    assert not_applied_locally({"command": "x", "resources": {"instance_count": 2}}) == [
        "resources.instance_count without distribution (one process here)"
    ]


def test_data_inputs_are_read_only_but_in_direct_mode() -> None:
    inputs = {
        "default": {"type": "uri_folder", "path": "."},
        "mounted": {"path": ".", "mode": "ro_mount"},
        "downloaded": {"path": ".", "mode": "download"},
        "direct": {"path": "https://example.invalid/x.csv", "mode": "direct"},
        "literal": 3,
    }
    assert read_only_inputs({"inputs": inputs}) == ["default", "mounted", "downloaded"]


REGISTRY_ENVIRONMENT = "azureml://registries/azureml/environments/sklearn-1.5/labels/latest"
IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04"


@pytest.mark.parametrize(
    ("environment", "named"),
    [
        ({"build": {"path": "environment"}}, None),
        (REGISTRY_ENVIRONMENT, REGISTRY_ENVIRONMENT),
        ("azureml:my-env@latest", "azureml:my-env@latest"),
        ({"image": IMAGE}, f"image {IMAGE}"),
        ({"conda_file": "conda.yaml", "image": None}, "conda_file conda.yaml"),
        ({"image": IMAGE, "conda_file": "conda.yaml"}, f"image {IMAGE}, conda_file conda.yaml"),
    ],
)
def test_an_environment_other_than_the_build_context_is_named(
    environment: Any, named: str | None
) -> None:
    assert cloud_environment({"command": "x", "environment": environment}) == named


@pytest.mark.parametrize("timeout", [0, -5, 1.5, "1h", True])
def test_a_time_limit_is_whole_seconds(timeout: Any) -> None:
    with pytest.raises(UsageError, match=r"limits.timeout must be a whole number of seconds"):
        time_limit({"limits": {"timeout": timeout}}, Path("job.yaml"))
    assert time_limit({"limits": {"timeout": 30}}, Path("job.yaml")) == 30
    assert time_limit({}, Path("job.yaml")) is None


def test_data_references_resolve_to_their_local_copies(experiment: Path) -> None:
    """`@latest` is the highest version present, in numeric order; a datastore path (short
    or long form) lives under data/datastores/; a uri_file asset is the one file in its
    version folder."""
    data = experiment.parent.parent / "data"
    for version in ("1", "3", "12"):
        (data / "digits" / version).mkdir(parents=True)
    (data / "datastores" / "workspaceblobstore" / "raw" / "2026").mkdir(parents=True)
    write(data / "labels" / "2" / "labels.csv", "a\n")

    resolved = inputs_of(
        experiment,
        {
            "latest": {"type": "uri_folder", "path": "azureml:digits@latest"},
            "store": {
                "type": "uri_folder",
                "path": "azureml://datastores/workspaceblobstore/paths/raw/2026/",
            },
            "long_form": {
                "type": "uri_folder",
                "path": "azureml://subscriptions/0000/resourcegroups/rg/workspaces/ws/"
                "datastores/workspaceblobstore/paths/raw/2026",
            },
            "file": {"type": "uri_file", "path": "azureml:labels:2"},
        },
    )

    assert resolved == {
        "latest": str(data / "digits" / "12"),
        "store": str(data / "datastores" / "workspaceblobstore" / "raw" / "2026"),
        "long_form": str(data / "datastores" / "workspaceblobstore" / "raw" / "2026"),
        "file": str(data / "labels" / "2" / "labels.csv"),
    }


def settled(job: JobDict) -> Distribution:
    distribution = read_distribution(job, Path("job.yaml"))
    assert distribution is not None
    return distribution


def ports() -> Callable[[], int]:
    counter = iter(range(29500, 29600))
    return lambda: next(counter)


def test_pytorch_ranks_span_every_node_and_process() -> None:
    job = {
        "resources": {"instance_count": 2},
        "distribution": {"type": "pytorch", "process_count_per_instance": 2},
    }
    ranks = process_variables(settled(job), ports())

    assert [(v["RANK"], v["LOCAL_RANK"], v["NODE_RANK"]) for v in ranks] == [
        ("0", "0", "0"),
        ("1", "1", "0"),
        ("2", "0", "1"),
        ("3", "1", "1"),
    ]
    assert {(v["MASTER_ADDR"], v["MASTER_PORT"], v["WORLD_SIZE"]) for v in ranks} == {
        ("127.0.0.1", "29500", "4")
    }


def test_mpi_processes_get_open_mpis_variables() -> None:
    job = {"distribution": {"type": "mpi", "process_count_per_instance": 3}}

    ranks = process_variables(settled(job), ports())

    assert [v["OMPI_COMM_WORLD_RANK"] for v in ranks] == ["0", "1", "2"]
    assert {v["OMPI_COMM_WORLD_SIZE"] for v in ranks} == {"3"}
    assert [v["OMPI_COMM_WORLD_LOCAL_RANK"] for v in ranks] == ["0", "1", "2"]


def test_tensorflow_workers_and_parameter_servers_get_tf_config() -> None:
    job = {"distribution": {"type": "tensorflow", "worker_count": 2, "parameter_server_count": 1}}

    configs = [json.loads(v["TF_CONFIG"]) for v in process_variables(settled(job), ports())]

    cluster = {"worker": ["127.0.0.1:29500", "127.0.0.1:29501"], "ps": ["127.0.0.1:29502"]}
    assert configs == [
        {"cluster": cluster, "task": {"type": "worker", "index": 0}},
        {"cluster": cluster, "task": {"type": "worker", "index": 1}},
        {"cluster": cluster, "task": {"type": "ps", "index": 0}},
    ]


@pytest.mark.parametrize(
    ("job", "problem"),
    [
        ({"distribution": {"type": "ray"}}, "distribution type 'ray' is not reproduced locally"),
        (
            {"distribution": {"type": "pytorch", "process_count_per_instance": 0}},
            "distribution.process_count_per_instance must be a whole number, at least 1",
        ),
    ],
)
def test_distributions_not_reproduced_are_refused(job: JobDict, problem: str) -> None:
    with pytest.raises(UsageError, match=problem):
        read_distribution(job, Path("job.yaml"))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("API_TOKEN", "x"),
        ("DB_PASS", "x"),
        ("SMTP_PASSWORD", "x"),
        ("DB_PWD", "x"),
        ("GPG_PASSPHRASE", "x"),
        ("STORAGE_SAS", "x"),
        ("DATA_URL", "https://a.blob.core.windows.net/c/d.csv?sv=2024-01-01&sig=abcdefgh%2Bijkl"),
        ("DATABASE_URL", "postgresql://analyst:hunter2@db.example.com/warehouse"),
        ("STORAGE", "DefaultEndpointsProtocol=https;AccountKey=abc=="),
    ],
)
def test_secret_looking_variables_are_recorded_masked(name: str, value: str) -> None:
    assert masked({name: value, "PYTHONPATH": "src"}) == {name: MASK, "PYTHONPATH": "src"}


@pytest.mark.parametrize(
    ("name", "value"),
    [("PASSES", "3"), ("PWD", "/tmp"), ("COMPASS", "north"), ("DATA_URL", "https://a.b/c.csv")],
)
def test_plain_variables_are_recorded_as_they_are(name: str, value: str) -> None:
    assert masked({name: value}) == {name: value}


LITERAL_INPUTS_JOB = """
type: command
command: echo ${{inputs.count}} ${{inputs.rate}} ${{inputs.flag}} ${{inputs.name}}
inputs:
  count: 20
  rate: 0.01
  flag: true
  name: digits
environment: azureml:AzureML-sklearn-1.5@latest
"""
# Text of every shape a user might try: numbers YAML or Python would read otherwise, YAML
# syntax, Azure ML's own references and URIs, JSON, blanks, non-ASCII and length.
LITERAL_VALUES = [
    *["", " ", "\n", "20", "-3", "+5", ".5", "5.", "1e400", "0x10", "1_000", "nan", "inf"],
    *["true", "False", "null", "None", "~", "---", "#x", "*alias", "&anchor x", "!!int 5"],
    *["${{inputs.rate}}", "${{inputs.nope}}", "${{parent.inputs.x}}", "$[[x]]", "'quoted'"],
    *["azureml:data:1", "azureml://datastores/d/paths/p", "https://host/x", "./local", "a b"],
    *["{}", "[1,2]", '{"type": "uri_folder", "path": "x"}', "é∑", "x" * 20_000],
]


def test_the_sdk_keeps_any_text_given_to_a_literal_input(tmp_path: Path) -> None:
    """What lets `just local` reuse the SDK's verdict when only a literal input's value
    changes (literal_input_keys): azure-ai-ml's own load and validation take each text, for
    inputs declared as an integer, a number, a boolean and a string, and keep it as it is."""
    job_file = write(tmp_path / "azure-ml-job.yaml", LITERAL_INPUTS_JOB)
    names = ("count", "rate", "flag", "name")

    for value in LITERAL_VALUES:
        sets = [Override(("inputs", name), value) for name in names]
        assert literal_input_keys(load_job(job_file), sets) == {f"inputs.{n}" for n in names}
        assert typed_overrides(job_file, sets, []) == sets, value


def test_only_a_literal_inputs_own_text_is_left_out_of_the_verdict() -> None:
    job: JobDict = {"inputs": {"count": 20, "data": {"type": "uri_folder", "path": "./d"}}}
    sets = [
        parse_override(text) for text in ("inputs.count=3", "inputs.data=./e", "limits.timeout=5")
    ]

    assert literal_input_keys(job, sets) == {"inputs.count"}
    twice = [parse_override("inputs.count=3"), parse_override("inputs.count=4")]
    assert literal_input_keys(job, twice) == {"inputs.count"}  # the last one wins, as in az ml
    inside = [parse_override("inputs.count=3"), parse_override("inputs.count.type=integer")]
    assert literal_input_keys(job, inside) == set()
