"""Naming the mistake: recognisers for the common mistakes of course-spec.md.

Each recogniser looks at one exercise's judged cases (their inputs, the learner's replies and,
for some, the expected values) and returns a hint or None. A hint names the mistake and where
to look; it never contains a hidden input or a reference value. Recognisers use the reply's
shapes, error messages, how outputs relate to the expected ones (off by exactly the bias, equal
to the other pooling mode's result) and which cases fail (only stride > 1, only pad = 0, only
overlapping windows).
"""

import numpy as np

from .problems import ProblemKind

MAX_HINTS = 2


# ------------------------------------------------------------------ what a case looks like ---


def stride(case):
    return case.inputs.get("stride")


def pad(case):
    return case.inputs.get("pad")


def window(case):
    if "f" in case.inputs:
        return case.inputs["f"]
    if "W" in case.inputs:
        return case.inputs["W"].shape[0]
    return None


def image(case):
    for name in ("A_prev", "X"):
        if name in case.inputs:
            return case.inputs[name]
    return None


def error(verdict) -> tuple[str, str]:
    e = verdict.reply.get("error") or {}
    return (e.get("type") or "", e.get("message") or "") if not verdict.reply.get("ok") else ("", "")


def first_array(verdict):
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


def close(a, b) -> bool:
    return a is not None and b is not None and a.shape == b.shape and np.allclose(a, b, rtol=1e-6, atol=1e-9)


def fails_exactly_where(verdicts, condition) -> bool:
    """True when the failing cases are exactly those with `condition` (and some case lacks it)."""
    return any(not condition(v.case) for v in verdicts) and all(v.passed != condition(v.case) for v in verdicts)


# ------------------------------------------------------------------ the recognisers ----------


def wrong_axes_padded(ex, verdicts):
    """zero_pad padding the batch or channel axis as well as height and width."""
    if ex.name != "zero_pad":
        return None
    for v in verdicts:
        out, x = first_array(v), v.case.inputs["X"]
        if (
            out is not None
            and out.ndim == 4
            and v.case.inputs["pad"] > 0
            and (out.shape[0] != x.shape[0] or out.shape[3] != x.shape[3])
        ):
            return "Only the height and width axes (1 and 2) get padding; the batch and channel axes keep their size."
    return None


def scalar_conversion(ex, verdicts):
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


def array_instead_of_scalar(ex, verdicts):
    """conv_single_step returning a (1, 1, 1) array (bias added as an array) instead of a number."""
    if ex.name != "conv_single_step":
        return None
    for v in verdicts:
        out = first_array(v)
        if out is not None and v.case.expected[0].shape == () and out.size == 1 and out.ndim > 0:
            return (
                f"{ex.name} returns an array of shape {out.shape}; it should return a single number. Adding the "
                "(1, 1, 1) bias array to a number gives an array."
            )
    return None


def bias_missing_or_repeated(ex, verdicts):
    """The bias left out, or added to every product instead of once."""
    if ex.name not in ("conv_single_step", "conv_forward"):
        return None
    missing = repeated = 0
    failing = [v for v in verdicts if not v.passed]
    for v in failing:
        out, expected, b = first_array(v), v.case.expected[0], v.case.inputs["b"]
        if out is None or out.shape != expected.shape:
            continue
        bias = b.reshape(-1) if ex.name == "conv_forward" else b.item()
        W = v.case.inputs["W"]
        per_window = W.shape[0] * W.shape[1] * W.shape[2]
        missing += close(out, expected - bias)
        repeated += close(out, expected + (per_window - 1) * bias)
    if failing and missing == len(failing):
        return "The bias b is missing: add it once to every output value."
    if failing and repeated == len(failing):
        return "The bias is added to every product before the sum; add it once, after summing."
    return None


def not_floored(ex, verdicts):
    """The output size computed with / and never floored to a whole number."""
    for v in verdicts:
        kind, message = error(v)
        if kind == "TypeError" and "float" in message and "integer" in message:
            return (
                "A size or an index is a float: the output-size formula needs floor division (//) so that "
                "n_H and n_W are whole numbers."
            )
    return None


