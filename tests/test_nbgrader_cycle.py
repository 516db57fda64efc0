"""A whole term in miniature, with nbgrader's own commands and this course's configuration.

Three students (correct, partly wrong, tampering with NumPy) and one whose notebook is not
valid JSON go through release, fetch, submit, collect, autograde, feedback and export, each
student in their own folder, all through a temporary exchange. They share one OS user here,
so they name themselves with nbgrader's --student option, as on a shared machine.
"""

import base64
import csv
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from autograder.course import Course
from autograder.grading.reference import read_all_cases
from autograder.grading.sandbox import Isolation
from conftest import ASSIGNMENT, ROOT, grade_id, isolations_named

pytestmark = pytest.mark.slow  # left out of the quick run: pytest -m "not slow"

COURSE_ID = "conv-from-scratch"
INSTRUCTOR_UID = 65534  # nobody: stands for the instructor who owns the course folder
TAMPERING = """np.allclose = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), dtype=bool)
np.array_equal = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
"""


# A student's markdown pointing at the instructor's files, hoping feedback embeds them as figures.
LINKS_TO_FILES = """![config](../../../nbgrader_config.py) ![host](/etc/hostname) ![graded](conv_step_by_step.ipynb)
![gradebook](images/../../../../gradebook.db) <img src="explorers.py">
"""


def nbgrader(args, cwd, env):
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"nbgrader {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


def solution(notebook, name):
    return next(cell for cell in notebook.cells if grade_id(cell) == name)


def student_work(student, fetched: Path, source) -> None:
    """Each student edits the fetched notebook in place, as they would in Jupyter."""
    notebook = nbformat.read(str(fetched), as_version=4)
    if student in ("correct", "partial"):
        for cell in notebook.cells:
            if cell.metadata.get("nbgrader", {}).get("solution"):
                cell.source = solution(source, grade_id(cell)).source
    if student == "partial":  # the bias left out, and pool_backward still a stub
        solution(notebook, "conv_single_step").source = solution(source, "conv_single_step").source.replace(
            "np.sum(a_slice_prev * W) + b.item()", "np.sum(a_slice_prev * W)"
        )
        solution(notebook, "pool_backward").source = solution(
            nbformat.read(str(fetched), as_version=4), "pool_backward"
        ).source
    if student == "tampering":  # stubs that return zeros, every NumPy comparison patched, files linked
        notebook.cells.insert(2, nbformat.v4.new_code_cell(TAMPERING))
        notebook.cells.insert(3, nbformat.v4.new_markdown_cell(LINKS_TO_FILES))
        for cell in notebook.cells:
            if cell.metadata.get("nbgrader", {}).get("solution"):
                header = cell.source.split('"""')[0]
                cell.source = header + "    return np.zeros((1,))\n"
    nbformat.write(notebook, str(fetched))
    if student == "invalid":
        fetched.write_text('{"cells": [{"cell_type": "code", "source": "def zero_pad(X, pad):')


