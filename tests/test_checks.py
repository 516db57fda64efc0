"""The in-process judge (check() and the grade cells): full, partial, none, with reasons."""

import numpy as np
import pytest

from autograder.assignments import exercises
from autograder.check import check, judge_in_namespace, run_hidden_cases
from autograder.course import ASSIGNMENTS, Course, source_notebook
from autograder.grading.reference import read_all_cases
from autograder.notebook_code import load_namespace
from conftest import ASSIGNMENT, ROOT


@pytest.fixture(scope="module")
def ref():
    return load_namespace(source_notebook(ROOT, ASSIGNMENT))


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


def test_wrong_values_are_counted_not_shown(capsys):
    def conv_single_step(a_slice_prev, W, b):
        return np.sum(a_slice_prev * W) - 1.0

    assert run_hidden_cases("conv_single_step", {"conv_single_step": conv_single_step}) == 0
    out = capsys.readouterr().out
    assert "wrong at 1 of 1 positions" in out
    for case in read_all_cases(Course.repository(ROOT).reference_file(ASSIGNMENT))["conv_single_step"][1:]:
        assert f"{float(case.expected[0]):.3f}"[:-1] not in out  # no hidden reference value, even rounded
        assert f"{float(conv_single_step(**case.inputs)):.3f}"[:-1] not in out


def test_a_tuple_of_the_wrong_length_is_named(ref, capsys):
    def conv_backward(dZ, cache):
        return ref["conv_backward"](dZ, cache)[:2]

    assert run_hidden_cases("conv_backward", {"conv_backward": conv_backward}) == 0
    assert "should return (dA_prev, dW, db), a tuple of 3" in capsys.readouterr().out


def test_check_names_the_output_that_is_wrong(ref, capsys):
    def conv_backward(dZ, cache):
        dA_prev, dW, db = ref["conv_backward"](dZ, cache)
        return dA_prev, dW, 2 * db

    check(conv_backward)
    out = capsys.readouterr().out
    assert "case 1 (public case): `db` is wrong at 8 of 8 positions" in out and "output" not in out


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_output_of_several_has_a_name(assignment):
    """Feedback never says "output 2": an exercise that compares several outputs names each."""
    cases = read_all_cases(Course.repository(ROOT).reference_file(assignment))
    for ex in exercises(assignment):
        (count,) = {len(case.expected) for case in cases[ex.name]}
        if count > 1 or ex.output_names:
            assert len(ex.output_names) == count, ex.name


def test_check_prints_a_short_verdict(ref, capsys):
    check(ref["conv_forward"])
    assert capsys.readouterr().out.strip() == "✓ conv_forward: all 6 cases pass."


def test_check_says_not_implemented_kindly(capsys):
    def pool_forward(A_prev, hparameters, mode="max"):
        raise NotImplementedError()

    check(pool_forward)
    out = capsys.readouterr().out
    assert "not implemented yet" in out and "Traceback" not in out and len(out.splitlines()) == 1


def test_a_wrong_helper_is_not_charged_twice():
    namespace = load_namespace(source_notebook(ROOT, ASSIGNMENT))  # fresh: its functions see the change
    exec("def zero_pad(X, pad):\n    return X + 0.0\n", namespace)  # forgets to pad
    assert judge_in_namespace("zero_pad", namespace).score == 2.5  # only the pad-0 case
    verdict = judge_in_namespace("conv_forward", namespace)
    assert verdict.score == 20
    assert "right when it is given a correct zero_pad" in verdict.feedback()
