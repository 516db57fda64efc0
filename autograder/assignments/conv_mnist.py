"""Assignment 2: the cases every exercise is graded on.

Small cases (seeded random arrays; binarised inputs where ties matter) check the values to
1e-6 against the reference. Each fast layer also gets one large case, a batch of 256
binarised 28 x 28 "digits", that must finish within a time allowance that vectorised code meets
with a wide margin and four nested Python loops cannot. To keep the reference data small, a
large case stores only its seed (its arrays are drawn again, identically, when it is run), the
shape of its output, and the reference's values at a sample of its output positions, drawn from
a digest of the whole reference output: code that does not compute that output cannot know
which positions count (drawn from the seed, they could be computed alone, the rest left zero).
"""

import hashlib

import numpy as np

from ..hints import Case, CaseVerdict, close, empty_crop_when_pad_is_zero, fails_exactly_where, first_array
from ..problems import ProblemKind
from . import Exercise, WrongReturn, WrongShape
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

LARGE_BATCH = 256
SECONDS_ALLOWED = 3.0  # the reference takes about 0.1 s at most; four nested loops take tens of seconds
SAMPLED = 2000  # output positions compared in a large case
LARGE_REPLY = 64 * 2**20  # a large case's result and cache, as float64 in base64, are about 20 MiB


def binary_digits(seed: int, m: int, size: int = 28, channels: int = 1) -> np.ndarray:
    """(m, size, size, channels) float64 of 0s and 1s: stand-ins for binarised digits."""
    return (np.random.RandomState(seed).rand(m, size, size, channels) > 0.7).astype(np.float64)


def large_inputs(exercise: str, seed: int) -> dict:
    """The arrays of an exercise's large case, drawn from its seed (legacy RandomState: stable streams)."""
    if exercise == "conv_forward_fast":
        W, b = randn(seed, (5, 5, 1, 8), (1, 1, 1, 8))
        return {"A_prev": binary_digits(seed, LARGE_BATCH), "W": W, "b": b, "pad": 2, "stride": 1}
    if exercise == "conv_backward_fast":
        W, b, dZ = randn(seed, (5, 5, 8, 16), (1, 1, 1, 16), (LARGE_BATCH, 14, 14, 16))
        return {"dZ": dZ, "A_prev": binary_digits(seed, LARGE_BATCH, 14, 8), "W": W, "b": b, "pad": 2, "stride": 1}
    (dA,) = randn(seed, (LARGE_BATCH, 14, 14, 8))
    return {"dA": dA, "A_prev": binary_digits(seed, LARGE_BATCH, 28, 8), "f": 2, "stride": 2}


def large(ref: dict, exercise: str, seed: int) -> tuple[str, dict]:
    """A large case as stored: its seed, a time allowance, its output's shape and the output
    positions compared, drawn from a digest of the reference's whole output (see output_digest)."""
    x = {"large": exercise, "seed": seed, "seconds_allowed": SECONDS_ALLOWED}
    args, _ = LARGE_ARGUMENTS[exercise](materialised(x))
    result = ref[exercise](*args)
    output = np.asarray(result[0] if isinstance(result, tuple) else result)  # Z, dA_prev, A or dA_prev
    positions = np.random.RandomState(output_digest(output)).choice(output.size, SAMPLED, replace=False)
    return ("hidden_large", {**x, "shape": output.shape, "sample": np.sort(positions)})


def output_digest(output: np.ndarray) -> int:
    """A 32-bit number drawn from every value of `output`, the same on every machine: the values are
    rounded to steps of 2**-10 of the largest magnitude, far coarser than the last bits that the
    order of a sum (the machine's BLAS, its threads) changes."""
    scale = float(np.abs(output).max()) or 1.0
    steps = np.round(output * (2.0**10 / scale)).astype(np.int64)
    return int.from_bytes(hashlib.sha256(steps.tobytes()).digest()[:4], "big")


def materialised(x: dict) -> dict:
    """A case's inputs with a large case's arrays drawn from its seed."""
    return {**x, **large_inputs(x["large"], x["seed"])} if "large" in x else x


def sampled(array: object, inputs: dict, name: str) -> object:
    """The whole array, or for a large case its values at the compared positions once its shape is
    the case's (its dtype is judged next, on those values); `name`: what feedback calls it."""
    if "sample" not in inputs:
        return array
    array = np.asarray(array)
    if array.shape != tuple(inputs["shape"]):
        raise WrongShape(f"`{name}` has the wrong shape (this case's shapes are hidden)")
    return array.reshape(-1)[inputs["sample"]]


