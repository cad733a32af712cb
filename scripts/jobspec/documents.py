"""Every YAML file the tooling reads (job specs, conda files, data specs), read one way: as
UTF-8, as azure-ai-ml reads them, and bounded in bytes, in nesting and in values with YAML's
aliases expanded, so a hostile or broken file costs a line, never minutes or gigabytes."""

from pathlib import Path
from typing import Any

from scripts.console.errors import UsageError

# A job spec is a few hundred values; these bound what any YAML file can cost (nested
# anchors expand a 500-byte file to billions of values once walked).
MAX_BYTES = 1_000_000
MAX_VALUES = 100_000
MAX_DEPTH = 64  # mappings and lists within each other


def load_yaml(path: Path, kind: str) -> Any:
    """The YAML document in `path` (`kind`, e.g. "an Azure ML job spec", names what it
    should be); a UsageError saying what to fix otherwise. FileNotFoundError passes."""
    import yaml  # ~15 ms: imported only when a YAML file is read

    if path.stat().st_size > MAX_BYTES:
        raise UsageError(f"{path} is over {MAX_BYTES:,} bytes: is it {kind}?")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(
            f"{path} is not UTF-8 text (azure-ai-ml reads YAML files as UTF-8): save it as UTF-8"
        ) from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise UsageError(f"{path} is not valid YAML{where}: fix the file") from None
    except RecursionError:
        raise _too_deep(path) from None
    problem = _oversized(document)
    if problem == "deep":
        raise _too_deep(path)
    if problem == "wide":
        raise UsageError(
            f"{path} expands to over {MAX_VALUES:,} values (nested YAML anchors and aliases?): "
            "write it out plainly"
        )
    return document


def _too_deep(path: Path) -> UsageError:
    return UsageError(f"{path} nests more than {MAX_DEPTH} levels of mappings and lists: fix it")


def _oversized(document: object) -> str | None:
    """ "deep" or "wide" when `document`, every alias expanded, nests deeper than MAX_DEPTH
    or holds more than MAX_VALUES values; stops at the first limit passed, so it costs at
    most MAX_VALUES steps."""
    pending: list[tuple[object, int]] = [(document, 0)]
    seen = 0
    while pending:
        node, depth = pending.pop()
        seen += 1
        if seen > MAX_VALUES:
            return "wide"
        if isinstance(node, dict | list):
            if depth >= MAX_DEPTH:
                return "deep"
            children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
            pending.extend((child, depth + 1) for child in children)
    return None
