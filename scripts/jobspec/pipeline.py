"""An Azure ML pipeline job (`type: pipeline`) read into a typed graph of steps: each step's
component (a file, or the step itself when inline), its inputs as given (literals, data,
bindings to the pipeline or to other steps), its outputs, and the order the bindings
impose, as azure-ai-ml's pipeline schema (`_schema/pipeline/`) and Azure ML's pipeline YAML
reference define them. Nested pipelines are read into their steps, named NESTED.STEP.

Pure: nothing is resolved to a local path or run here (scripts/pipelines/ does that); a
pipeline that cannot run locally is refused in one line naming the step and why.
"""

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from scripts.console.errors import UsageError
from scripts.jobspec.documents import load_yaml
from scripts.jobspec.job import PIPELINE, JobDict
from scripts.jobspec.sweep import Sweep, read_sweep

# Step kinds that need the service: one line each, and `just aml` submits them.
_CLOUD_ONLY_KINDS = {
    "parallel": "a parallel job splits its data over a cluster's nodes",
    "automl": "AutoML trains its models in the service",
    "spark": "a Spark job needs a Spark cluster",
    "import": "an import job copies data from an external source in the service",
    "data_transfer": "a data transfer runs in the service",
}
# The kinds of step the runner dispatches on: command steps (a nested pipeline is read into
# its steps) and sweep steps, whose trials are its component's runs. A `cloud` step is one
# only the service runs, read for submission only: as written, its inputs and outputs
# unknown here.
StepKind = Literal["command", "sweep", "cloud"]
SWEEP_STEP = "sweep"
_BINDING = re.compile(r"\$\{\{\s*parent\.([A-Za-z0-9_.]+?)\s*\}\}")
_WHOLE_BINDING = re.compile(r"\s*\$\{\{\s*parent\.([A-Za-z0-9_.]+?)\s*\}\}\s*")
_STEP_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LITERAL_TYPES = ("string", "integer", "number", "boolean")
_TRUE, _FALSE = ("true", "True", "TRUE"), ("false", "False", "FALSE")


@dataclass(frozen=True)
class Binding:
    """`${{parent.inputs.X}}`, `${{parent.outputs.X}}` (`step` None), or
    `${{parent.jobs.STEP.inputs.X}}` / `${{parent.jobs.STEP.outputs.X}}`."""

    side: Literal["inputs", "outputs"]
    name: str
    step: str | None = None

    def __str__(self) -> str:
        where = f"jobs.{self.step}." if self.step else ""
        return f"${{{{parent.{where}{self.side}.{self.name}}}}}"


@dataclass(frozen=True)
class ComponentInput:
    """One input a component declares: its type and what it allows."""

    name: str
    type: str
    default: Any = None
    optional: bool = False
    minimum: float | None = None
    maximum: float | None = None
    enum: tuple[str, ...] = ()

    @property
    def literal(self) -> bool:
        """A value (string, integer, number, boolean), not data."""
        return self.type in _LITERAL_TYPES


@dataclass(frozen=True)
class Given:
    """What a step gives one of its component's inputs: a binding, data (`path:`), or a
    literal value."""

    binding: Binding | None = None
    data: JobDict | None = None  # {type, path, mode}: a local path is the pipeline file's
    value: Any = None


@dataclass(frozen=True)
class Step:
    name: str  # a nested pipeline's steps: NESTED.STEP
    kind: StepKind
    component_file: Path  # where the component is written: its file, or the pipeline's
    component: JobDict  # command, code, environment, distribution, ... (as written)
    inputs: dict[str, ComponentInput]  # declared by the component
    outputs: tuple[str, ...]  # declared by the component
    given: dict[str, Given]  # the step's `inputs:`
    output_bindings: dict[str, Binding]  # the step's `outputs:` bound to the pipeline's
    settings: JobDict  # the step's own run settings (environment_variables, limits, ...)
    spec: JobDict  # the step as written in its pipeline
    sweep: Sweep | None = None  # a sweep step's search: its trials set its inputs

    def renamed(self, prefix: str) -> "Step":
        """The step as a step of the nested pipeline `prefix` (its bindings to the
        pipeline's other steps renamed alike)."""
        given = {
            name: dataclasses.replace(g, binding=_prefixed(g.binding, prefix))
            for name, g in self.given.items()
        }
        return dataclasses.replace(self, name=f"{prefix}.{self.name}", given=given)

    def given_to(self, name: str) -> Given:
        """What the step gives its input `name`: as written, else the component's default."""
        return self.given.get(name, Given(value=self.inputs[name].default))

    @property
    def upstream(self) -> set[str]:
        """The steps whose outputs or inputs this one's inputs are bound to."""
        return {g.binding.step for g in self.given.values() if g.binding and g.binding.step}


