"""What can be wrong with one case's reply: a kind that code decides on, and a sentence for people.

The sentence never holds a hidden input or a reference value (see judge.py).
"""

import enum
from dataclasses import dataclass


class ProblemKind(enum.Enum):
    NOT_IMPLEMENTED = "the stub still raises NotImplementedError"
    MISSING = "the function is not defined"
    TIME_LIMIT = "the call ran out of time"
    PROCESS_DIED = "the call ended the learner's process"
    NOT_RUN = "the call was not made"
    BAD_REPLY = "the reply could not be read"
    HELPER_NOT_RECORDED = "a helper was called with arguments the reference never uses"
    RAISED = "the function raised an exception"
    TOO_SLOW = "the call took longer than the case allows"
    WRONG_FORM = "the result is not of the form the exercise asks for"
    WRONG_TYPE = "an output is not a number or an array"
    WRONG_SHAPE = "an output has the wrong shape"
    WRONG_DTYPE = "an output has the wrong dtype"
    NAN = "an output contains NaN"
    WRONG_VALUES = "an output has wrong values"
    UNJUDGEABLE = "the result could not be judged"


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    message: str

    def __str__(self) -> str:
        return self.message


class CallError(enum.Enum):
    """Why a call gave no result, as the grader itself reports it: the one table of the error types
    that the runner and the session put in a reply ({"ok": False, "error": {"type": ..., ...}}).

    Each member is (its name in a reply, the problem it is, the grader's own wording). Learner code
    can raise an exception of any of these names, so a reply from the learner's process or kernel
    gets the grader's wording (standard_error) and never chooses what feedback shows; a kind read
    from a learner's reply may cost points (a case failed, the exercise's other cases not run) but
    never earns any (see judge.judge_exercise). runner.py, which must stay self-contained inside
    the sandbox, writes "Missing" and "TimeLimit" literally; tests/test_call_errors.py holds it to this table.
    """

    NOT_IMPLEMENTED = (
        "NotImplementedError",
        ProblemKind.NOT_IMPLEMENTED,
        "not implemented yet (it raises NotImplementedError)",
    )
    MISSING = ("Missing", ProblemKind.MISSING, "{name} is not defined")
    TIME_LIMIT = ("TimeLimit", ProblemKind.TIME_LIMIT, "time limit exceeded")
    PROCESS_DIED = ("ProcessDied", ProblemKind.PROCESS_DIED, "ended the learner's process")
    NOT_RUN = ("NotRun", ProblemKind.NOT_RUN, "not run")
    BAD_REPLY = ("BadReply", ProblemKind.BAD_REPLY, "its reply could not be read")
    HELPER_NOT_RECORDED = (
        "HelperNotRecorded",
        ProblemKind.HELPER_NOT_RECORDED,
        "a helper was called with arguments the reference solution never uses",
    )

    def __init__(self, type_name: str, problem: ProblemKind, wording: str):
        self.type_name, self.problem, self.wording = type_name, problem, wording

    @property
    def ends_exercise(self) -> bool:
        """After such a failure the exercise's other cases are not run (the process was lost)."""
        return self in (CallError.TIME_LIMIT, CallError.PROCESS_DIED)

    @classmethod
    def named(cls, type_name: object) -> "CallError | None":
        """The member whose name in a reply is `type_name`, or None (an exception of the learner's own)."""
        return next((kind for kind in cls if kind.type_name == type_name), None)

    @classmethod
    def of(cls, reply: dict) -> "CallError | None":
        """The kind of a reply's error, or None (a success, or an exception of the learner's own)."""
        error = reply.get("error") if isinstance(reply, dict) else None
        return cls.named(error.get("type")) if isinstance(error, dict) else None

    def reply(self, message: str | None = None) -> dict:
        """A failed call's reply of this kind; message: the details, else the standard wording."""
        return {"ok": False, "error": {"type": self.type_name, "message": message or self.wording, "line": None}}


def standard_error(error: dict, name: str) -> dict:
    """A learner's error description (see session.capped_error) with the grader's own wording for a
    kind of this table; name: the function called."""
    kind = CallError.named(error.get("type"))
    return {**error, "message": kind.wording.format(name=name)} if kind else error
