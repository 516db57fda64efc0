"""The check library grades a function on the reference cases: full, partial, none, with reasons."""
import numpy as np
import pytest

from autograder import paths
from autograder.checks import run_hidden_cases
from autograder.notebook_code import load_namespace
from autograder.reference import read_cases
from conftest import ASSIGNMENT, ROOT


@pytest.fixture(scope="module")
def ref():
    return load_namespace(paths.source_notebook(ROOT, ASSIGNMENT))


@pytest.mark.parametrize("name,points", [("zero_pad", 10), ("conv_forward", 20), ("pool_backward", 20)])
def test_reference_gets_full_marks(ref, name, points):
    assert run_hidden_cases(name, ref) == points


def test_stub_gets_zero_and_is_told_why(capsys):
    def zero_pad(X, pad):
        raise NotImplementedError()

    assert run_hidden_cases("zero_pad", {"zero_pad": zero_pad}) == 0
    assert "not implemented yet" in capsys.readouterr().out


def test_missing_function_gets_zero(capsys):
    assert run_hidden_cases("distribute_value", {}) == 0
    assert "distribute_value is not defined" in capsys.readouterr().out


def test_ignoring_the_stride_earns_only_the_stride_one_cases(ref, capsys):
    def conv_forward(A_prev, W, b, hparameters):
        return ref["conv_forward"](A_prev, W, b, {"stride": 1, "pad": hparameters["pad"]})

    score = run_hidden_cases("conv_forward", {"conv_forward": conv_forward})
    assert 0 < score < 20
    out = capsys.readouterr().out
    assert "has shape" in out and "expected shape" in out


def test_wrong_values_are_counted_not_shown(ref, capsys):
    def conv_single_step(a_slice_prev, W, b):
        return np.sum(a_slice_prev * W)  # the bias left out

    assert run_hidden_cases("conv_single_step", {"conv_single_step": conv_single_step}) == 0
    out = capsys.readouterr().out
    assert "wrong at 1 of 1 positions" in out
    for _, inputs, (expected,) in read_cases(paths.reference_file(ROOT, ASSIGNMENT), "conv_single_step"):
        assert f"{float(expected):.3f}"[:-1] not in out  # no reference value, even rounded
        assert f"{float(conv_single_step(**inputs)):.3f}"[:-1] not in out


def test_a_tuple_of_the_wrong_length_is_named(ref, capsys):
    def conv_backward(dZ, cache):
        return ref["conv_backward"](dZ, cache)[:2]

    assert run_hidden_cases("conv_backward", {"conv_backward": conv_backward}) == 0
    assert "should return (dA_prev, dW, db), a tuple of 3" in capsys.readouterr().out