@dataclass(frozen=True)
class Pipeline:
    file: Path
    document: JobDict
    inputs: JobDict  # the pipeline's inputs as written (after --set)
    outputs: tuple[str, ...]
    continue_on_step_failure: bool
    force_rerun: bool
    steps: dict[str, Step]
    order: tuple[str, ...] = field(default=())  # every step after those it is bound to
    # Each nested pipeline step (NAME, or OUTER.NAME): its pipeline component and its file.
    nested: dict[str, tuple[JobDict, Path]] = field(default_factory=dict)

    @property
    def experiment_name(self) -> str | None:
        name = self.document.get("experiment_name")
        return None if name is None else str(name)


class CloudOnlyStep(UsageError):
    """A step only Azure ML runs (a registry component, a parallel step, ...)."""


def read_pipeline(document: JobDict, file: Path, root: Path, cloud: bool = False) -> Pipeline:
    """The pipeline job `document` (of `file`, after `--set`) as a graph: every component
    file inside `root` (the project) and readable, every binding to something that exists,
    no cycle; a UsageError naming the step and what to fix otherwise. With `cloud` (to
    submit it), a step only Azure ML runs is kept as a `cloud` step instead of refused."""
    jobs = document.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        raise UsageError(f"{file.name} has no `jobs:`: a pipeline needs at least one step")
    inputs = _mapping(document, "inputs", file.name)
    outputs = tuple(str(name) for name in _mapping(document, "outputs", file.name))
    settings = _mapping(document, "settings", file.name)
    graph = _read_jobs(jobs, file, root, cloud)
    pipeline = Pipeline(
        file=file,
        document=document,
        inputs=inputs,
        outputs=outputs,
        continue_on_step_failure=_flag(settings, "continue_on_step_failure", file),
        force_rerun=_flag(settings, "force_rerun", file),
        steps=graph.steps,
        nested=graph.nested,
    )
    _check_bindings(pipeline)
    return dataclasses.replace(pipeline, order=_ordered(graph.steps))


@dataclass
class _Graph:
    """A pipeline's steps, nested pipelines' steps in their place (NESTED.STEP)."""

    steps: dict[str, Step] = field(default_factory=dict)
    nested: dict[str, tuple[JobDict, Path]] = field(default_factory=dict)
    # Each nested pipeline's outputs: the output of one of its steps each is bound to.
    nested_outputs: dict[str, dict[str, Binding]] = field(default_factory=dict)


def _read_jobs(jobs: JobDict, file: Path, root: Path, cloud: bool) -> _Graph:
    """The steps of `jobs` (of `file`), each nested pipeline replaced by its own steps, and
    every binding to a nested pipeline's output pointed at the step that makes it."""
    graph = _Graph()
    for key, spec in jobs.items():
        name = str(key)
        try:
            _check_step(name, spec, file)
            component, component_file = _component(name, spec, file, root)
            nested = component.get("type") == PIPELINE
            if str(spec.get("type") or "command") == PIPELINE or nested:
                _read_nested(graph, name, spec, component, component_file, root, cloud)
            else:
                graph.steps[name] = _read_step(name, spec, file, component, component_file)
        except CloudOnlyStep:
            if not cloud:
                raise
            graph.steps[name] = _cloud_step(name, spec, file)
    for name, step in list(graph.steps.items()):
        given = {
            input_name: _through_nested(graph, name, input_name, g)
            for input_name, g in step.given.items()
        }
        graph.steps[name] = dataclasses.replace(step, given=given)
    return graph


