"""A batch grades every student under their own id, whatever a classmate plants or names.

Each test builds a small folder the way a cheating (or unlucky) student would leave it, runs
`python -m autograder grade` on it, and reads the gradebook and results files an instructor gets.
SOURCE scores 100 (the solutions), RELEASE scores 0 (the stubs).
"""

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.course import Course
from autograder.grading import batch
from autograder.grading import grade as grade_module
from autograder.grading.sandbox import LearnerProcessDied
from conftest import ASSIGNMENT, ROOT

SOURCE = ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
RELEASE = ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def grade(*args):
    return subprocess.run(
        [sys.executable, "-m", "autograder", "grade", *map(str, args)], capture_output=True, text=True, timeout=120
    )


def place(notebook: Path, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(notebook, path)
    return path


def submit(folder: Path, student: str, notebook: Path, *inside: str) -> Path:
    """Put `notebook` in nbgrader's <folder>/<student>/<assignment>/, or deeper (`inside` it)."""
    return place(notebook, folder.joinpath(student, ASSIGNMENT, *inside, f"{ASSIGNMENT}.ipynb"))


def gradebook(results: Path) -> dict[str, float]:
    """{student: total} from gradebook.csv; fails if a student appears twice."""
    with open(results / "gradebook.csv", newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    totals = {row["student"]: float(row["total"]) for row in rows}
    assert len(totals) == len(rows), f"a student id appears twice: {[row['student'] for row in rows]}"
    return totals


def results_by_student(results: Path) -> dict[str, dict]:
    """{student id recorded inside: results} over every results file."""
    found = [json.loads(path.read_text(encoding="utf-8")) for path in results.glob("*.json")]
    by_student = {found_results["extra_data"]["student"]: found_results for found_results in found}
    assert len(by_student) == len(found), "two results files claim the same student"
    return by_student


@pytest.mark.parametrize("layout", ["submitted folder", "course folder"])
def test_a_planted_submitted_tree_does_not_take_a_classmates_id(tmp_path, layout):
    course = tmp_path / "course"
    submitted = course / "submitted"
    zoe = submit(submitted, "zoe", SOURCE)
    submit(submitted, "mallory", RELEASE)
    # mallory's own folder holds what looks like zoe's submission (blank, to sink her grade) and a
    # working copy tucked away (to get a second, better row).
    submit(submitted / "mallory" / ASSIGNMENT / "submitted", "zoe", RELEASE)
    submit(submitted, "mallory", SOURCE, "backup")
    place(SOURCE, course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")  # the instructor's, not a student's
    given = submitted if layout == "submitted folder" else course

    result = grade(given, "--results-dir", tmp_path / "results")

    assert result.returncode == 0, result.stderr
    assert gradebook(tmp_path / "results") == {"mallory": 0.0, "zoe": 100.0}
    graded = results_by_student(tmp_path / "results")
    assert set(graded) == {"mallory", "zoe"}
    assert graded["zoe"]["extra_data"]["file"] == str(zoe)
    assert "2 notebook(s) not directly in a <student>/<assignment>/ folder were not graded" in result.stderr


def test_repeated_names_never_land_on_another_students_id(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    place(SOURCE, first / "alice.ipynb")
    place(RELEASE, second / "alice.ipynb")
    real_alice_2 = place(SOURCE, second / "alice-2.ipynb")  # a student really named alice-2

    result = grade(first, second, "--results-dir", tmp_path / "results")

    assert result.returncode == 0, result.stderr
    assert gradebook(tmp_path / "results") == {"alice": 100.0, "alice-2": 100.0, "alice-3": 0.0}
    graded = results_by_student(tmp_path / "results")
    assert graded["alice-2"]["extra_data"]["file"] == str(real_alice_2)
    assert graded["alice-3"]["extra_data"]["file"] == str(second / "alice.ipynb")


def test_long_and_odd_ids_keep_the_batch_and_their_names(tmp_path):
    submitted = tmp_path / "submitted"
    long_id, odd_id = "x" * 245, ".zoë 2.0"
    submit(submitted, "ada", SOURCE)
    submit(submitted, long_id, RELEASE)
    submit(submitted, odd_id, SOURCE)
    submit(submitted, "ben", RELEASE)
    submit(submitted, "ben", SOURCE, "y" * 245)  # ben's own scratch folder, not graded

    result = grade(submitted, "--results-dir", tmp_path / "results")

    assert result.returncode == 0, result.stderr
    assert gradebook(tmp_path / "results") == {"ada": 100.0, "ben": 0.0, long_id: 0.0, odd_id: 100.0}
    graded = results_by_student(tmp_path / "results")
    assert set(graded) == {"ada", "ben", long_id, odd_id}
    names = sorted(path.name for path in (tmp_path / "results").glob("*.json"))
    assert "ada.json" in names and "ben.json" in names
    assert all(len(name) < 100 and not name.startswith(".") for name in names)
    assert any(name.startswith("xxxxxxxx") for name in names)  # still findable by eye


@pytest.mark.parametrize("where", ["an existing file", "a folder inside a file"])
def test_a_results_folder_that_cannot_be_written_is_one_line(tmp_path, where):
    place(SOURCE, tmp_path / "ada.ipynb")
    blocker = tmp_path / "results"
    blocker.write_text("not a folder")
    results = blocker if where == "an existing file" else blocker / "inside"

    result = grade(tmp_path / "ada.ipynb", "--results-dir", results)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and str(results) in errors[0], result.stderr


def test_links_and_pipes_are_the_students_own_zero(tmp_path):
    submitted = tmp_path / "submitted"
    zoe = submit(submitted, "zoe", SOURCE)
    link = submitted / "mallory" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    link.parent.mkdir(parents=True)
    link.symlink_to(zoe)  # mallory "submits" zoe's work; sorted first, it must not hide hers either
    pipe = submitted / "pat" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    pipe.parent.mkdir(parents=True)
    os.mkfifo(pipe)  # reading it would wait forever

    result = grade(submitted, "--results-dir", tmp_path / "results")

    assert result.returncode == 0, result.stderr
    assert gradebook(tmp_path / "results") == {"mallory": 0.0, "pat": 0.0, "zoe": 100.0}
    graded = results_by_student(tmp_path / "results")
    assert "not a regular file" in graded["mallory"]["output"]


def test_a_grader_failure_is_that_submissions_result_in_its_own_assignment(tmp_path, monkeypatch):
    submitted = tmp_path / "submitted"
    submit(submitted, "ada", SOURCE)
    place(SOURCE, submitted / "bob" / "conv_mnist" / "conv_mnist.ipynb")
    real_grade = batch.grade_notebook

    def grade_notebook(path, *args, **kwargs):
        if "bob" in path.parts:
            raise RuntimeError("hidden value 0.123456 in a grader bug")
        return real_grade(path, *args, **kwargs)

    monkeypatch.setattr(batch, "grade_notebook", grade_notebook)

    graded = batch.grade_batch(batch.find_submissions([submitted]), tmp_path / "results", Course.repository(), jobs=2)

    assert [s.student for s, _ in graded] == ["ada", "bob"]
    assert gradebook(tmp_path / "results") == {"ada": 100.0, "bob": 0.0}
    bob = results_by_student(tmp_path / "results")["bob"]
    assert bob["extra_data"]["assignment"] == "conv_mnist"
    assert [test["tags"][0] for test in bob["tests"]][0] == "binarize"
    assert "\n" not in bob["output"] and "RuntimeError" in bob["output"] and "0.123456" not in bob["output"]


@pytest.mark.parametrize("name", ["carol", "conv_mnist"])
def test_a_learner_process_that_dies_is_reported_in_the_submissions_own_assignment(tmp_path, monkeypatch, name):
    """The learner's process dies as it starts (exit code 126) for a submission of assignment 2 in a
    flat folder, with no assignment folder or --assignment to tell: the report is assignment 2's."""
    mnist = ROOT / "source" / "conv_mnist" / "conv_mnist.ipynb"
    place(mnist, tmp_path / "flat" / f"{name}.ipynb")

    def dies(*args, **kwargs):
        raise LearnerProcessDied("exit code 126")

    monkeypatch.setattr(grade_module, "LearnerSession", dies)

    graded = batch.grade_batch(
        batch.find_submissions([tmp_path / "flat"]), tmp_path / "results", Course.repository(), 1
    )

    ((_, results),) = graded
    assert results.assignment == "conv_mnist" and results.score == 0
    assert "the grader failed (LearnerProcessDied)" in results.output
    data = json.loads((tmp_path / "results" / f"{name}.json").read_text())
    assert data["extra_data"]["assignment"] == "conv_mnist"
    assert [test["tags"][0] for test in data["tests"]][:2] == ["binarize", "conv_forward_fast"]
    assert "zero_pad" not in {test["tags"][0] for test in data["tests"]}


def test_an_unreadable_notebook_named_after_its_assignment_is_reported_in_it(tmp_path):
    broken = tmp_path / "flat" / "conv_mnist.ipynb"
    broken.parent.mkdir()
    broken.write_text("{ not json")

    result = grade(tmp_path / "flat", "--results-dir", tmp_path / "results")

    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "results" / "conv_mnist.json").read_text())
    assert data["extra_data"]["assignment"] == "conv_mnist" and data["score"] == 0
