"""One submission's results, and every form they are written in.

A Results holds a test per graded part of each exercise (Gradescope's unit: "pool_forward
(max)"), the overall message and facts about the run; each test's extra_data names the kinds
of problem of its failing cases and the ids of the hints its output shows, for class reports.
Every output is made from it: Gradescope's results.json (to_gradescope, read back with
from_gradescope), the gradebook's row and the console table (exercise_scores), nbgrader's grade
cells (exercise_feedback).
"""

from dataclasses import dataclass, field

from ..assignments import exercises
from ..course import Course
from .reference import read_all_cases


@dataclass
class TestResult:
    exercise: str
    part: str | None  # e.g. "max" for pool_forward's max-pooling cases; None: the exercise is one part
    score: float
    max_score: float
    output: str
    problems: list[str] = field(default_factory=list)  # kinds of problem of its failing cases (ProblemKind names)
    hints: list[str] = field(default_factory=list)  # ids of the hints in its output (hints.Hint.id)

    @property
    def name(self) -> str:
        return self.exercise if self.part is None else f"{self.exercise} ({self.part})"


@dataclass
class Results:
    assignment: str
    tests: list[TestResult]
    output: str
    execution_time: float = 0.0
    extra: dict = field(default_factory=dict)  # isolation, restarts, invalid, grader_error, student, ...

    @property
    def score(self) -> float:
        return round(sum(test.score for test in self.tests), 2)

    @classmethod
    def blank(cls, course: Course, assignment: str, reason: str, output: str, **extra: object) -> "Results":
        """Every part of every exercise at 0, each saying it was not graded and why."""
        cases = read_all_cases(course.reference_file(assignment))
        tests = []
        for ex in exercises(assignment):
            parts = list(dict.fromkeys(ex.part(case.inputs) if ex.part else None for case in cases[ex.name]))
            tests += [
                TestResult(ex.name, part, 0.0, round(ex.points / len(parts), 2), f"Not graded: {reason}")
                for part in parts
            ]
        return cls(assignment, tests, output, 0.0, {"assignment": assignment, **extra})

    def exercise_scores(self) -> dict[str, float]:
        """{exercise: its parts' scores summed}."""
        scores = {}
        for test in self.tests:
            scores[test.exercise] = round(scores.get(test.exercise, 0.0) + test.score, 2)
        return scores

    def exercise_feedback(self) -> dict[str, tuple[float, str]]:
        """{exercise: (points, feedback)}, the parts of an exercise joined, each part's name first."""
        found = {}
        for test in self.tests:
            points, text = found.get(test.exercise, (0.0, ""))
            label = f"[{test.name}] " if test.part is not None else ""
            found[test.exercise] = (round(points + test.score, 2), (text + "\n" if text else "") + label + test.output)
        return found

    def to_gradescope(self) -> dict:
        """Gradescope's results.json: a test per part, tagged with its exercise."""
        return {
            "score": self.score,
            "execution_time": round(self.execution_time, 3),
            "output": self.output,
            "tests": [
                {
                    "name": test.name,
                    "score": test.score,
                    "max_score": test.max_score,
                    "output": test.output,
                    "visibility": "visible",
                    "tags": [test.exercise],
                    "extra_data": {"problems": test.problems, "hints": test.hints},
                }
                for test in self.tests
            ],
            "extra_data": {"assignment": self.assignment, **self.extra},
        }

    @classmethod
    def from_gradescope(cls, data: dict) -> "Results":
        """The Results a results.json dict was written from."""
        tests = [
            TestResult(
                test["tags"][0],
                part_of(test["name"], test["tags"][0]),
                test["score"],
                test["max_score"],
                test["output"],
                list(test.get("extra_data", {}).get("problems", [])),
                list(test.get("extra_data", {}).get("hints", [])),
            )
            for test in data["tests"]
        ]
        extra = dict(data.get("extra_data", {}))
        return cls(extra.pop("assignment"), tests, data.get("output", ""), data.get("execution_time", 0.0), extra)


def part_of(name: str, exercise: str) -> str | None:
    """'max' from 'pool_forward (max)'; None from 'pool_forward'."""
    return name[len(exercise) + 2 : -1] if name != exercise else None