def _read_nested(
    graph: _Graph,
    name: str,
    spec: JobDict,
    component: JobDict,
    file: Path,
    root: Path,
    cloud: bool,
) -> None:
    """The steps of the pipeline component of step `name` into `graph`, as NAME.STEP: each
    binding to the component's inputs replaced by what step `name` gives them (or their
    defaults), its outputs those of the steps bound to them."""
    jobs = component.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        raise UsageError(f"step {name!r}: its pipeline component {file.name} has no `jobs:`")
    declared = _mapping(component, "inputs", file.name)
    outputs = _mapping(component, "outputs", file.name)
    given = _mapping(spec, "inputs", f"step {name!r}")
    for input_name in given:
        _check_declared(name, "gives input", str(input_name), declared)
    bound_outputs = _output_bindings(name, spec, tuple(map(str, outputs)))
    inner = _read_jobs(jobs, file, root, cloud)
    graph.nested[name] = (component, file)
    graph.nested |= {f"{name}.{inner_name}": value for inner_name, value in inner.nested.items()}
    for step in inner.steps.values():
        renamed = step.renamed(name)
        values = {}
        for input_name, g in renamed.given.items():
            if g.binding is not None and g.binding.step is None and g.binding.side == "inputs":
                outer = given.get(g.binding.name)
                default = _default_of(declared.get(g.binding.name))
                values[input_name] = (
                    Given(value=default)
                    if outer is None
                    else _given_value(name, g.binding.name, outer)
                )
            else:
                values[input_name] = g
        output_bindings = {}
        for output, binding in renamed.output_bindings.items():
            graph.nested_outputs.setdefault(name, {})[binding.name] = Binding(
                "outputs", output, renamed.name
            )
            if binding.name in bound_outputs:
                output_bindings[output] = bound_outputs[binding.name]
        graph.steps[renamed.name] = dataclasses.replace(
            renamed, given=values, output_bindings=output_bindings
        )
    for nested, made in inner.nested_outputs.items():
        graph.nested_outputs[f"{name}.{nested}"] = {
            output: dataclasses.replace(binding, step=f"{name}.{binding.step}")
            for output, binding in made.items()
        }


def _through_nested(graph: _Graph, step: str, name: str, given: Given) -> Given:
    """`given`, bound to the step that makes a nested pipeline's output when it names one."""
    binding = given.binding
    if binding is None or binding.step not in graph.nested:
        return given
    made = graph.nested_outputs.get(binding.step, {})
    if binding.side != "outputs" or binding.name not in made:
        raise UsageError(
            f"step {step!r}, input {name!r}: {binding}: the nested pipeline {binding.step!r} "
            f"binds no step to such an output (bound: {', '.join(made) or 'none'})"
        )
    return Given(binding=made[binding.name])


def _prefixed(binding: Binding | None, prefix: str) -> Binding | None:
    if binding is None or binding.step is None:
        return binding
    return dataclasses.replace(binding, step=f"{prefix}.{binding.step}")


def _default_of(declared: Any) -> Any:
    return declared.get("default") if isinstance(declared, dict) else declared


def check_step_overrides(document: JobDict, keys: Iterable[tuple[str, ...]], file: Path) -> None:
    """A UsageError for a `--set jobs.STEP...` naming a step the pipeline does not have
    (the `--set inputs.X` of a pipeline are checked as a command job's are)."""
    jobs = document.get("jobs") or {}
    for path in keys:
        if path[0] != "jobs":
            continue
        step = path[1] if len(path) > 1 else ""
        if step not in jobs:
            raise UsageError(
                f"--set {'.'.join(path)}: {file.name} has no step {step!r} "
                f"(steps: {', '.join(map(str, jobs)) or 'none'})"
            )
        if len(path) < 3:
            raise UsageError(
                f"--set {'.'.join(path)}: set a field of the step, e.g. "
                f"--set jobs.{step}.inputs.NAME=VALUE"
            )


def _check_step(name: str, spec: Any, file: Path) -> None:
    """A UsageError unless step `name` of `file` is a mapping of a kind that runs here."""
    if not _STEP_NAME.fullmatch(name):  # it names the step's folder in the run folder
        raise UsageError(
            f"step {name!r} in {file.name} is not a plain name: use letters, digits and '_', "
            "starting with a letter or '_'"
        )
    if not isinstance(spec, dict):
        raise UsageError(f"step {name!r} in {file.name} is not a mapping")
    kind = str(spec.get("type") or "command")
    if kind in _CLOUD_ONLY_KINDS:
        raise _cannot_run(name, f"a {kind!r} step: {_CLOUD_ONLY_KINDS[kind]}")
    if kind not in ("command", PIPELINE, SWEEP_STEP):
        raise UsageError(f"step {name!r} in {file.name} has an unknown type {kind!r}")


