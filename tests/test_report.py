"""`python -m autograder report`: a class of three graded for real (right, half done, hostile), then
reported as an instructor reads it: per exercise, who has not done what, the mistakes named."""

import json
import os
import secrets
import subprocess
import sys

import nbformat
import pytest

from class_of_three import HALF_DONE, HOSTILE_MISTAKES, SCORES, notebooks
from conftest import ASSIGNMENT, ROOT

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
