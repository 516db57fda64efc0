"""A submission's code, loaded into a learner process that survives its own crashes.

The cells run one at a time, each with a time limit. A cell that fails is recorded and the
next one runs. When the process dies or hangs (in a cell or a call), it is started again and
the cells are replayed, leaving out the ones that killed it, so the remaining exercises are
still graded. The whole submission has a wall-clock budget; once it is spent nothing more runs.
Everything the learner's process says is capped before it goes anywhere else.
"""

import re
import time

from ..problems import CallError, standard_error
from . import runner
from .sandbox import Isolation, LearnerProcessDied, LearnerTimeout, Limits, learner_process

MAX_ERROR_TYPE = 80


class LearnerSession:
    """cells: [(cell index, source)] of the submission, in notebook order; modules: {name: source}
    of the assignment's provided modules, importable by the cells. The process starts at once;
    close() ends it (also when starting failed part-way)."""

    def __init__(self, cells: list[tuple[int, str]], limits: Limits, kind: Isolation, modules: dict | None = None):
        self.cells, self.limits, self.kind, self.modules = cells, limits, kind, modules or {}
        self.sources = dict(cells)
        self.names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", "\n".join(self.sources.values())))
        self.cell_problems: dict[int, str] = {}  # cell index -> what went wrong, for feedback
        self.fatal_cells: set[int] = set()  # cells that killed or hung the process: never replayed
        self.restarts = 0
        self.process = None
        self.deadline = time.monotonic() + limits.submission_seconds
        self.out_of_time = False
        self.time_limited = False  # a cell or call ran out of time: on a busy machine, maybe not its fault
        try:
            self._start()
        except BaseException:  # a grader error while starting: the process must not outlive it
            self.close()
            raise

    def seconds_left(self, limit: float) -> float:
        return max(min(limit, self.deadline - time.monotonic()), 0.0)

    def _start(self) -> None:
        """Start a process and run every cell that has not proved fatal; start over after a fatal one."""
        while not self.broken:
            try:
                self.process = learner_process(self.limits, self.kind, self.modules)
                for name, source in self.modules.items():
                    self.process.request({"op": "module", "name": name, "source": source}, self.limits.cell_seconds)
            except (LearnerProcessDied, LearnerTimeout) as error:
                self.restarts = self.limits.max_restarts + 1  # the course's own set-up failed: give up
                self.cell_problems.setdefault(-1, f"the learner's process could not start ({error})")
                return
            for index, source in self.cells:
                if index in self.fatal_cells:
                    continue
                message = {"op": "run_cell", "index": index, "source": source}
                seconds = self.seconds_left(self.limits.cell_seconds)
                if seconds <= 0:
                    self.out_of_time = True
                    return
                try:
                    reply = self.process.request(message, seconds)
                except (LearnerProcessDied, LearnerTimeout) as error:
                    self.fatal_cells.add(index)
                    self.cell_problems[index] = describe_failure(error, seconds)
                    self.time_limited |= isinstance(error, LearnerTimeout)
                    self.process.stop()
                    self.out_of_time = self.seconds_left(1) <= 0
                    break
                if not reply.get("ok"):
                    error = self.learner_error(reply.get("error"))
                    self.cell_problems.setdefault(index, error_text(error))
                    if CallError.named(error["type"]) is CallError.TIME_LIMIT:
                        self.time_limited = True
                        self.fatal_cells.add(index)  # stopped in time, but not worth its wait again
            else:
                return

    @property
    def broken(self) -> bool:
        return self.restarts > self.limits.max_restarts or self.out_of_time

    def call(
        self,
        name: str,
        args: tuple,
        kwargs: dict,
        helpers: dict[str, dict] | None = None,
        reply_bytes: int | None = None,
    ) -> dict:
        """Call the learner's function; the reply's result is decoded to plain data.

        helpers: {helper name: its sealed recorded answers (runner.seal)}, sent along for the
        learner's stand-in helpers.
        Returns {"ok": True, "result": value, "seconds": ..., "globals_used": [...]} or
        {"ok": False, "error": {"type", "message", "line"}}, every text in it capped.
        """
        return self.call_many([(name, args, kwargs, reply_bytes)], helpers)[0]

    def call_many(
        self, calls: list[tuple[str, tuple, dict, int | None]], helpers: dict | None = None, stop_at_fatal: bool = False
    ) -> list[dict]:
        """Call the learner's functions, [(name, args, kwargs, reply_bytes)], sent at once (one
        exchange, not one per call); their replies as call() gives them, in order.

        stop_at_fatal: after a call that runs out of time or ends the process, the others are not
        run (as the judge gives up an exercise's other cases); otherwise the process is started
        again if it must be, and the others go on.
        """
        replies = []
        while len(replies) < len(calls):
            rest = calls[len(replies) :]
            if self.out_of_time or self.seconds_left(1) <= 0:
                self.out_of_time = True
                budget = self.limits.submission_seconds
                return replies + not_run(f"not run: the submission used up its time budget of {budget:g} s", rest)
            if self.broken:
                return replies + not_run("not run: the learner's process had to be restarted too often", rest)
            messages = [
                {
                    "op": "call",
                    "name": name,
                    "args": runner.encode(args),
                    "kwargs": runner.encode(kwargs),
                    "helpers": helpers or {},
                }
                for name, args, kwargs, _ in rest
            ]
            seconds = self.seconds_left(self.limits.call_seconds)
            caps = [reply_bytes for *_, reply_bytes in rest]
            answers = self.process.replies(messages, seconds, caps, stop_at_fatal, self.deadline)
            try:
                for (name, *_), reply in zip(rest, answers):
                    replies.append(self.read_reply(name, reply))
                fatal = len(replies) < len(calls)  # the learner's process stopped after a time limit
            except (LearnerProcessDied, LearnerTimeout) as error:
                self.time_limited |= isinstance(error, LearnerTimeout)
                self.restarts += 1
                self.out_of_time = self.seconds_left(1) <= 0
                if not self.broken:
                    self._start()
                kind = CallError.TIME_LIMIT if isinstance(error, LearnerTimeout) else CallError.PROCESS_DIED
                replies.append(kind.reply(describe_failure(error, seconds)))
                fatal = True
            if fatal and stop_at_fatal:
                message = "not run: an earlier case of this exercise ran out of time or ended the process"
                return replies + not_run(message, calls[len(replies) :])
        return replies

    def read_reply(self, name: str, reply: dict) -> dict:
        """A call's reply from the learner's process as call() returns it: capped, decoded, checked."""
        if not reply.get("ok"):
            error = standard_error(self.learner_error(reply.get("error")), name)
            return {"ok": False, "error": error, "globals_used": self.source_names(reply.get("globals_used"))}
        try:
            result = runner.decode(reply.get("result"))
        except Exception as error:  # whatever the learner's process sent, it is its own problem
            return CallError.BAD_REPLY.reply(f"its result could not be read as plain data ({type(error).__name__})")
        return {
            "ok": True,
            "result": result,
            "seconds": reply["seconds"],
            "globals_used": self.source_names(reply.get("globals_used")),
        }

    def learner_error(self, error: object) -> dict:
        """An error description from the learner's process, made safe to show: every field a short
        string, the line read from the grader's own copy of the cells (the learner's code can
        rewrite what Python reports), and a NameError's name only if the learner's code has it."""
        error = capped_error(error)
        error["line"] = self.source_line(error["line"])
        if error["type"] == "NameError":
            match = re.fullmatch(r"name '(\w+)' is not defined", error["message"])
            if not match or match[1] not in self.names:
                error["message"] = "a name is not defined"
        return error

    def source_line(self, line: str | None) -> str | None:
        """'cell N, line L: code' with the code taken from the cell as the grader sent it."""
        match = re.match(r"cell (\d+), line (\d+):", line or "")
        lines = self.sources.get(int(match[1]), "").splitlines() if match else []
        if not match or not 1 <= int(match[2]) <= len(lines):
            return None
        return f"cell {match[1]}, line {match[2]}: {lines[int(match[2]) - 1].strip()}"[: runner.MAX_LINE]

    def source_names(self, names: object) -> list[str]:
        """The notebook variables a function read (three at most), only names the learner's code has."""
        return [n for n in names if isinstance(n, str) and n in self.names][:3] if isinstance(names, list) else []

    def close(self) -> None:
        if self.process is not None:
            self.process.stop()


def not_run(message: str, calls: list) -> list[dict]:
    return [CallError.NOT_RUN.reply(message) for _ in calls]


def capped_error(error: object) -> dict:
    """A runner error description with every field a short string (or None), whatever was sent."""
    error = error if isinstance(error, dict) else {}

    def text(value: object, limit: int) -> str | None:
        return value[:limit] if isinstance(value, str) else None

    return {
        "type": text(error.get("type"), MAX_ERROR_TYPE) or "Error",
        "message": text(error.get("message"), runner.MAX_TEXT) or "",
        "line": text(error.get("line"), runner.MAX_LINE),
    }


def describe_failure(error: Exception, seconds: float) -> str:
    if isinstance(error, LearnerTimeout):
        return f"did not finish within the time limit of {seconds:g} s"
    return f"ended the learner's process ({error})"


def error_text(error: dict) -> str:
    """'Type: message (cell N, line L: code)' from a capped runner error description."""
    text = f"{error['type']}: {error['message']}"
    return text + (f" ({error['line']})" if error["line"] else "")
