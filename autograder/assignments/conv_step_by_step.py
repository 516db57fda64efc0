"""Assignment 1: the cases every exercise is graded on.

Each case draws its arrays with np.random.RandomState(seed).randn in the listed order, so
seed 1 reproduces the public checks of the notebook (np.random.seed(1) then randn). The other
seeds and shapes are hidden: together they cover pad 0, strides 1 to 3, f of 1, 2, 3 and 5,
non-square inputs, one channel, a batch of one and both pooling modes. Continuous random
values have no ties, so a window's maximum is always unique.
"""

import numpy as np

from . import Exercise, WrongReturn


def randn(seed, *shapes):
    """Arrays of the given shapes, drawn in order from RandomState(seed).randn."""
    rng = np.random.RandomState(seed)
    return [rng.randn(*shape) for shape in shapes]


def case_name(seed) -> str:
    """Seed 1 is the notebook's public check; every other seed is hidden."""
    return "public" if seed == 1 else f"hidden_seed{seed}"


def output_size(n_prev, f, pad, stride):
    return (n_prev - f + 2 * pad) // stride + 1


def zero_pad_cases(ref):
    specs = [(1, (4, 3, 3, 2), 3), (21, (1, 4, 6, 1), 0), (22, (2, 3, 5, 3), 1), (23, (3, 2, 2, 4), 2)]
    return [(case_name(seed), {"X": randn(seed, shape)[0], "pad": pad}) for seed, shape, pad in specs]


def conv_single_step_cases(ref):
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


def conv_forward_inputs(specs) -> list[tuple[str, dict]]:
    """Cases of a convolution forward pass from (seed, A_prev shape, f, n_C, pad, stride) specs."""
    cases = []
    for seed, shape, f, n_c, pad, stride in specs:
        A_prev, W, b = randn(seed, shape, (f, f, shape[3], n_c), (1, 1, 1, n_c))
        cases.append((case_name(seed), {"A_prev": A_prev, "W": W, "b": b, "pad": pad, "stride": stride}))
    return cases


def conv_backward_inputs(specs) -> list[tuple[str, dict]]:
    """Cases of a convolution backward pass (a random dZ of the output's shape) from the same specs."""
    cases = []
    for seed, shape, f, n_c, pad, stride in specs:
        m, n_h, n_w, n_c_prev = shape
        z_shape = (m, output_size(n_h, f, pad, stride), output_size(n_w, f, pad, stride), n_c)
        A_prev, W, b, dZ = randn(seed, shape, (f, f, n_c_prev, n_c), (1, 1, 1, n_c), z_shape)
        cases.append((case_name(seed), {"dZ": dZ, "A_prev": A_prev, "W": W, "b": b, "pad": pad, "stride": stride}))
    return cases


def conv_forward_cases(ref):
    return conv_forward_inputs(CONV_SPECS)


def conv_backward_cases(ref):
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


def pool_forward_cases(ref):
    cases = []
    for seed, shape, f, stride in POOL_SPECS:
        (A_prev,) = randn(seed, shape)
        for mode in ("max", "average"):
            cases.append((f"{case_name(seed)}_{mode}", {"A_prev": A_prev, "f": f, "stride": stride, "mode": mode}))
    return cases


def pool_backward_cases(ref):
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


def create_mask_from_window_cases(ref):
    specs = [(1, (2, 3)), (61, (3, 3)), (62, (2, 2)), (63, (1, 4)), (64, (5, 5)), (65, (4, 2))]
    return [(case_name(seed), {"x": randn(seed, shape)[0]}) for seed, shape in specs]


def distribute_value_cases(ref):
    specs = [(2.0, (2, 2)), (3.0, (3, 3)), (-1.5, (2, 4)), (0.6, (1, 1)), (5.0, (5, 2))]
    return [("public" if k == 0 else f"hidden{k}", {"dz": dz, "shape": shape}) for k, (dz, shape) in enumerate(specs)]


def unpack(result, count_wanted, what):
    """The items of a returned tuple, or WrongReturn naming what the function should return."""
    if not isinstance(result, tuple) or len(result) != count_wanted:
        if not isinstance(result, tuple):
            kind = f"a {type(result).__name__}"
        elif len(result) <= count_wanted + 3:
            kind = f"a tuple of {len(result)}"
        else:  # a length the learner's code chose could carry hidden inputs: not echoed
            kind = "a longer tuple"
        raise WrongReturn(f"should return {what}, a tuple of {count_wanted}; it returned {kind}")
    return result


def same_array(value, expected) -> bool:
    try:
        value = np.asarray(value)
    except Exception:
        return False
    return value.shape == expected.shape and value.dtype.kind in "biuf" and np.array_equal(value, expected)


def check_cache(cache, expected, what):
    """A cache must hold the inputs as given: arrays unchanged (A_prev not padded), the dict as passed."""
    items = unpack(cache, len(expected), what) if isinstance(cache, tuple) else None
    if items is None or not all(
        same_array(got, want) if isinstance(want, np.ndarray) else got == want for got, want in zip(items, expected)
    ):
        raise WrongReturn(f"the cache should be {what}, holding the arguments exactly as they were passed")


def conv_hparameters(x):
    return {"stride": x["stride"], "pad": x["pad"]}


def pool_hparameters(x):
    return {"f": x["f"], "stride": x["stride"]}


def conv_forward_outputs(result, x):
    Z, cache = unpack(result, 2, "(Z, cache)")
    check_cache(cache, (x["A_prev"], x["W"], x["b"], conv_hparameters(x)), "(A_prev, W, b, hparameters)")
    return (Z,)


def pool_forward_outputs(result, x):
    A, cache = unpack(result, 2, "(A, cache)")
    check_cache(cache, (x["A_prev"], pool_hparameters(x)), "(A_prev, hparameters)")
    return (A,)


def single_output(result, x):
    return (result,)


def by_mode(x):
    return x["mode"]


EXERCISES = [
    Exercise("zero_pad", 10, zero_pad_cases, lambda x: ((x["X"], x["pad"]), {}), single_output),
    Exercise(
        "conv_single_step",
        10,
        conv_single_step_cases,
        lambda x: ((x["a_slice_prev"], x["W"], x["b"]), {}),
        single_output,
    ),
    Exercise(
        "conv_forward",
        20,
        conv_forward_cases,
        lambda x: ((x["A_prev"], x["W"], x["b"], conv_hparameters(x)), {}),
        conv_forward_outputs,
        helpers=("zero_pad", "conv_single_step"),
    ),
    Exercise(
        "pool_forward",
        15,
        pool_forward_cases,
        lambda x: ((x["A_prev"], pool_hparameters(x)), {"mode": x["mode"]}),
        pool_forward_outputs,
        part=by_mode,
    ),
    Exercise(
        "conv_backward",
        15,
        conv_backward_cases,
        lambda x: ((x["dZ"], (x["A_prev"], x["W"], x["b"], conv_hparameters(x))), {}),
        lambda result, x: unpack(result, 3, "(dA_prev, dW, db)"),
        helpers=("zero_pad",),
    ),
    Exercise("create_mask_from_window", 5, create_mask_from_window_cases, lambda x: ((x["x"],), {}), single_output),
    Exercise("distribute_value", 5, distribute_value_cases, lambda x: ((x["dz"], x["shape"]), {}), single_output),
    Exercise(
        "pool_backward",
        20,
        pool_backward_cases,
        lambda x: ((x["dA"], (x["A_prev"], pool_hparameters(x))), {"mode": x["mode"]}),
        single_output,
        helpers=("create_mask_from_window", "distribute_value"),
        part=by_mode,
    ),
]
