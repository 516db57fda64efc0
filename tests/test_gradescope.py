"""`python -m autograder gradescope`: the zip's contents, and its run_autograder run as Gradescope would."""

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import h5py
import numpy
import pytest
import tqdm

from autograder.course import Course
from conftest import ASSIGNMENT, ROOT

SOURCE = ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
RELEASE = ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def build(output: Path) -> Path:
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "gradescope", ASSIGNMENT, "-o", str(output)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return output


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("bundle") / "autograder.zip")


def solution_lines() -> set[str]:
    """The source notebook's lines between ### BEGIN and ### END SOLUTION, except bare control flow."""
    lines, inside = set(), False
    for cell in json.loads(SOURCE.read_text(encoding="utf-8"))["cells"]:
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        for line in map(str.strip, source.splitlines()):
            if line.startswith("### BEGIN SOLUTION") or line.startswith("### END SOLUTION"):
                inside = line.startswith("### BEGIN")
            elif inside and line and not re.match(r"(for|if|else|elif)\b", line):
                lines.add(line)
    return lines


def test_zip_holds_scripts_package_and_reference_only(bundle):
    with zipfile.ZipFile(bundle) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        setup = archive.read("setup.sh").decode()
    package = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "autograder").rglob("*.py")
        if "__pycache__" not in path.parts
    }
    reference = f"course/{ASSIGNMENT}.h5"
    provided = {f"course/{ASSIGNMENT}/{name}.py" for name in Course.repository(ROOT).provided_modules(ASSIGNMENT)}
    assert set(infos) == {"setup.sh", "run_autograder", reference} | package | provided
    assert list(infos) == sorted(infos)
    for name in ("setup.sh", "run_autograder"):
        assert stat.S_IMODE(infos[name].external_attr >> 16) == 0o755
    assert not [name for name in infos if name.endswith(".ipynb") or name.startswith("source/")]
    pins = [
        line
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.split("==")[0] in ("numpy", "h5py", "tqdm")
    ]
    assert len(pins) == 3 and all(pin in setup for pin in pins)
    assert "bubblewrap" in setup and "python3-venv" in setup


def test_zip_holds_no_solution_line(bundle):
    lines = solution_lines()
    assert len(lines) > 40  # the check really reads the solutions
    with zipfile.ZipFile(bundle) as archive:
        for name in archive.namelist():
            text = archive.read(name).decode("utf-8", errors="replace")
            leaked = lines & {line.strip() for line in text.splitlines()}
            assert not leaked, f"{name} holds solution lines: {leaked}"


def test_zip_is_byte_identical_when_built_again(bundle, tmp_path):
    assert build(tmp_path / "again.zip").read_bytes() == bundle.read_bytes()


def autograder_root(bundle: Path, tmp_path: Path) -> Path:
    """A stand-in for Gradescope's /autograder: source/ = the zip, run_autograder copied up, empty submission/."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    (root / "submission").mkdir()
    (root / "results").mkdir()
    return root


def run_autograder(root: Path, python: str = sys.executable) -> dict:
    """Run the bundle's run_autograder as Gradescope does; return the results.json it left."""
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=python)
    result = subprocess.run(
        [str(root / "run_autograder")], env=env, cwd=root, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    check_gradescope_schema(results)
    return results


def check_gradescope_schema(results: dict) -> None:
    assert isinstance(results["score"], (int, float)) and isinstance(results["execution_time"], (int, float))
    assert isinstance(results.get("output", ""), str) and results["tests"]
    for test in results["tests"]:
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert isinstance(test["score"], (int, float)) and isinstance(test["max_score"], (int, float))
        assert test["visibility"] in ("hidden", "after_due_date", "after_published", "visible")
        assert isinstance(test["tags"], list) and all(isinstance(tag, str) for tag in test["tags"])
    assert sum(test["max_score"] for test in results["tests"]) == pytest.approx(100)


@pytest.mark.parametrize("case", ["source", "release", "nothing", "invalid_json"])
def test_run_autograder_always_leaves_results(bundle, tmp_path, case):
    root = autograder_root(bundle, tmp_path)
    # The bundle's package, not the editable install, is what the grader imports there.
    imported = subprocess.run(
        [sys.executable, "-c", "import autograder; print(autograder.__file__)"],
        cwd=root / "source",
        capture_output=True,
        text=True,
    ).stdout
    assert Path(imported.strip()).is_relative_to(root / "source")
    submission = root / "submission"
    if case == "source":
        shutil.copy(SOURCE, submission)
    elif case == "release":
        (submission / "folder").mkdir()
        shutil.copy(RELEASE, submission / "folder" / "my work.ipynb")  # the only notebook, whatever its name
    elif case == "nothing":
        (submission / "notes.txt").write_text("I did it on paper")
    else:
        (submission / f"{ASSIGNMENT}.ipynb").write_text('{"cells": [')
        shutil.copy(RELEASE, submission / "draft.ipynb")  # the right name wins over other notebooks

    results = run_autograder(root)
    scores = {test["score"] for test in results["tests"]}
    if case == "source":
        assert results["score"] == 100 and all(t["score"] == t["max_score"] for t in results["tests"])
        return
    assert results["score"] == 0 and scores == {0}
    if case == "nothing":
        assert f"upload one notebook, named {ASSIGNMENT}.ipynb" in results["output"]
        assert "no .ipynb file" in results["output"]
    if case == "invalid_json":
        assert "not valid JSON" in results["output"]


def test_several_notebooks_none_named_right_get_a_message(bundle, tmp_path):
    root = autograder_root(bundle, tmp_path)
    for name in ("a.ipynb", "b.ipynb"):
        shutil.copy(SOURCE, root / "submission" / name)
    results = run_autograder(root)
    assert results["score"] == 0 and "Found: a.ipynb, b.ipynb." in results["output"]


def test_grader_that_cannot_start_still_leaves_results(bundle, tmp_path):
    root = autograder_root(bundle, tmp_path)
    shutil.copy(SOURCE, root / "submission")
    results = run_autograder(root, python=str(tmp_path / "no-such-python"))
    assert results["score"] == 0 and "please tell your instructor" in results["output"]


def link_or_copy(source, target):
    """A hard link copies in an instant; a copy when the link cannot cross filesystems."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def test_grading_needs_only_numpy_h5py_and_tqdm(bundle, tmp_path):
    """Gradescope's venv has only these three: grade in a venv holding nothing else (no nbgrader, nbformat)."""
    root = autograder_root(bundle, tmp_path)
    shutil.copy(SOURCE, root / "submission")
    clean = tmp_path / "venv"
    venv.create(clean, with_pip=False)
    site = clean / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    for module in (numpy, h5py, tqdm):
        folder = Path(module.__file__).parent
        for part in (folder, folder.with_name(folder.name + ".libs")):  # .libs: the wheels' bundled shared libraries
            if part.exists():  # real files (not symlinks), for the sandbox to mount
                shutil.copytree(
                    part, site / part.name, copy_function=link_or_copy, ignore=shutil.ignore_patterns("__pycache__")
                )
    python = str(clean / "bin" / "python")
    assert subprocess.run([python, "-c", "import nbformat"], capture_output=True).returncode != 0
    assert run_autograder(root, python)["score"] == 100