def _read_step(
    name: str, spec: JobDict, file: Path, component: JobDict, component_file: Path
) -> Step:
    kind = str(spec.get("type") or "command")
    component_kind = str(component.get("type") or "command")
    if component_kind != "command":
        raise _cannot_run(name, f"its component is a {component_kind!r} component")
    where = f"step {name!r} ({component_file.name})"
    if not isinstance(component.get("command"), str) or not component["command"].strip():
        raise UsageError(f"{where} has no `command`: add the command the step runs")
    inline = component is spec
    declared = _inline_inputs(name, spec) if inline else _component_inputs(component, where)
    outputs = tuple(str(output) for output in _mapping(component, "outputs", where))
    sweep = _search(name, spec, file, component, declared) if kind == SWEEP_STEP else None
    return Step(
        name=name,
        kind="sweep" if sweep else "command",
        component_file=component_file,
        component=component,
        inputs=declared,
        outputs=outputs,
        given=_given(name, spec, declared),
        output_bindings=_output_bindings(name, spec, outputs),
        settings={
            key: spec[key]
            for key in ("environment_variables", "limits", "distribution", "resources")
            if spec.get(key) is not None and not sweep  # a sweep step's limits are its own
        },
        spec=spec,
        sweep=sweep,
    )


def _search(
    name: str, spec: JobDict, file: Path, component: JobDict, declared: Iterable[str]
) -> Sweep:
    """A sweep step's search, each of its entries an input of its trial component."""
    sweep = read_sweep(spec | {"trial": component}, file)
    for entry in sweep.space:
        if entry not in declared:
            raise UsageError(
                f"step {name!r}: search_space.{entry} is no input of its trial component "
                f"(inputs: {', '.join(declared) or 'none'}): a trial gives its values as inputs"
            )
    return sweep


def _cloud_step(name: str, spec: JobDict, file: Path) -> Step:
    """A step only Azure ML runs, kept as written to be submitted."""
    return Step(name, "cloud", file, {}, {}, (), {}, {}, {}, spec)


def _cannot_run(step: str, why: str) -> CloudOnlyStep:
    return CloudOnlyStep(
        f"step {step!r} cannot run locally ({why}): `just aml` submits the pipeline as it is"
    )


def _component(name: str, spec: JobDict, file: Path, root: Path) -> tuple[JobDict, Path]:
    """The step's component and the file it is written in: `component: ./file.yml` (a sweep
    step's `trial: ./file.yml`, taken from the pipeline file's folder, as Azure ML does), an
    inline mapping, or the step itself (`command:` in the step)."""
    key = "trial" if spec.get("type") == SWEEP_STEP else "component"
    component = spec.get(key)
    if component is None and key == "trial":
        raise UsageError(f"step {name!r} in {file.name} is a sweep with no `trial:` component")
    if component is None:
        if "command" not in spec:
            raise UsageError(
                f"step {name!r} in {file.name} has neither `component:` nor `command:`"
            )
        return spec, file
    if isinstance(component, dict):
        return component, file
    text = str(component)
    if text.startswith("azureml:"):
        where = "a registry" if text.startswith("azureml://registries/") else "the workspace"
        raise _cannot_run(name, f"its component {text} lives in {where}")
    path = (file.parent / text.removeprefix("file:")).resolve()
    if not path.is_relative_to(root.resolve()):
        raise UsageError(
            f"step {name!r}: component {text} is outside the project: keep component files "
            "in an experiment's folder"
        )
    if not path.is_file():
        raise UsageError(
            f"step {name!r}: component {text} does not exist ({path}): fix the path, which "
            f"is taken from {file.name}'s folder"
        )
    document = load_yaml(path, "a component spec")
    if not isinstance(document, dict):
        raise UsageError(f"step {name!r}: {path.name} is not a YAML mapping of a component")
    return document, path


