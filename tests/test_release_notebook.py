"""The student release: stubs that fail clearly, no solutions, no hidden tests."""

import os
import re
import shutil

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


def write_learner(notebook, folder):
    """Write a learner's copy of the release as folder/learner.ipynb, beside the modules it imports."""
    for module in release_dir(ROOT, "conv_step_by_step").glob("*.py"):
        shutil.copy(module, folder)
    nbformat.write(notebook, str(folder / "learner.ipynb"))


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
    write_learner(notebook, tmp_path)
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
    write_learner(notebook, tmp_path)
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


def progress_text(notebook) -> str:
    (cell,) = [cell for cell in notebook.cells if grade_id(cell) == "progress"]
    return output_text(cell)


def test_last_cell_says_no_exercise_is_done_on_the_stubs(executed):
    assert executed.cells[-1].metadata["nbgrader"]["grade_id"] == "progress"
    lines = progress_text(executed).splitlines()
    assert lines[1:-1] == [
        "  ✗ zero_pad: zero_pad is not implemented yet",
        "  ✗ conv_single_step: conv_single_step is not implemented yet",
        "  ✗ conv_forward: conv_forward is not implemented yet",
        "  ✗ pool_forward: pool_forward is not implemented yet",
        "  ✗ conv_backward: conv_forward is not implemented yet",
        "  ✗ create_mask_from_window: create_mask_from_window is not implemented yet",
        "  ✗ distribute_value: distribute_value is not implemented yet",
        "  ✗ pool_backward: pool_backward is not implemented yet",
    ]
    assert lines[-1] == "0 of 8 exercises pass their checks; done when all do."


def test_last_cell_says_which_checks_pass_and_why_the_others_do_not(release_path, source_path, tmp_path):
    """zero_pad solved, conv_single_step solved with an in-place `*=`, the rest stubs; then every
    exercise solved: the progress cell names each outcome, then says the learner is done."""
    notebook = nbformat.read(str(release_path), as_version=4)
    solutions = {grade_id(cell): cell.source for cell in nbformat.read(str(source_path), as_version=4).cells}
    learner = {grade_id(cell): cell for cell in notebook.cells}
    learner["zero_pad"].source = solutions["zero_pad"]
    learner["conv_single_step"].source = solutions["conv_single_step"].replace(
        "Z = np.sum(a_slice_prev * W) + b.item()", "a_slice_prev *= W\n    Z = np.sum(a_slice_prev) + b.item()"
    )
    write_learner(notebook, tmp_path)
    lines = progress_text(execute(tmp_path / "learner.ipynb")).splitlines()
    assert lines[1] == "  ✓ zero_pad: passed"
    assert lines[2].startswith("  ✗ conv_single_step: its check fails: conv_single_step changed its input a_slice_prev")
    assert lines[3] == "  ✗ conv_forward: conv_forward is not implemented yet"
    assert lines[-1] == "1 of 8 exercises pass their checks; done when all do."

    for name, cell in learner.items():
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = solutions[name]
    write_learner(notebook, tmp_path)
    lines = progress_text(execute(tmp_path / "learner.ipynb")).splitlines()
    assert lines[1:-1] == [f"  ✓ {check[7:]}: passed" for check in FIRST_CALLED if check != "public_gradient_check"]
    assert lines[-1].startswith("All 8 exercises pass their checks: you are done.")


def test_a_variable_a_stub_did_not_make_is_not_blamed_on_it_once_the_stub_works(release_path, source_path, tmp_path):
    """The conv_forward check stopped at the stub; the learner then writes conv_forward and uses `Z`
    in a cell of theirs without running the check again: the message says to run that cell again,
    not that conv_forward is not implemented."""
    notebook = nbformat.read(str(release_path), as_version=4)
    (solution,) = [
        c.source for c in nbformat.read(str(source_path), as_version=4).cells if grade_id(c) == "conv_forward"
    ]
    (check,) = [k for k, cell in enumerate(notebook.cells) if grade_id(cell) == "public_conv_forward"]
    notebook.cells[check + 1 : check + 1] = [nbformat.v4.new_code_cell(solution), nbformat.v4.new_code_cell("Z.mean()")]
    write_learner(notebook, tmp_path)
    run = execute(tmp_path / "learner.ipynb", allow_errors=True).cells
    assert output_text(run[check + 2]) == (
        "… `Z` is not made yet: conv_forward has changed since the cell that makes it stopped; run that cell again.\n"
    )


# A fresh kernel's environment, as a learner's may be: no thread limit set by anyone.
UNLIMITED = (
    "import os\n"
    "for name in ['OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS']:\n"
    "    os.environ.pop(name, None)"
)
BLAS_THREADS = (
    "from threadpoolctl import threadpool_info\n"
    "print(sorted({pool['num_threads'] for pool in threadpool_info() if pool['user_api'] == 'blas'}))"
)


def blas_threads(folder, *cells) -> str:
    """What a kernel in `folder` prints for BLAS_THREADS after running `cells`."""
    probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in [UNLIMITED, *cells, BLAS_THREADS]])
    nbformat.write(probe, str(folder / "probe.ipynb"))
    return output_text(execute(folder / "probe.ipynb").cells[-1])


def test_setup_cell_is_short_and_keeps_numpy_to_one_thread(tmp_path):
    """Each notebook's setup cell is at most 5 lines and says to run it first; after it NumPy's
    BLAS runs on one thread, where without it the kernel's NumPy takes every core."""
    cores = len(os.sched_getaffinity(0))
    for assignment in ["conv_step_by_step", "conv_mnist"]:
        release = release_dir(ROOT, assignment)
        notebook = nbformat.read(str(release / f"{assignment}.ipynb"), as_version=4)
        (setup,) = [cell for cell in notebook.cells if grade_id(cell) == "setup"]
        assert len(setup.source.splitlines()) <= 5 and setup.source.startswith("# Run this cell first"), assignment
        shutil.copytree(release, tmp_path / assignment)
        assert blas_threads(tmp_path / assignment, setup.source) == "[1]\n", assignment
    if cores > 1:  # the limit is the setup cell's doing
        assert blas_threads(tmp_path / "conv_step_by_step", "import numpy") == f"[{cores}]\n"