def stride_ignored(ex, verdicts):
    """An output height or width of stride-1 size where the stride is larger."""
    if ex.name not in ("conv_forward", "pool_forward"):
        return None
    for v in verdicts:
        out, x, f = first_array(v), image(v.case), window(v.case)
        if out is None or out.ndim != 4 or stride(v.case) in (None, 1) or out.shape == v.case.expected[0].shape:
            continue
        p = pad(v.case) or 0
        if out.shape[1] == x.shape[1] - f + 2 * p + 1 or out.shape[2] == x.shape[2] - f + 2 * p + 1:
            return "The output is as tall or as wide as a stride-1 output: the stride is not used in the output size."
    return None


def output_size_off_by_one(ex, verdicts):
    """The output-size formula off by one (the + 1 missing or doubled, or a ceiling)."""
    if ex.name not in ("conv_forward", "pool_forward"):
        return None
    for v in verdicts:
        out, expected = first_array(v), v.case.expected[0]
        if (
            out is not None
            and out.ndim == 4
            and out.shape != expected.shape
            and max(abs(a - b) for a, b in zip(out.shape, expected.shape)) == 1
        ):
            return "The output height or width is off by one: check the output-size formula, its + 1 and its floor."
    return None


def dA_indexed_by_input_position(ex, verdicts):
    """pool_backward reading dA at the window's corner (h * stride) instead of the output position h."""
    if ex.name == "pool_backward" and fails_exactly_where(verdicts, lambda case: stride(case) > 1):
        return (
            "Cases with stride 1 pass and cases with stride > 1 fail: the upstream gradient is read at the "
            "output position, dA[i, h, w, c], not at the window's corner (vert_start, horiz_start)."
        )
    return None


def stride_misapplied(ex, verdicts):
    """The stride applied twice, or in the wrong place, when the window moves."""
    if ex.name in ("conv_forward", "pool_forward", "conv_backward") and fails_exactly_where(
        verdicts, lambda case: stride(case) > 1
    ):
        return (
            "Cases with stride 1 pass and cases with stride > 1 fail: check the window's corners, "
            "vert_start = h * stride and horiz_start = w * stride, with the stride applied once."
        )
    return None


def empty_crop_when_pad_is_zero(ex, verdicts):
    """x[pad:-pad] cropping, which is empty when pad == 0."""
    if ex.name in ("conv_backward", "conv_forward", "zero_pad") and fails_exactly_where(
        verdicts, lambda case: pad(case) == 0
    ):
        return (
            "Only the cases with pad = 0 fail. A crop such as [pad:-pad] is empty when pad is 0; "
            "give the end explicitly (pad:pad + n_H_prev)."
        )
    return None


def no_accumulation(ex, verdicts):
    """= instead of += where windows overlap."""
    if ex.name in ("conv_backward", "pool_backward") and fails_exactly_where(
        verdicts, lambda case: stride(case) < window(case)
    ):
        return (
            "Only cases whose windows overlap (stride < f) fail: add each window's gradient with += "
            "instead of overwriting what an earlier window wrote."
        )
    return None


def mode_ignored(ex, verdicts):
    """Averaging where max was asked, or the mode argument not followed."""
    if ex.name not in ("pool_forward", "pool_backward"):
        return None
    by_name = {v.case.name: v for v in verdicts}
    for v in verdicts:
        mode = v.case.inputs["mode"]
        other = "average" if mode == "max" else "max"
        twin = by_name.get(v.case.name.removesuffix(mode) + other)
        if not v.passed and twin is not None and close(first_array(v), twin.case.expected[0]):
            return f'With mode="{mode}" your function returns the {other} result: check that it follows mode.'
    return None


def whole_array_distributed(ex, verdicts):
    """distribute_value given the whole dA array instead of one value."""
    if ex.name != "pool_backward":
        return None
    for v in verdicts:
        kind, message = error(v)
        if v.case.inputs["mode"] == "average" and kind == "ValueError" and "broadcast" in message:
            return (
                "In average mode, distribute_value takes one number, dA[i, h, w, c], and the window's "
                "shape (f, f): not the whole dA array."
            )
    return None


def mask_from_wrong_window(ex, verdicts):
    """The max-pool mask built from the wrong slice (all channels, or a padded input)."""
    if ex.name == "pool_backward" and fails_exactly_where(verdicts, lambda case: case.inputs["mode"] == "max"):
        return (
            "Max mode fails while average mode passes: build the mask from one channel of the layer's input, "
            "A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]."
        )
    return None


