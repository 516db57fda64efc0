"""`python -m autograder grade` as an instructor uses it: layout, schema, gradebook, re-runs."""

import csv
import json
import shutil
import subprocess
import sys

import nbformat
import pytest

from conftest import ASSIGNMENT, ROOT, plant

SOURCE = ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
RELEASE = ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def grade(*args):
    return subprocess.run(
        [sys.executable, "-m", "autograder", "grade", *map(str, args)], capture_output=True, text=True
    )


@pytest.fixture
def submitted(tmp_path):
    """nbgrader's submitted/<student>/<assignment>/ layout with a correct and a blank student."""
    for student, notebook in [("ada", SOURCE), ("ben", RELEASE)]:
        folder = tmp_path / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        shutil.copy(notebook, folder)
    return tmp_path / "submitted"


def test_results_follow_gradescope_schema_and_student_ids(submitted, tmp_path):
    result = grade(submitted, "--results-dir", tmp_path / "results")
    assert result.returncode == 0, result.stderr
    ada = json.loads((tmp_path / "results" / "ada.json").read_text())
    assert ada["score"] == 100 and isinstance(ada["execution_time"], float) and isinstance(ada["output"], str)
    names = [test["name"] for test in ada["tests"]]
    assert names == [
        "zero_pad",
        "conv_single_step",
        "conv_forward",
        "pool_forward (max)",
        "pool_forward (average)",
        "conv_backward",
        "create_mask_from_window",
        "distribute_value",
        "pool_backward (max)",
        "pool_backward (average)",
    ]
    for test in ada["tests"]:
        assert set(test) == {"name", "score", "max_score", "output", "visibility", "tags", "extra_data"}
        assert test["extra_data"] == {"problems": [], "hints": []}
        assert test["score"] == test["max_score"] and test["tags"] == [test["name"].split(" ")[0]]
    assert sum(test["max_score"] for test in ada["tests"]) == 100
    ben = json.loads((tmp_path / "results" / "ben.json").read_text())
    assert ben["score"] == 0
    assert {tuple(test["extra_data"]["problems"]) for test in ben["tests"]} == {("NOT_IMPLEMENTED",)}


def test_gradebook_and_table(submitted, tmp_path):
    result = grade(submitted, "--results-dir", tmp_path / "results", "--jobs", "1")
    with open(tmp_path / "results" / "gradebook.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["student"] for row in rows] == ["ada", "ben"]
    assert rows[0]["conv_forward"] == "20.0" and rows[0]["total"] == "100.0" and rows[1]["total"] == "0.0"
    assert "ada " in result.stdout and "exercises: 1 zero_pad (10)" in result.stdout


def test_unchanged_submissions_are_not_graded_again(submitted, tmp_path):
    results = tmp_path / "results"
    grade(submitted, "--results-dir", results)
    again = grade(submitted, "--results-dir", results)
    assert "0 graded, 2 unchanged" in again.stdout
    shutil.copy(SOURCE, submitted / "ben" / ASSIGNMENT)  # ben finishes his work
    third = grade(submitted, "--results-dir", results)
    assert "1 graded, 1 unchanged" in third.stdout
    assert json.loads((results / "ben.json").read_text())["score"] == 100
    assert "2 graded, 0 unchanged" in grade(submitted, "--results-dir", results, "--force").stdout
    assert not list(results.glob(".*.tmp"))  # atomic writes leave no temporary files


def test_missing_path_is_a_usage_error(tmp_path):
    result = grade(tmp_path / "nowhere")
    assert result.returncode == 2 and "no such file or folder" in result.stderr


def two_mistakes(folder):
    """The solutions with the bias left out of conv_single_step and conv_backward cropping with [pad:-pad]."""
    notebook = nbformat.read(str(SOURCE), as_version=4)
    notebook = plant(notebook, "conv_single_step", "np.sum(a_slice_prev * W) + b.item()", "np.sum(a_slice_prev * W)")
    notebook = plant(notebook, "conv_backward", "pad:pad + n_H_prev, pad:pad + n_W_prev", "pad:-pad, pad:-pad")
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(folder / "cleo.ipynb"))
    return folder / "cleo.ipynb"