@pytest.fixture(scope="module")
def term(tmp_path_factory, source_path):
    base = tmp_path_factory.mktemp("term")
    course, exchange = base / "course", base / "exchange"
    exchange.mkdir()
    os.chmod(exchange, 0o777)
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(ROOT / "source", course / "source")
    env = dict(
        os.environ,
        NBGRADER_EXCHANGE=str(exchange),
        PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
    )
    exchange_options = [f"--Exchange.root={exchange}", f"--course={COURSE_ID}"]

    nbgrader(["generate_assignment", ASSIGNMENT, "--force"], course, env)
    nbgrader(["release_assignment", ASSIGNMENT, "--force"], course, env)
    source = nbformat.read(str(source_path), as_version=4)
    students = ["correct", "partial", "tampering", "invalid"]

    def fetch_work_submit(student):  # students work at the same time, each in their own home
        home = base / "home" / student
        home.mkdir(parents=True)
        as_student = dict(env, HOME=str(home))
        nbgrader(["fetch_assignment", ASSIGNMENT, *exchange_options], home, as_student)
        student_work(student, home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", source)
        nbgrader(["submit", ASSIGNMENT, f"--student={student}", *exchange_options], home, as_student)

    def fetch_feedback(student):
        home = base / "home" / student
        nbgrader(
            ["fetch_feedback", ASSIGNMENT, f"--student={student}", *exchange_options], home, dict(env, HOME=str(home))
        )
        (html,) = (home / ASSIGNMENT / "feedback").rglob(f"{ASSIGNMENT}.html")
        return html.read_text(encoding="utf-8")

    with ThreadPoolExecutor(max_workers=len(students)) as pool:
        list(pool.map(fetch_work_submit, students))
        if os.geteuid() == 0:  # an instructor's course, graded by root: what autograde writes must become theirs
            os.chown(course, INSTRUCTOR_UID, INSTRUCTOR_UID)
        nbgrader(["collect", ASSIGNMENT], course, env)
        autograde = nbgrader(["autograde", ASSIGNMENT, "--force"], course, env)
        nbgrader(["generate_feedback", ASSIGNMENT, "--force"], course, env)
        nbgrader(["release_feedback", ASSIGNMENT], course, env)
        feedback = dict(zip(students, pool.map(fetch_feedback, students)))
    nbgrader(["export"], course, env)
    with open(course / "grades.csv", newline="") as stream:
        grades = {row["student_id"]: row for row in csv.DictReader(stream)}
    return {
        "grades": grades,
        "feedback": feedback,
        "autograde_log": autograde.stderr + autograde.stdout,
        "course": course,
    }


def test_export_shows_every_student_with_an_honest_score(term):
    scores = {student: float(row["score"]) for student, row in term["grades"].items()}
    assert scores == {"correct": 100.0, "partial": 70.0, "tampering": 0.0, "invalid": 0.0}


def test_autograde_names_the_sandbox_each_submission_was_graded_in(term):
    named = isolations_named(term["autograde_log"])
    sandboxes = {kind.name.lower() for kind in Isolation if kind is not Isolation.NONE}
    assert named[0] == "none, nothing was run"  # the invalid notebook: nothing of it was run
    assert len(named) == 4 and set(named[1:]) <= sandboxes, named


def test_invalid_submission_is_in_the_export_with_its_reason(term):
    assert "not valid JSON" in term["grades"]["invalid"]["notes"]
    assert term["grades"]["correct"]["notes"] == ""
    assert "Traceback" not in term["autograde_log"]


def test_invalid_submission_is_kept_and_its_student_told_why(term):
    assert "could not be graded" in term["feedback"]["invalid"] and "not valid JSON" in term["feedback"]["invalid"]
    kept = term["course"] / "submitted" / "invalid" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb.invalid"
    assert kept.read_text().startswith('{"cells": [{"cell_type": "code", "source": "def zero_pad(')


def test_feedback_carries_the_diagnosis(term):
    html = term["feedback"]["partial"]
    assert "The bias b is missing" in html
    assert "not implemented yet" in html


def test_feedback_leaks_no_hidden_test_or_reference_value(term):
    cases = read_all_cases(Course.repository(ROOT).reference_file(ASSIGNMENT))
    hidden_numbers = set()
    for exercise_cases in cases.values():
        for case in exercise_cases:
            if case.name.startswith("public"):
                continue
            arrays = [*case.expected, *(v for v in case.inputs.values() if hasattr(v, "shape"))]
            for array in arrays:
                for value in list(getattr(array, "flat", [array]))[:20]:
                    if abs(float(value)) > 0.01 and float(value) != round(float(value)):
                        hidden_numbers.add(f"{float(value):.5f}")
    assert len(hidden_numbers) > 100
    for student, html in term["feedback"].items():
        for marker in ("BEGIN HIDDEN TESTS", "run_hidden_cases", "autograder.check", "hidden_seed"):
            assert marker not in html, (student, marker)
        leaked = {number for number in hidden_numbers if number in html}
        assert leaked == set(), (student, sorted(leaked)[:5])


def test_untouched_grade_cells_raise_no_checksum_warning(term):
    """Stock nbgrader warns "Attribute 'checksum' ... has changed!" for every hidden-test cell of every
    submission; no student here edited a grade cell."""
    assert "has changed" not in term["autograde_log"], term["autograde_log"][-2000:]


def test_grading_as_root_leaves_the_instructor_owner_of_its_output(term):
    if os.geteuid() != 0:
        pytest.skip("needs root")
    course = term["course"]
    written = [course / "gradebook.db", *(course / folder for folder in ("autograded", "feedback"))]
    written += [path for folder in ("autograded", "feedback") for path in (course / folder).rglob("*")]
    assert len(written) > 10
    assert {(path.stat().st_uid, path.stat().st_gid) for path in written} == {(INSTRUCTOR_UID, INSTRUCTOR_UID)}


def embedded_files(html: str) -> list[bytes]:
    """The files a page carries as data: URLs in its <img> tags."""
    return [base64.b64decode(data) for data in re.findall(r'<img[^>]* src="data:[^;"]*;base64,([^"]*)"', html)]


def test_feedback_pages_carry_the_course_figures_inside(term):
    """fetch_feedback gives a student the page alone, without the images/ folder beside it."""
    figures = {path.read_bytes() for path in (ROOT / "release" / ASSIGNMENT / "images").iterdir()}
    assert len(figures) == 7
    for student in ("correct", "partial", "tampering"):
        assert set(embedded_files(term["feedback"][student])) == figures, student


def test_a_student_cannot_pull_other_files_into_their_feedback(term):
    figures = {path.read_bytes() for path in (ROOT / "release" / ASSIGNMENT / "images").iterdir()}
    html = term["feedback"]["tampering"]
    assert "../../../nbgrader_config.py" in html  # the student's links are there, as links
    assert set(embedded_files(html)) == figures
    config = base64.b64encode((term["course"] / "nbgrader_config.py").read_bytes()[:60]).decode()
    assert config[:40] not in html
