"""Assignment 1: the cases every exercise is graded on.

Each case draws its arrays with np.random.RandomState(seed).randn in the listed order, so
seed 1 reproduces the public checks of the notebook (np.random.seed(1) then randn). The other
seeds and shapes are hidden: together they cover pad 0, strides 1 to 3, f of 1, 2, 3 and 5,
non-square inputs, one channel, a batch of one and both pooling modes. Continuous random
values have no ties, so a window's maximum is always unique.
"""

import numpy as np

from ..hints import (
    CaseVerdict,
    case_image,
    case_pad,
    case_stride,
    case_window,
    close,
    empty_crop_when_pad_is_zero,
    error,
    fails_exactly_where,
    first_array,
)
from . import Exercise, WrongReturn
from .cases import (
    case_name,
    conv_backward_inputs,
    conv_forward_inputs,
    conv_hparameters,
    output_size,
    pool_hparameters,
    randn,
    same_array,
    unpack,
)


def zero_pad_cases(ref: dict) -> list[tuple[str, dict]]:
    specs = [(1, (4, 3, 3, 2), 3), (21, (1, 4, 6, 1), 0), (22, (2, 3, 5, 3), 1), (23, (3, 2, 2, 4), 2)]
    return [(case_name(seed), {"X": randn(seed, shape)[0], "pad": pad}) for seed, shape, pad in specs]


def conv_single_step_cases(ref: dict) -> list[tuple[str, dict]]:
    specs = [(1, 4, 3), (31, 1, 1), (32, 2, 3), (33, 5, 2), (34, 3, 1)]
    cases = []
    for seed, f, n_c in specs:
        a, W, b = randn(seed, (f, f, n_c), (f, f, n_c), (1, 1, 1))
        cases.append((case_name(seed), {"a_slice_prev": a, "W": W, "b": b}))
    return cases


# (seed, A_prev shape, f, n_C, pad, stride), shared by the forward and backward cases.
CONV_SPECS = [
    (1, (2, 5, 7, 4), 3, 8, 1, 2),
    (41, (1, 6, 6, 1), 1, 2, 0, 1),
    (42, (2, 7, 5, 3), 2, 3, 0, 2),
    (43, (2, 9, 8, 2), 5, 2, 2, 3),
    (44, (1, 5, 9, 3), 3, 4, 0, 1),
    (45, (3, 4, 6, 2), 3, 2, 1, 3),
]


def conv_forward_cases(ref: dict) -> list[tuple[str, dict]]:
    return conv_forward_inputs(CONV_SPECS)


def conv_backward_cases(ref: dict) -> list[tuple[str, dict]]:
    """The public case feeds the reference conv_forward's own Z back as dZ, as the notebook does."""
    seed, shape, f, n_c, pad, stride = 1, (10, 4, 4, 3), 2, 8, 2, 2
    A_prev, W, b = randn(seed, shape, (f, f, 3, n_c), (1, 1, 1, n_c))
    dZ = ref["conv_forward"](A_prev, W, b, {"stride": stride, "pad": pad})[0]
    public = {"dZ": dZ, "A_prev": A_prev, "W": W, "b": b, "pad": pad, "stride": stride}
    return [("public", public)] + conv_backward_inputs(CONV_SPECS[1:])


# (seed, A_prev shape, f, stride), each graded in both modes.
POOL_SPECS = [
    (1, (2, 5, 5, 3), 3, 1),
    (51, (1, 6, 6, 1), 2, 2),
    (52, (2, 7, 5, 3), 3, 2),
    (53, (2, 5, 8, 2), 1, 1),
    (54, (1, 9, 7, 2), 5, 3),
    (55, (2, 4, 6, 3), 2, 1),
]


def pool_forward_cases(ref: dict) -> list[tuple[str, dict]]:
    cases = []
    for seed, shape, f, stride in POOL_SPECS:
        (A_prev,) = randn(seed, shape)
        for mode in ("max", "average"):
            cases.append((f"{case_name(seed)}_{mode}", {"A_prev": A_prev, "f": f, "stride": stride, "mode": mode}))
    return cases


