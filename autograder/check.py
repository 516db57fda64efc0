"""Checking in the learner's own kernel: check(fn) in the self-study notebook, and the hidden
part of the source notebook's grade cells. Same cases, judge and hints as the isolated grader;
no isolation (the learner is only checking their own work)."""

import weakref
from collections.abc import Callable

from .assignments import Exercise, exercise, judged_functions
from .course import ASSIGNMENTS, Course
from .grading import runner
from .grading.judge import Call, ExerciseVerdict, is_timed, judge_assignment
from .grading.reference import read_all_cases
from .problems import ProblemKind, standard_error


def in_process_call(namespace: dict) -> Call:
    """A judge `call` that runs functions from `namespace` here, with the grader's plain-data round trip."""

    def call(name: str, args: tuple, kwargs: dict, helpers: dict | None, reply_bytes: int | None = None) -> dict:
        lookups = {helper: runner.sealed_lookup(helper, table) for helper, table in (helpers or {}).items()}
        reply = runner.call_function(namespace, name, args, kwargs, lookups)
        if reply["ok"]:
            reply["result"] = runner.decode(runner.encode(reply["result"]))
        else:  # as the isolated grader words it (session.read_reply)
            reply["error"] = standard_error(reply["error"], name)
        return reply

    return call


def find_exercise(name: str) -> tuple[str, Exercise]:
    for assignment in ASSIGNMENTS:
        if name in {ex.name for ex in judged_functions(assignment)}:
            return assignment, exercise(assignment, name)
    raise ValueError(f"{name!r} is not a graded function of this course")


# Whether a function passed every case of its exercise on its own (no stand-ins for its helpers),
# for as long as that function object lives.
# Only the grade cells use it: they run once, in order, so train_step's cell need not judge again
# the layers their own cells just judged. check() judges afresh, as a learner may have changed a
# function's helpers since.
PASSED: "weakref.WeakKeyDictionary[Callable, bool]" = weakref.WeakKeyDictionary()


def judge_in_namespace(name: str, namespace: dict, reuse: bool = False) -> ExerciseVerdict:
    """Judge namespace[name] on every case as the isolated grader does (judge_assignment): its
    helpers first, in the assignment's order, and a helper that fails makes a failed case run again
    with the reference's answers for it. Only helpers the namespace defines are judged.

    reuse: take a helper's verdict from PASSED when there is one, and keep this one there.
    """
    assignment, ex = find_exercise(name)
    cases = read_all_cases(Course.repository().reference_file(assignment))
    helpers = [h for h in judged_functions(assignment) if h.name in ex.helpers and h.name in namespace]
    known = {h.name: remembered(namespace[h.name]) if reuse else None for h in helpers}
    unknown = [h for h in helpers if known[h.name] is None]
    # Wrong values are what matters of a helper here: a slow helper's large case is not run.
    quick = {h.name: [case for case in cases[h.name] if not is_timed(case)] for h in unknown}
    known_wrong = frozenset(helper for helper, passed in known.items() if passed is False)
    call = in_process_call(namespace)
    (verdict,) = judge_assignment([ex], {**cases, **quick}, call, unknown, known_wrong=known_wrong)
    if reuse:
        remember(namespace.get(name), all(case.passed and not case.fixed_by for case in verdict.cases))
    return verdict


def remembered(fn: object) -> bool | None:
    try:
        return PASSED.get(fn)
    except TypeError:  # not something a weak reference can point to
        return None


def remember(fn: object, passed: bool) -> None:
    try:
        PASSED[fn] = passed
    except TypeError:
        pass


def check(fn: Callable) -> None:
    """Print a short verdict for one of your functions: check(conv_forward)."""
    name = getattr(fn, "__name__", None)
    # The function's own globals, so that a wrong helper can be swapped where it looks it up.
    namespace = getattr(fn, "__globals__", {})
    if namespace.get(name) is not fn:
        namespace = {**namespace, name: fn}
    verdict = judge_in_namespace(name, namespace)
    total = len(verdict.cases)
    passed = sum(case.passed for case in verdict.cases)
    if passed == total and not any(case.fixed_by for case in verdict.cases):
        print(f"✓ {name}: all {total} cases pass.")
        return
    if all(case.problem and case.problem.kind is ProblemKind.NOT_IMPLEMENTED for case in verdict.cases):
        print(f"… {name} is not implemented yet: write it in its cell above, run that cell, then run this one.")
        return
    print(f"✗ {name}: {verdict.feedback()}")


def run_hidden_cases(name: str, namespace: dict) -> float:
    """The hidden part of a grade cell: print the verdict, return the points (nbgrader's partial credit)."""
    verdict = judge_in_namespace(name, namespace, reuse=True)
    print(f"{name}: {verdict.feedback()}")
    return verdict.score
