"""Each common mistake of the course spec, planted in a notebook, is caught by the notebook's
public check, loses points and is named (assignment 1, then assignment 2).

Every submission is the source notebook with one solution edited to make one mistake. Its
public check cells are run (in this process, as the learner's kernel would run them): the
check of the function with the mistake must fail, so the learner meets it in the notebook and
not first at grading. All are graded together by the isolated grader (`python -m autograder
grade`): the exercise with the mistake must lose points and its feedback must carry the hint;
every other exercise keeps its full points (a wrong helper is not charged twice).
"""

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.course import source_notebook
from autograder.notebook_code import learner_code_cells
from conftest import POINTS, ROOT, grade_id, plant

# (name, function edited, text replaced, replacement, words the hint must contain)
MISTAKES = [
    (
        "wrong_axes_padded",
        "zero_pad",
        "((0, 0), (pad, pad), (pad, pad), (0, 0))",
        "pad",
        "Only the height and width axes",
    ),
    (
        "bias_left_out",
        "conv_single_step",
        "np.sum(a_slice_prev * W) + b.item()",
        "np.sum(a_slice_prev * W)",
        "The bias b is missing",
    ),
    (
        "bias_per_element",
        "conv_single_step",
        "np.sum(a_slice_prev * W) + b.item()",
        "np.sum(a_slice_prev * W + b.item())",
        "added to every product",
    ),
    ("float_of_array", "conv_single_step", "b.item()", "float(b)", "float() or int() on an array"),
    (
        "array_not_scalar",
        "conv_single_step",
        "np.sum(a_slice_prev * W) + b.item()",
        "np.sum(a_slice_prev * W) + b",
        "should return a single number",
    ),
    (
        "size_off_by_one",
        "conv_forward",
        "n_H = (n_H_prev - f + 2 * pad) // stride + 1",
        "n_H = (n_H_prev - f + 2 * pad) // stride",
        "off by one",
    ),
    (
        "size_not_floored",
        "conv_forward",
        "n_H = (n_H_prev - f + 2 * pad) // stride + 1",
        "n_H = (n_H_prev - f + 2 * pad) / stride + 1",
        "floor division",
    ),
    (
        "stride_twice",
        "conv_forward",
        "vert_start = h * stride",
        "vert_start = h * stride * stride",
        "stride applied once",
    ),
    (
        "stride_ignored",
        "pool_forward",
        "n_H = (n_H_prev - f) // stride + 1",
        "n_H = n_H_prev - f + 1",
        "the stride is not used",
    ),
    (
        "global_variable",
        "conv_forward",
        'stride, pad = hparameters["stride"], hparameters["pad"]',
        'stride, pad = hyper["stride"], hyper["pad"]',
        "`hyper`",
    ),
    (
        "cache_padded",
        "conv_forward",
        "cache = (A_prev, W, b, hparameters)\n    return",
        "cache = (zero_pad(A_prev, pad), W, b, hparameters)\n    return",
        "the cache should be (A_prev, W, b, hparameters)",
    ),
    (
        "transposed_filters",
        "conv_forward",
        "W[:, :, :, c], b[:, :, :, c]",
        "W[:, :, c, :], b[:, :, :, c]",
        "the last axis of W counts the filters",
    ),
    (
        "average_for_max",
        "pool_forward",
        'summarise = np.max if mode == "max" else np.mean',
        "summarise = np.mean",
        "returns the average result",
    ),
    (
        "crop_pad_minus_pad",
        "conv_backward",
        "pad:pad + n_H_prev, pad:pad + n_W_prev",
        "pad:-pad, pad:-pad",
        "[pad:-pad] is empty when pad is 0",
    ),
    ("outputs_reordered", "conv_backward", "return dA_prev, dW, db", "return dW, dA_prev, db", "in the wrong order"),
    (  # a mistake in one output of several: feedback names that output
        "db_overwritten",
        "conv_backward",
        "db[:, :, :, c] += dZ[i, h, w, c]",
        "db[:, :, :, c] = dZ[i, h, w, c]",
        "`db` is wrong at",
    ),
    (
        "mask_along_one_axis",
        "create_mask_from_window",
        "mask = x == np.max(x)",
        "mask = x == np.max(x, axis=0)",
        "not along one axis",
    ),
    (
        "dA_at_input_position",
        "pool_backward",
        "dA[i, h, w, c]",
        "dA[i, vert_start, horiz_start, c]",
        "read at the output position",
    ),
    (
        "whole_dA_distributed",
        "pool_backward",
        "distribute_value(dA[i, h, w, c], (f, f))",
        "distribute_value(dA, (f, f))",
        "takes one number",
    ),
    (
        "mask_all_channels",
        "pool_backward",
        "A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]\n",
        "A_prev[i, vert_start:vert_end, horiz_start:horiz_end, :]\n",
        "build the mask from one channel",
    ),
    ("overwrite_not_accumulate", "pool_backward", "+= share", "= share", "with +="),
    (
        "average_shared_over_f",
        "pool_backward",
        "share = distribute_value(dA[i, h, w, c], (f, f))",
        "share = dA[i, h, w, c] / f",
        "shared f·f ways, not f",
    ),
    (  # both were caught only by hidden cases while the public checks were all square
        "heights_and_widths_mixed_in_pooling",
        "pool_forward",
        "for w in range(n_W):",
        "for w in range(n_H):",
        "Only non-square inputs fail",
    ),
    (
        "heights_and_widths_mixed_in_conv_backward",
        "conv_backward",
        "for h in range(n_H):",
        "for h in range(n_W):",
        "Only non-square inputs fail",
    ),
]
# A wrong helper with a right caller: the caller keeps its points and is told which helper to fix.
HELPER_MISTAKE = (
    "zero_pad_forgets_to_pad",
    "zero_pad",
    'np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="constant", constant_values=0)',
    "X + 0.0",
    "",
)


