"""nbgrader's own generate_assignment, run on a copy of the course, gives the committed release."""
import shutil

import nbformat

from autograder.nbgrader_run import run_nbgrader

from conftest import ASSIGNMENT, ROOT


def test_generate_assignment_matches_committed_release(tmp_path, release_path):
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    shutil.copytree(ROOT / "source" / ASSIGNMENT, tmp_path / "source" / ASSIGNMENT)
    result = run_nbgrader(["generate_assignment", ASSIGNMENT, "--force"], tmp_path)
    assert result.returncode == 0, result.stderr
    generated = tmp_path / "release" / ASSIGNMENT
    assert nbformat.read(str(generated / f"{ASSIGNMENT}.ipynb"), as_version=4) == \
        nbformat.read(str(release_path), as_version=4)
    committed_files = sorted(p.relative_to(release_path.parent) for p in release_path.parent.rglob("*"))
    assert sorted(p.relative_to(generated) for p in generated.rglob("*")) == committed_files
