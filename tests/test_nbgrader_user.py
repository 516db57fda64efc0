"""`nbgrader autograde` run by an instructor who is a normal user, as on a shared JupyterHub server.

A throwaway user owns a course folder (this repository's nbgrader_config.py, source/ and
release/) with three submissions: ada and zoe correct, and mallory's, which tries everything
a student running as the instructor could: read the solutions in source/, the gradebook and
zoe's submission, write into the course, import the course package to return its stored
answers, and leave a process running. Graded by the user's own `nbgrader autograde` (the
learner's code runs in bubblewrap in a user namespace), she gains nothing and leaves nothing.
Without bubblewrap, autograde refuses and records no grade.
"""

import csv
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from conftest import ASSIGNMENT, ROOT, grade_id
from deployments import bubblewrap_works, give, path_without_bubblewrap, run_as, throwaway_user, unavailable

pytestmark = pytest.mark.slow  # left out of the quick run: pytest -m "not slow"

NONCE = f"{secrets.randbelow(10**8):08d}"


def hostile_cells(course: Path) -> tuple[str, str]:
    """(a cell run at load time, replacement solutions of zero_pad and conv_single_step)."""
    probe = f"""import os, subprocess
COURSE = {str(course)!r}
TARGETS = [COURSE + "/source/{ASSIGNMENT}/{ASSIGNMENT}.ipynb", COURSE + "/gradebook.db",
           COURSE + "/submitted/zoe/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
           {str(ROOT / "autograder" / "reference" / f"{ASSIGNMENT}.h5")!r}]
STOLEN = {{}}
for path in TARGETS:
    try:
        STOLEN[path] = open(path, "rb").read()
    except OSError:
        pass
try:
    open(COURSE + "/MALLORY_WAS_HERE", "w").write("x")
except OSError:
    pass
subprocess.Popen(["setsid", "sleep", "300.{NONCE}"], start_new_session=True)
"""
    cheats = f"""import json
def _solution(name):
    for text in STOLEN.values():
        try:
            cells = json.loads(text)["cells"]
        except Exception:
            continue
        namespace = {{}}
        for cell in cells:
            meta = cell["metadata"].get("nbgrader", {{}})
            if cell["cell_type"] == "code" and (meta.get("solution") or meta.get("grade_id") == "setup"):
                exec("".join(cell["source"]), namespace)
        if name in namespace:
            return namespace[name]
    raise LookupError("no solution found")

def zero_pad(X, pad):
    return _solution("zero_pad")(X, pad)

def conv_single_step(a_slice_prev, W, b):
    from autograder.grading.reference import read_all_cases  # the stored answers, if the package is importable
    from autograder import paths
    for case in read_all_cases(Course.repository().reference_file("{ASSIGNMENT}"))["conv_single_step"]:
        stored = case.inputs["a_slice_prev"]
        if stored.shape == a_slice_prev.shape and (stored == a_slice_prev).all():
            return float(case.expected[0])
    raise LookupError("no stored answer")
"""
    return probe, cheats


def course_for(user, home: Path) -> Path:
    course = home / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for folder in ("source", "release"):
        shutil.copytree(ROOT / folder / ASSIGNMENT, course / folder / ASSIGNMENT)
    source = nbformat.read(str(ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)
    solutions = {
        grade_id(cell): cell.source for cell in source.cells if cell.metadata.get("nbgrader", {}).get("solution")
    }
    for student in ("ada", "zoe", "mallory"):  # each fills in the released notebook
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        notebook = nbformat.read(str(ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)
        for cell in notebook.cells:
            if grade_id(cell) in solutions:
                cell.source = solutions[grade_id(cell)]
        if student == "mallory":
            probe, cheats = hostile_cells(course)
            notebook.cells.insert(2, nbformat.v4.new_code_cell(probe))
            for cell in notebook.cells:
                if grade_id(cell) == "zero_pad":
                    cell.source = cheats
                elif grade_id(cell) == "conv_single_step":
                    cell.source = "# written above, with zero_pad\n"
        nbformat.write(notebook, str(folder / f"{ASSIGNMENT}.ipynb"))
        (folder / "timestamp.txt").write_text("2026-12-01 10:00:00.000000 UTC")
    give(home, user)
    course.chmod(0o700)
    return course


def nbgrader_as(user, course: Path, *args, path: str | None = None) -> subprocess.CompletedProcess:
    # The instructor's environment is active: its bin folder (nbgrader runs `alembic` from it) comes first.
    path = f"{Path(sys.executable).parent}:{path or '/usr/local/bin:/usr/bin:/bin'}"
    env = {"NBGRADER_EXCHANGE": str(course / "exchange"), "PATH": path}
    return run_as(user.pw_name, [sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, timeout=600)


def sleepers() -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if f"300.{NONCE}".encode() in (proc / "cmdline").read_bytes():
                found.append(proc.name)
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if not bubblewrap_works():
        unavailable("needs bubblewrap")
    with throwaway_user() as user:
        home = Path(user.pw_dir)
        course = course_for(user, home)
        generate = nbgrader_as(user, course, "generate_assignment", ASSIGNMENT, "--force")
        assert generate.returncode == 0, generate.stderr[-2000:]
        before = {path: path.read_bytes() for path in course.rglob("*") if path.is_file()}
        autograde = nbgrader_as(user, course, "autograde", ASSIGNMENT, "--create", "--force")
        time.sleep(0.5)
        left = sleepers()
        export = nbgrader_as(user, course, "export")
        with open(course / "grades.csv", newline="") as stream:
            grades = {row["student_id"]: float(row["score"]) for row in csv.DictReader(stream)}
        changed = [
            str(path.relative_to(course))
            for path, data in before.items()
            if not path.exists() or path.read_bytes() != data
        ]
        refusal_home = tmp_path_factory.mktemp("nobwrap")
        refusal_home.chmod(0o755)
        path = path_without_bubblewrap(refusal_home / "bin")
        shutil.rmtree(course / "autograded" / "ada" / ASSIGNMENT)
        refused = nbgrader_as(user, course, "autograde", ASSIGNMENT, "--student", "ada", "--force", path=path)
        yield {
            "autograde": autograde,
            "export": export,
            "grades": grades,
            "left": left,
            "changed": changed,
            "course": course,
            "refused": refused,
        }


def test_autograde_as_a_normal_user_grades_in_a_user_namespace(graded):
    log = graded["autograde"].stdout + graded["autograde"].stderr
    assert graded["autograde"].returncode == 0, log[-3000:]
    assert log.count("isolation: user_namespace") == 3


def test_the_hostile_student_gains_nothing(graded):
    assert graded["export"].returncode == 0
    # zero_pad from stolen solutions and conv_single_step from stored answers both fail; conv_forward
    # and conv_backward keep their points through the reference helpers.
    assert graded["grades"] == {"ada": 100.0, "zoe": 100.0, "mallory": 80.0}


def test_the_hostile_student_leaves_nothing(graded):
    assert not (graded["course"] / "MALLORY_WAS_HERE").exists()
    assert graded["left"] == [] and sleepers() == []
    # autograde writes its own outputs (autograded/, the gradebook); no input of the course changed
    assert [path for path in graded["changed"] if not path.startswith("gradebook.db")] == []


def test_autograde_without_a_sandbox_refuses_and_records_nothing(graded):
    refused = graded["refused"]
    log = refused.stdout + refused.stderr
    assert refused.returncode != 0
    assert "will not run learner code without a sandbox" in log
    assert not (graded["course"] / "autograded" / "ada" / ASSIGNMENT).exists(), log[-3000:]
