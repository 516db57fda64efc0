"""Grading ahead (autograder/integrations/grading_ahead.py) hands nbgrader the results of the code
nbgrader hands over, never those of the file as it was submitted when the two differ: nbgrader's
own first pass puts back locked cells a student changed, and a file can change on disk between
the two reads."""

import json
import shutil

import nbformat

from autograder.course import Course
from autograder.grading import sandbox
from autograder.grading.grade import grade_submission
from autograder.integrations.grading_ahead import GradingAhead
from conftest import ASSIGNMENT


def test_results_graded_ahead_are_used_only_for_the_same_code(tmp_path, source_path, release_path):
    paths = {}
    for student in ("a_first", "b_changed", "c_same"):
        paths[student] = tmp_path / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        paths[student].parent.mkdir(parents=True)
        shutil.copy(source_path, paths[student])  # every file on disk: full marks
    ahead = GradingAhead(paths, ASSIGNMENT, Course.repository(), unsandboxed=False, jobs=2)
    try:
        first = ahead.results("a_first", nbformat.read(str(source_path), as_version=4))  # starts the next two
        assert set(ahead.started) == {"b_changed", "c_same"}
        # nbgrader hands over, for 'changed', code other than what was on disk when it was graded ahead
        blank = json.loads(release_path.read_text(encoding="utf-8"))
        changed = ahead.results("b_changed", blank)
        same = ahead.results("c_same", json.loads(source_path.read_text(encoding="utf-8")))
        expected_blank = grade_submission(blank, ASSIGNMENT, Course.repository())
    finally:
        ahead.stop()
        sandbox.stop_all()  # the fork server this process started: no grading process outlives the test
    assert first.score == same.score == 100
    assert changed.score == expected_blank.score == 0
    assert changed.exercise_feedback() == expected_blank.exercise_feedback()
    assert not ahead.started