def pool_backward_cases(ref: dict) -> list[tuple[str, dict]]:
    specs = [(1, (5, 5, 3, 2), 2, 1)] + POOL_SPECS[1:]
    cases = []
    for seed, shape, f, stride in specs:
        m, n_h, n_w, n_c = shape
        A_prev, dA = randn(seed, shape, (m, output_size(n_h, f, 0, stride), output_size(n_w, f, 0, stride), n_c))
        for mode in ("max", "average"):
            cases.append(
                (f"{case_name(seed)}_{mode}", {"dA": dA, "A_prev": A_prev, "f": f, "stride": stride, "mode": mode})
            )
    return cases


def create_mask_from_window_cases(ref: dict) -> list[tuple[str, dict]]:
    specs = [(1, (2, 3)), (61, (3, 3)), (62, (2, 2)), (63, (1, 4)), (64, (5, 5)), (65, (4, 2))]
    return [(case_name(seed), {"x": randn(seed, shape)[0]}) for seed, shape in specs]


def distribute_value_cases(ref: dict) -> list[tuple[str, dict]]:
    specs = [(2.0, (2, 2)), (3.0, (3, 3)), (-1.5, (2, 4)), (0.6, (1, 1)), (5.0, (5, 2))]
    return [("public" if k == 0 else f"hidden{k}", {"dz": dz, "shape": shape}) for k, (dz, shape) in enumerate(specs)]


def check_cache(cache: object, expected: tuple, what: str) -> None:
    """A cache must hold the inputs as given: arrays unchanged (A_prev not padded), the dict as passed."""
    items = unpack(cache, len(expected), what) if isinstance(cache, tuple) else None
    if items is None or not all(
        same_array(got, want) if isinstance(want, np.ndarray) else got == want for got, want in zip(items, expected)
    ):
        raise WrongReturn(f"the cache should be {what}, holding the arguments exactly as they were passed")


def conv_forward_outputs(result: object, x: dict) -> tuple:
    Z, cache = unpack(result, 2, "(Z, cache)")
    check_cache(cache, (x["A_prev"], x["W"], x["b"], conv_hparameters(x)), "(A_prev, W, b, hparameters)")
    return (Z,)


def pool_forward_outputs(result: object, x: dict) -> tuple:
    A, cache = unpack(result, 2, "(A, cache)")
    check_cache(cache, (x["A_prev"], pool_hparameters(x)), "(A_prev, hparameters)")
    return (A,)


def single_output(result: object, x: dict) -> tuple:
    return (result,)


def by_mode(x: dict) -> str:
    return x["mode"]


# ------------------------------------------------------------------ hints ----------------------


def wrong_axes_padded(ex: Exercise, verdicts: list[CaseVerdict]) -> str | None:
    """zero_pad padding the batch or channel axis as well as height and width."""
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


def array_instead_of_scalar(ex: Exercise, verdicts: list[CaseVerdict]) -> str | None:
    """conv_single_step returning a (1, 1, 1) array (bias added as an array) instead of a number."""
    for v in verdicts:
        out = first_array(v)
        if out is not None and v.case.expected[0].shape == () and out.size == 1 and out.ndim > 0:
            return (
                f"{ex.name} returns an array of shape {out.shape}; it should return a single number. Adding the "
                "(1, 1, 1) bias array to a number gives an array."
            )
    return None


def bias_missing_or_repeated(ex: Exercise, verdicts: list[CaseVerdict]) -> str | None:
    """The bias left out, or added to every product instead of once."""
    missing = repeated = 0
    failing = [v for v in verdicts if not v.passed]
    for v in failing:
        out, expected, b = first_array(v), v.case.expected[0], v.case.inputs["b"]
        if out is None or out.shape != expected.shape:
            continue
        bias = b.item() if expected.shape == () else b.reshape(-1)
        W = v.case.inputs["W"]
        per_window = W.shape[0] * W.shape[1] * W.shape[2]
        missing += close(out, expected - bias)
        repeated += close(out, expected + (per_window - 1) * bias)
    if failing and missing == len(failing):
        return "The bias b is missing: add it once to every output value."
    if failing and repeated == len(failing):
        return "The bias is added to every product before the sum; add it once, after summing."
    return None


