"""A class's results at a glance: `python -m autograder report ASSIGNMENT --results-dir results`.

Reads the results files a batch wrote (results/<student>.json, Gradescope's schema, whose tests
carry the kinds of problem of their failing cases and the ids of the hints they showed), or, given
a course folder graded through nbgrader (`nbgrader autograde` or Formgrader), what nbgrader wrote
there: each exercise's score from its gradebook.db (autograde's, or the one an instructor set in
Formgrader) and the kinds and hints from the autograded notebooks. Then it tells an instructor,
per exercise, how many students got it fully, partly or not at all, who has not done it yet, and
which mistakes the diagnoses named how often; then draws the same as a PNG beside the results.
"""

import json
import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from ..assignments import exercises
from ..hints import describe
from .results import Results, TestResult

#: Problem kinds of an exercise that was not attempted: the stub, or no function at all.
NOT_DONE = {"NOT_IMPLEMENTED", "MISSING"}
#: nbgrader's database of a course folder.
GRADEBOOK = "gradebook.db"


@dataclass
class ExerciseRow:
    """One exercise across the class: points, each student's score, who has not done it."""

    name: str
    points: float
    scores: dict[str, float]
    not_done: list[str]

    @property
    def full(self) -> int:
        return sum(score >= self.points for score in self.scores.values())

    @property
    def none(self) -> int:
        return sum(score == 0 for score in self.scores.values())

    @property
    def partial(self) -> int:
        return len(self.scores) - self.full - self.none


@dataclass
class Mistake:
    """A mistake the diagnoses named in one exercise, and the students whose feedback named it."""

    exercise: str
    hint_id: str
    description: str
    students: list[str]


@dataclass
class ClassReport:
    assignment: str
    totals: dict[str, float]  # {student: score}
    rows: list[ExerciseRow]
    mistakes: list[Mistake]  # most frequent first

    @classmethod
    def from_results(cls, assignment: str, by_student: dict[str, Results]) -> "ClassReport":
        """The report of `assignment` from each student's Results."""
        listed = exercises(assignment)
        rows, named = [], defaultdict(set)
        for ex in listed:
            scores, not_done = {}, []
            for student, results in by_student.items():
                tests = [test for test in results.tests if test.exercise == ex.name]
                scores[student] = round(sum(test.score for test in tests), 2)
                problems = {kind for test in tests for kind in test.problems}
                if scores[student] == 0 and problems and problems <= NOT_DONE:
                    not_done.append(student)
                for test in tests:
                    for hint_id in test.hints:
                        named[ex.name, hint_id].add(student)
            rows.append(ExerciseRow(ex.name, ex.points, scores, sorted(not_done)))
        mistakes = [
            Mistake(exercise, hint_id, describe(hint_id, listed), sorted(students))
            for (exercise, hint_id), students in named.items()
        ]
        mistakes.sort(key=lambda m: (-len(m.students), [ex.name for ex in listed].index(m.exercise), m.hint_id))
        totals = {student: results.score for student, results in sorted(by_student.items())}
        return cls(assignment, totals, rows, mistakes)

    def text(self) -> str:
        """The report as an instructor reads it in a terminal."""
        scores = list(self.totals.values())
        total = sum(row.points for row in self.rows)
        lines = [
            f"{self.assignment}: {len(scores)} students, mean {statistics.mean(scores):.1f} of {total:g}, "
            f"median {statistics.median(scores):.1f}",
            "",
            f"{'exercise':<26}{'points':>7}{'mean':>7}{'full':>6}{'partly':>8}{'none':>6}  not done",
        ]
        for row in self.rows:
            mean = statistics.mean(row.scores.values())
            lines.append(
                f"{row.name:<26}{row.points:>7g}{mean:>7.1f}{row.full:>6}{row.partial:>8}{row.none:>6}  "
                + (", ".join(row.not_done) if row.not_done else "-")
            )
        lines += ["", "Mistakes the diagnoses named (students):"]
        lines += [
            f"{len(m.students):>4}  {m.exercise}: {m.description} [{m.hint_id}]: {shortlist(m.students)}"
            for m in self.mistakes
        ] or ["     none"]
        lines += ["", "Scores: " + ", ".join(f"{student} {score:g}" for student, score in self.totals.items())]
        return "\n".join(lines)

    def plot(self, path: Path) -> Path:
        """Draw the report as a PNG: the class per exercise, and the mistakes by how many students made them."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.5), gridspec_kw={"width_ratios": [1, 1.3]})
        names = [row.name for row in self.rows][::-1]
        rows = self.rows[::-1]
        done_nothing = [len(row.not_done) for row in rows]
        groups = [
            ("full marks", [row.full for row in rows], "#4c9a4c"),
            ("partly", [row.partial for row in rows], "#e0a030"),
            ("0, attempted", [row.none - n for row, n in zip(rows, done_nothing)], "#c84b3c"),
            ("not done", done_nothing, "#b0b0b0"),
        ]
        start = [0] * len(rows)
        for label, counts, colour in groups:
            left.barh(names, counts, left=start, color=colour, label=label)
            start = [a + b for a, b in zip(start, counts)]
        left.set_xlabel("students")
        left.set_xlim(0, max(len(self.totals), 1))
        left.xaxis.get_major_locator().set_params(integer=True)
        left.set_title(f"{self.assignment}: {len(self.totals)} students")
        left.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=4, fontsize=8, frameon=False)

        shown = self.mistakes[:12][::-1]
        labels = [wrapped(f"{m.exercise}: {m.description}", 48) for m in shown]
        right.barh(range(len(shown)), [len(m.students) for m in shown], color="#5b7fb5", height=0.6)
        right.set_yticks(range(len(shown)), labels, fontsize=8)
        right.set_xlabel("students")
        right.set_xlim(0, max(len(self.totals), 1))
        right.xaxis.get_major_locator().set_params(integer=True)
        right.set_title("mistakes the diagnoses named")
        if not shown:
            right.text(0.5, 0.5, "none", ha="center", va="center", transform=right.transAxes)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return path


def shortlist(students: list[str], shown: int = 6) -> str:
    """'ada, ben' or 'ada, ben, … (12 more)'."""
    more = len(students) - shown
    return ", ".join(students[:shown]) + (f", … ({more} more)" if more > 0 else "")


def wrapped(text: str, width: int) -> str:
    """`text` broken into lines of at most about `width` characters, at spaces."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])


