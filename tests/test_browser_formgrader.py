"""The instructor's view: nbgrader's formgrader in JupyterLab, for a class of two autograded students.

A temporary course (this repository's nbgrader_config.py and source/) gets two submissions in
nbgrader's submitted/<student>/<assignment>/ layout, one correct and one without the bias in
conv_single_step; `nbgrader autograde` grades them through the isolated grader. JupyterLab is
then started in the course folder (where formgrader finds its course) and opened in Chromium:
Nbgrader → Formgrader shows the assignment, and the students with their scores.
"""

import os
import shutil
import subprocess
import sys

import nbformat
import pytest

from conftest import ASSIGNMENT, ROOT, grade_id
from lab_in_browser import JupyterLab, chromium_executable, menu, screenshot

pytestmark = pytest.mark.slow  # left out of the quick run: pytest -m "not slow"

if chromium_executable() is None:
    pytest.skip("no Chromium executable (Debian: apt-get install chromium)", allow_module_level=True)

STUDENTS = {"ada": 100, "bert": 90}  # bert leaves the bias out of conv_single_step: 0 of its 10 points


def nbgrader(args, course, env):
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, f"nbgrader {' '.join(args)}:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def course_lab(tmp_path_factory):
    base = tmp_path_factory.mktemp("formgrader")
    course = base / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "source", course / "source", ignore=shutil.ignore_patterns("__pycache__"))
    (base / "exchange").mkdir()
    os.chmod(base / "exchange", 0o777)
    env = dict(
        os.environ,
        NBGRADER_EXCHANGE=str(base / "exchange"),
        PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]]),
    )
    nbgrader(["generate_assignment", ASSIGNMENT, "--force"], course, env)
    release = nbformat.read(str(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)
    source = nbformat.read(str(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)
    solutions = {grade_id(c): c.source for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    for student in STUDENTS:
        notebook = nbformat.from_dict(release)
        notebook = nbformat.reads(nbformat.writes(notebook), as_version=4)
        for cell in notebook.cells:
            if cell.metadata.get("nbgrader", {}).get("solution"):
                cell.source = solutions[grade_id(cell)]
                if student == "bert" and grade_id(cell) == "conv_single_step":
                    cell.source = cell.source.replace("np.sum(a_slice_prev * W) + b.item()", "np.sum(a_slice_prev * W)")
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(notebook, str(folder / f"{ASSIGNMENT}.ipynb"))
        (folder / "timestamp.txt").write_text("2026-11-23 12:00:00.000000 UTC")
    nbgrader(["autograde", ASSIGNMENT, "--force"], course, env)

    server = JupyterLab(course, base / "home").start({"NBGRADER_EXCHANGE": str(base / "exchange")})
    try:
        yield server
    finally:
        killed = server.stop()
    assert killed == [], f"processes of the server still running after it stopped: {killed}"


def test_formgrader_shows_the_assignment_and_the_scores(browser, course_lab, screenshots):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(course_lab.url())
        page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").wait_for()
        menu(page, "Nbgrader", "Formgrader")
        formgrader = page.frame_locator("iframe").first
        row = formgrader.locator("tr", has_text=ASSIGNMENT).first
        row.wait_for()
        cells = [text.strip() for text in row.locator("td").all_inner_texts()]
        assert cells[0] == ASSIGNMENT and "2" in cells, cells  # its two submissions
        screenshot(page, screenshots / "formgrader_assignments.png")

        formgrader.get_by_role("link", name="Manage Students").click()
        for student, score in STUDENTS.items():
            line = formgrader.locator("tr", has_text=student).first
            line.wait_for()
            assert f"{score} / 100" in line.inner_text(), line.inner_text()
        screenshot(page, screenshots / "formgrader_students.png")
    finally:
        context.close()
        course_lab.shut_down_kernels()
