"""Grading the next submissions of an `nbgrader autograde` run while nbgrader works on this one.

nbgrader converts one submission at a time, and most of its time per submission is its own
Python work (reading, checking, writing, the gradebook), during which a grader waiting for
nbgrader to reach the next notebook would leave the other cores idle. GradingAhead grades the
`jobs` submissions that follow the one nbgrader is at, in threads (the learners are processes:
the work runs on the other cores), and hands each result over when nbgrader reaches that
notebook.

A result graded ahead is used only if the learner code nbgrader hands over (after its own
checks and overwriting of locked cells) is exactly the code that was graded; otherwise that
notebook is graded again, as it is. Grading stays the same function of the same code: the
scores are those of grading each notebook when reached.
"""

import atexit
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ..course import Course
from ..grading.grade import InvalidSubmission, grade_submission, read_submission
from ..grading.results import Results
from ..grading.sandbox import NoIsolation
from ..notebook_code import learner_code_cells

#: (cell index, source) of the learner's code cells, as grading reads them.
Cells = list[tuple[int, str]]


class GradingAhead:
    """The submissions of one assignment notebook, in nbgrader's order, graded `jobs` ahead.

    paths: {student id: submitted notebook}; nbgrader goes through them sorted by their folder.
    """

    def __init__(self, paths: dict[str, Path], assignment: str, course: Course, unsandboxed: bool, jobs: int):
        self.order = sorted(paths, key=lambda student: str(paths[student].parent))
        self.paths, self.assignment, self.course, self.unsandboxed = paths, assignment, course, unsandboxed
        self.jobs = max(0, jobs)
        self.pool = ThreadPoolExecutor(max_workers=max(1, self.jobs), thread_name_prefix="grading-ahead")
        self.started: dict[str, Future] = {}  # used by nbgrader's thread only

    def results(self, student: str, notebook: dict) -> Results:
        """The results of `notebook` (student's, as nbgrader hands it over): graded ahead when the
        same code was, else graded now. Raises what grading raises (sandbox.NoIsolation)."""
        cells = learner_code_cells(notebook)
        self.start_after(student)
        ahead = self.started.pop(student, None)
        try:
            graded = ahead.result() if ahead is not None else None
        except NoIsolation:
            raise
        except Exception:  # the file as submitted could not be graded: what nbgrader hands over may be
            graded = None
        if graded is not None and graded[0] == cells:
            return graded[1]
        return grade_submission(notebook, self.assignment, self.course, unsandboxed=self.unsandboxed)

    def start_after(self, student: str) -> None:
        """Start grading the `jobs` submissions after `student` in nbgrader's order (those not started)."""
        if student not in self.order:
            return
        at = self.order.index(student)
        for following in self.order[at + 1 : at + 1 + self.jobs]:
            if following not in self.started:
                self.started[following] = self.pool.submit(self.grade_file, self.paths[following])

    def grade_file(self, path: Path) -> tuple[Cells, Results] | None:
        """(the learner code graded, its results) of the file as submitted; None when the file is not
        a notebook (nbgrader then hands over its stand-in, which is not graded)."""
        try:
            notebook = read_submission(path)
        except InvalidSubmission:
            return None
        return learner_code_cells(notebook), grade_submission(
            notebook, self.assignment, self.course, unsandboxed=self.unsandboxed
        )

    def last(self, student: str) -> bool:
        """Whether nbgrader has nothing after `student` to hand over in this run."""
        return student not in self.order[:-1]

    def stop(self) -> None:
        """Drop the submissions not started and wait for those being graded (each within its time budget)."""
        self.pool.shutdown(wait=True, cancel_futures=True)


# The autograde run being graded (nbgrader's converter, or None outside one) and its graders, one
# per (course, notebook, options).
_current_run: object = None
_runs: dict[tuple, GradingAhead] = {}


def grading_ahead(run: object, key: tuple, make: Callable[[], GradingAhead]) -> GradingAhead:
    """The GradingAhead of this autograde run (`run`, nbgrader's converter) and notebook (`key`), made
    on first use. A new run first stops what an earlier one left (one that ended on an error
    before its last submission)."""
    global _current_run
    if run is not _current_run:
        stop_grading_ahead()
        _current_run = run
    if key not in _runs:
        _runs[key] = make()
    return _runs[key]


@atexit.register
def stop_grading_ahead() -> None:
    """At the end of the run (also when nbgrader fails): nothing more is graded ahead. Registered
    after the sandbox's own exit handler, so it runs first: the fork server stops after this."""
    global _current_run
    _current_run = None
    while _runs:
        _runs.popitem()[1].stop()
