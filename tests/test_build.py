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


def tree_state(root):
    """`git status` and every file's modification time and size under the repository's generated folders."""
    status = subprocess.run(["git", "status", "--porcelain", "--ignored"], cwd=root, capture_output=True, text=True)
    files = {
        str(path): (path.stat().st_mtime_ns, path.stat().st_size)
        for folder in ("release", "source", "notebooks", "images", "autograder/reference")
        for path in sorted((root / folder).rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }
    return status.stdout, files


def test_check_writes_nothing_even_with_a_user_config_naming_the_repository(tmp_path):
    """An instructor's ~/.jupyter/nbgrader_config.py (as Formgrader needs it) sets the course root to this
    very repository; a system-wide config sets another; build --check still reads only its own."""
    home = tmp_path / "home"
    (home / ".jupyter").mkdir(parents=True)
    (home / ".jupyter" / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(ROOT)!r}\nc.CourseDirectory.release_directory = 'release'\n"
    )
    system = tmp_path / "system"
    system.mkdir()
    (system / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.root = {str(tmp_path)!r}\n")
    before = tree_state(ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "build", "--check"],
        capture_output=True,
        text=True,
        cwd=home,
        env={**os.environ, "HOME": str(home), "JUPYTER_CONFIG_PATH": str(system)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "up to date" in result.stdout
    assert tree_state(ROOT) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["home", "system"]