# ------------------------------------------------------------------ binarize ----------------


def binarize_cases(ref: dict) -> list[tuple[str, dict]]:
    cases = []
    for seed, n in [(1, 4), (71, 1), (72, 9)]:
        rng = np.random.RandomState(seed)
        images = (rng.randint(0, 256, (n, 28, 28)) * (rng.rand(n, 28, 28) > 0.6)).astype(np.uint8)
        cases.append((case_name(seed), {"images": images}))
    return cases


def binarize_outputs(result: object, x: dict) -> tuple[np.ndarray]:
    array = np.asarray(result)
    if array.dtype != np.uint8:
        raise WrongReturn(f"the result has dtype {array.dtype}; the spec asks for uint8 (0 and 255)")
    return (array,)


def binarize_threshold(ex: Exercise, verdicts: list[CaseVerdict]) -> str | None:
    """binarize's threshold off: background (level 0) made ink, or faint ink (low levels) left as background."""
    for v in verdicts:
        yours, images = first_array(v), v.case.inputs["images"]
        if v.passed or yours is None or yours.size != images.size:
            continue
        ink = yours.reshape(images.shape) > 0
        if ink[images == 0].any() and (ink == (images >= 0)).all():
            return "Grey level 0, the background, became ink: only levels above 0 are ink (> 0, not >= 0)."
        if not ink[images == 0].any() and not ink[images > 0].all():
            return "Some grey levels above 0 stayed background: every level above 0 is ink, however faint."
    return None


# ------------------------------------------------------------------ convolution -------------

# (seed, A_prev shape, f, n_C, pad, stride)
CONV_SPECS = [
    (1, (2, 6, 6, 3), 3, 4, 1, 1),
    (81, (1, 5, 7, 1), 1, 2, 0, 1),
    (82, (2, 7, 5, 3), 2, 3, 0, 2),
    (83, (2, 9, 8, 2), 5, 2, 2, 3),
    (84, (3, 4, 6, 2), 3, 2, 1, 3),
]


def conv_windows_cases(ref: dict) -> list[tuple[str, dict]]:
    """The windows of the convolution cases' inputs (the public one is the notebook's check)."""
    public = ("public", {"A_prev": randn(1, (2, 5, 7, 3))[0], "f": 3, "stride": 2, "pad": 1})
    return [public] + [
        (name, {"A_prev": x["A_prev"], "f": x["W"].shape[0], "stride": x["stride"], "pad": x["pad"]})
        for name, x in conv_forward_inputs(CONV_SPECS[1:])
    ]


def conv_forward_fast_cases(ref: dict) -> list[tuple[str, dict]]:
    return conv_forward_inputs(CONV_SPECS) + [large(ref, "conv_forward_fast", 85)]


def conv_backward_fast_cases(ref: dict) -> list[tuple[str, dict]]:
    return conv_backward_inputs(CONV_SPECS) + [large(ref, "conv_backward_fast", 86)]


def conv_arguments(x: dict) -> tuple[tuple, dict]:
    return (x["A_prev"], x["W"], x["b"], conv_hparameters(x)), {}


def conv_backward_arguments(x: dict) -> tuple[tuple, dict]:
    return (x["dZ"], (x["A_prev"], x["W"], x["b"], conv_hparameters(x))), {}


def conv_forward_fast_outputs(result: object, x: dict) -> tuple:
    x = materialised(x)
    Z, cache = unpack(result, 2, "(Z, cache)")
    if not (isinstance(cache, tuple) and len(cache) == 4 and same_array(cache[0], x["A_prev"])):
        raise WrongReturn("the cache should be (A_prev, W, b, hparameters), holding the arguments as they were passed")
    return (sampled(Z, x, "Z"),)


def conv_backward_fast_outputs(result: object, x: dict) -> tuple:
    dA_prev, dW, db = unpack(result, 3, "(dA_prev, dW, db)")
    return (sampled(dA_prev, x, "dA_prev"), dW, db)


# ------------------------------------------------------------------ pooling -----------------

# (seed, A_prev shape, f, stride); binarised inputs, so windows often hold tied maxima.
POOL_SPECS = [
    (1, (2, 4, 4, 2), 2, 2),
    (91, (1, 6, 6, 1), 2, 1),
    (92, (2, 7, 5, 3), 3, 2),
    (93, (2, 5, 8, 2), 1, 1),
    (94, (1, 9, 7, 2), 5, 3),
]


