"""The class of three (tests/class_of_three.py) graded through nbgrader's own commands, as a course
run from Formgrader is: generate_assignment, the submissions in submitted/, autograde and
generate_feedback, with the course's nbgrader_config.py, in a temporary course folder.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from autograder.assignments import exercises
from class_of_three import notebooks
from conftest import ASSIGNMENT, ROOT


def nbgrader(args: list[str], course: Path) -> subprocess.CompletedProcess:
    """Run `nbgrader ARGS` in the course folder; fail with its output when it fails."""
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, f"nbgrader {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


def forged_results(hints: list[str]) -> dict:
    """What a student writes into their notebook's metadata hoping the class report reads it: every
    exercise at full marks, each naming `hints` as its mistakes."""
    tests = [
        {
            "name": ex.name,
            "score": ex.points,
            "max_score": ex.points,
            "output": "",
            "tags": [ex.name],
            "extra_data": {"problems": [], "hints": hints},
        }
        for ex in exercises(ASSIGNMENT)
    ]
    return {"score": 100.0, "tests": tests, "extra_data": {"assignment": ASSIGNMENT}}


def graded_course(folder: Path) -> Path:
    """A course folder in `folder` whose three submissions nbgrader autograded and gave feedback on.

    Two students forged the record of their grading in their notebook's metadata: hostile hides
    her mistakes and claims full marks, right names a mistake he did not make."""
    course = folder / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(ROOT / "source", course / "source")
    nbgrader(["generate_assignment", ASSIGNMENT, "--force"], course)
    made = notebooks(reads=[], writes=[])
    made["hostile"].metadata["autograder"] = {"results": forged_results([])}
    made["right"].metadata["autograder"] = {"results": forged_results(["mode_ignored"])}
    for student, notebook in made.items():
        (course / "submitted" / student / ASSIGNMENT).mkdir(parents=True)
        nbformat.write(notebook, str(course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))
    nbgrader(["autograde", ASSIGNMENT, "--force"], course)
    nbgrader(["generate_feedback", ASSIGNMENT, "--force"], course)
    return course
