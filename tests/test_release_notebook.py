"""The student release: stubs that fail clearly, no solutions, no hidden tests."""

import re

import nbformat
import pytest

from conftest import execute, grade_id, output_text

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


@pytest.fixture(scope="module")
def executed(release_path):
    return execute(release_path, allow_errors=True)


def test_every_public_check_fails_with_not_implemented(executed):
    public = [cell for cell in executed.cells if grade_id(cell).startswith("public_")]
    assert len(public) == 9  # eight exercises and the gradient check
    for cell in public:
        errors = [out for out in cell.outputs if out.output_type == "error"]
        assert [error.ename for error in errors] == ["NotImplementedError"], (grade_id(cell), output_text(cell))


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
