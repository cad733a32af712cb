"""A conda environment file read in pip's terms (scripts/members/conda.py), in-process: each
conda version spec as the PEP 440 specifier it means, what has no pip equivalent named, and
every file of the wrong shape refused in one line."""

from pathlib import Path

import pytest

from scripts.console.errors import UsageError
from scripts.members.conda import pip_requirement, read_conda_file
from tests.helpers import write


@pytest.mark.parametrize(
    ("conda", "pip"),
    [
        ("numpy", "numpy"),
        ("numpy=1.21", "numpy==1.21.*"),
        ("numpy=1.21.*", "numpy==1.21.*"),
        ("numpy 1.21", "numpy==1.21.*"),
        ("numpy=1.21=py38_0", "numpy==1.21.*"),
        ("numpy 1.21 py38_0", "numpy==1.21.*"),
        ("numpy==1.21.0", "numpy==1.21.0"),
        ("numpy>=1.2,<2", "numpy<2,>=1.2"),
        ("numpy >=1.2 <2", "numpy<2,>=1.2"),
        ("numpy>=1.2 <2", "numpy<2,>=1.2"),
        ("conda-forge::numpy>=1.2", "numpy>=1.2"),
        ("pytorch=1.13", "torch==1.13.*"),
        ("py-xgboost>=1.7", "xgboost>=1.7"),
    ],
)
def test_a_conda_spec_becomes_the_pip_requirement_it_means(conda: str, pip: str) -> None:
    assert pip_requirement(conda) == (pip, None)


@pytest.mark.parametrize(
    ("conda", "taken"),
    [("numpy 1.2|1.3", "numpy"), ("numpy=1.2|1.3", "numpy"), ("numpy >=1.2.x", "numpy")],
)
def test_a_conda_spec_with_no_pip_equivalent_is_taken_unpinned_and_said(
    conda: str, taken: str
) -> None:
    requirement, note = pip_requirement(conda)

    assert requirement == taken
    assert note is not None and conda.split(maxsplit=1)[0].split("=")[0] in note


def test_a_conda_file_becomes_requirements_with_what_was_left_out_named(tmp_path: Path) -> None:
    path = write(
        tmp_path / "conda.yaml",
        """
        name: env
        channels: [conda-forge]
        dependencies:
          - python=3.8
          - pip
          - numpy=1.21
          - cudatoolkit=11.3
          - pip:
            - scikit-learn>=1.3
            - --extra-index-url https://example.invalid/simple
            - ./wheels/mine-1.0-py3-none-any.whl
        """,
    )

    environment = read_conda_file(path)

    assert environment.requirements == ["numpy==1.21.*", "scikit-learn>=1.3"]
    assert environment.left_out == [
        "cudatoolkit=11.3 (no PyPI package: system libraries belong in the job image)",
        "--extra-index-url https://example.invalid/simple (a pip option)",
        "./wheels/mine-1.0-py3-none-any.whl (not a requirement uv can add)",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "- numpy\n- scipy\n",  # a list
        "just a string\n",
        "dependencies: 7\n",
        "dependencies:\n  - pip: 5\n",
        "dependencies:\n  - pip:\n    - 5\n",
        "dependencies:\n  - {numpy: 1}\n",
    ],
)
def test_a_conda_file_of_the_wrong_shape_is_one_line(tmp_path: Path, text: str) -> None:
    path = write(tmp_path / "conda.yaml", text)

    with pytest.raises(UsageError, match="is not a conda environment file"):
        read_conda_file(path)


def test_a_conda_file_whose_anchors_expand_past_the_bound_is_refused(tmp_path: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    lines.append("dependencies: [*i]")
    path = write(tmp_path / "conda.yaml", "\n".join(lines) + "\n")

    with pytest.raises(UsageError, match="expands to over 100,000 values"):
        read_conda_file(path)
