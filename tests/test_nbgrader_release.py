"""nbgrader's own generate_assignment, run on a copy of the course, gives the committed release."""

import shutil

import nbformat
import pytest

from autograder.build.nbgrader_run import run_nbgrader
from autograder.course import ASSIGNMENTS, release_dir
from conftest import ROOT

pytestmark = pytest.mark.slow  # left out of the quick run: pytest -m "not slow"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_generate_assignment_matches_committed_release(tmp_path, assignment):
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    shutil.copytree(
        ROOT / "source" / assignment, tmp_path / "source" / assignment, ignore=shutil.ignore_patterns("__pycache__")
    )
    result = run_nbgrader(["generate_assignment", assignment, "--force"], tmp_path)
    assert result.returncode == 0, result.stderr
    generated, committed = tmp_path / "release" / assignment, release_dir(ROOT, assignment)
    assert nbformat.read(str(generated / f"{assignment}.ipynb"), as_version=4) == nbformat.read(
        str(committed / f"{assignment}.ipynb"), as_version=4
    )
    assert sorted(p.relative_to(generated) for p in generated.rglob("*")) == sorted(
        p.relative_to(committed) for p in committed.rglob("*")
    )
