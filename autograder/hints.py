"""Naming the mistake: what a recogniser of a common mistake is made of, the recognisers that fit
every exercise, and diagnose(), which runs them with the exercise's own (declared beside it in
assignments/<assignment>.py).

A recogniser looks at one exercise's judged cases (their inputs, the learner's replies and, for
some, the expected values) and returns a hint or None. A hint names the mistake and where to
look; it never contains a hidden input or a reference value. Recognisers use the reply's
shapes, error messages, how outputs relate to the expected ones (off by exactly the bias, equal
to the other pooling mode's result) and which cases fail (only stride > 1, only pad = 0, only
overlapping windows).

diagnose() returns each hint as a Hint: its text, and the name of the recogniser that found it as
a stable id (results carry the ids, so a class report can count mistakes without reading text).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_HINTS = 2

# Recognisers read classes of later modules, which this one may not import (tests/test_layout.py):
# in annotations these names stand for them (to a type checker they are Any).
Exercise = Any  # assignments.Exercise
Case = Any  # grading.reference.Case
CaseVerdict = Any  # grading.judge.CaseVerdict


# ------------------------------------------------------------------ what a case looks like ---


def case_stride(case: Case) -> int | None:
    return case.inputs.get("stride")


def case_pad(case: Case) -> int | None:
    return case.inputs.get("pad")


def case_window(case: Case) -> int | None:
    if "f" in case.inputs:
        return case.inputs["f"]
    if "W" in case.inputs:
        return case.inputs["W"].shape[0]
    return None


def case_image(case: Case) -> np.ndarray | None:
    for name in ("A_prev", "X"):
        if name in case.inputs:
            return case.inputs[name]
    return None


def error(verdict: CaseVerdict) -> tuple[str, str]:
    e = verdict.reply.get("error") or {}
    return (e.get("type") or "", e.get("message") or "") if not verdict.reply.get("ok") else ("", "")


def first_array(verdict: CaseVerdict) -> np.ndarray | None:
    """The learner's first output as an array, or None."""
    if not verdict.reply.get("ok"):
        return None
    result = verdict.reply.get("result")
    if isinstance(result, tuple) and result:
        result = result[0]
    try:
        array = np.asarray(result)
    except Exception:
        return None
    return array if array.dtype.kind in "biuf" else None


