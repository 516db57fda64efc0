"""`python -m autograder report`: a class of three graded for real (right, half done, hostile), then
reported as an instructor reads it: per exercise, who has not done what, the mistakes named."""

import json
import os
import secrets
import shutil
import subprocess
import sys

import nbformat
import pytest

from class_of_three import HALF_DONE, HOSTILE_MISTAKES, SCORES, notebooks
from conftest import ASSIGNMENT, ROOT
from nbgrader_class import graded_course, nbgrader

NONCE = secrets.token_hex(4)


def autograder(*args):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Three submissions in nbgrader's layout, graded into results/; the report run on them."""
    folder = tmp_path_factory.mktemp("class")
    submitted, results = folder / "submitted", folder / "results"
    reads = [
        str(ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
        str(ROOT / "autograder" / "reference" / f"{ASSIGNMENT}.h5"),
        str(submitted / "right" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
        str(folder / "gradebook.db"),
    ]
    (folder / "gradebook.db").write_text("the course's gradebook")
    writes = [str(ROOT / f"HOSTILE_{NONCE}"), str(folder / f"HOSTILE_{NONCE}")]
    for student, notebook in notebooks(reads, writes).items():
        (submitted / student / ASSIGNMENT).mkdir(parents=True)
        nbformat.write(notebook, str(submitted / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))
    grading = autograder("grade", submitted, "--results-dir", results, "--jobs", "2")
    assert grading.returncode == 0, grading.stderr
    report = autograder("report", ASSIGNMENT, "--results-dir", results)
    return {"report": report, "results": results, "writes": writes}


def test_scores_are_honest_and_the_hostile_student_got_nothing(graded):
    results = {s: json.loads((graded["results"] / f"{s}.json").read_text()) for s in SCORES}
    assert {s: r["score"] for s, r in results.items()} == SCORES
    (mask,) = [test for test in results["hostile"]["tests"] if test["name"] == "create_mask_from_window"]
    assert "raised RuntimeError: read []; wrote []" in mask["output"]
    assert [path for path in graded["writes"] if os.path.exists(path)] == []


def test_report_shows_each_exercise_and_who_has_not_done_it(graded):
    report = graded["report"]
    assert report.returncode == 0, report.stderr
    text = report.stdout
    assert "conv_step_by_step: 3 students, mean 75.4 of 100" in text
    for exercise in ("zero_pad", "conv_backward", "create_mask_from_window", "distribute_value", "pool_backward"):
        (line,) = [line for line in text.splitlines() if line.startswith(exercise + " ")]
        assert line.rstrip().endswith("half") == (exercise not in HALF_DONE), line
    assert "Scores: half 55, hostile 71.25, right 100" in text


def test_report_names_the_hostile_students_mistakes(graded):
    text = graded["report"].stdout
    mistakes = text.split("Mistakes the diagnoses named (students):")[1].split("Scores:")[0]
    for exercise, hint_id in HOSTILE_MISTAKES:
        (line,) = [line for line in mistakes.splitlines() if f"[{hint_id}]" in line and f" {exercise}: " in line]
        assert line.split()[0] == "1" and line.endswith(": hostile"), line
    assert "x[pad:-pad] cropping, which is empty when pad == 0" in mistakes
    assert "right" not in mistakes and "half" not in mistakes


def test_report_draws_its_plot_beside_the_results(graded):
    plot = graded["results"] / f"report-{ASSIGNMENT}.png"
    assert f"Plot: {plot}" in graded["report"].stdout
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 20_000


def test_report_without_results_says_so(tmp_path):
    result = autograder("report", ASSIGNMENT, "--results-dir", tmp_path)
    assert result.returncode == 2 and "no results of conv_step_by_step" in result.stderr


# ---- a course graded through nbgrader (`nbgrader autograde`, or Formgrader's button) ----------------


@pytest.fixture(scope="module")
def nbgrader_course(tmp_path_factory):
    """The same class graded with nbgrader's own commands (tests/nbgrader_class.py)."""
    return graded_course(tmp_path_factory.mktemp("nbgrader"))


def report_lines(text: str) -> dict[str, str]:
    """{exercise: its line of the report's table}."""
    table = text.split("\n\n")[1].splitlines()[1:]
    return {line.split()[0]: line for line in table}


@pytest.mark.slow  # runs nbgrader
def test_report_reads_a_course_graded_through_nbgrader(nbgrader_course, graded):
    report = autograder("report", ASSIGNMENT, "--results-dir", nbgrader_course)
    assert report.returncode == 0, report.stderr
    assert "conv_step_by_step: 3 students, mean 75.4 of 100" in report.stdout
    assert "Scores: half 55, hostile 71.25, right 100" in report.stdout
    # The same table and mistakes as the report of our own grader's results files.
    assert report_lines(report.stdout) == report_lines(graded["report"].stdout)
    mistakes = report.stdout.split("Mistakes the diagnoses named (students):")[1].split("Scores:")[0]
    for exercise, hint_id in HOSTILE_MISTAKES:
        (line,) = [line for line in mistakes.splitlines() if f"[{hint_id}]" in line and f" {exercise}: " in line]
        assert line.endswith(": hostile"), line
    assert (nbgrader_course / f"report-{ASSIGNMENT}.png").stat().st_size > 20_000


@pytest.mark.slow
def test_a_forged_record_in_the_notebook_changes_nothing(nbgrader_course):
    """hostile wrote "full marks, no mistakes" into her notebook's metadata and right a mistake he did
    not make: the report's scores are the gradebook's and its mistakes what the grader found."""
    text = autograder("report", ASSIGNMENT, "--results-dir", nbgrader_course).stdout
    mistakes = text.split("Mistakes the diagnoses named (students):")[1].split("Scores:")[0]
    assert "hostile 71.25" in text and "right" not in mistakes and "mode_ignored" in mistakes


@pytest.mark.slow
def test_report_shows_a_score_the_instructor_changed_in_formgrader(nbgrader_course, tmp_path):
    """Formgrader saves an instructor's score as the grade's manual_score in gradebook.db."""
    from nbgrader.api import Gradebook

    course = tmp_path / "course"
    shutil.copytree(nbgrader_course, course)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        grade = gradebook.find_grade("test_pool_backward", ASSIGNMENT, ASSIGNMENT, "half")
        grade.manual_score = 12.5
        gradebook.db.commit()
    text = autograder("report", ASSIGNMENT, "--results-dir", course).stdout
    assert "Scores: half 67.5, hostile 71.25, right 100" in text
    assert report_lines(text)["pool_backward"].split()[1:6] == ["20", "17.5", "2", "1", "0"]


@pytest.mark.slow
def test_an_unreadable_autograded_notebook_loses_only_its_mistakes(nbgrader_course, tmp_path):
    course = tmp_path / "course"
    shutil.copytree(nbgrader_course, course)
    (course / "autograded" / "hostile" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_text('{"cells": [')
    result = autograder("report", ASSIGNMENT, "--results-dir", course)
    assert result.returncode == 0, result.stderr
    assert "Scores: half 55, hostile 71.25, right 100" in result.stdout
    assert "hostile" not in result.stdout.split("Mistakes the diagnoses named (students):")[1].split("Scores:")[0]


def test_a_gradebook_that_is_not_a_database_gets_a_clear_message(tmp_path):
    (tmp_path / "gradebook.db").write_text("not a database")
    result = autograder("report", ASSIGNMENT, "--results-dir", tmp_path)
    assert result.returncode == 2 and "cannot read" in result.stderr and "file is not a database" in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "gradebook.db").read_text() == "not a database"


def test_a_course_that_has_not_graded_the_assignment_says_so(tmp_path):
    nbgrader(["db", "assignment", "add", "conv_mnist"], tmp_path)
    result = autograder("report", ASSIGNMENT, "--results-dir", tmp_path)
    assert result.returncode == 2 and f"no results of {ASSIGNMENT} in {tmp_path}" in result.stderr
