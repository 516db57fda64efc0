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


# The error kinds the runner and the session report by name, and what they mean here. Learner code
# can raise an exception of any of these names: a kind read from one may cost points (a case
# failed, the exercise's other cases not run) but never earns any (see judge.judge_exercise).
ERROR_KINDS = {
    "NotImplementedError": ProblemKind.NOT_IMPLEMENTED,
    "Missing": ProblemKind.MISSING,
    "TimeLimit": ProblemKind.TIME_LIMIT,
    "ProcessDied": ProblemKind.PROCESS_DIED,
    "NotRun": ProblemKind.NOT_RUN,
    "BadReply": ProblemKind.BAD_REPLY,
    "HelperNotRecorded": ProblemKind.HELPER_NOT_RECORDED,
}