HINTS = ["Hint: The bias b is missing", "Hint: Only the cases with pad = 0 fail"]


def test_one_submission_with_two_mistakes_shows_both_hints(tmp_path):
    result = grade(two_mistakes(tmp_path / "in"), "--results-dir", tmp_path / "results")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "cleo: conv_step_by_step: 82.5 of 100 points." in out
    assert "  conv_single_step: 0 of 10 points\n    0 of 5 cases pass." in out
    assert "  conv_backward: 7.5 of 15 points" in out and "cases 2, 3, 5: raised ValueError" in out
    for hint in HINTS:
        assert hint in out
    assert "zero_pad:" not in out  # only what lost points


def test_a_batch_says_where_feedback_is_and_feedback_prints_it(submitted, tmp_path):
    two_mistakes(submitted / "cleo" / ASSIGNMENT)
    results = tmp_path / "results"
    quiet = grade(submitted, "--results-dir", results)
    assert f"Feedback (each failing case's message and hints): {results}/<student>.json" in quiet.stdout
    assert not any(hint in quiet.stdout for hint in HINTS)
    loud = grade(submitted, "--results-dir", results, "--feedback")
    assert "0 graded, 3 unchanged" in loud.stdout  # printed from the results files
    for hint in HINTS:
        assert hint in loud.stdout
    assert "ada: conv_step_by_step: 100.0 of 100 points.\n  full marks in every exercise" in loud.stdout
    assert "ben: conv_step_by_step: 0.0 of 100 points." in loud.stdout
    assert "not implemented yet (it raises NotImplementedError)" in loud.stdout


def test_the_reference_read_ahead_is_the_one_grading_needs(submitted, tmp_path):
    """The CLI reads reference data while the sandbox starts: the assignments a batch's folders name,
    and a lone file's own even when its name does not tell (its cells do)."""
    from autograder.grading.batch import Submission, find_submissions, likely_assignments

    assert likely_assignments(find_submissions([submitted]), None) == [ASSIGNMENT]
    lone = tmp_path / "mine.ipynb"
    shutil.copy(ROOT / "source" / "conv_mnist" / "conv_mnist.ipynb", lone)
    assert likely_assignments([Submission("mine", lone)], None) == ["conv_mnist"]
    assert likely_assignments([Submission("mine", lone)], ASSIGNMENT) == [ASSIGNMENT]  # --assignment decides
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json")
    assert likely_assignments([Submission("broken", broken)], None) == [ASSIGNMENT]  # the first, as its report says
    result = grade(lone, "--results-dir", tmp_path / "results")
    assert result.returncode == 0 and json.loads((tmp_path / "results" / "mine.json").read_text())["score"] == 100


def test_thousands_of_failing_cells_give_short_results_and_console(tmp_path):
    """A notebook of 3,000 failing cells: its results name the first 20 and count the rest, and the
    console shows the same few lines, not a flood."""
    notebook = nbformat.read(str(SOURCE), as_version=4)
    notebook.cells += [nbformat.v4.new_code_cell(f"raise ValueError('cell {k} fails')") for k in range(3000)]
    path = tmp_path / "flood.ipynb"
    nbformat.write(notebook, str(path))
    result = grade(path, "--results-dir", tmp_path / "results")
    assert result.returncode == 0, result.stderr
    graded = json.loads((tmp_path / "results" / "flood.json").read_text())
    assert graded["score"] == 100.0
    failed = [line for line in graded["output"].splitlines() if line.startswith("Cell ")]
    assert len(failed) == 20 and "ValueError: cell 0 fails" in failed[0]
    assert "… 2980 more cells failed" in graded["output"]
    assert len((tmp_path / "results" / "flood.json").read_bytes()) < 20_000
    assert "… 2980 more cells failed" in result.stdout and len(result.stdout) < 10_000