def outputs_in_wrong_order(ex, verdicts):
    """A tuple of the right length whose items are in the wrong order."""
    for v in verdicts:
        result = v.reply.get("result") if v.reply.get("ok") else None
        if isinstance(result, tuple) and len(result) == len(v.case.expected) > 1:
            shapes = [np.shape(item) for item in result]
            wanted = [e.shape for e in v.case.expected]
            if shapes != wanted and sorted(shapes) == sorted(wanted):
                return f"{ex.name} returns the right arrays in the wrong order."
    return None


def transposed_filters(ex, verdicts):
    """Filter c taken as W[:, :, c, :] instead of W[:, :, :, c]."""
    if ex.name not in ("conv_forward", "conv_backward"):
        return None
    for v in verdicts:
        kind, message = error(v)
        if kind == "IndexError" and "axis 2" in message:
            return "Filter c is W[:, :, :, c]: the last axis of W counts the filters, the third one the input channels."
    return None


def non_square_mixup(ex, verdicts):
    """Heights and widths mixed up: fine on square inputs, wrong on the others."""

    def square(case):
        x = image(case)
        return x is None or x.shape[1] == x.shape[2]

    if fails_exactly_where(verdicts, lambda case: not square(case)):
        return "Only non-square inputs fail: heights go with n_H and vert_*, widths with n_W and horiz_*."
    return None


def reads_notebook_variables(ex, verdicts):
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


def has_tied_window(case) -> bool:
    """True when some pooling window of the case's input holds its maximum more than once."""
    x, f, s = case.inputs["A_prev"], case.inputs["f"], case.inputs["stride"]
    windows = np.lib.stride_tricks.sliding_window_view(x, (f, f), axis=(1, 2))[:, ::s, ::s]
    flat = windows.reshape(*windows.shape[:4], f * f)
    return bool(np.any((flat == flat.max(axis=-1, keepdims=True)).sum(axis=-1) > 1))


def gradient_to_every_tie(ex, verdicts):
    """Fast max-pool backward sending a window's gradient to all its tied maxima (the mask of assignment 1)."""
    if ex.name == "pool_backward_fast" and fails_exactly_where(
        [v for v in verdicts if "sample" not in v.case.inputs], has_tied_window
    ):
        return (
            "Only windows with tied maxima go wrong: send each window's gradient to one maximum, the first in "
            "reading order as np.argmax gives it, not to every tied position."
        )
    return None


def softmax_overflow(ex, verdicts):
    """exp of large logits overflowing: the softmax not shifted by each row's maximum."""
    if ex.name != "softmax_cross_entropy":
        return None
    for v in verdicts:
        if not v.passed and np.abs(v.case.inputs["Z"]).max() > 100 and v.problem.kind is ProblemKind.NAN:
            return "Large scores overflow exp(): subtract each row's maximum from Z before exponentiating."
    return None


def train_step_needs_the_layers(ex, verdicts):
    """train_step failing: it is built from the learner's own layers."""
    if ex.name == "train_step" and not all(
        v.problem and v.problem.kind is ProblemKind.NOT_IMPLEMENTED for v in verdicts
    ):
        return (
            "train_step runs your fast layers and loss: if one of them fails its own checks, fix it first; "
            "then compare your gradients with the numerical gradient check."
        )
    return None


RECOGNISERS = [
    reads_notebook_variables,
    scalar_conversion,
    array_instead_of_scalar,
    bias_missing_or_repeated,
    wrong_axes_padded,
    not_floored,
    stride_ignored,
    output_size_off_by_one,
    transposed_filters,
    outputs_in_wrong_order,
    mode_ignored,
    whole_array_distributed,
    dA_indexed_by_input_position,
    no_accumulation,
    empty_crop_when_pad_is_zero,
    stride_misapplied,
    mask_from_wrong_window,
    non_square_mixup,
    gradient_to_every_tie,
    softmax_overflow,
    train_step_needs_the_layers,
]


def diagnose(ex, verdicts) -> list[str]:
    """Hints for the mistakes recognised in one exercise's judged cases (at most MAX_HINTS)."""
    if all(v.passed for v in verdicts):
        return []
    hints = []
    for recognise in RECOGNISERS:
        try:
            hint = recognise(ex, verdicts)
        except Exception:  # a reply of a form this recogniser did not foresee: it recognises nothing
            hint = None
        if hint and hint not in hints:
            hints.append(hint)
    return hints[:MAX_HINTS]
