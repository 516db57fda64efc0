"""The grader inside `nbgrader autograde`: IsolatedAutograde replaces nbgrader's Execute step.

The submission is graded by grade_submission (learner code in the sandbox, judging outside it) and
each grade cell receives the verdict as its output and the points as its result, which nbgrader's
SaveAutoGrades records as (partial) credit. Learner code never runs in nbgrader's kernel, so
patching NumPy or the tests earns nothing. The hidden part of each grade cell is removed from the
autograded notebook, so generate_feedback cannot show it. The results are kept in the notebook's
metadata (autograder.results) for `python -m autograder report`. A grade cell the student deleted
is put back (nbgrader's own add_missing_cells fails on this course's layout, where a public-check
cell stands between a solution and its grade cell). The next `jobs` submissions are graded ahead
while nbgrader works on this one (grading_ahead.py).
"""

import os
import pwd
import re
from pathlib import Path

from nbformat import NotebookNode
from nbformat.v4 import new_code_cell
from nbgrader.api import Gradebook, GradeCell, MissingEntry
from nbgrader.converters import Autograde
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Int, Unicode

from ..course import Course
from ..grading import sandbox
from ..grading.results import Results
from .grading_ahead import GradingAhead, grading_ahead, stop_grading_ahead
from .nbgrader_steps import run_gradebook

HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def visible_part(source: str) -> str:
    """A grade cell's source without its hidden-test region."""
    while HIDDEN_BEGIN in source:
        before, _, rest = source.partition(HIDDEN_BEGIN)
        _, _, after = rest.partition(HIDDEN_END)
        source = before.rstrip("\n") + ("\n" + after.lstrip("\n") if after.strip() else "")
    return source