def _component_inputs(component: JobDict, where: str) -> dict[str, ComponentInput]:
    declared = {}
    for name, spec in _mapping(component, "inputs", where).items():
        if not isinstance(spec, dict) or "type" not in spec:
            raise UsageError(f"{where}: input {name!r} needs a `type:` (component inputs do)")
        declared[str(name)] = ComponentInput(
            name=str(name),
            type=str(spec["type"]),
            default=spec.get("default"),
            optional=spec.get("optional") is True,
            minimum=spec.get("min"),
            maximum=spec.get("max"),
            enum=tuple(str(choice) for choice in spec.get("enum") or ()),
        )
    return declared


def _inline_inputs(step: str, spec: JobDict) -> dict[str, ComponentInput]:
    """An inline step's inputs as the anonymous component Azure ML makes of it declares
    them: data where a path or a step's output is given, else the type of the value."""
    declared = {}
    for name, value in _mapping(spec, "inputs", f"step {step!r}").items():
        given = _given_value(step, str(name), value)
        if given.binding is not None:
            kind = "uri_folder" if given.binding.step else "string"
        elif given.data is not None:
            kind = str(given.data.get("type") or "uri_folder")
        else:
            kind = {bool: "boolean", int: "integer", float: "number"}.get(
                type(given.value), "string"
            )
        unset = given.binding is None and given.data is None and given.value is None
        declared[str(name)] = ComponentInput(str(name), kind, optional=unset)
    return declared


def _given(step: str, spec: JobDict, declared: dict[str, ComponentInput]) -> dict[str, Given]:
    given = {}
    for name, value in _mapping(spec, "inputs", f"step {step!r}").items():
        _check_declared(step, "gives input", str(name), declared)
        given[str(name)] = _given_value(step, str(name), value)
    return given


def _check_declared(step: str, gives: str, name: str, declared: Iterable[str]) -> None:
    if name not in declared:
        raise UsageError(
            f"step {step!r} {gives} {name!r}, which its component does not declare "
            f"(declared: {', '.join(declared) or 'none'})"
        )


def _given_value(step: str, name: str, value: Any) -> Given:
    text = value.get("path") if isinstance(value, dict) else value
    binding = _binding(step, name, text) if isinstance(text, str) else None
    if binding:
        return Given(binding=binding)
    if isinstance(value, dict):
        if "path" in value:
            return Given(data=value)
        return Given(value=value.get("value", value.get("default")))
    return Given(value=value)


def _binding(step: str, name: str, text: str) -> Binding | None:
    """The binding `text` is, None for text that holds none; a UsageError for one that is
    only part of the text or names nothing a binding can name."""
    whole = _WHOLE_BINDING.fullmatch(text)
    if not whole:
        if _BINDING.search(text):
            raise UsageError(
                f"step {step!r}, input {name!r}: {text!r} binds only part of its value: "
                "give the whole value as one ${{parent...}} binding"
            )
        return None
    parts = whole[1].split(".")
    if len(parts) == 2 and parts[0] in ("inputs", "outputs"):
        return Binding(parts[0], parts[1])  # type: ignore[arg-type]
    if len(parts) == 4 and parts[0] == "jobs" and parts[2] in ("inputs", "outputs"):
        return Binding(parts[2], parts[3], parts[1])  # type: ignore[arg-type]
    raise UsageError(
        f"step {step!r}, input {name!r}: {text.strip()} is not a binding Azure ML knows: use "
        "${{parent.inputs.X}}, ${{parent.outputs.X}} or ${{parent.jobs.STEP.outputs.X}}"
    )


def _output_bindings(step: str, spec: JobDict, outputs: tuple[str, ...]) -> dict[str, Binding]:
    bound = {}
    for name, value in _mapping(spec, "outputs", f"step {step!r}").items():
        _check_declared(step, "names output", str(name), outputs)
        text = value.get("path") if isinstance(value, dict) else value
        found = _binding(step, str(name), text) if isinstance(text, str) else None
        if found:
            if found.step is not None or found.side != "outputs":
                raise UsageError(
                    f"step {step!r}, output {name!r}: an output binds to the pipeline's own "
                    "outputs only (${{parent.outputs.X}})"
                )
            bound[str(name)] = found
    return bound


