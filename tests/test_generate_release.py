"""Formgrader's Generate is `nbgrader generate_assignment` run in the course folder with the course's
nbgrader_config.py: it must make the committed release, byte for byte, Run All tags included
(README: instructors press Generate before Release)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.course import ASSIGNMENTS
from conftest import ROOT

pytestmark = pytest.mark.slow  # left out of the quick run: pytest -m "not slow"


def files(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_generate_as_formgrader_does_makes_the_committed_release(tmp_path, assignment):
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    shutil.copytree(ROOT / "source" / assignment, tmp_path / "source" / assignment)
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    made, committed = files(tmp_path / "release" / assignment), files(ROOT / "release" / assignment)
    assert sorted(made) == sorted(committed)
    assert [name for name in made if made[name] != committed[name]] == []
    assert b'"raises-exception"' in made[f"{assignment}.ipynb"]