class IsolatedAutograde(NbGraderPreprocessor):
    """Grade the notebook with the isolated grader and write the verdicts into its grade cells."""

    unsandboxed = Bool(
        False,
        help="Grade even where no sandbox can be had: learner code then runs as the "
        "instructor, able to read and change everything they can.",
    ).tag(config=True)
    jobs = Int(
        os.cpu_count() or 1,
        help="Submissions graded ahead of the one nbgrader is at, at once (0: each when reached).",
    ).tag(config=True)
    course_folder = Unicode(
        "",
        help="A folder holding <assignment>.h5 and <assignment>/*.py to grade against; empty: the "
        "reference data and release of the repository this package was installed from.",
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        """Grade the submission (unless it was not readable) and fill in its grade cells."""
        info = resources["nbgrader"]
        invalid = nb.metadata.get("autograder", {}).get("invalid")
        if invalid:
            verdicts, summary, isolation = {}, f"Not graded: {invalid}", "none, nothing was run"
        else:
            results = self.grade(nb, info)
            verdicts, summary = results.exercise_feedback(), results.output
            isolation = results.extra.get("isolation", "unknown")
        # For `python -m autograder report`: the kinds of problem and mistakes named, which the grade
        # cells' text does not carry; always written, so a submission cannot bring its own.
        record = nb.metadata.get("autograder")
        nb.metadata["autograder"] = {
            **(record if isinstance(record, dict) else {}),
            "results": None if invalid else results.to_gradescope(),
        }
        self.log.info("Isolated grader (isolation: %s): %s", isolation, summary.splitlines()[0])
        with run_gradebook(info["db_url"]) as gradebook:
            notebook = gradebook.find_notebook(info["notebook"], info["assignment"])
            points = gradebook.db.query(GradeCell.name, GradeCell.max_score).filter(
                GradeCell.notebook_id == notebook.id
            )
            restore_missing_grade_cells(nb, dict(points.all()))
            name_from_account(gradebook, info["student"])
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code" or not meta.get("grade"):
                continue
            name = meta["grade_id"].removeprefix("test_")
            points, feedback = verdicts.get(name, (0.0, summary if invalid else f"{name} was not graded."))
            cell.source = visible_part(cell.source)
            cell.outputs = [  # as nbformat's new_output makes them, without checking each against the schema
                NotebookNode(output_type="stream", name="stdout", text=feedback + "\n"),
                NotebookNode(
                    output_type="execute_result",
                    data=NotebookNode({"text/plain": repr(points)}),
                    metadata=NotebookNode(),
                    execution_count=1,
                ),
            ]
        return nb, resources

    def grade(self, nb: NotebookNode, info: dict) -> Results:
        """grade_submission's results for this notebook (graded ahead, see grading_ahead). NoIsolation
        is logged and raised: nbgrader then fails this submission (no autograded notebook, no
        scores saved) and exits with an error. After the run's last submission every grading
        process is stopped: Formgrader runs autograde inside the instructor's long-lived Jupyter
        server, where a fork server would otherwise stay until the server stops."""
        ahead, refused = self.grading_ahead(info), False
        try:
            return ahead.results(info["student"], nb)
        except sandbox.NoIsolation as error:
            refused = True
            self.log.error(
                "Isolated grader refuses to grade: %s (nbgrader: set "
                "c.IsolatedAutograde.unsandboxed = True to grade without a sandbox)",
                error,
            )
            raise
        finally:
            if refused or ahead.last(info["student"]):
                stop_grading_ahead()
                sandbox.stop_all()

    def grading_ahead(self, info: dict) -> GradingAhead:
        """This run's grader of the notebook `info` names, over the submissions nbgrader will hand
        over (none outside an autograde run: each notebook is then graded alone)."""
        assignment, notebook = info["assignment"], info["notebook"]
        run = autograde_run(self)

        def make() -> GradingAhead:
            course = Course.folder(Path(self.course_folder)) if self.course_folder else Course.repository()
            paths = submissions_to_grade(run, assignment, notebook, info["student"]) if run else {}
            return GradingAhead(paths, assignment, course, self.unsandboxed, self.jobs if run else 0)

        return grading_ahead(run, (self.course_folder, assignment, notebook, self.unsandboxed, self.jobs), make)


def autograde_run(preprocessor: NbGraderPreprocessor) -> Autograde | None:
    """The nbgrader autograde run calling `preprocessor` (nbgrader's converter, its exporter's
    parent), or None when it is called outside one."""
    converter = getattr(getattr(preprocessor, "parent", None), "parent", None)
    return converter if isinstance(converter, Autograde) else None


def submissions_to_grade(run: Autograde, assignment: str, notebook: str, current: str) -> dict[str, Path]:
    """{student: submitted notebook} that `run` will hand over, in its order: its submissions less
    those its init_destination skips (excluded students; without --force, those autograded from
    a submission no newer), decided as nbgrader decides, without its side effects. `current`,
    being graded, is always one."""
    coursedir = run.coursedir
    excluded = set(filter(None, coursedir.student_id_exclude.split(",")))
    # The submitted folders: run._format_source names autograded/ while autograde's second pass runs.
    pattern = coursedir.format_path(
        coursedir.submitted_directory, "(?P<student_id>.*)", "(?P<assignment_id>.*)", escape=True
    )
    paths = {}
    for folder, found in sorted(run.assignments.items()):
        match = re.match(pattern, folder)
        student = match and match.group("student_id")
        ours = [Path(path) for path in found if Path(path).stem == notebook]
        if not student or not ours or student in excluded:
            continue
        dest = Path(run._format_dest(assignment, student))
        if coursedir.notebook_id == "*":
            fresh = not dest.exists()
        else:
            fresh = any(not (dest / f"{Path(path).stem}.ipynb").exists() for path in found)
        new, old = coursedir.get_existing_timestamp(folder), coursedir.get_existing_timestamp(str(dest))
        if student == current or fresh or run.force or (new is not None and old is not None and new > old):
            paths[student] = ours[0].resolve()
    return paths


def restore_missing_grade_cells(nb: NotebookNode, points_by_grade_id: dict[str, float]) -> None:
    """Put back each grade cell of this notebook (per the gradebook) that the student deleted:
    after its exercise's solution cell, or at the end."""
    present = {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in nb.cells}
    for grade_id, points in points_by_grade_id.items():
        if grade_id in present:
            continue
        name = grade_id.removeprefix("test_")
        cell = new_code_cell(
            f"# Hidden tests for {name} ({points:g} points): this cell was missing from the "
            "submission and was put back by the grader."
        )
        cell.metadata["nbgrader"] = {
            "grade": True,
            "grade_id": grade_id,
            "locked": True,
            "points": points,
            "schema_version": 3,
            "solution": False,
            "task": False,
        }
        after = [i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == name]
        nb.cells.insert(after[0] + 1 if after else len(nb.cells), cell)


def name_from_account(gradebook: Gradebook, student: str) -> None:
    """Give a student the name of the Unix account of the same id (its GECOS full name), when
    the gradebook has no name for them: on a shared server students are its users, and
    autograde would otherwise add them nameless (Formgrader shows "None, None")."""
    try:
        account = pwd.getpwnam(student)
    except KeyError:  # an id from elsewhere (a learning platform's, say)
        return
    words = account.pw_gecos.split(",")[0].split()
    if account.pw_uid < 1000 or not words:  # a system account, or no name on record
        return
    first, last = (" ".join(words[:-1]), words[-1]) if len(words) > 1 else (words[0], "")
    try:
        known = gradebook.find_student(student)
    except MissingEntry:
        return
    if not (known.first_name or known.last_name):
        gradebook.update_or_create_student(student, first_name=first, last_name=last)
