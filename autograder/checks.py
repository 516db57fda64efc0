"""Judging a learner's function against the reference cases.

Verdicts say what is wrong (an exception, a wrong type or shape, wrong values and how many)
without ever showing a hidden input or a reference value.
"""
import copy

import numpy as np

from . import paths
from .assignments import exercise
from .reference import read_cases

RTOL = 1e-6


def compare_output(yours, expected, label: str) -> str | None:
    """None when `yours` matches `expected` (an array); otherwise a sentence saying how it differs."""
    try:
        yours = np.asarray(yours)
    except Exception:  # objects numpy cannot turn into an array
        return f"{label} is a {type(yours).__name__}, not a number or an array"
    if yours.shape != expected.shape:
        want = "a scalar" if expected.shape == () else f"shape {expected.shape}"
        return f"{label} has shape {yours.shape}; expected {want}"
    if expected.dtype == bool:
        if yours.dtype != bool:
            return f"{label} has dtype {yours.dtype}; expected a boolean array"
        wrong = int(np.sum(yours != expected))
    else:
        if not np.issubdtype(yours.dtype, np.number) or np.iscomplexobj(yours):
            return f"{label} has dtype {yours.dtype}; expected real numbers"
        scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
        close = np.isclose(yours.astype(float), expected, rtol=RTOL, atol=1e-9 * scale)
        wrong = int(np.sum(~close))
    if wrong:
        return f"{label} is wrong at {wrong} of {expected.size} positions"
    return None


def judge_case(ex, fn, inputs: dict, expected: tuple) -> str | None:
    """Run `fn` on a fresh copy of one case's inputs: None if right, else what went wrong."""
    if not callable(fn):
        return f"{ex.name} is not defined as a function"
    try:
        outputs = ex.call(fn, copy.deepcopy(inputs))
    except NotImplementedError:
        return "not implemented yet (it raised NotImplementedError)"
    except Exception as error:
        return f"raised {type(error).__name__}: {error}"
    names = ["output"] if len(expected) == 1 else [f"output {k + 1}" for k in range(len(expected))]
    for yours, want, label in zip(outputs, expected, names):
        problem = compare_output(yours, want, label)
        if problem:
            return problem
    return None


def run_hidden_cases(name: str, namespace: dict, assignment: str = "conv_step_by_step") -> float:
    """Grade `namespace[name]` on every case of the reference data; print a verdict, return points.

    Used by the hidden part of a notebook's grade cell: nbgrader reads the returned number as
    the cell's (partial) score.
    """
    ex = exercise(assignment, name)
    cases = read_cases(paths.reference_file(paths.REPO_ROOT, assignment), name)
    problems = [judge_case(ex, namespace.get(name), inputs, expected) for _, inputs, expected in cases]
    passed = problems.count(None)
    points = round(ex.points * passed / len(cases), 2)
    print(f"{name}: {passed} of {len(cases)} cases pass, {points} of {ex.points} points")
    for number, problem in enumerate(problems, 1):
        if problem:
            print(f"  case {number}: {problem}")
    return points
