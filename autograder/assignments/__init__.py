"""The graded exercises of each assignment: points, cases, and how to call and read them."""

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module


class WrongReturn(Exception):
    """A function returned something of the wrong form (not the tuple or cache the spec asks for)."""


class WrongShape(WrongReturn):
    """An output whose values cannot be compared, as its shape is not the case's (a large case)."""


@dataclass(frozen=True)
class Exercise:
    """One graded function.

    name:      the function the learner writes (also the grade_id of its solution cell)
    points:    its points in the course spec
    cases:     cases(ref) -> [(case name, inputs dict)], public cases first; `ref` maps names to
               the reference functions, for inputs that are another layer's output
    arguments: arguments(inputs) -> (args tuple, kwargs dict) to call the function with
    outputs:   outputs(result, inputs) -> tuple of the values to compare with the reference;
               raises WrongReturn when the result does not have the form the spec asks for
    helpers:   exercises this function calls; when the learner's helper is wrong, failed cases
               are run again with the reference helper's recorded answers (no double penalty)
    part:      part(inputs) -> the name of the graded part a case belongs to (e.g. "max"), or
               None when the exercise is graded as one part
    reply_bytes: the largest reply the grader reads from a call (None: the grader's default, a
               few MiB); more only for exercises whose results are large arrays
    hints:     recognisers of this exercise's common mistakes (see hints.py), in the order their
               hints are worth reading
    output_names: what feedback calls each value `outputs` gives, in order (e.g. "dA_prev", "dW",
               "db"), for functions that return several values; empty: "the result"
    """

    name: str
    points: int
    cases: Callable
    arguments: Callable
    outputs: Callable
    helpers: tuple = ()
    part: Callable | None = None
    reply_bytes: int | None = None
    hints: tuple = ()
    output_names: tuple = ()

    def call(self, fn: Callable, inputs: dict) -> tuple:
        """Call `fn` on `inputs` (in this process) and return the outputs to compare."""
        args, kwargs = self.arguments(inputs)
        return self.outputs(fn(*args, **kwargs), inputs)


def exercises(assignment: str) -> list[Exercise]:
    """The exercises of an assignment, in notebook order."""
    return import_module(f"{__name__}.{assignment}").EXERCISES


def judged_helpers(assignment: str) -> list[Exercise]:
    """Functions the learner writes without points of their own, judged only to know whether an
    exercise that calls them should be run again with the reference's answers (no double penalty)."""
    return getattr(import_module(f"{__name__}.{assignment}"), "JUDGED_HELPERS", [])


def judged_functions(assignment: str) -> list[Exercise]:
    """Every function of `assignment` the judge knows: the helpers without points, then the exercises."""
    return [*judged_helpers(assignment), *exercises(assignment)]


def exercise(assignment: str, name: str) -> Exercise:
    for candidate in judged_functions(assignment):
        if candidate.name == name:
            return candidate
    raise KeyError(f"{assignment} has no exercise {name!r}")