def grade_all(folder: Path, source, mistakes) -> dict[str, dict]:
    """{mistake: results.json} of `source` with each mistake planted, graded by the isolated grader."""
    (folder / "submissions").mkdir()
    for name, function, old, new, _ in mistakes:
        nbformat.write(plant(source, function, old, new), str(folder / "submissions" / f"{name}.ipynb"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            str(folder / "submissions"),
            "--results-dir",
            str(folder / "results"),
            "--jobs",
            "2",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return {name: json.loads((folder / "results" / f"{name}.json").read_text()) for name, *_ in mistakes}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, source_path):
    source = nbformat.read(str(source_path), as_version=4)
    return grade_all(tmp_path_factory.mktemp("mistakes"), source, MISTAKES + [HELPER_MISTAKE])


def by_exercise(results):
    scores, feedback = {}, {}
    for test in results["tests"]:
        name = test["tags"][0]
        scores[name] = scores.get(name, 0) + test["score"]
        feedback[name] = feedback.get(name, "") + test["output"] + "\n"
    return scores, feedback


@pytest.mark.parametrize("name,function,old,new,hint", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_mistake_loses_points_and_is_named(graded, name, function, old, new, hint):
    assert_only_its_exercise_loses(graded[name], function, hint, POINTS)


def assert_only_its_exercise_loses(result: dict, function: str, hint: str, points: dict) -> None:
    """The exercise with the mistake loses points and its feedback names it; every other keeps full marks."""
    scores, feedback = by_exercise(result)
    assert scores[function] < points[function]
    assert hint in feedback[function], feedback[function]
    others = {ex: score for ex, score in scores.items() if ex != function}
    assert others == {ex: full for ex, full in points.items() if ex != function}


def test_at_least_twelve_kinds_of_mistake_are_named():
    assert len({hint for *_, hint in MISTAKES}) >= 12


def test_wrong_helper_is_charged_once(graded):
    scores, feedback = by_exercise(graded["zero_pad_forgets_to_pad"])
    assert scores["zero_pad"] < 10
    assert scores["conv_forward"] == 20 and scores["conv_backward"] == 15
    assert "right when it is given a correct zero_pad" in feedback["conv_forward"]


def failing_public_checks(notebook, folder: Path) -> dict[str, str]:
    """{public check's grade id: the exception it stopped with} after running the learner's cells;
    `folder` holds the modules the notebook imports (as its own folder does in Jupyter)."""
    namespace = {"__name__": "__main__"}
    sys.path.insert(0, str(folder))
    try:
        for index, source in learner_code_cells(notebook):
            exec(compile(source, f"<cell {index}>", "exec"), namespace)
        failing = {}
        for cell in notebook.cells:
            if grade_id(cell).startswith("public_"):
                try:
                    with contextlib.redirect_stdout(io.StringIO()):
                        exec(compile(cell.source, f"<{grade_id(cell)}>", "exec"), namespace)
                except Exception as error:
                    failing[grade_id(cell)] = f"{type(error).__name__}: {error}"
    finally:
        sys.path.remove(str(folder))
    return failing


STEP = source_notebook(ROOT, "conv_step_by_step")


@pytest.fixture(scope="module")
def source(source_path):
    return nbformat.read(str(source_path), as_version=4)


def test_the_solutions_pass_every_public_check(source):
    assert failing_public_checks(source, STEP.parent) == {}


@pytest.mark.parametrize("name,function,old,new,hint", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_public_check_catches_the_mistake(source, name, function, old, new, hint):
    failing = failing_public_checks(plant(source, function, old, new), STEP.parent)
    assert f"public_{function}" in failing, failing


# ---------------------------------------------------------------- assignment 2 -------------------

MNIST = source_notebook(ROOT, "conv_mnist")
# (name, function edited, text replaced, replacement, words the hint or feedback must contain)
MNIST_MISTAKES = [
    ("binarize_at_or_above_0", "binarize", "images > 0", "images >= 0", "only levels above 0 are ink (> 0, not >= 0)"),
    ("binarize_above_127", "binarize", "images > 0", "images > 127", "every level above 0 is ink, however faint"),
    (
        "momentum_forgotten",
        "train_step",
        "momentum * velocity[k] - learning_rate * grads[k]",
        "-learning_rate * grads[k]",
        "the velocity passed in is left out",
    ),
    (
        "update_uphill",
        "train_step",
        "momentum * velocity[k] - learning_rate * grads[k]",
        "momentum * velocity[k] + learning_rate * grads[k]",
        "move up the gradient",
    ),
    (
        "fast_crop_pad_minus_pad",
        "conv_backward_fast",
        "dA_pad[:, pad:pad + n_H_prev, pad:pad + n_W_prev]",
        "dA_pad[:, pad:-pad, pad:-pad]",
        "[pad:-pad] is empty when pad is 0",
    ),
    (
        "db_not_reshaped",
        "conv_backward_fast",
        "db = dZ.sum(axis=(0, 1, 2)).reshape(b.shape)",
        "db = dZ.sum(axis=(0, 1, 2))",
        "`db` has shape (4,); expected shape (1, 1, 1, 4)",
    ),
    (
        "softmax_not_shifted",
        "softmax_cross_entropy",
        "shifted = Z - Z.max(axis=1, keepdims=True)",
        "shifted = Z",
        "subtract each row's maximum",
    ),
    (  # charged once: train_step, which runs this layer, keeps its points
        "fast_conv_forgets_the_bias",
        "conv_forward_fast",
        "axes=([3, 4, 5], [0, 1, 2])) + b",
        "axes=([3, 4, 5], [0, 1, 2]))",
        "`Z` is wrong",
    ),
]
# conv_windows has no points: its mistake costs conv_forward_fast (same exercise), and nothing else.
WINDOWS_MISTAKE = ("windows_stride_ignored", "conv_windows", "view[:, ::stride, ::stride]", "view", "")
MNIST_POINTS = {
    "binarize": 10,
    "conv_forward_fast": 20,
    "conv_backward_fast": 20,
    "pool_forward_fast": 10,
    "pool_backward_fast": 10,
    "softmax_cross_entropy": 10,
    "train_step": 20,
}
# Four nested loops, one product per output value: right, and far over the time allowance.
LOOPS = (
    "conv_forward_fast",
    """    windows = conv_windows(A_prev, W.shape[0], hparameters["stride"], hparameters["pad"])
    Z = np.tensordot(windows, W, axes=([3, 4, 5], [0, 1, 2])) + b  # sum over (f, f, n_C_prev)
""",
    """    windows = conv_windows(A_prev, W.shape[0], hparameters["stride"], hparameters["pad"])
    m, n_H, n_W = windows.shape[:3]
    Z = np.zeros((m, n_H, n_W, W.shape[3]), dtype=windows.dtype)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(W.shape[3]):
                    Z[i, h, w, c] = np.sum(windows[i, h, w] * W[:, :, :, c]) + b[0, 0, 0, c]
""",
)


@pytest.fixture(scope="module")
def mnist_source():
    return nbformat.read(str(MNIST), as_version=4)


@pytest.fixture(scope="module")
def mnist_graded(tmp_path_factory, mnist_source):
    return grade_all(tmp_path_factory.mktemp("mnist_mistakes"), mnist_source, MNIST_MISTAKES + [WINDOWS_MISTAKE])


@pytest.mark.slow
def test_mnist_wrong_conv_windows_is_charged_once(mnist_graded, mnist_source):
    scores, feedback = by_exercise(mnist_graded["windows_stride_ignored"])
    assert scores["conv_forward_fast"] < 20 and "conv_windows" not in scores
    assert {ex: s for ex, s in scores.items() if ex != "conv_forward_fast"} == {
        ex: full for ex, full in MNIST_POINTS.items() if ex != "conv_forward_fast"
    }
    assert "right when it is given a correct conv_windows" in feedback["conv_backward_fast"]
    assert "public_conv_windows" in failing_public_checks(plant(mnist_source, *WINDOWS_MISTAKE[1:4]), MNIST.parent)


@pytest.mark.slow
def test_mnist_wrong_layer_is_charged_once(mnist_graded):
    _, feedback = by_exercise(mnist_graded["fast_conv_forgets_the_bias"])
    assert "right when it is given a correct conv_forward_fast" in feedback["train_step"]


@pytest.mark.slow  # grades six assignment-2 submissions, large cases included
@pytest.mark.parametrize("name,function,old,new,hint", MNIST_MISTAKES, ids=[m[0] for m in MNIST_MISTAKES])
def test_mnist_mistake_loses_points_and_is_named(mnist_graded, name, function, old, new, hint):
    assert_only_its_exercise_loses(mnist_graded[name], function, hint, MNIST_POINTS)


def test_mnist_solutions_pass_every_public_check(mnist_source):
    assert failing_public_checks(mnist_source, MNIST.parent) == {}


@pytest.mark.parametrize("name,function,old,new,hint", MNIST_MISTAKES, ids=[m[0] for m in MNIST_MISTAKES])
def test_mnist_public_check_catches_the_mistake(mnist_source, name, function, old, new, hint):
    failing = failing_public_checks(plant(mnist_source, function, old, new), MNIST.parent)
    assert f"public_{function}" in failing, failing


@pytest.mark.slow  # the loops take several seconds on the check's 256 digits
def test_mnist_public_check_fails_four_nested_loops_with_the_time_and_the_limit(mnist_source):
    failing = failing_public_checks(plant(mnist_source, *LOOPS), MNIST.parent)
    said = failing["public_conv_forward_fast"]
    assert said.startswith("AssertionError: time for 256 digits") and "over the limit of 3000 ms" in said, said


# ---------------------------------------------------------------- the public checks name the cause

# Mistakes that two fresh learners made and that the public checks once let through, or caught
# with a message that named the wrong cause: (name, function edited, text replaced, replacement,
# the check cell that must fail, words its message must contain).
NAMED_IN_NOTEBOOK = [
    (
        "zero_pad_returns_X_at_pad_0",
        "zero_pad",
        "X_pad = np.pad(",
        "X_pad = X if pad == 0 else np.pad(",
        "public_zero_pad",
        "zero_pad returned its input X itself when pad = 0: return a new array",
    ),
    (
        "conv_single_step_multiplies_in_place",
        "conv_single_step",
        "Z = np.sum(a_slice_prev * W) + b.item()",
        "a_slice_prev *= W\n    Z = np.sum(a_slice_prev) + b.item()",
        "public_conv_single_step",
        "conv_single_step changed its input a_slice_prev",
    ),
    (
        "distribute_value_over_f_H_plus_f_W",
        "distribute_value",
        "dz / (f_H * f_W)",
        "dz / (f_H + f_W)",
        "public_distribute_value",
        "add up to 7.2, not 6: each entry is dz divided by the number of entries",
    ),
    (
        "distribute_value_square_window",
        "distribute_value",
        "np.full((f_H, f_W), dz / (f_H * f_W))",
        "np.ones((f_H, f_H)) * dz / (f_H * f_W)",
        "public_distribute_value",
        "distribute_value(6, (2, 3)).shape: the shape is (2, 2), expected (2, 3)",
    ),
    (
        "pool_backward_reads_a_global",
        "pool_backward",
        "A_prev, hparameters = cache",
        "_, hparameters = cache",
        "public_pool_backward",
        "pool_backward reads the notebook's variable `A_prev` instead of its own arguments",
    ),
    (
        "max_pool_starts_from_zero",
        "pool_forward",
        'summarise = np.max if mode == "max" else np.mean',
        'summarise = (lambda window: max(0.0, np.max(window))) if mode == "max" else np.mean',
        "public_pool_forward",
        "max pooling gives 0 or more on windows whose values are all negative",
    ),
    (
        "conv_width_from_height",
        "conv_forward",
        "n_W = (n_W_prev - f + 2 * pad) // stride + 1",
        "n_W = (n_H_prev - f + 2 * pad) // stride + 1",
        "public_conv_forward",
        "the width n_W (axis 2) is wrong",
    ),
    (  # the numerical check is computed with conv_forward: a wrong forward pass is named, not the backward
        "gradient_check_with_a_wrong_forward",
        "conv_forward",
        "Z[i, h, w, c] = conv_single_step(a_slice_prev, W[:, :, :, c], b[:, :, :, c])",
        "Z[i, h, w, c] = conv_single_step(a_slice_prev, W[:, :, :, c], 0 * b[:, :, :, c])",
        "public_gradient_check",
        "conv_forward is wrong on these inputs, so this check cannot judge conv_backward: fix conv_forward first",
    ),
    (
        "gradient_check_with_a_wrong_backward",
        "conv_backward",
        "dW[:, :, :, c] += a_slice * dZ[i, h, w, c]",
        "dW[:, :, :, c] += 2 * a_slice * dZ[i, h, w, c]",
        "public_gradient_check",
        "conv_backward is wrong: its dW disagree with the numerical gradients",
    ),
]
MNIST_NAMED_IN_NOTEBOOK = [
    (
        "binarize_writes_into_its_input",
        "binarize",
        "binary = ((images > 0) * 255).astype(np.uint8)",
        "images[images > 0] = 255\n    binary = images",
        "public_binarize",
        "binarize changed its input images",
    ),
    (
        "binarize_threshold_at_or_above_0",
        "binarize",
        "images > 0",
        "images >= 0",
        "public_binarize",
        "binarize turns grey level 0 into ink",
    ),
    (
        "binarize_threshold_too_high",
        "binarize",
        "images > 0",
        "images > 127",
        "public_binarize",
        "binarize leaves 127 of the grey levels from 1 to 255 as background",
    ),
    (
        "binarize_wrong_dtype",
        "binarize",
        ".astype(np.uint8)",
        ".astype(np.int16)",
        "public_binarize",
        "binary has dtype int16, expected dtype uint8",
    ),
    (
        "float64_out_for_float32_in",
        "pool_backward_fast",
        "np.zeros(A_prev.shape, dtype=dA.dtype)",
        "np.zeros(A_prev.shape)",
        "public_pool_backward_fast",
        "pool_backward_fast returned dtype float64 for float32 inputs",
    ),
    (
        "max_pool_fast_starts_from_zero",
        "pool_forward_fast",
        "A = A_prev[:, :stride * n_H:stride, :stride * n_W:stride]",
        "A = np.zeros_like(A_prev[:, :stride * n_H:stride, :stride * n_W:stride])",
        "public_pool_forward_fast",
        "max pooling gives 0 or more on windows whose values are all negative",
    ),
    (
        "pool_width_from_height",
        "pool_forward_fast",
        "n_W = (A_prev.shape[2] - f) // stride + 1",
        "n_W = (A_prev.shape[1] - f) // stride + 1",
        "public_pool_forward_fast",
        "the width n_W (axis 2) is wrong",
    ),
    (
        "maximum_in_place_on_a_view_of_the_input",
        "pool_forward_fast",
        "A = np.maximum(A, A_prev[:, rows, cols])",
        "np.maximum(A, A_prev[:, rows, cols], out=A)",
        "public_pool_forward_fast",
        "pool_forward_fast changed its input A_prev",
    ),
    (
        "db_not_reshaped_is_a_shape",
        "conv_backward_fast",
        "db = dZ.sum(axis=(0, 1, 2)).reshape(b.shape)",
        "db = dZ.sum(axis=(0, 1, 2))",
        "public_conv_backward_fast",
        "db has shape (4,), expected shape (1, 1, 1, 4)",
    ),
    (
        "layer_gradient_check_with_a_wrong_forward",
        "conv_forward_fast",
        "axes=([3, 4, 5], [0, 1, 2])) + b",
        "axes=([3, 4, 5], [0, 1, 2]))",
        "public_layer_gradient_check",
        "conv_forward_fast is wrong on these inputs, so this check cannot judge conv_backward_fast",
    ),
    (
        "layer_gradient_check_with_a_wrong_backward",
        "conv_backward_fast",
        "db = dZ.sum(axis=(0, 1, 2)).reshape(b.shape)",
        "db = 2 * dZ.sum(axis=(0, 1, 2)).reshape(b.shape)",
        "public_layer_gradient_check",
        "conv_backward_fast is wrong: the gradients of b disagree with the numerical ones",
    ),
    (
        "network_gradient_check_with_a_wrong_forward",
        "pool_forward_fast",
        "A = np.maximum(A, A_prev[:, rows, cols])",
        "A = A + A_prev[:, rows, cols]",
        "public_network_gradient_check",
        "the forward pass gives a wrong loss here, so this check cannot judge train_step's backward pass",
    ),
    (
        "network_gradient_check_with_a_wrong_backward",
        "train_step",
        'dW3, db3 = cache["F"].T @ dZ3,',
        'dW3, db3 = 2 * cache["F"].T @ dZ3,',
        "public_network_gradient_check",
        "train_step's backward pass is wrong: the gradients of W3 disagree with the numerical ones",
    ),
]


@pytest.mark.parametrize("name,function,old,new,check,words", NAMED_IN_NOTEBOOK, ids=[m[0] for m in NAMED_IN_NOTEBOOK])
def test_public_check_names_the_cause(source, name, function, old, new, check, words):
    failing = failing_public_checks(plant(source, function, old, new), STEP.parent)
    assert words in failing.get(check, ""), failing


@pytest.mark.parametrize(
    "name,function,old,new,check,words", MNIST_NAMED_IN_NOTEBOOK, ids=[m[0] for m in MNIST_NAMED_IN_NOTEBOOK]
)
def test_mnist_public_check_names_the_cause(mnist_source, name, function, old, new, check, words):
    failing = failing_public_checks(plant(mnist_source, function, old, new), MNIST.parent)
    assert words in failing.get(check, ""), failing