def pool_inputs(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    """Binary values plus a little noise on half the channels: ties in some windows, none in others."""
    rng = np.random.RandomState(seed)
    A = (rng.rand(*shape) > 0.5).astype(np.float64)
    A[..., ::2] += rng.rand(*A[..., ::2].shape) * 0.1
    return A


def pool_forward_fast_cases(ref: dict) -> list[tuple[str, dict]]:
    cases = [
        (case_name(seed), {"A_prev": pool_inputs(seed, shape), "f": f, "stride": stride})
        for seed, shape, f, stride in POOL_SPECS
    ]
    cases.append(large(ref, "pool_forward_fast", 95))
    return cases


def pool_backward_fast_cases(ref: dict) -> list[tuple[str, dict]]:
    cases = []
    for seed, shape, f, stride in POOL_SPECS:
        m, n_h, n_w, n_c = shape
        (dA,) = randn(seed + 100, (m, output_size(n_h, f, 0, stride), output_size(n_w, f, 0, stride), n_c))
        cases.append((case_name(seed), {"dA": dA, "A_prev": pool_inputs(seed, shape), "f": f, "stride": stride}))
    cases.append(large(ref, "pool_backward_fast", 96))
    return cases


def pool_arguments(x: dict) -> tuple[tuple, dict]:
    return (x["A_prev"], pool_hparameters(x)), {}


def pool_backward_arguments(x: dict) -> tuple[tuple, dict]:
    return (x["dA"], (x["A_prev"], pool_hparameters(x))), {}


# How each fast layer is called on its large case's inputs (see large).
LARGE_ARGUMENTS = {
    "conv_forward_fast": conv_arguments,
    "conv_backward_fast": conv_backward_arguments,
    "pool_forward_fast": pool_arguments,
    "pool_backward_fast": pool_backward_arguments,
}


def pool_forward_fast_outputs(result: object, x: dict) -> tuple:
    x = materialised(x)
    A, cache = unpack(result, 2, "(A, cache)")
    if not (isinstance(cache, tuple) and len(cache) == 2 and same_array(cache[0], x["A_prev"])):
        raise WrongReturn("the cache should be (A_prev, hparameters), holding the arguments as they were passed")
    return (sampled(A, x, "A"),)


# ------------------------------------------------------------------ loss and training -------


def softmax_cross_entropy_cases(ref: dict) -> list[tuple[str, dict]]:
    cases = []
    for seed, m, scale in [(1, 5, 1.0), (101, 1, 3.0), (102, 16, 1.0), (103, 4, 1000.0)]:
        rng = np.random.RandomState(seed)
        Z = rng.randn(m, 10) * scale  # the last case has huge logits: exp overflows unless shifted
        Y = np.eye(10)[rng.randint(0, 10, m)]
        cases.append((case_name(seed), {"Z": Z, "Y": Y}))
    return cases


PARAMETERS = ("W1", "b1", "W2", "b2", "W3", "b3")


def network(seed: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Parameters of the assignment's network, He-initialised, float64; and a velocity of the same shapes."""
    shapes = {
        "W1": (5, 5, 1, 8),
        "b1": (1, 1, 1, 8),
        "W2": (5, 5, 8, 16),
        "b2": (1, 1, 1, 16),
        "W3": (784, 10),
        "b3": (1, 10),
    }
    fan_in = {"W1": 25, "W2": 200, "W3": 784}
    rng = np.random.RandomState(seed)
    params = {
        k: rng.randn(*s) * np.sqrt(2 / fan_in[k]) if k in fan_in else rng.randn(*s) * 0.1 for k, s in shapes.items()
    }
    velocity = {k: rng.randn(*s) * 0.01 for k, s in shapes.items()}
    return params, velocity


def train_step_cases(ref: dict) -> list[tuple[str, dict]]:
    cases = []
    for seed, m, rate, momentum in [(1, 4, 0.05, 0.9), (111, 1, 0.1, 0.0), (112, 3, 0.01, 0.5)]:
        params, velocity = network(seed)
        X = binary_digits(seed, m)
        Y = np.eye(10)[np.random.RandomState(seed).randint(0, 10, m)]
        cases.append(
            (
                case_name(seed),
                {"params": params, "velocity": velocity, "X": X, "Y": Y, "learning_rate": rate, "momentum": momentum},
            )
        )
    return cases


# What feedback calls the values train_step_outputs gives, in its order.
TRAIN_STEP_OUTPUTS = (
    *(f'new_params["{k}"]' for k in PARAMETERS),
    *(f'new_velocity["{k}"]' for k in PARAMETERS),
    "loss",
)


def train_step_outputs(result: object, x: dict) -> tuple:
    params, velocity, loss = unpack(result, 3, "(params, velocity, loss)")
    for name, value in (("params", params), ("velocity", velocity)):
        if not isinstance(value, dict) or set(value) != set(PARAMETERS):
            raise WrongReturn(f"{name} should be a dict with the keys {', '.join(PARAMETERS)}")
    return (*(params[k] for k in PARAMETERS), *(velocity[k] for k in PARAMETERS), loss)


# ------------------------------------------------------------------ hints ----------------------


def has_tied_window(case: Case) -> bool:
    """True when some pooling window of the case's input holds its maximum more than once."""
    x, f, s = case.inputs["A_prev"], case.inputs["f"], case.inputs["stride"]
    windows = np.lib.stride_tricks.sliding_window_view(x, (f, f), axis=(1, 2))[:, ::s, ::s]
    flat = windows.reshape(*windows.shape[:4], f * f)
    return bool(np.any((flat == flat.max(axis=-1, keepdims=True)).sum(axis=-1) > 1))


def gradient_to_every_tie(ex: Exercise, verdicts: list[CaseVerdict]) -> str | None:
    """Fast max-pool backward sending a window's gradient to all its tied maxima (the mask of assignment 1)."""
    if fails_exactly_where([v for v in verdicts if "sample" not in v.case.inputs], has_tied_window):
        return (
            "Only windows with tied maxima go wrong: send each window's gradient to one maximum, the first in "
            "reading order as np.argmax gives it, not to every tied position."
        )
    return None


def softmax_overflow(ex: Exercise, verdicts: list[CaseVerdict]) -> str | None:
    """exp of large logits overflowing: the softmax not shifted by each row's maximum."""
    for v in verdicts:
        if not v.passed and np.abs(v.case.inputs["Z"]).max() > 100 and v.problem.kind is ProblemKind.NAN:
            return "Large scores overflow exp(): subtract each row's maximum from Z before exponentiating."
    return None


def update_steps(ex: Exercise, v: CaseVerdict) -> tuple[dict, dict, dict] | None:
    """For one train_step case that ran: per parameter, the step the learner's new_params took
    (new - old), the expected step (the new velocity, momentum·v - learning_rate·gradient) and
    momentum·v, the part of it the velocity passed in carries. None when the reply has another form."""
    if not v.reply.get("ok"):
        return None
    yours = ex.outputs(v.reply.get("result"), v.case.inputs)
    x, n = v.case.inputs, len(PARAMETERS)
    taken = {k: np.asarray(yours[i], dtype=float) - x["params"][k] for i, k in enumerate(PARAMETERS)}
    expected = {k: v.case.expected[n + i] for i, k in enumerate(PARAMETERS)}
    carried = {k: x["momentum"] * x["velocity"][k] for k in PARAMETERS}
    return taken, expected, carried


def every_failing_step(ex: Exercise, verdicts: list[CaseVerdict], is_it) -> bool:
    """True when some case fails and each failing case's steps satisfy is_it(taken, expected, carried)
    for every parameter (a reply of another form, or one step that does not, makes it False)."""
    failing = [v for v in verdicts if not v.passed]
    if not failing:
        return False
    for v in failing:
        steps = update_steps(ex, v)
        if steps is None or not all(is_it(*(step[k] for step in steps)) for k in PARAMETERS):
            return False
    return True


def momentum_forgotten(ex: Exercise, verdicts: list[CaseVerdict]) -> str | None:
    """train_step updating without the velocity it was given (plain SGD: momentum·v left out)."""

    def plain_sgd(taken, expected, carried):  # -learning_rate·gradient = expected - momentum·v
        return np.abs(carried).max() > 0 and close(taken, expected - carried)

    if every_failing_step(ex, verdicts, plain_sgd):
        return (
            "The parameters move by -learning_rate·gradient only: the velocity passed in is left out, which is "
            "right only when momentum is 0. Update the velocity first, v = momentum·v - learning_rate·gradient "
            "with the v you were given, then the parameters, params + v."
        )
    return None


def update_goes_uphill(ex: Exercise, verdicts: list[CaseVerdict]) -> str | None:
    """The gradient step with the wrong sign: parameters moved up the gradient, which raises the loss."""

    def uphill(taken, expected, carried):  # +learning_rate·gradient = carried - expected
        gradient_step = carried - expected
        return np.abs(gradient_step).max() > 0 and (
            close(taken, carried + gradient_step) or close(taken, -carried + gradient_step)
        )

    if every_failing_step(ex, verdicts, uphill):
        return (
            "The parameters move up the gradient (+learning_rate·gradient), which makes the loss larger: "
            "descent goes against it, v = momentum·v - learning_rate·gradient, then params + v. In training, "
            "this makes the loss grow until it is no longer a number."
        )
    return None


def train_step_needs_the_layers(ex: Exercise, verdicts: list[CaseVerdict]) -> str | None:
    """train_step wrong for a reason no other hint names; wrong layers were already replaced when judged."""
    if momentum_forgotten(ex, verdicts) or update_goes_uphill(ex, verdicts):
        return None
    if not all(v.problem and v.problem.kind is ProblemKind.NOT_IMPLEMENTED for v in verdicts):
        return (
            "train_step is wrong even with the reference's layers in place of those of yours that fail: "
            "look at how it chains them backward (which cache goes to which layer, the ReLU masks, the "
            "flatten) and at the update; the numerical gradient check shows which gradient is off."
        )
    return None


# Part of exercise 2, without points: a wrong conv_windows costs conv_forward_fast's points, and
# conv_backward_fast and train_step are judged with the reference's windows instead.
JUDGED_HELPERS = [
    Exercise(
        "conv_windows",
        0,
        conv_windows_cases,
        lambda x: ((x["A_prev"], x["f"], x["stride"], x["pad"]), {}),
        lambda result, x: (result,),
        output_names=("windows",),
    )
]

EXERCISES = [
    Exercise(
        "binarize", 10, binarize_cases, lambda x: ((x["images"],), {}), binarize_outputs, hints=(binarize_threshold,)
    ),
    Exercise(
        "conv_forward_fast",
        20,
        conv_forward_fast_cases,
        lambda x: conv_arguments(materialised(x)),
        conv_forward_fast_outputs,
        reply_bytes=LARGE_REPLY,
        output_names=("Z",),
    ),
    Exercise(
        "conv_backward_fast",
        20,
        conv_backward_fast_cases,
        lambda x: conv_backward_arguments(materialised(x)),
        conv_backward_fast_outputs,
        helpers=("conv_windows",),
        reply_bytes=LARGE_REPLY,
        output_names=("dA_prev", "dW", "db"),
        hints=(empty_crop_when_pad_is_zero,),
    ),
    Exercise(
        "pool_forward_fast",
        10,
        pool_forward_fast_cases,
        lambda x: pool_arguments(materialised(x)),
        pool_forward_fast_outputs,
        reply_bytes=LARGE_REPLY,
        output_names=("A",),
    ),
    Exercise(
        "pool_backward_fast",
        10,
        pool_backward_fast_cases,
        lambda x: pool_backward_arguments(materialised(x)),
        lambda result, x: (sampled(result, x, "dA_prev"),),
        helpers=("pool_forward_fast",),
        reply_bytes=LARGE_REPLY,
        hints=(gradient_to_every_tie,),
    ),
    Exercise(
        "softmax_cross_entropy",
        10,
        softmax_cross_entropy_cases,
        lambda x: ((x["Z"], x["Y"]), {}),
        lambda result, x: unpack(result, 2, "(loss, dZ)"),
        hints=(softmax_overflow,),
        output_names=("loss", "dZ"),
    ),
    Exercise(
        "train_step",
        20,
        train_step_cases,
        lambda x: ((x["params"], x["velocity"], x["X"], x["Y"], x["learning_rate"], x["momentum"]), {}),
        train_step_outputs,
        helpers=(
            "conv_windows",
            "conv_forward_fast",
            "conv_backward_fast",
            "pool_forward_fast",
            "pool_backward_fast",
            "softmax_cross_entropy",
        ),
        hints=(momentum_forgotten, update_goes_uphill, train_step_needs_the_layers),
        output_names=TRAIN_STEP_OUTPUTS,
    ),
]