def close(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    return a is not None and b is not None and a.shape == b.shape and np.allclose(a, b, rtol=1e-6, atol=1e-9)


def fails_exactly_where(verdicts: list[CaseVerdict], condition: Callable[[Case], bool]) -> bool:
    """True when the failing cases are exactly those with `condition` (and some case lacks it)."""
    return any(not condition(v.case) for v in verdicts) and all(v.passed != condition(v.case) for v in verdicts)


# ------------------------------------------------------------------ for every exercise -------


def reads_notebook_variables(ex: Exercise, verdicts: list[CaseVerdict]) -> str | None:
    """A global variable (often left over from a check cell) read instead of an argument."""
    for v in verdicts:
        names = v.reply.get("globals_used") or []
        if not v.passed and names:
            listed = ", ".join(f"`{name}`" for name in names[:3])
            return (
                f"{ex.name} reads the notebook variable {listed} instead of its arguments: use only what is passed in."
            )
        kind, message = error(v)
        if kind == "NameError" and message.startswith("name '"):
            name = message.split("'")[1]
            return (
                f"{ex.name} uses `{name}`, which is neither one of its arguments nor defined inside it: a "
                "variable from another cell is not there when your function is graded."
            )
    return None


def scalar_conversion(ex: Exercise, verdicts: list[CaseVerdict]) -> str | None:
    """float() or int() on an array with dimensions, which current NumPy refuses."""
    for v in verdicts:
        kind, message = error(v)
        if kind == "TypeError" and (
            "0-dimensional" in message or "size-1 arrays" in message or "length-1 arrays" in message
        ):
            return (
                "float() or int() on an array with dimensions (such as b, of shape (1, 1, 1)) fails on current "
                "NumPy: take its single value with .item() or by indexing."
            )
    return None


def not_floored(ex: Exercise, verdicts: list[CaseVerdict]) -> str | None:
    """The output size computed with / and never floored to a whole number."""
    for v in verdicts:
        kind, message = error(v)
        if kind == "TypeError" and "float" in message and "integer" in message:
            return (
                "A size or an index is a float: the output-size formula needs floor division (//) so that "
                "n_H and n_W are whole numbers."
            )
    return None


def outputs_in_wrong_order(ex: Exercise, verdicts: list[CaseVerdict]) -> str | None:
    """A tuple of the right length whose items are in the wrong order."""
    for v in verdicts:
        result = v.reply.get("result") if v.reply.get("ok") else None
        if isinstance(result, tuple) and len(result) == len(v.case.expected) > 1:
            shapes = [np.shape(item) for item in result]
            wanted = [e.shape for e in v.case.expected]
            if shapes != wanted and sorted(shapes) == sorted(wanted):
                return f"{ex.name} returns the right arrays in the wrong order."
    return None


def non_square_mixup(ex: Exercise, verdicts: list[CaseVerdict]) -> str | None:
    """Heights and widths mixed up: fine where one batch argument (the input, or the gradient
    whose positions the loops walk) is square, wrong where it is not."""
    batches = sorted({name for v in verdicts for name, value in v.case.inputs.items() if np.ndim(value) == 4})
    for name in batches:

        def not_square(case: Case, name: str = name) -> bool:
            x = case.inputs.get(name)
            return np.ndim(x) == 4 and x.shape[1] != x.shape[2]

        if fails_exactly_where(verdicts, not_square):
            return "Only non-square inputs fail: heights go with n_H and vert_*, widths with n_W and horiz_*."
    return None


# Fits every exercise with a pad; listed in the `hints` of those whose code crops.
def empty_crop_when_pad_is_zero(ex: Exercise, verdicts: list[CaseVerdict]) -> str | None:
    """x[pad:-pad] cropping, which is empty when pad == 0."""
    if fails_exactly_where(verdicts, lambda case: case_pad(case) == 0):
        return (
            "Only the cases with pad = 0 fail. A crop such as [pad:-pad] is empty when pad is 0; "
            "give the end explicitly (pad:pad + n_H_prev)."
        )
    return None


FIRST = [reads_notebook_variables, scalar_conversion]  # the causes that explain everything else
LAST = [not_floored, outputs_in_wrong_order, non_square_mixup]


@dataclass(frozen=True)
class Hint:
    """A recognised mistake: `id` is its recogniser's name (stable across wordings), `text` what the learner reads."""

    id: str
    text: str

    def __str__(self) -> str:
        return self.text


def diagnose(ex: Exercise, verdicts: list[CaseVerdict]) -> list[Hint]:
    """Hints for the mistakes recognised in one exercise's judged cases (at most MAX_HINTS):
    the general recognisers, and the exercise's own (ex.hints) in between."""
    if all(v.passed for v in verdicts):
        return []
    hints = []
    for recognise in [*FIRST, *ex.hints, *LAST]:
        try:
            text = recognise(ex, verdicts)
        except Exception:  # a reply of a form this recogniser did not foresee: it recognises nothing
            text = None
        if text and text not in [hint.text for hint in hints]:
            hints.append(Hint(recognise.__name__, text))
    return hints[:MAX_HINTS]


def describe(hint_id: str, assignment_exercises) -> str:
    """What the mistake with this id is, in a few words: its recogniser's docstring (the id when unknown)."""
    recognisers = {fn.__name__: fn for fn in [*FIRST, *LAST]}
    for ex in assignment_exercises:
        recognisers.update({fn.__name__: fn for fn in ex.hints})
    doc = (getattr(recognisers.get(hint_id), "__doc__", None) or "").strip().splitlines()
    return doc[0].rstrip(".") if doc else hint_id
