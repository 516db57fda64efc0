"""Judging: a learner's replies against the reference, case by case, with partial credit.

The judge never runs learner code itself. It is given `call(name, args, kwargs, helpers,
reply_bytes)`, which returns the runner's reply as plain data: in the isolated grader that goes to the
sandboxed process, in check() to the learner's own kernel. Feedback says what is wrong (an
exception and its line, a wrong form, type or shape, how many values differ) and names a
known mistake when it recognises one, but never shows a hidden input or a reference value:
on a hidden case an exception is reported by its type and the learner's line only, since its
message is text the learner's code chose and may hold the hidden inputs it was called with.
Whatever a reply holds, judging it cannot fail: an error while judging a case is that case's
verdict.
"""

import builtins
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..assignments import Exercise, WrongReturn, WrongShape
from ..hints import Hint, diagnose
from ..problems import CallError, Problem, ProblemKind
from .reference import Case
from .runner import Unsupported

RTOL = 1e-6
BUILTIN_EXCEPTIONS = {
    name for name, value in vars(builtins).items() if isinstance(value, type) and issubclass(value, BaseException)
}
#: call(name, args, kwargs, helpers, reply_bytes) -> reply (see above); helpers: {helper: its sealed answers} or None.
Call = Callable[[str, tuple, dict, dict | None, int | None], dict]
#: call_many([(name, args, kwargs, reply_bytes)], helpers, stop_at_fatal) -> replies (see LearnerSession.call_many).
CallMany = Callable[[list[tuple[str, tuple, dict, int | None]], dict | None, bool], list[dict]]


@dataclass
class CaseVerdict:
    case: Case
    part: str | None
    reply: dict
    problem: Problem | None  # None: the case passes
    fixed_by: tuple = ()  # wrong helpers whose recorded reference answers made it pass

    @property
    def passed(self) -> bool:
        return self.problem is None

    @property
    def label(self) -> str:
        return "public case" if is_public(self.case) else "hidden case"


def is_public(case: Case) -> bool:
    return case.name.startswith("public")


def is_timed(case: Case) -> bool:
    """A large case whose point is a time allowance (assignment 2's fast layers)."""
    return bool(case.inputs.get("seconds_allowed"))


@dataclass
class PartScore:
    name: str
    score: float
    max_score: float
    feedback: str
    problems: list[str] = field(default_factory=list)  # ProblemKind names of its failing cases, sorted
    hints: list[str] = field(default_factory=list)  # ids of the hints its feedback shows


@dataclass
class ExerciseVerdict:
    exercise: Exercise
    cases: list[CaseVerdict]
    hints: list[Hint] = field(default_factory=list)

    @property
    def score(self) -> float:
        return round(sum(part.score for part in self.parts()), 2)

    def parts(self) -> list[PartScore]:
        """One score per graded part (e.g. max and average pooling); points shared by case count."""
        names = list(dict.fromkeys(verdict.part for verdict in self.cases))
        points_per_case = self.exercise.points / len(self.cases)
        parts = []
        for name in names:
            verdicts = [verdict for verdict in self.cases if verdict.part == name]
            passed = sum(verdict.passed for verdict in verdicts)
            parts.append(
                PartScore(
                    name,
                    round(passed * points_per_case, 2),
                    round(len(verdicts) * points_per_case, 2),
                    self.feedback(verdicts),
                    self.problems(verdicts),
                    [hint.id for hint in self.hints] if passed < len(verdicts) else [],
                )
            )
        return parts

    @staticmethod
    def problems(verdicts: list[CaseVerdict]) -> list[str]:
        """The kinds of problem (ProblemKind names) among `verdicts`' failing cases, sorted."""
        return sorted({verdict.problem.kind.name for verdict in verdicts if not verdict.passed})

    def feedback(self, verdicts: list[CaseVerdict] | None = None) -> str:
        verdicts = self.cases if verdicts is None else verdicts
        passed = sum(verdict.passed for verdict in verdicts)
        lines = [f"{passed} of {len(verdicts)} cases pass."]
        failing = [(number, verdict) for number, verdict in enumerate(verdicts, 1) if not verdict.passed]
        if len(failing) > 1 and len({verdict.problem for _, verdict in failing}) == 1:
            lines.append(
                f"  {'every case' if not passed else 'cases ' + ', '.join(str(n) for n, _ in failing)}: "
                f"{failing[0][1].problem}"
            )
        else:
            lines += [f"  case {number} ({verdict.label}): {verdict.problem}" for number, verdict in failing]
        fixed = sorted({helper for verdict in verdicts for helper in verdict.fixed_by})
        if fixed:
            names = " and ".join(fixed)
            lines.append(
                f"Your {self.exercise.name} is right when it is given a correct {names}: "
                f"those cases count as passed here; fix {names} to make the notebook work."
            )
        lines += [f"Hint: {hint.text}" for hint in self.hints if any(not v.passed for v in verdicts)]
        return "\n".join(lines)