def _check_bindings(pipeline: Pipeline) -> None:
    for step in pipeline.steps.values():
        for name, given in step.given.items():
            binding = given.binding
            if binding is None:
                continue
            where = f"step {step.name!r}, input {name!r}: {binding}"
            if binding.step is None:
                names = pipeline.inputs if binding.side == "inputs" else pipeline.outputs
                if binding.name not in names:
                    raise UsageError(f"{where} names no pipeline {binding.side[:-1]}")
                continue
            source = pipeline.steps.get(binding.step)
            if source is None:
                raise UsageError(f"{where} names no step (steps: {', '.join(pipeline.steps)})")
            if source.kind == "cloud":  # what it declares is known to the service only
                continue
            names = source.inputs if binding.side == "inputs" else source.outputs
            if binding.name not in names:
                raise UsageError(
                    f"{where}: step {binding.step!r} declares no such {binding.side[:-1]} "
                    f"(declared: {', '.join(names) or 'none'})"
                )
        for name, binding in step.output_bindings.items():
            if binding.name not in pipeline.outputs:
                raise UsageError(
                    f"step {step.name!r}, output {name!r}: {binding} names no pipeline output "
                    f"(declared: {', '.join(pipeline.outputs) or 'none'})"
                )


def _ordered(steps: dict[str, Step]) -> tuple[str, ...]:
    """The steps in an order where each comes after the steps it is bound to (file order
    among the independent); a UsageError naming a cycle."""
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = [*path[path.index(name) :], name]
            raise UsageError(
                f"step {name!r} depends on itself through {' -> '.join(cycle)}: the bindings "
                "of a pipeline must not form a cycle"
            )
        state[name] = "visiting"
        for upstream in sorted(steps[name].upstream, key=list(steps).index):
            visit(upstream, [*path, name])
        state[name] = "done"
        order.append(name)

    for name in steps:
        visit(name, [])
    return tuple(order)


def describe_graph(pipeline: Pipeline) -> list[str]:
    """One line per step, in the order they can start: what each waits for, and through
    which of its inputs."""
    lines = []
    for name in pipeline.order:
        step = pipeline.steps[name]
        waits = [
            f"{given.binding.step}.{given.binding.side}.{given.binding.name} -> {input_name}"
            for input_name, given in step.given.items()
            if given.binding and given.binding.step
        ]
        lines.append(f"step {name}: " + (f"after {', '.join(waits)}" if waits else "first"))
    return lines


def check_literal(step: str, declared: ComponentInput, value: Any) -> str:
    """A literal input's value as the command gets it, after Azure ML's checks of its type,
    `enum`, `min` and `max`; a UsageError naming the step and the input otherwise."""
    where = f"step {step!r}, input {declared.name!r} ({declared.type})"
    text = _text(value)
    if declared.type == "boolean":
        if text not in _TRUE + _FALSE:
            raise UsageError(f"{where}: {text!r} is not a boolean: give true or false")
        return "True" if text in _TRUE else "False"
    if declared.type in ("integer", "number"):
        number = _number(text, declared.type == "integer")
        if number is None:
            kind = "a whole number" if declared.type == "integer" else "a number"
            raise UsageError(f"{where}: {text!r} is not {kind}: give {kind}")
        low, high = declared.minimum, declared.maximum
        if low is not None and number < float(low):
            raise UsageError(f"{where}: {text} is below its min: give at least {low}")
        if high is not None and number > float(high):
            raise UsageError(f"{where}: {text} is above its max: give at most {high}")
        return text
    if declared.enum and text not in declared.enum:
        raise UsageError(
            f"{where}: {text!r} is not in its enum: give one of {', '.join(declared.enum)}"
        )
    return text


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def _number(text: str, integer: bool) -> float | None:
    try:
        return float(int(text)) if integer else float(text)
    except ValueError:
        return None


def _flag(settings: JobDict, key: str, file: Path) -> bool:
    value = settings.get(key, False)
    if isinstance(value, bool):
        return value
    if str(value) in _TRUE + _FALSE:
        return str(value) in _TRUE
    raise UsageError(f"{file.name}: settings.{key} must be true or false (got {value!r})")


def _mapping(document: JobDict, key: str, where: str) -> JobDict:
    value = document.get(key) or {}
    if not isinstance(value, dict):
        raise UsageError(f"{where}: `{key}` must be a mapping")
    return value
