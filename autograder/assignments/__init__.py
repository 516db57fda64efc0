"""The graded exercises of each assignment: points, how to call them, and their cases."""
from dataclasses import dataclass
from importlib import import_module
from typing import Callable


@dataclass(frozen=True)
class Exercise:
    """One graded function.

    name:   the function the learner writes (also the nbgrader grade_id of its solution cell)
    points: its points in the course spec
    call:   call(fn, inputs) -> tuple of outputs to compare, in a fixed order
    cases:  cases(ref) -> list of (case name, inputs dict), public cases first; ref maps names to
            the reference functions, for inputs that are another layer's output
    """

    name: str
    points: int
    call: Callable
    cases: Callable


def exercises(assignment: str) -> list[Exercise]:
    """The exercises of an assignment, in notebook order."""
    return import_module(f"{__name__}.{assignment}").EXERCISES


def exercise(assignment: str, name: str) -> Exercise:
    for candidate in exercises(assignment):
        if candidate.name == name:
            return candidate
    raise KeyError(f"{assignment} has no exercise {name!r}")