def compare_output(yours: object, expected: np.ndarray, label: str, public: bool = True) -> Problem | None:
    """None when `yours` matches `expected`; otherwise what differs.

    On a hidden case (public False) nothing of the case is shown, its expected shape included,
    and nothing the learner's code chose is echoed: not its type's name, its shape or dtype, nor
    the exact count of wrong values (each could carry hidden inputs).
    """
    if isinstance(yours, Unsupported) or not isinstance(yours, (np.ndarray, int, float, bool, list, tuple)):
        kind = yours.kind if isinstance(yours, Unsupported) else type(yours).__name__
        what = f"a {kind}, not" if public else "not"
        return Problem(ProblemKind.WRONG_TYPE, f"{label} is {what} a number or an array")
    try:
        yours = np.asarray(yours)
    except Exception:
        return Problem(ProblemKind.WRONG_TYPE, f"{label} cannot be read as an array")
    if yours.shape != expected.shape:
        if not public:
            return Problem(ProblemKind.WRONG_SHAPE, f"{label} has the wrong shape (this case's shapes are hidden)")
        want = "a scalar" if expected.shape == () else f"shape {expected.shape}"
        return Problem(ProblemKind.WRONG_SHAPE, f"{label} has shape {yours.shape}; expected {want}")
    if expected.dtype == bool:
        if yours.dtype != bool:
            got = f"has dtype {yours.dtype}" if public else "is not boolean"
            return Problem(ProblemKind.WRONG_DTYPE, f"{label} {got}; expected a boolean array (True/False)")
        wrong = int(np.sum(yours != expected))
    else:
        if yours.dtype.kind not in "biuf":
            got = f"has dtype {yours.dtype}" if public else "is not made of real numbers"
            return Problem(ProblemKind.WRONG_DTYPE, f"{label} {got}; expected real numbers")
        if np.isnan(yours.astype(float)).any():
            return Problem(ProblemKind.NAN, f"{label} contains NaN")
        scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
        wrong = int(np.sum(~np.isclose(yours.astype(float), expected, rtol=RTOL, atol=1e-9 * scale)))
    if wrong:
        return Problem(ProblemKind.WRONG_VALUES, f"{label} is wrong at {how_many(wrong, expected.size, public)}")
    return None


def how_many(wrong: int, size: int, exact: bool) -> str:
    """'3 of 40 positions', or on a hidden case only roughly: 'every position', 'most positions', ..."""
    if exact:
        return f"{wrong} of {size} positions"
    if wrong == size:
        return "every position"
    if wrong * 2 > size:
        return "most positions"
    return "some positions" if wrong * 10 > size else "a few positions"


def reply_problem(ex: Exercise, case: Case, reply: dict) -> Problem | None:
    """None when the reply is right for this case, else what is wrong with it."""
    try:
        return judge_reply(ex, case, reply)
    except Exception as error:  # a result of a shape no check foresaw: the learner's problem, not the batch's
        return Problem(
            ProblemKind.UNJUDGEABLE,
            f"the result could not be judged ({type(error).__name__}): check its form against the docstring",
        )


def judge_reply(ex: Exercise, case: Case, reply: dict) -> Problem | None:
    if not reply.get("ok"):
        error = reply.get("error") or {}
        name, message, line = error.get("type"), error.get("message", ""), error.get("line")
        kind = CallError.named(name)
        if kind is not None:  # in the grader's own words (problems.standard_error), or with its details
            return Problem(kind.problem, message or kind.wording)
        if is_public(case):
            said = f"raised {name}: {message}" if message else f"raised {name}"
        else:  # the learner's code chose the message, and the name of its own exception classes
            said = f"raised {name}" if name in BUILTIN_EXCEPTIONS else "raised an exception of its own class"
        return Problem(ProblemKind.RAISED, said + (f" — at {line}" if line else ""))
    allowed, seconds = case.inputs.get("seconds_allowed"), reply.get("seconds") or 0.0
    if allowed and seconds > allowed:
        return Problem(
            ProblemKind.TOO_SLOW,
            f"took {seconds:.2f} s on a large case that must finish within {allowed:g} s: loops over "
            "every position are too slow here, use whole-array operations",
        )
    try:
        outputs = ex.outputs(reply.get("result"), case.inputs)
    except WrongShape as error:
        return Problem(ProblemKind.WRONG_SHAPE, str(error))
    except WrongReturn as error:
        return Problem(ProblemKind.WRONG_FORM, str(error))
    for yours, expected, label in zip(outputs, case.expected, output_labels(ex, len(case.expected))):
        problem = compare_output(yours, expected, label, is_public(case))
        if problem:
            return problem
    return None


def output_labels(ex: Exercise, count: int) -> list[str]:
    """What feedback calls each of the `count` compared outputs: their names, else "the result"."""
    if len(ex.output_names) == count:
        return [f"`{name}`" for name in ex.output_names]
    return ["the result"] if count == 1 else [f"output {k + 1}" for k in range(count)]


# Failures after which an exercise's other cases are not run.
FATAL = tuple(kind.problem for kind in CallError if kind.ends_exercise)


