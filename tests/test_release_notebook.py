"""The student release: stubs that fail clearly, no solutions, no hidden tests."""

import re

import nbformat
import pytest

from autograder.course import release_dir
from conftest import ROOT, execute, grade_id, output_text

MARKERS = ["BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "run_hidden_cases", "autograder"]


def stripped_lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines() if line.strip()}


def solution_lines(source_notebook) -> set[str]:
    """Lines only the solutions have: inside BEGIN/END SOLUTION, and in no other cell (`else:`)."""
    solutions, elsewhere = set(), set()
    for cell in source_notebook.cells:
        regions = re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", cell.source, re.S)
        for region in regions:
            solutions |= stripped_lines(region)
        if not regions:
            elsewhere |= stripped_lines(cell.source)
    return solutions - elsewhere


# What a public check says, in one line, when the function it calls is still a stub.
NOT_YET = "… {name} is not implemented yet: this cell runs once it is."
# The function each public check reaches first: the two backward checks run conv_forward first.
FIRST_CALLED = {
    "public_zero_pad": "zero_pad",
    "public_conv_single_step": "conv_single_step",
    "public_conv_forward": "conv_forward",
    "public_pool_forward": "pool_forward",
    "public_conv_backward": "conv_forward",
    "public_gradient_check": "conv_forward",
    "public_create_mask_from_window": "create_mask_from_window",
    "public_distribute_value": "distribute_value",
    "public_pool_backward": "pool_backward",
}


@pytest.fixture(scope="module")
def executed(release_path):
    """The release as shipped, every exercise a stub; allow_errors=False: Run All must get through
    (the course's cells are tagged raises-exception, the learner's cells do not fail)."""
    return execute(release_path)


def test_every_public_check_says_not_implemented_in_one_line(executed):
    public = [cell for cell in executed.cells if grade_id(cell).startswith("public_")]
    assert [grade_id(cell) for cell in public] == list(FIRST_CALLED)  # eight exercises and the gradient check
    for cell in public:
        assert not any(out.output_type == "error" for out in cell.outputs), grade_id(cell)
        assert output_text(cell) == NOT_YET.format(name=FIRST_CALLED[grade_id(cell)]) + "\n", output_text(cell)


def test_course_cells_let_run_all_go_on(release_path):
    """Every cell of the course's that runs code is tagged raises-exception; the learner's are not."""
    release = nbformat.read(str(release_path), as_version=4)
    for cell in release.cells:
        if cell.cell_type == "code":
            tagged = "raises-exception" in cell.metadata.get("tags", [])
            course = cell.metadata["nbgrader"]["locked"] and grade_id(cell) != "setup"
            assert tagged == course, grade_id(cell)


def test_a_real_error_still_shows_its_traceback(release_path, tmp_path):
    """Only a stub's bare NotImplementedError is one line: a learner's own error, or a
    NotImplementedError with a message of theirs, shows its traceback in the check cell."""
    notebook = nbformat.read(str(release_path), as_version=4)
    stubs = {grade_id(cell): cell for cell in notebook.cells}
    stubs["zero_pad"].source = "def zero_pad(X, pad):\n    return np.pad(X, pad, mode='nearest')\n"
    stubs[
        "conv_single_step"
    ].source = "def conv_single_step(a_slice_prev, W, b):\n    raise NotImplementedError('bias next')\n"
    nbformat.write(notebook, str(tmp_path / "learner.ipynb"))
    run = {grade_id(cell): cell for cell in execute(tmp_path / "learner.ipynb").cells}
    for check, ename in [("public_zero_pad", "ValueError"), ("public_conv_single_step", "NotImplementedError")]:
        (error,) = [out for out in run[check].outputs if out.output_type == "error"]
        assert error.ename == ename and len(error.traceback) > 1, check
    assert output_text(run["public_conv_forward"]) == NOT_YET.format(name="conv_forward") + "\n"


def test_nothing_else_fails(executed):
    for cell in executed.cells:
        if cell.cell_type == "code" and not grade_id(cell).startswith("public_"):
            assert not any(out.output_type == "error" for out in cell.outputs), (grade_id(cell), output_text(cell))


def test_no_solution_or_hidden_test_in_release(source_path, release_path):
    release = nbformat.read(str(release_path), as_version=4)
    text = "\n".join(cell.source for cell in release.cells)
    for marker in MARKERS:
        assert marker not in text
    release_lines = set().union(*(stripped_lines(cell.source) for cell in release.cells))
    leaked = solution_lines(nbformat.read(str(source_path), as_version=4)) & release_lines
    assert leaked == set()


def test_stubs_raise_not_implemented(release_path):
    release = nbformat.read(str(release_path), as_version=4)
    stubs = [cell for cell in release.cells if cell.metadata.get("nbgrader", {}).get("solution")]
    assert len(stubs) == 8
    for cell in stubs:
        assert "raise NotImplementedError()" in cell.source


def test_a_cell_that_needs_what_a_stub_did_not_make_says_so_in_one_line(release_path, tmp_path):
    """A learner's cell after a check stopped by a stub: using a variable that check did not
    make is one line; a name that is simply not defined is a NameError with its traceback."""
    notebook = nbformat.read(str(release_path), as_version=4)
    (check,) = [k for k, cell in enumerate(notebook.cells) if grade_id(cell) == "public_conv_forward"]
    notebook.cells[check + 1 : check + 1] = [
        nbformat.v4.new_code_cell("Z.mean()"),
        nbformat.v4.new_code_cell("conv_forwrd(A_prev, W, b, hparameters)"),
    ]
    nbformat.write(notebook, str(tmp_path / "learner.ipynb"))
    run = execute(tmp_path / "learner.ipynb", allow_errors=True).cells
    assert output_text(run[check + 1]) == (
        "… skipped: it needs `Z`, which an earlier cell could not make (conv_forward is not implemented yet).\n"
    )
    (error,) = [out for out in run[check + 2].outputs if out.output_type == "error"]
    assert error.ename == "NameError" and "conv_forwrd" in error.evalue


@pytest.mark.slow  # loads the digits
def test_conv_mnist_release_on_stubs_shows_no_traceback():
    """Run All on assignment 2's stubs, as on assignment 1's: one line per cell, no traceback."""
    notebook = execute(release_dir(ROOT, "conv_mnist") / "conv_mnist.ipynb")
    errors = [
        grade_id(cell) for cell in notebook.cells for out in cell.get("outputs", []) if out.output_type == "error"
    ]
    assert errors == []
