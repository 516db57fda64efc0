"""Case builders both assignments share: seeded arrays, case names, convolution cases, and the
forms their functions return and take (a tuple unpacked, a cache's arrays compared, hparameters)."""

import numpy as np

from . import WrongReturn


def randn(seed: int, *shapes: tuple[int, ...]) -> list[np.ndarray]:
    """Arrays of the given shapes, drawn in order from RandomState(seed).randn."""
    rng = np.random.RandomState(seed)
    return [rng.randn(*shape) for shape in shapes]


def case_name(seed: int) -> str:
    """Seed 1 is the notebook's public check; every other seed is hidden."""
    return "public" if seed == 1 else f"hidden_seed{seed}"


def output_size(n_prev: int, f: int, pad: int, stride: int) -> int:
    return (n_prev - f + 2 * pad) // stride + 1


def conv_forward_inputs(specs: list[tuple]) -> list[tuple[str, dict]]:
    """Cases of a convolution forward pass from (seed, A_prev shape, f, n_C, pad, stride) specs."""
    cases = []
    for seed, shape, f, n_c, pad, stride in specs:
        A_prev, W, b = randn(seed, shape, (f, f, shape[3], n_c), (1, 1, 1, n_c))
        cases.append((case_name(seed), {"A_prev": A_prev, "W": W, "b": b, "pad": pad, "stride": stride}))
    return cases


def conv_backward_inputs(specs: list[tuple]) -> list[tuple[str, dict]]:
    """Cases of a convolution backward pass (a random dZ of the output's shape) from the same specs."""
    cases = []
    for seed, shape, f, n_c, pad, stride in specs:
        m, n_h, n_w, n_c_prev = shape
        z_shape = (m, output_size(n_h, f, pad, stride), output_size(n_w, f, pad, stride), n_c)
        A_prev, W, b, dZ = randn(seed, shape, (f, f, n_c_prev, n_c), (1, 1, 1, n_c), z_shape)
        cases.append((case_name(seed), {"dZ": dZ, "A_prev": A_prev, "W": W, "b": b, "pad": pad, "stride": stride}))
    return cases


def unpack(result: object, count_wanted: int, what: str) -> tuple:
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


def same_array(value: object, expected: np.ndarray) -> bool:
    try:
        value = np.asarray(value)
    except Exception:
        return False
    return value.shape == expected.shape and value.dtype.kind in "biuf" and np.array_equal(value, expected)


def conv_hparameters(x: dict) -> dict[str, int]:
    return {"stride": x["stride"], "pad": x["pad"]}


def pool_hparameters(x: dict) -> dict[str, int]:
    return {"f": x["f"], "stride": x["stride"]}