def read_results(results_dir: Path, assignment: str) -> dict[str, Results]:
    """{student: Results} of every results file in `results_dir` for `assignment`; unreadable files are
    skipped. A folder holding nbgrader's gradebook.db is read as a course graded through nbgrader."""
    if (Path(results_dir) / GRADEBOOK).is_file():
        return read_nbgrader_course(Path(results_dir), assignment)
    found = {}
    for path in sorted(Path(results_dir).glob("*.json")):
        try:
            results = Results.from_gradescope(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            continue
        if results.assignment == assignment:
            found[str(results.extra.get("student") or path.stem)] = results
    return found


def read_nbgrader_course(course: Path, assignment: str) -> dict[str, Results]:
    """{student: Results} of each submission of `assignment` in the course's gradebook: one test per
    exercise scored as the gradebook has it, with the kinds of problem and the hint ids that
    IsolatedAutograde recorded in the student's autograded notebook (none if it recorded nothing)."""
    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with Gradebook(f"sqlite:///{(course / GRADEBOOK).resolve()}") as gradebook:
            return read_gradebook(gradebook, course, assignment)
    except MissingEntry:
        return {}
    except SQLAlchemyError as error:
        raise UnreadableGradebook(f"cannot read {course / GRADEBOOK}: {error.orig or error}") from error


class UnreadableGradebook(ValueError):
    """A course's gradebook.db that nbgrader cannot open (not a database, or of another version)."""


def read_gradebook(gradebook, course: Path, assignment: str) -> dict[str, Results]:
    """read_nbgrader_course's work, on the course's open nbgrader Gradebook."""
    listed = {ex.name for ex in exercises(assignment)}
    found = {}
    for submission in gradebook.find_assignment(assignment).submissions:
        student = submission.student_id
        tests = []
        for notebook in submission.notebooks:
            recorded = recorded_tests(course / "autograded" / student / assignment / f"{notebook.name}.ipynb")
            for grade in notebook.grades:
                name = grade.name.removeprefix("test_")
                if name not in listed:
                    continue
                parts = [test for test in recorded if test.exercise == name]
                problems = sorted({kind for test in parts for kind in test.problems})
                hints = list(dict.fromkeys(hint for test in parts for hint in test.hints))
                output = "\n".join(test.output for test in parts)
                tests.append(
                    TestResult(name, None, float(grade.score), float(grade.max_score), output, problems, hints)
                )
        found[student] = Results(assignment, tests, "", extra={"student": student})
    return found


def recorded_tests(path: Path) -> list[TestResult]:
    """The tests IsolatedAutograde recorded in an autograded notebook (none when it cannot be read)."""
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))["metadata"]
        return Results.from_gradescope(metadata["autograder"]["results"]).tests
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return []
