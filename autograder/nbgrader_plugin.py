"""nbgrader, graded by the isolated grader: the pieces nbgrader_config.py plugs in.

- IsolatedAutograde replaces nbgrader's Execute preprocessor in `nbgrader autograde`. The
  submission is graded by grade_notebook (learner code in the sandbox, judging outside it) and
  each grade cell receives the verdict as its output and the points as its result, which
  nbgrader's SaveAutoGrades records as (partial) credit. Learner code never runs in nbgrader's
  kernel, so patching NumPy or the tests earns nothing. The hidden part of each grade cell is
  removed from the autograded notebook, so generate_feedback cannot show it. A grade cell the
  student deleted is put back (nbgrader's own add_missing_cells fails on this course's layout,
  where a public-check cell stands between a solution and its grade cell).
- stand_in_for_invalid_submissions (a pre-convert hook) keeps a submission nbgrader cannot read
  as <name>.ipynb.invalid and puts a copy of the release in its place, marked with the reason:
  the student is graded 0 and told why, instead of being dropped with a traceback.
- CsvExportWithNotes is nbgrader's CSV export with a `notes` column carrying that reason.
"""
import csv
import json
import os
import tempfile
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output
from nbgrader.plugins.export import CsvExportPlugin
from nbgrader.preprocessors import NbGraderPreprocessor

from .assignments import exercises
from .grade import InvalidSubmission, detect_assignment, grade_notebook, read_submission

HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def visible_part(source: str) -> str:
    """A grade cell's source without its hidden-test region."""
    while HIDDEN_BEGIN in source:
        before, _, rest = source.partition(HIDDEN_BEGIN)
        _, _, after = rest.partition(HIDDEN_END)
        source = before.rstrip("\n") + ("\n" + after.lstrip("\n") if after.strip() else "")
    return source


def verdicts_by_exercise(results: dict) -> dict[str, tuple[float, str]]:
    """{exercise: (points, feedback)} from a results.json dict, the parts of an exercise joined."""
    found = {}
    for test in results["tests"]:
        name = test["tags"][0]
        points, text = found.get(name, (0.0, ""))
        label = f"[{test['name']}] " if test["name"] != name else ""
        found[name] = (round(points + test["score"], 2), (text + "\n" if text else "") + label + test["output"])
    return found


class IsolatedAutograde(NbGraderPreprocessor):
    """Grade the notebook with the isolated grader and write the verdicts into its grade cells."""

    def preprocess(self, nb, resources):
        assignment = resources.get("nbgrader", {}).get("assignment")
        invalid = nb.metadata.get("autograder", {}).get("invalid")
        if invalid:
            verdicts, summary = {}, f"Not graded: {invalid}"
        else:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "submission.ipynb"
                path.write_text(nbformat.writes(nb), encoding="utf-8")
                results = grade_notebook(path, assignment)
            verdicts, summary = verdicts_by_exercise(results), results["output"]
        self.log.info("Isolated grader: %s", summary.splitlines()[0])
        restore_missing_grade_cells(nb, assignment or detect_assignment(nb, Path("."), None))
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code" or not meta.get("grade"):
                continue
            name = meta["grade_id"].removeprefix("test_")
            points, feedback = verdicts.get(name, (0.0, summary if invalid else f"{name} was not graded."))
            cell.source = visible_part(cell.source)
            cell.outputs = [new_output("stream", name="stdout", text=feedback + "\n"),
                            new_output("execute_result", data={"text/plain": repr(points)}, execution_count=1)]
        return nb, resources


def restore_missing_grade_cells(nb, assignment: str) -> None:
    """Put back each exercise's grade cell if the student deleted it: after its solution cell, or at the end."""
    present = {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in nb.cells}
    for ex in exercises(assignment):
        grade_id = f"test_{ex.name}"
        if grade_id in present:
            continue
        cell = new_code_cell(f"# Hidden tests for {ex.name} ({ex.points} points): this cell was missing from the "
                             "submission and was put back by the grader.")
        cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "locked": True, "points": ex.points,
                                     "schema_version": 3, "solution": False, "task": False}
        after = [i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == ex.name]
        nb.cells.insert(after[0] + 1 if after else len(nb.cells), cell)


def stand_in_for_invalid_submissions(assignment: str, student: str, notebooks=None, course_root=None) -> list[str]:
    """Replace each submitted notebook nbgrader could not read by a marked copy of the release.

    nbgrader passes its command-line ids, which may be globs ('*'). The original file is kept
    beside it as <name>.ipynb.invalid. Returns the reasons found.
    """
    root = Path(course_root or os.getcwd())
    reasons = []
    for path in sorted((root / "submitted").glob(f"{student or '*'}/{assignment or '*'}/*.ipynb")):
        reason = unreadable_reason(path)
        if reason is None:
            continue
        stand_in = nbformat.read(str(root / "release" / path.parent.name / path.name), as_version=4)
        stand_in.metadata["autograder"] = {"invalid": reason}
        stand_in.cells.insert(0, new_markdown_cell(
            f"**Your submitted `{path.name}` could not be graded:** {reason}. It is kept unchanged as "
            f"`{path.name}.invalid`; this copy of the assignment stands in for it so that your grade and "
            "feedback say why. Ask your instructor if you think your work was lost."))
        path.replace(path.with_name(path.name + ".invalid"))
        nbformat.write(stand_in, str(path))
        reasons.append(reason)
    return reasons


def unreadable_reason(path: Path) -> str | None:
    """Why nbgrader cannot read this notebook, or None when it can."""
    try:
        read_submission(path)
        nbformat.read(str(path), as_version=4)
    except InvalidSubmission as error:
        return str(error)
    except Exception as error:
        return f"the file is not a valid Jupyter notebook ({error.__class__.__name__})"
    return None


def submission_notes(root: Path, student: str, assignment: str) -> str:
    """The reason an autograded submission was not graded, if any."""
    notes = []
    for path in sorted((root / "autograded" / student / assignment).glob("*.ipynb")):
        try:
            invalid = json.loads(path.read_text(encoding="utf-8"))["metadata"].get("autograder", {}).get("invalid")
        except (OSError, ValueError, KeyError, AttributeError):
            continue
        if invalid:
            notes.append(f"{path.name} not graded: {invalid}")
    return "; ".join(notes)


class CsvExportWithNotes(CsvExportPlugin):
    """nbgrader's CSV export, plus a `notes` column saying why a submission got no grade."""

    def export(self, gradebook) -> None:
        super().export(gradebook)
        destination = Path(self.to or "grades.csv")
        with destination.open(newline="") as stream:
            rows = list(csv.DictReader(stream))
        root = Path(os.getcwd())
        for row in rows:
            row["notes"] = submission_notes(root, row["student_id"], row["assignment"])
        with destination.open("w", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=[*rows[0].keys()] if rows else ["notes"], lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
