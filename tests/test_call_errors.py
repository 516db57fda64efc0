"""The grader's own error kinds (problems.CallError): one table, which the learner's side keeps to,
and whose names a learner's exception cannot borrow to choose its feedback or to earn points."""

import re
from pathlib import Path

import nbformat
import pytest

from autograder.check import run_hidden_cases
from autograder.course import Course, source_notebook
from autograder.grading import runner
from autograder.grading.grade import grade_notebook
from autograder.problems import CallError
from conftest import ASSIGNMENT, ROOT


def test_the_learner_side_reports_only_kinds_of_the_table():
    text = Path(runner.__file__).read_text()
    written = set(re.findall(r'"type": "(\w+)"', text)) | set(re.findall(r'get\("type"\) == "(\w+)"', text))
    assert written == {"Missing", "TimeLimit"}
    for name in written | {runner.TimeLimit.__name__, runner.HelperNotRecorded.__name__}:
        assert CallError.named(name) is not None, name
    missing = runner.call_function({}, "zero_pad", (), {}, {})
    assert CallError.of(missing) is CallError.MISSING
    assert missing["error"]["message"] == CallError.MISSING.wording.format(name="zero_pad")


def test_each_kind_is_a_problem_of_its_own_and_only_a_lost_process_ends_an_exercise():
    assert len({kind.problem for kind in CallError}) == len(CallError)
    assert {kind for kind in CallError if kind.ends_exercise} == {CallError.TIME_LIMIT, CallError.PROCESS_DIED}
    assert CallError.of({"ok": True, "result": 1}) is None
    assert CallError.of({"ok": False, "error": {"type": "ValueError"}}) is None
    assert CallError.of({"ok": False, "error": "TimeLimit"}) is None  # not a description: the learner's own


def impostor(kind: CallError) -> str:
    """zero_pad raising an exception class of the kind's name, whose message tells a hidden input."""
    return (
        f"class {kind.type_name}(Exception):\n    pass\n"
        f"def zero_pad(X, pad):\n    raise {kind.type_name}('LEAKED shape ' + repr(X.shape))\n"
    )


@pytest.mark.parametrize("kind", list(CallError), ids=lambda kind: kind.type_name)
def test_in_check_an_exception_named_like_a_grader_kind_gets_the_graders_words_and_no_points(kind, capsys):
    namespace = {}
    exec(impostor(kind), namespace)
    assert run_hidden_cases("zero_pad", namespace) == 0
    out = capsys.readouterr().out
    assert "LEAKED" not in out
    assert kind.wording.format(name="zero_pad") in out


# The other exercises are graded on: conv_forward and conv_backward, which call zero_pad, are run
# again with the reference's answers for it, except after "Missing", which says that the function
# called is not defined at all (then nothing stands in for it: 45 more points lost).
@pytest.mark.parametrize(
    "kind,total", [(CallError.TIME_LIMIT, 90), (CallError.HELPER_NOT_RECORDED, 90), (CallError.MISSING, 55)]
)
def test_in_the_isolated_grader_likewise(kind, total, tmp_path):
    notebook = nbformat.read(str(source_notebook(ROOT, ASSIGNMENT)), as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(impostor(kind)))
    path = tmp_path / "impostor.ipynb"
    nbformat.write(notebook, str(path))
    results = grade_notebook(path, Course.repository(ROOT), ASSIGNMENT)
    zero_pad = next(test for test in results.tests if test.exercise == "zero_pad")
    assert zero_pad.score == 0
    assert "LEAKED" not in results.output + "".join(test.output for test in results.tests)
    assert kind.wording.format(name="zero_pad") in zero_pad.output
    assert kind.problem.name in zero_pad.problems
    assert results.score == total