def stride_ignored(ex: Exercise, verdicts: list[CaseVerdict]) -> str | None:
    """An output height or width of stride-1 size where the stride is larger."""
    for v in verdicts:
        out, x, f = first_array(v), case_image(v.case), case_window(v.case)
        if out is None or out.ndim != 4 or case_stride(v.case) in (None, 1) or out.shape == v.case.expected[0].shape:
            continue
        p = case_pad(v.case) or 0
        if out.shape[1] == x.shape[1] - f + 2 * p + 1 or out.shape[2] == x.shape[2] - f + 2 * p + 1:
            return "The output is as tall or as wide as a stride-1 output: the stride is not used in the output size."
    return None


def output_size_off_by_one(ex: Exercise, verdicts: list[CaseVerdict]) -> str | None:
    """The output-size formula off by one (the + 1 missing or doubled, or a ceiling)."""
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


def dA_indexed_by_input_position(ex: Exercise, verdicts: list[CaseVerdict]) -> str | None:
    """pool_backward reading dA at the window's corner (h * stride) instead of the output position h."""
    if fails_exactly_where(verdicts, lambda case: case_stride(case) > 1):
        return (
            "Cases with stride 1 pass and cases with stride > 1 fail: the upstream gradient is read at the "
            "output position, dA[i, h, w, c], not at the window's corner (vert_start, horiz_start)."
        )
    return None


def stride_misapplied(ex: Exercise, verdicts: list[CaseVerdict]) -> str | None:
    """The stride applied twice, or in the wrong place, when the window moves."""
    if fails_exactly_where(verdicts, lambda case: case_stride(case) > 1):
        return (
            "Cases with stride 1 pass and cases with stride > 1 fail: check the window's corners, "
            "vert_start = h * stride and horiz_start = w * stride, with the stride applied once."
        )
    return None


def no_accumulation(ex: Exercise, verdicts: list[CaseVerdict]) -> str | None:
    """= instead of += where windows overlap."""
    if fails_exactly_where(verdicts, lambda case: case_stride(case) < case_window(case)):
        return (
            "Only cases whose windows overlap (stride < f) fail: add each window's gradient with += "
            "instead of overwriting what an earlier window wrote."
        )
    return None


def mode_ignored(ex: Exercise, verdicts: list[CaseVerdict]) -> str | None:
    """Averaging where max was asked, or the mode argument not followed."""
    by_name = {v.case.name: v for v in verdicts}
    for v in verdicts:
        mode = v.case.inputs["mode"]
        other = "average" if mode == "max" else "max"
        twin = by_name.get(v.case.name.removesuffix(mode) + other)
        if not v.passed and twin is not None and close(first_array(v), twin.case.expected[0]):
            return f'With mode="{mode}" your function returns the {other} result: check that it follows mode.'
    return None


def whole_array_distributed(ex: Exercise, verdicts: list[CaseVerdict]) -> str | None:
    """distribute_value given the whole dA array instead of one value."""
    for v in verdicts:
        kind, message = error(v)
        if v.case.inputs["mode"] == "average" and kind == "ValueError" and "broadcast" in message:
            return (
                "In average mode, distribute_value takes one number, dA[i, h, w, c], and the window's "
                "shape (f, f): not the whole dA array."
            )
    return None


def average_share_not_over_window(ex: Exercise, verdicts: list[CaseVerdict]) -> str | None:
    """Average-mode pool_backward giving each input dA / f (or all of dA) instead of dA / (f·f)."""
    failing = [v for v in verdicts if not v.passed and v.case.inputs["mode"] == "average"]
    factors = set()
    for v in failing:
        out, expected, f = first_array(v), v.case.expected[0], v.case.inputs["f"]
        factor = next((k for k in (f, f * f) if close(out, expected * k)), None)
        if factor is None:
            return None
        factors.add("f" if factor == f else "f·f")
    if factors == {"f"}:
        return (
            "In average mode every input of a window gets f times too much: a window holds f·f values, "
            "so the upstream value is shared f·f ways, not f."
        )
    if factors == {"f·f"}:
        return (
            "In average mode every input of a window gets the whole upstream value: it must be shared "
            "equally over the f·f values of the window."
        )
    return None


