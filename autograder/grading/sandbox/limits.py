"""What a learner's process may use (Limits) and how long the grader waits for it, and the two
ways a learner's process fails to answer (LearnerProcessDied, LearnerTimeout). Every other part of
the sandbox starts, waits and gives up by these."""

from dataclasses import dataclass

GRACE_SECONDS = 2.0  # beyond the learner's own time limit, before the process is killed
START_SECONDS = 30.0  # for Python and NumPy to start in the sandbox, even on a loaded machine
MEMORY_CHECK_SECONDS = 0.2


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 2 * 2**30  # all the learner's processes and its /tmp together
    cell_seconds: float = 10.0
    call_seconds: float = 10.0
    submission_seconds: float = 180.0  # wall time of one submission, restarts included
    max_restarts: int = 4
    processes: int = 64  # processes and threads of one learner process and its children
    file_bytes: int = 256 * 2**20  # the largest file the learner may write, and the size of its /tmp
    output_chars: int = 4000
    reply_bytes: int = 4 * 2**20  # the largest reply the grader reads (an exercise may allow more)

    def process_config(self) -> dict:
        """The limits a learner process is started with (the others are the grader's to keep)."""
        return {
            "memory_bytes": self.memory_bytes,
            "processes": self.processes,
            "file_bytes": self.file_bytes,
            "output_chars": self.output_chars,
        }


class LearnerProcessDied(Exception):
    """The learner's process ended (its own exit, a crash, a bad reply, or a limit)."""


class LearnerTimeout(Exception):
    """The learner's process did not answer within its time limit and was killed."""