def judge_exercise(
    ex: Exercise,
    cases: list[Case],
    call: Call,
    wrong_helpers: frozenset[str] = frozenset(),
    made: dict[str, dict] | None = None,
) -> ExerciseVerdict:
    """Run and judge every case of one exercise.

    call(name, args, kwargs, helpers, reply_bytes) -> reply. wrong_helpers: helper exercises the
    learner got wrong; a case that fails is run again with their recorded reference answers and
    counts as passed if it then passes (no double penalty). Only what a call returns is evidence:
    a retry that fails, however it fails (HelperNotRecorded included, which the learner's code can
    raise as well as the stand-in can), leaves the case failed. made: {case name: reply} of the
    calls already made (see judge_assignment).
    """
    verdicts, given_up, helpers_first = [], False, False
    helpers = tuple(helper for helper in ex.helpers if helper in wrong_helpers)
    for case in cases:
        part = ex.part(case.inputs) if ex.part else None
        if given_up:
            verdicts.append(
                CaseVerdict(
                    case,
                    part,
                    {"ok": False},
                    Problem(
                        ProblemKind.NOT_RUN,
                        "not run: an earlier case of this exercise ran out of time or ended the process",
                    ),
                )
            )
            continue
        args, kwargs = ex.arguments(case.inputs)
        if made and case.name in made and not helpers_first:
            reply = made[case.name]
        else:
            reply = call(ex.name, args, kwargs, case.sealed(helpers) if helpers_first else None, ex.reply_bytes)
        verdict = CaseVerdict(case, part, reply, reply_problem(ex, case, reply))
        if verdict.passed and helpers_first:
            verdict.fixed_by = helpers
        kind = verdict.problem.kind if verdict.problem else None
        fatal = kind in FATAL
        if not verdict.passed and helpers and not helpers_first and kind is not ProblemKind.MISSING:
            retry = call(ex.name, args, kwargs, case.sealed(helpers), ex.reply_bytes)
            retry_problem = reply_problem(ex, case, retry)
            if retry_problem is None:
                verdict.problem, verdict.fixed_by = None, helpers
                # A helper that hangs or ends the process would cost that on every case: skip it from now on.
                helpers_first = fatal
            elif CallError.of(retry) is not CallError.HELPER_NOT_RECORDED:
                # Wrong even with correct helpers: its feedback and hints are about its own mistake.
                verdict = CaseVerdict(case, part, retry, retry_problem)
        given_up = not verdict.passed and fatal
        verdicts.append(verdict)
    return ExerciseVerdict(ex, verdicts, diagnose(ex, verdicts))


def judge_assignment(
    exercises: list[Exercise],
    cases: dict[str, list[Case]],
    call: Call,
    judged_helpers: list[Exercise] = (),
    call_many: CallMany | None = None,
    known_wrong: frozenset[str] = frozenset(),
) -> list[ExerciseVerdict]:
    """Judge every exercise in order; helpers are judged before the exercises that use them, and a
    helper that is wrong (or right only with stand-ins of its own) is stood in for by the
    reference's answers when a later exercise's case fails (see judge_exercise).

    judged_helpers: functions without points, judged first only to know whether they are wrong;
    their verdicts are not returned. Every function's public cases are called first, before the
    learner's process has seen any hidden input: their feedback may quote the learner's exception
    messages, which could otherwise repeat hidden inputs an earlier exercise was called with.
    call_many (the isolated grader's): calls several cases in one exchange with the learner's
    process: all public cases, then each exercise's hidden ones (a large timing case alone).
    known_wrong: helpers already known to be wrong without judging them here (check.py remembers).
    """
    judged, graded = [*judged_helpers, *exercises], {ex.name for ex in exercises}
    made = {ex.name: {} for ex in judged}

    def first_runs(chosen: list[tuple[Exercise, Case]], stop_at_fatal: bool) -> None:
        calls = [(ex.name, *ex.arguments(case.inputs), ex.reply_bytes) for ex, case in chosen]
        if call_many:
            replies = call_many(calls, None, stop_at_fatal)
        else:
            replies = [call(name, args, kwargs, None, reply_bytes) for name, args, kwargs, reply_bytes in calls]
        for (ex, case), reply in zip(chosen, replies):
            made[ex.name][case.name] = reply

    first_runs([(ex, case) for ex in judged for case in cases[ex.name] if is_public(case)], False)
    results, wrong = [], set(known_wrong)
    for ex in judged:
        if call_many and not any(ends_exercise(reply) for reply in made[ex.name].values()):
            hidden = [(ex, case) for case in cases[ex.name] if not is_public(case) and not is_timed(case)]
            first_runs(hidden, True)
        verdict = judge_exercise(ex, cases[ex.name], call, frozenset(wrong), made[ex.name])
        # Stood in for in later exercises: a function that failed, and one that passed only with
        # stand-ins for its own helpers (inside a later exercise it would call the learner's wrong
        # helper: a correct pool_backward_fast given a wrong pool_forward_fast).
        if not all(case.passed and not case.fixed_by for case in verdict.cases):
            wrong.add(ex.name)
        if ex.name in graded:
            results.append(verdict)
    return results


def ends_exercise(reply: dict) -> bool:
    """A reply after which judge_exercise runs none of the exercise's other cases."""
    kind = CallError.of(reply)
    return kind is not None and kind.ends_exercise
