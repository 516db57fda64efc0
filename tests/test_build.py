"""`python -m autograder build --check` passes on the committed tree and names what goes stale. Its
nbgrader step is nbgrader's own generate_assignment, so this also checks the committed release is what
nbgrader makes of the source."""

import os
import shutil
import subprocess
import sys

import nbformat
import pytest

from conftest import ASSIGNMENT, ROOT

pytestmark = pytest.mark.slow  # left out of the quick run: pytest -m "not slow"

COPIED = ["nbgrader_config.py", "source", "release", "notebooks", "images", "autograder/reference"]


def build_check(root, **env):
    return subprocess.run(
        [sys.executable, "-m", "autograder", "build", "--check", "--root", str(root)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )


def copy_course(tmp_path):
    for name in COPIED:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_check_passes_on_committed_tree_with_one_or_two_blas_threads(tmp_path):
    """The reference data is computed with the machine's BLAS: its thread count changes the order,
    and so the rounding, of sums; the committed data must hold on any machine."""
    root = copy_course(tmp_path)
    for threads in ("1", "2"):
        result = build_check(root, OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "up to date" in result.stdout


def test_check_fails_and_names_files_after_a_source_edit(tmp_path):
    root = copy_course(tmp_path)
    source = root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    notebook = nbformat.read(str(source), as_version=4)
    solution = next(cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("solution"))
    solution.source = solution.source.replace('"""Pad', '"""Zero-pad')
    solution.outputs = [nbformat.v4.new_output("stream", name="stdout", text="left over\n")]
    nbformat.write(notebook, str(source))
    (root / "images" / "zero_pad.png").write_bytes(b"not the figure")
    (root / "release" / ASSIGNMENT / "notes.txt").write_text("stray")

    result = build_check(root)
    assert result.returncode == 1
    for name in [
        f"source/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
        f"release/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
        "images/zero_pad.png",
        f"release/{ASSIGNMENT}/notes.txt (not made by the build)",
    ]:
        assert name in result.stdout
    assert nbformat.read(str(source), as_version=4) == notebook  # --check writes nothing
