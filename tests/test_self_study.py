"""The self-study edition, run as a learner would: check cells give short, clear verdicts."""

import shutil

import nbformat
import pytest

from conftest import POINTS, ROOT, execute, grade_id, output_text

SELF_STUDY = ROOT / "notebooks" / "conv_step_by_step.ipynb"


def defining(notebook, function):
    """The cell whose code defines `function`."""
    (cell,) = [
        cell for cell in notebook.cells if cell.cell_type == "code" and cell.source.startswith(f"def {function}(")
    ]
    return cell


def check_output(notebook, function) -> str:
    (cell,) = [cell for cell in notebook.cells if cell.cell_type == "code" and cell.source == f"check({function})"]
    return output_text(cell)


@pytest.fixture(scope="module")
def learner_run(tmp_path_factory, source_path):
    """The shipped notebook with zero_pad solved, conv_single_step solved wrongly (no bias), the rest blank."""
    notebook = nbformat.read(str(SELF_STUDY), as_version=4)
    source = nbformat.read(str(source_path), as_version=4)
    (solution,) = [cell for cell in source.cells if grade_id(cell) == "zero_pad"]
    defining(notebook, "zero_pad").source = solution.source
    defining(
        notebook, "conv_single_step"
    ).source = "def conv_single_step(a_slice_prev, W, b):\n    return np.sum(a_slice_prev * W)\n"
    folder = tmp_path_factory.mktemp("learner")
    for module in SELF_STUDY.parent.glob("*.py"):  # explorers.py, check_helpers.py
        shutil.copy(module, folder)
    path = folder / "conv_step_by_step.ipynb"
    nbformat.write(notebook, str(path))
    return execute(path, allow_errors=True)


def test_every_exercise_has_a_check_cell():
    notebook = nbformat.read(str(SELF_STUDY), as_version=4)
    checks = [cell.source for cell in notebook.cells if cell.source.startswith("check(")]
    assert checks == [f"check({name})" for name in POINTS]  # every exercise, in course order
    text = "\n".join(cell.source for cell in notebook.cells)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "nbgrader" not in str(notebook.cells)


def test_right_exercise_says_so(learner_run):
    assert check_output(learner_run, "zero_pad").strip() == "✓ zero_pad: all 4 cases pass."


def test_wrong_exercise_names_the_mistake(learner_run):
    out = check_output(learner_run, "conv_single_step")
    assert out.startswith("✗ conv_single_step: 0 of 5 cases pass.")
    assert "Hint: The bias b is missing" in out


def test_blank_exercise_is_a_friendly_line_not_a_traceback(learner_run):
    out = check_output(learner_run, "conv_forward")
    assert out.strip() == (
        "… conv_forward is not implemented yet: write it in its cell above, run that cell, then run this one."
    )
    for cell in learner_run.cells:
        if cell.source.startswith("check("):
            assert not any(o.output_type == "error" for o in cell.outputs), cell.source


def test_only_a_real_failure_shows_a_traceback(learner_run):
    """Public checks of stubs say so in one line; the wrong conv_single_step fails its check in full."""
    errors = [out.ename for cell in learner_run.cells for out in cell.get("outputs", []) if out.output_type == "error"]
    assert errors == ["AssertionError"]
    public = [cell for cell in learner_run.cells if cell.cell_type == "code" and cell.source.startswith("checking(")]
    said = output_text(public[1])
    assert "\nZ\n    yours:" in said and "Z: the shape is right, the values differ" in said, said
    assert output_text(public[2]) == "… conv_forward is not implemented yet: this cell runs once it is.\n"
