"""What a job's code imports from outside itself, as the distributions `uv add` takes: read
from the scripts its command runs (`python main.py`, `python -m pkg.train`) and the local
modules they import in turn, not from every file that happens to be in the folder."""

import ast
import re
import shlex
import sys
from pathlib import Path

from scripts.project.experiments import normalise

# Modules whose distribution is named otherwise, for what the tooling's environment does
# not have installed (there, importlib.metadata knows).
KNOWN_DISTRIBUTIONS = {
    "cv2": "opencv-python", "PIL": "pillow", "sklearn": "scikit-learn",
    "skimage": "scikit-image", "yaml": "pyyaml", "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil", "dotenv": "python-dotenv", "attr": "attrs",
    "jwt": "pyjwt", "Crypto": "pycryptodome", "mlflow": "mlflow-skinny",
}  # fmt: skip
_NAMESPACES = ("azure", "azureml", "google")  # a distribution per sub-package
_REFERENCE = re.compile(r"\$\{\{[^}]*\}\}")


def entry_files(command: str, roots: list[Path]) -> list[Path]:
    """The Python files `command` runs (`python X.py`, `python -m X`), found in `roots`
    (the code root, then what PYTHONPATH adds)."""
    try:
        words = shlex.split(_REFERENCE.sub("VALUE", command))
    except ValueError:
        return []
    found = []
    for index, word in enumerate(words):
        if not Path(word).name.startswith("python"):
            continue
        arguments = words[index + 1 :]
        while arguments and arguments[0].startswith("-") and arguments[0] != "-m":
            arguments = arguments[1:]
        if arguments[:1] == ["-m"] and len(arguments) > 1:
            found += _module_files(arguments[1], roots)
        elif arguments and arguments[0].endswith(".py"):
            found += [root / arguments[0] for root in roots[:1] if (root / arguments[0]).is_file()]
    return found


def third_party_imports(entries: list[Path], roots: list[Path]) -> list[str]:
    """The modules `entries` import, and the local modules they import in turn, that are
    neither the standard library nor the code's own; namespace packages (azure.storage.blob)
    by their sub-package."""
    seen: set[Path] = set()
    pending = list(entries)
    found: set[str] = set()
    while pending:
        source = pending.pop()
        if source in seen:
            continue
        seen.add(source)
        for module in _imports(source):
            local = _module_files(module, [source.parent, *roots])
            if local:
                pending += local
            elif module.split(".")[0] not in sys.stdlib_module_names:
                found.add(_importable(module))
    return sorted(found)


def distribution(module: str) -> str:
    """The distribution `uv add` needs for `module` (sklearn: scikit-learn)."""
    from importlib.metadata import packages_distributions

    top = module.split(".")[0]
    if top in _NAMESPACES:
        return normalise(module.replace(".", "-"))
    installed = packages_distributions().get(top, [])
    if len(installed) == 1:
        return normalise(installed[0])
    return KNOWN_DISTRIBUTIONS.get(top, normalise(top))


def _importable(module: str) -> str:
    parts = module.split(".")
    if parts[0] in _NAMESPACES:
        return ".".join(parts[:3] if parts[0] == "azure" and len(parts) > 2 else parts[:2])
    return parts[0]


def _imports(source: Path) -> list[str]:
    try:
        tree = ast.parse(source.read_bytes())
    except (SyntaxError, ValueError, OSError):
        return []
    modules = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.append(node.module)
    return modules


def _module_files(module: str, roots: list[Path]) -> list[Path]:
    """The file that is `module` (or its package's __init__/__main__) in the first of `roots`
    that has it."""
    relative = Path(*module.split("."))
    for root in roots:
        for candidate in (
            root / relative.with_suffix(".py"),
            root / relative / "__main__.py",
            root / relative / "__init__.py",
        ):
            if candidate.is_file():
                return [candidate]
    return []
