"""A submission's code, loaded into a learner process that survives its own crashes.

The cells run one at a time, each with a time limit. A cell that fails is recorded and the
next one runs. When the process dies or hangs (in a cell or a call), it is started again and
the cells are replayed, leaving out the ones that killed it, so the remaining exercises are
still graded.
"""
from . import runner
from .sandbox import Limits, LearnerProcess, LearnerProcessDied, LearnerTimeout


class LearnerSession:
    """cells: [(cell index, source)] of the submission, in notebook order; modules: {name: source}
    of the assignment's provided modules, importable by the cells."""

    def __init__(self, cells: list[tuple[int, str]], limits: Limits = Limits(), modules: dict | None = None):
        self.cells, self.limits, self.modules = cells, limits, modules or {}
        self.cell_problems: dict[int, str] = {}  # cell index -> what went wrong, for feedback
        self.fatal_cells: set[int] = set()  # cells that killed or hung the process: never replayed
        self.restarts = 0
        self.process = None
        self._start()

    def _start(self) -> None:
        """Start a process and run every cell that has not proved fatal; start over after a fatal one."""
        while True:
            self.process = LearnerProcess(self.limits)
            for name, source in self.modules.items():
                self.process.request({"op": "module", "name": name, "source": source}, self.limits.cell_seconds)
            for index, source in self.cells:
                if index in self.fatal_cells:
                    continue
                message = {"op": "run_cell", "index": index, "source": source}
                try:
                    reply = self.process.request(message, self.limits.cell_seconds)
                except (LearnerProcessDied, LearnerTimeout) as error:
                    self.fatal_cells.add(index)
                    self.cell_problems[index] = describe_failure(error, self.limits.cell_seconds)
                    self.process.stop()
                    break
                if not reply.get("ok"):
                    self.cell_problems.setdefault(index, error_text(reply.get("error")))
                    if reply.get("error", {}).get("type") == "TimeLimit":
                        self.fatal_cells.add(index)  # stopped in time, but not worth its wait again
            else:
                return

    @property
    def broken(self) -> bool:
        return self.restarts > self.limits.max_restarts

    def call(self, name: str, args, kwargs, helpers=None) -> dict:
        """Call the learner's function; the reply's result is decoded to plain data.

        Returns {"ok": True, "result": value, "globals_used": [...]} or {"ok": False, "error": {...}}.
        """
        if self.broken:
            return failure("NotRun", "not run: the learner's process had to be restarted too often")
        message = {"op": "call", "name": name, "args": runner.encode(args), "kwargs": runner.encode(kwargs),
                   "helpers": {h: {k: runner.encode(v) for k, v in answers.items()} for h, answers in (helpers or {}).items()}}
        try:
            reply = self.process.request(message, self.limits.call_seconds)
            if reply.get("ok"):
                reply["result"] = runner.decode(reply.get("result"))
            return reply
        except (LearnerProcessDied, LearnerTimeout) as error:
            self.restarts += 1
            if not self.broken:
                self._start()
            kind = "TimeLimit" if isinstance(error, LearnerTimeout) else "ProcessDied"
            return failure(kind, describe_failure(error, self.limits.call_seconds))
        except (ValueError, TypeError, KeyError, RecursionError) as error:
            return failure("BadReply", f"its result could not be read as plain data ({error})")

    def close(self) -> None:
        if self.process is not None:
            self.process.stop()


def failure(kind: str, message: str) -> dict:
    return {"ok": False, "error": {"type": kind, "message": message, "line": None}}


def describe_failure(error: Exception, seconds: float) -> str:
    if isinstance(error, LearnerTimeout):
        return f"did not finish within the time limit of {seconds:g} s"
    return f"ended the learner's process ({error})"


def error_text(error: dict | None) -> str:
    """'Type: message (cell N, line L: code)' from a runner error description."""
    error = error or {}
    text = f"{error.get('type', 'Error')}: {error.get('message', '')}"
    return text + (f" ({error['line']})" if error.get("line") else "")
