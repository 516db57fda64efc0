"""The course's set-up-once versions of nbgrader's autograde steps (autograder/integrations/
nbgrader_steps.py) leave nbgrader's outputs exactly as nbgrader's own steps do.

One course folder, autograded twice by the real `nbgrader autograde`: with nbgrader_config.py
as it is, and with nbgrader's own steps put back in place of the course's equivalents. The
batch has what those steps act on: a late submission (a late penalty of its whole score), a
blank one ("No response." comments), a partly wrong one, a grade the instructor set by hand
before the regrade (kept, flagged for review), and one whose nbgrader metadata was corrupted
(CheckCellMetadata refuses it, and nbgrader grades the others).
"""

import json
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.build.nbgrader_run import run_nbgrader
from conftest import ASSIGNMENT, ROOT

pytestmark = pytest.mark.slow  # runs nbgrader

STEPS = "autograder.integrations.nbgrader_steps."
NBGRADERS_OWN = {
    STEPS + "CheckCellMetadataOnce": "nbgrader.preprocessors.CheckCellMetadata",
    STEPS + "OverwriteKernelspecOnce": "nbgrader.preprocessors.OverwriteKernelspec",
    STEPS + "SaveAutoGradesOnce": "nbgrader.preprocessors.SaveAutoGrades",
    STEPS + "AssignLatePenaltiesOnce": "nbgrader.preprocessors.AssignLatePenalties",
}
LATE = 'c.LateSubmissionPlugin.penalty_method = "zero"\n'


def course_with_batch(folder: Path, config: str) -> list[str]:
    """A course folder with `config`, the assignment generated, due in 2020, and four submissions."""
    folder.mkdir()
    (folder / "nbgrader_config.py").write_text(config, encoding="utf-8")
    shutil.copytree(ROOT / "source", folder / "source")
    assert run_nbgrader(["generate_assignment", ASSIGNMENT, "--force"], folder).returncode == 0
    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}") as gradebook:
        gradebook.update_or_create_assignment(ASSIGNMENT, duedate="2020-01-01 00:00:00")
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import grading  # bench/grading.py: its planted bugs
    finally:
        sys.path.remove(str(ROOT / "bench"))
    source = nbformat.read(str(ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)
    release = nbformat.read(str(folder / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)
    corrupted = nbformat.from_dict(json.loads(json.dumps(source)))
    corrupted.cells.append(nbformat.v4.new_code_cell("x = 1"))  # a cell of theirs, with metadata the schema refuses
    corrupted.cells[-1].metadata["nbgrader"] = {
        **{"grade": False, "solution": True, "locked": False, "task": False},
        **{"grade_id": "mine", "points": "ten", "schema_version": 3},
    }
    notebooks = {
        "late": (source, "2020-01-02 00:00:00"),
        "blank": (release, "2019-12-31 00:00:00"),
        "partial": (grading.buggy_notebook(source, ["zero_pad", "pool_backward"]), "2019-12-31 00:00:00"),
        "corrupted": (corrupted, "2019-12-31 00:00:00"),
    }
    for student, (notebook, timestamp) in notebooks.items():
        target = folder / "submitted" / student / ASSIGNMENT
        target.mkdir(parents=True)
        nbformat.write(notebook, str(target / f"{ASSIGNMENT}.ipynb"))
        (target / "timestamp.txt").write_text(timestamp + "\n", encoding="utf-8")
    return sorted(notebooks)


def outcome(folder: Path, students: list[str]) -> dict:
    """What autograde left: per student, the gradebook's scores, penalties, flags and comments,
    and the autograded notebook's cells (sources, outputs, metadata)."""
    result = {}
    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}") as gradebook:
        for student in students:
            try:
                notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
            except Exception as error:
                result[student] = type(error).__name__
                continue
            result[student] = {
                "score": notebook.score,
                "late penalty": notebook.late_submission_penalty,
                "grades": sorted((g.name, g.auto_score, g.manual_score, g.needs_manual_grade) for g in notebook.grades),
                "comments": sorted((c.name, c.auto_comment) for c in notebook.comments),
            }
            graded = folder / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
            result[student]["notebook"] = (
                [(c.cell_type, c.source, c.get("outputs"), c.metadata) for c in nbformat.read(str(graded), 4).cells]
                if graded.exists()
                else None
            )
    return result


def test_the_set_up_once_steps_leave_what_nbgraders_own_steps_leave(tmp_path):
    course_config = (ROOT / "nbgrader_config.py").read_text(encoding="utf-8") + LATE
    stock_config = course_config
    for ours, theirs in NBGRADERS_OWN.items():
        named = f'STEPS + "{ours.removeprefix(STEPS)}"'
        assert named in course_config
        stock_config = stock_config.replace(named, f'"{theirs}"')
    assert "STEPS +" not in stock_config

    outcomes, logs = {}, {}
    for name, config in {"course": course_config, "nbgrader": stock_config}.items():
        folder = tmp_path / name
        students = course_with_batch(folder, config)
        first = run_nbgrader(["autograde", ASSIGNMENT, "--force"], folder)
        assert "Notebook failed to validate" in first.stderr  # the corrupted one, as nbgrader says it
        with Gradebook(f"sqlite:///{folder / 'gradebook.db'}") as gradebook:  # the instructor grades one cell by hand
            grade = gradebook.find_grade("test_zero_pad", ASSIGNMENT, ASSIGNMENT, "partial")
            grade.manual_score = 1.5
            gradebook.db.commit()
        second = run_nbgrader(["autograde", ASSIGNMENT, "--force"], folder)
        logs[name] = second.stderr
        outcomes[name] = outcome(folder, students)

    course, nbgrader = outcomes["course"], outcomes["nbgrader"]
    assert course == nbgrader
    assert course["late"]["score"] == 100 and course["late"]["late penalty"] == 100
    assert course["blank"]["score"] == 0 and ("zero_pad", "No response.") in course["blank"]["comments"]
    assert [g[2:] for g in course["partial"]["grades"] if g[0] == "test_zero_pad"] == [(1.5, True)]
    assert course["corrupted"]["notebook"] is None
    for name, log in logs.items():
        assert "is 86400.0 seconds late" in log, name
        assert "Late submission penalty: 100" in log, name