def mask_along_one_axis(ex: Exercise, verdicts: list[CaseVerdict]) -> str | None:
    """create_mask_from_window marking the maximum of each column or row (a max along one axis)."""
    matched = 0
    for v in verdicts:
        if v.passed:
            continue
        kind, message = error(v)
        if kind == "ValueError" and "broadcast" in message:  # x == x.max(axis=1) on a window that is not square
            continue
        out, x = first_array(v), v.case.inputs["x"]
        along = [x == x.max(axis=axis, keepdims=True) for axis in range(x.ndim)]
        if x.ndim == 2 and x.shape[0] == x.shape[1]:
            along.append(x == x.max(axis=1))  # broadcast along the wrong axis, but it runs
        if out is None or not any(same_array(out, mask) for mask in along):
            return None
        matched += 1
    if matched:
        return (
            "Your mask marks the largest value of every column (or row): a window has one maximum, the "
            "largest of all its values, so take the maximum over the whole of x, not along one axis."
        )
    return None


def mask_from_wrong_window(ex: Exercise, verdicts: list[CaseVerdict]) -> str | None:
    """The max-pool mask built from the wrong slice (all channels, or a padded input)."""
    if fails_exactly_where(verdicts, lambda case: case.inputs["mode"] == "max"):
        return (
            "Max mode fails while average mode passes: build the mask from one channel of the layer's input, "
            "A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]."
        )
    return None


def transposed_filters(ex: Exercise, verdicts: list[CaseVerdict]) -> str | None:
    """Filter c taken as W[:, :, c, :] instead of W[:, :, :, c]."""
    for v in verdicts:
        kind, message = error(v)
        if kind == "IndexError" and "axis 2" in message:
            return "Filter c is W[:, :, :, c]: the last axis of W counts the filters, the third one the input channels."
    return None


EXERCISES = [
    Exercise(
        "zero_pad",
        10,
        zero_pad_cases,
        lambda x: ((x["X"], x["pad"]), {}),
        single_output,
        hints=(wrong_axes_padded, empty_crop_when_pad_is_zero),
    ),
    Exercise(
        "conv_single_step",
        10,
        conv_single_step_cases,
        lambda x: ((x["a_slice_prev"], x["W"], x["b"]), {}),
        single_output,
        hints=(array_instead_of_scalar, bias_missing_or_repeated),
    ),
    Exercise(
        "conv_forward",
        20,
        conv_forward_cases,
        lambda x: ((x["A_prev"], x["W"], x["b"], conv_hparameters(x)), {}),
        conv_forward_outputs,
        helpers=("zero_pad", "conv_single_step"),
        output_names=("Z",),
        hints=(
            bias_missing_or_repeated,
            stride_ignored,
            output_size_off_by_one,
            transposed_filters,
            empty_crop_when_pad_is_zero,
            stride_misapplied,
        ),
    ),
    Exercise(
        "pool_forward",
        15,
        pool_forward_cases,
        lambda x: ((x["A_prev"], pool_hparameters(x)), {"mode": x["mode"]}),
        pool_forward_outputs,
        part=by_mode,
        output_names=("A",),
        hints=(stride_ignored, output_size_off_by_one, mode_ignored, stride_misapplied),
    ),
    Exercise(
        "conv_backward",
        15,
        conv_backward_cases,
        lambda x: ((x["dZ"], (x["A_prev"], x["W"], x["b"], conv_hparameters(x))), {}),
        lambda result, x: unpack(result, 3, "(dA_prev, dW, db)"),
        helpers=("zero_pad",),
        hints=(transposed_filters, no_accumulation, empty_crop_when_pad_is_zero, stride_misapplied),
        output_names=("dA_prev", "dW", "db"),
    ),
    Exercise(
        "create_mask_from_window",
        5,
        create_mask_from_window_cases,
        lambda x: ((x["x"],), {}),
        single_output,
        hints=(mask_along_one_axis,),
    ),
    Exercise("distribute_value", 5, distribute_value_cases, lambda x: ((x["dz"], x["shape"]), {}), single_output),
    Exercise(
        "pool_backward",
        20,
        pool_backward_cases,
        lambda x: ((x["dA"], (x["A_prev"], pool_hparameters(x))), {"mode": x["mode"]}),
        single_output,
        helpers=("create_mask_from_window", "distribute_value"),
        part=by_mode,
        hints=(
            mode_ignored,
            whole_array_distributed,
            average_share_not_over_window,
            dA_indexed_by_input_position,
            no_accumulation,
            mask_from_wrong_window,
        ),
    ),
]
