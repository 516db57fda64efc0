"""Grading one submitted notebook in isolation, into Gradescope's results.json form."""

import json
import time
from pathlib import Path

from ..assignments import exercises, judged_helpers
from ..course import ASSIGNMENTS, Course
from ..notebook_code import learner_code_cells, nbgrader_metadata
from .judge import judge_assignment
from .reference import read_all_cases
from .results import Results, TestResult
from .sandbox import Isolation, Limits, NoIsolation, exposed_to_learner, isolation
from .session import LearnerSession

MAX_CELL_NOTES = 20  # failed cells named in a submission's results; the rest are counted


class InvalidSubmission(Exception):
    """The file is not a notebook the grader can read; the message says why, for the learner."""


def read_submission(path: Path) -> dict:
    """The notebook at `path` as a dict, checked only as far as grading needs.

    Plain JSON on purpose: nbformat's validation is slow to import and refuses notebooks
    that can still be graded.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidSubmission(f"the file could not be read as text ({error.__class__.__name__})") from None
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidSubmission(
            f"the file is not valid JSON (line {error.lineno}, column {error.colno}): "
            "it may have been saved incompletely or edited outside Jupyter"
        ) from None
    except RecursionError:
        raise InvalidSubmission("the file is JSON nested too deeply to be a notebook") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise InvalidSubmission("the file is JSON but not a Jupyter notebook (it has no list of cells)")
    return notebook


def named_assignment(path: Path, default: str | None) -> str | None:
    """The assignment named by --assignment, by an nbgrader folder or by the file's name, else None."""
    return default or next((name for name in (path.parent.name, path.stem) if name in ASSIGNMENTS), None)


def detect_assignment(notebook: dict, path: Path, default: str | None) -> str:
    """The assignment: named (see named_assignment), or told by the graded functions present."""
    if named := named_assignment(path, default):
        return named
    ids = {nbgrader_metadata(cell).get("grade_id") for cell in notebook["cells"]}
    matches = [name for name in ASSIGNMENTS if {ex.name for ex in exercises(name)} & ids]
    return matches[0] if matches else ASSIGNMENTS[0]


def refuse_if_exposed(kind: Isolation, paths: list[Path]) -> None:
    """Without namespaces the learner runs as another uid on the real filesystem: the grader's
    package, its reference data and the submissions must not be readable by other users."""
    exposed = exposed_to_learner(kind, paths)
    if exposed:
        raise NoIsolation(
            "Learner code would run as a separate uid without namespaces here, and other users "
            "can read " + ", ".join(map(str, exposed)) + ": make them private "
            "(chmod -R go-rwx <folder>), or grade where bubblewrap works."
        )


def cell_notes(problems: dict[int, str], shown: int = MAX_CELL_NOTES) -> list[str]:
    """A line per failed cell ({cell index: problem}; -1: the course's set-up), the first `shown`
    of them, then one line counting the rest: a notebook of thousands of failing cells must not
    make its results file or the console that large."""
    notes = [
        f"Cell {index} failed: {problem}" if index >= 0 else f"Not graded: {problem}"
        for index, problem in sorted(problems.items())[:shown]
    ]
    if len(problems) > shown:
        notes.append(f"… {len(problems) - shown} more cells failed")
    return notes


def grade_notebook(
    path: Path, course: Course, assignment: str | None = None, limits: Limits = Limits(), unsandboxed: bool = False
) -> Results:
    """Grade one submitted file against `course`; always returns its Results, whatever the file holds.

    Raises sandbox.NoIsolation when no sandbox can be had here and `unsandboxed` is False.
    """
    try:
        notebook = read_submission(path)
    except InvalidSubmission as error:
        return Results.blank(
            course,
            named_assignment(path, assignment) or ASSIGNMENTS[0],
            "the notebook could not be read",
            f"This submission could not be graded: {error}. Nothing in it was run.",
            invalid=str(error),
        )
    assignment = detect_assignment(notebook, path, assignment)
    refuse_if_exposed(isolation(unsandboxed), [path, course.reference])
    return grade_submission(notebook, assignment, course, limits, unsandboxed)


def grade_submission(
    notebook: dict, assignment: str, course: Course, limits: Limits = Limits(), unsandboxed: bool = False
) -> Results:
    """Grade a notebook already read (its JSON as a dict, or an nbformat NotebookNode) against `course`."""
    start = time.monotonic()
    kind = isolation(unsandboxed)
    cases = read_all_cases(course.reference_file(assignment))
    cells = learner_code_cells(notebook)
    session = None
    try:
        session = LearnerSession(cells, limits, kind, course.provided_modules(assignment))
        verdicts = judge_assignment(
            exercises(assignment), cases, session.call, judged_helpers(assignment), session.call_many
        )
    finally:
        if session is not None:
            session.close()

    tests = [
        TestResult(v.exercise.name, part.name, part.score, part.max_score, part.feedback, part.problems, part.hints)
        for v in verdicts
        for part in v.parts()
    ]
    notes = cell_notes(session.cell_problems)
    if not cells:
        notes.append("The notebook has no code cells of yours.")
    if session.out_of_time:
        notes.append(f"Grading stopped: the submission used up its time budget of {limits.submission_seconds:g} s.")
    # Wall time is what the grader can trust (the learner's process can fake its own clocks), and
    # on a busy machine a classmate's load shows in it: the batch grades these again, alone.
    time_limited = (
        session.time_limited
        or session.out_of_time
        or any(set(test.problems) & {"TIME_LIMIT", "TOO_SLOW"} for test in tests)
    )
    score = round(sum(v.score for v in verdicts), 2)
    total = sum(ex.points for ex in exercises(assignment))
    return Results(
        assignment,
        tests,
        "\n".join([f"{assignment}: {score} of {total} points.", *notes]),
        time.monotonic() - start,
        {"isolation": kind.name.lower(), "restarts": session.restarts, "time_limited": time_limited},
    )
