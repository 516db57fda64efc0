"""Hostile submissions: the isolated grader survives them, scores them exactly, and leaves nothing behind.

Every submission is built from the source notebook (or the release stubs), graded in ONE batch
run of `python -m autograder grade`, and then checked case by case against the table CASES.
"""
import csv
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import nbformat
import pytest

from autograder import paths
from autograder.assignments import exercises
from autograder.check import in_process_call
from autograder.judge import judge_assignment
from autograder.notebook_code import learner_code_cells
from autograder.reference import read_all_cases
from autograder.sandbox import NOBODY, isolation
from conftest import ASSIGNMENT, ROOT

SOURCE = paths.source_notebook(ROOT, ASSIGNMENT)
RELEASE = paths.release_dir(ROOT, ASSIGNMENT) / f"{ASSIGNMENT}.ipynb"
REFERENCE_H5 = paths.reference_file(ROOT, ASSIGNMENT)
POINTS = {ex.name: ex.points for ex in exercises(ASSIGNMENT)}
SOURCE_CELLS = nbformat.read(str(SOURCE), as_version=4).cells
FIRST_EXTRA = len(SOURCE_CELLS)
SOLUTION_INDEX = {cell.metadata.get("nbgrader", {}).get("grade_id"): index for index, cell in enumerate(SOURCE_CELLS)}

NONCE = f"{secrets.randbelow(10**8):08d}"  # digits only: it also goes into `sleep 300.<NONCE>`
PWNED = Path(f"/tmp/PWNED_{NONCE}")
LEAK = Path(f"/tmp/leak_{NONCE}")
HOST_MARKER = Path(f"/tmp/hostile_marker_{NONCE}")
HACK = ROOT / "hack.txt"
DAEMON_NAME = f"hstl{NONCE}"
SANDBOXED = isolation() == "bubblewrap"
NEEDS_SANDBOX = "needs the bubblewrap sandbox (run as root with bwrap installed): without it this code would reach the host"


def solution_cell(notebook, name: str):
    """The cell whose nbgrader grade_id is `name`."""
    return next(cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == name)


def source(*extra: str, replace: dict | None = None):
    """A builder: the source notebook, solution cells replaced by name, plain code cells appended."""
    def build():
        notebook = nbformat.read(str(SOURCE), as_version=4)
        for name, text in (replace or {}).items():
            solution_cell(notebook, name).source = text
        notebook.cells += [nbformat.v4.new_code_cell(text) for text in extra]
        return notebook
    return build


def raw(text: str):
    """A builder for a file that is not a valid notebook."""
    return lambda: text


def wrap(name: str, before: str) -> str:
    """A cell that redefines `name` to run `before` (an indented block) and then the original."""
    return (f"_original_{name} = {name}\n"
            f"def {name}(*args, **kwargs):\n{before}\n"
            f"    return _original_{name}(*args, **kwargs)\n")


def release_stubs() -> dict:
    """The release notebook's NotImplementedError stubs, by function name."""
    notebook = nbformat.read(str(RELEASE), as_version=4)
    return {name: solution_cell(notebook, name).source for name in POINTS}


LOOP = "while True:\n    pass\n"
STUBBORN_LOOP = "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass\n"
ORPHANS = f"""import os, subprocess, time
sleeper = subprocess.Popen(["sleep", "300.{NONCE}"])
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        with open("/proc/self/comm", "w") as comm:
            comm.write("{DAEMON_NAME}")
        with open("/tmp/daemon.pid", "w") as pidfile:
            pidfile.write(str(os.getpid()))
        while True:
            time.sleep(1)
    os._exit(0)
os.wait()
for _ in range(100):
    if os.path.exists("/tmp/daemon.pid") and os.path.getsize("/tmp/daemon.pid"):
        break
    time.sleep(0.01)
os.kill(int(open("/tmp/daemon.pid").read()), 0)
assert sleeper.poll() is None
"""
SIGNALS = """import os, signal
for pid, sig in ((os.getppid(), signal.SIGKILL), (1, signal.SIGTERM), (-1, signal.SIGKILL)):
    try:
        os.kill(pid, sig)
    except OSError as error:
        print(error)
"""
PATCH_NUMPY = """import numpy as np
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.array_equal = lambda *a, **k: True
np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), dtype=bool)
""" + "".join(f"def {name}(*args, **kwargs):\n    return np.zeros(1)\n" for name in POINTS)
EVIL = f"""import os
class Evil:
    def __reduce__(self):
        return (os.system, ("touch {PWNED}",))
def conv_single_step(a_slice_prev, W, b):
    return Evil()
"""
FAKE = '{"score": 100, "output": "FAKE_RESULTS all tests passed", "tests": []}'
FAKE_OUTPUT = f"""import os, sys
print({FAKE!r})
os.write(1, {FAKE!r}.encode())
os.write(2, {FAKE!r}.encode())
sys.__stdout__.write({FAKE!r})
"""
FORGED_REPLY = """import os, struct
for fd in range(3, 10):
    try:
        os.write(fd, struct.pack(">I", 7) + b"garbage")
    except OSError:
        pass
"""
DISK_SEARCH = f"""import json, os, time
KNOWN = [{str(REFERENCE_H5)!r}, {str(SOURCE)!r}]
def _search(seconds=1.0):
    found, start = [path for path in KNOWN if os.path.exists(path)], time.monotonic()
    for top, dirs, files in os.walk("/"):
        dirs[:] = [d for d in dirs if d not in ("site-packages", "__pycache__")
                   and os.path.join(top, d) not in ("/proc", "/sys", "/dev", "/usr")]
        found += [os.path.join(top, f) for f in files if f == "conv_step_by_step.h5"
                  or (f == "conv_step_by_step.ipynb" and "/source/" in top + "/")]
        if time.monotonic() - start > seconds:
            return sorted(set(found)), False
    return sorted(set(found)), True
FOUND, COMPLETE = _search()
def _nothing():
    return LookupError(f"found {{FOUND}}, complete={{COMPLETE}}")
def _solutions():
    for path in FOUND:
        if path.endswith(".ipynb"):
            namespace = {{}}
            for cell in json.load(open(path))["cells"]:
                meta = cell["metadata"].get("nbgrader", {{}})
                if cell["cell_type"] == "code" and (meta.get("solution") or meta.get("grade_id") == "setup"):
                    exec("".join(cell["source"]), namespace)
            return namespace
    raise _nothing()
def _from_h5(name, first):
    import h5py, numpy as np
    for path in FOUND:
        if path.endswith(".h5"):
            with h5py.File(path, "r") as h5:
                for case in h5[name].values():
                    if any(np.shape(data) == np.shape(first) and np.array_equal(data[()], first)
                           for data in case["inputs"].values()):
                        return case["outputs"]["0"][()]
    raise _nothing()
def zero_pad(X, pad):
    return _from_h5("zero_pad", X)
def conv_single_step(a_slice_prev, W, b):
    return _from_h5("conv_single_step", a_slice_prev)
def create_mask_from_window(x):
    return _from_h5("create_mask_from_window", x)
""" + "".join(f"def {name}(*args, **kwargs):\n    return _solutions()[{name!r}](*args, **kwargs)\n"
              for name in ("conv_forward", "pool_forward", "conv_backward", "distribute_value", "pool_backward"))
TMP_WRITER = (wrap("zero_pad", f"    open({str(LEAK)!r}, 'w').write('secret')")
              + wrap("distribute_value", f"    assert open({str(LEAK)!r}).read() == 'secret'")
              + wrap("conv_single_step", f"    open({str(HACK)!r}, 'w').write('hacked')"))
TMP_READER = wrap("zero_pad", f"""    import os
    for path in ({str(LEAK)!r}, {str(HOST_MARKER)!r}):
        if os.path.exists(path):
            break
    else:
        raise FileNotFoundError("nothing shared in /tmp: " + repr(sorted(os.listdir("/tmp"))))""")
THREADS = """import threading
threading.Thread(target=lambda: [None for _ in iter(int, 1)], daemon=True).start()
""" + wrap("create_mask_from_window", """    if not globals().get("_spinner"):
        globals()["_spinner"] = threading.Thread(target=lambda: [None for _ in iter(int, 1)])
        globals()["_spinner"].start()""")
IGNORE_ALARM = """import signal
def pool_forward(A_prev, hparameters, mode="max"):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    while True:
        pass
"""
FORK_FLOOD = """import os, time
started = 0
for _ in range(200):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    started += 1
""" + wrap("distribute_value", """    if started >= 200:
        raise RuntimeError(f"started {started} processes")""")


@dataclass
class Case:
    """name: file stem; total: expected score; scores: exercises not at full marks (all 0 when
    total is 0); phrases: {exercise name, or "" for the overall output: texts it must contain}."""
    name: str
    build: Callable
    total: float
    scores: dict = field(default_factory=dict)
    phrases: dict = field(default_factory=dict)
    sandbox: bool = False


CELL = f"Cell {FIRST_EXTRA} failed"
CASES = [
    Case("loop_cell", source(LOOP), 100, phrases={"": [CELL, "TimeLimit", "while True"]}),
    Case("loop_cell_stubborn", source(STUBBORN_LOOP), 100,
         phrases={"": [CELL, "did not finish within the time limit of 2 s"]}),
    Case("loop_function", source(replace={"zero_pad": "def zero_pad(X, pad):\n    while True:\n        pass\n"}),
         90, {"zero_pad": 0}, {"zero_pad": ["time limit exceeded"]}),
    Case("exit_cell", source("import os\nos._exit(3)"), 100, phrases={"": [CELL, "exited with code 3"]}),
    Case("exit_function", source(wrap("distribute_value", "    import os\n    os._exit(3)")), 95,
         {"distribute_value": 0}, {"distribute_value": ["exited with code 3"]}),
    Case("sys_exit_cell", source("import sys\nsys.exit()"), 100, phrases={"": [CELL, "SystemExit"]}),
    Case("interrupt_cell", source("raise KeyboardInterrupt"), 100, phrases={"": [CELL, "KeyboardInterrupt"]}),
    Case("interrupt_function", source(wrap("conv_backward", "    raise KeyboardInterrupt")), 85,
         {"conv_backward": 0}, {"conv_backward": ["raised KeyboardInterrupt"]}),
    Case("memory_cell", source("x = bytearray(5 * 2**30)"), 100, phrases={"": [CELL, "MemoryError"]}),
    Case("memory_function", source(wrap("pool_backward", "    np.ones((50000, 50000))")), 80,
         {"pool_backward": 0}, {"pool_backward": ["raised MemoryError"]}),
    Case("orphans", source(ORPHANS), 100, phrases={"": ["100.0 of 100 points."]}, sandbox=True),
    Case("signals", source(SIGNALS, "import os, signal\nos.killpg(0, signal.SIGKILL)"), 100,
         phrases={"": [f"Cell {FIRST_EXTRA + 1} failed: ended the learner's process"]}, sandbox=True),
    Case("patched_numpy", source(PATCH_NUMPY), 0, phrases={"zero_pad": ["has shape (1,)"]}),
    Case("unpickle_payload", source(EVIL), 90, {"conv_single_step": 0},
         {"conv_single_step": ["is a Evil, not a number or an array"]}),
    Case("fake_output", source(FAKE_OUTPUT, replace=release_stubs()), 0,
         phrases={"zero_pad": ["not implemented yet"]}),
    Case("forged_reply", source(FORGED_REPLY), 100, phrases={"": [CELL]}),
    Case("disk_search", source(DISK_SEARCH), 0,
         phrases={name: ["found [], complete=True"] for name in POINTS}, sandbox=True),
    Case("big_print", source('print("x" * 50_000_000)', "for _ in range(200_000):\n    print('spam')",
                             'raise ValueError("y" * 10_000_000)'), 100,
         phrases={"": [f"Cell {FIRST_EXTRA + 2} failed: ValueError: yyy"]}),
    Case("wrong_types", source("""def zero_pad(X, pad):
    return "padded"
def conv_single_step(a_slice_prev, W, b):
    return {"Z": 1.0}
def conv_forward(A_prev, W, b, hparameters):
    return None
def distribute_value(dz, shape):
    return [["x"] * shape[1]] * shape[0]
"""), 55, {"zero_pad": 0, "conv_single_step": 0, "conv_forward": 0, "distribute_value": 0},
         {"zero_pad": ["the result is a str, not a number or an array"],
          "conv_single_step": ["the result is a dict"],
          "conv_forward": ["it returned a NoneType"],
          "distribute_value": ["expected real numbers"]}),
    Case("nan", source(wrap("zero_pad", "    return np.full(np.shape(_original_zero_pad(*args, **kwargs)), np.nan)")),
         90, {"zero_pad": 0}, {"zero_pad": ["contains NaN"]}),
    Case("syntax_error", source(replace={"pool_forward": "def pool_forward(A_prev, hparameters, mode='max'):\n    return ("}),
         85, {"pool_forward": 0}, {"": [f"Cell {SOLUTION_INDEX['pool_forward']} failed: SyntaxError"], "pool_forward": ["pool_forward is not defined"]}),
    Case("missing_function", source(replace={"create_mask_from_window": ""}), 95, {"create_mask_from_window": 0},
         {"create_mask_from_window": ["create_mask_from_window is not defined"]}),
    Case("invalid_json", raw('{"cells": ['), 0, phrases={"": ["not valid JSON"], "zero_pad": ["Not graded"]}),
    Case("empty_notebook", raw('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'), 0,
         phrases={"": ["no code cells"], "zero_pad": ["zero_pad is not defined"]}),
    Case("not_a_notebook", raw("[1, 2, 3]"), 0, phrases={"": ["JSON but not a Jupyter notebook"]}),
    Case("tmp_writer", source(TMP_WRITER), 90, {"conv_single_step": 0},
         {"conv_single_step": ["raised", "hack.txt"]}, sandbox=True),
    Case("tmp_reader", source(TMP_READER), 90, {"zero_pad": 0}, {"zero_pad": ["nothing shared in /tmp"]}, sandbox=True),
    Case("threads_and_alarm", source(THREADS, IGNORE_ALARM), 85, {"pool_forward": 0},
         {"pool_forward": ["did not finish within the time limit of 2 s"]}),
    Case("fork_flood", source(FORK_FLOOD), 100, sandbox=True),
]
GRADED = [case for case in CASES if SANDBOXED or not case.sandbox]


# Runs the grader as a child subreaper: any process the batch leaves behind is re-parented to
# it, so "left behind by this batch" is exact even while other graders run on this machine.
WRAPPER = r"""
import ctypes, json, os, subprocess, sys, time
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)
code = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL).returncode

def descendants():
    parents = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = open(f"/proc/{entry}/stat").read()
            cmd = open(f"/proc/{entry}/cmdline", "rb").read().replace(b"\0", b" ").decode()[:100]
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if state != "Z":
            parents[int(entry)] = (int(ppid), cmd)
    mine, grew = {os.getpid()}, True
    while grew:
        new = {pid for pid, (ppid, _) in parents.items() if ppid in mine} - mine
        mine |= new
        grew = bool(new)
    return [{"pid": pid, "cmd": parents[pid][1]} for pid in sorted(mine - {os.getpid()})]

deadline = time.monotonic() + 5
while True:
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass
    left = descendants()
    if not left or time.monotonic() > deadline:
        break
    time.sleep(0.1)
json.dump({"code": code, "left": left}, open(sys.argv[1], "w"))
"""


@dataclass
class Batch:
    results: Path
    code: int
    left: list  # processes of the batch still running after it ended: [{"pid", "cmd"}]
    began: float  # seconds since boot, as /proc reports process start times
    ended: float

    def result(self, name: str) -> dict:
        return json.loads((self.results / f"{name}.json").read_text())


@dataclass
class Process:
    pid: int
    uid: int
    comm: str
    argv: list
    start: float  # seconds since boot


def processes() -> list[Process]:
    """Every live (not zombie) process on the machine."""
    tick, found = os.sysconf("SC_CLK_TCK"), []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            status = (proc / "status").read_text()
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
        if fields[0] != "Z":
            found.append(Process(int(proc.name), uid, stat[stat.index("(") + 1:stat.rindex(")")], argv,
                                 int(fields[19]) / tick))
    return found


def write_submission(path: Path, built) -> None:
    """A built notebook, or raw text for the files that are not notebooks."""
    if isinstance(built, str):
        path.write_text(built)
    else:
        nbformat.write(built, str(path))


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    corpus, results = tmp_path_factory.mktemp("corpus"), tmp_path_factory.mktemp("results")
    for case in GRADED:
        write_submission(corpus / f"{case.name}.ipynb", case.build())
    HOST_MARKER.write_text("visible on the host")
    report = results.parent / f"processes_{NONCE}.json"
    began = time.clock_gettime(time.CLOCK_BOOTTIME)
    try:
        subprocess.run([sys.executable, "-c", WRAPPER, str(report),
                        sys.executable, "-m", "autograder", "grade", str(corpus), "--results-dir", str(results),
                        "--jobs", "2", "--cell-timeout", "2", "--call-timeout", "2", "--memory", "1"],
                       cwd=ROOT, timeout=300, check=True)
    finally:
        HOST_MARKER.unlink(missing_ok=True)
    outcome = json.loads(report.read_text())
    yield Batch(results, outcome["code"], outcome["left"], began, time.clock_gettime(time.CLOCK_BOOTTIME))
    for process in outcome["left"]:  # only what this batch started and failed to end
        try:
            os.kill(process["pid"], signal.SIGKILL)
        except OSError:
            pass


def exercise_outputs(result: dict) -> dict[str, str]:
    """{exercise: its parts' outputs joined, "": the overall output}."""
    outputs = {"": result["output"]}
    for test in result["tests"]:
        outputs[test["tags"][0]] = outputs.get(test["tags"][0], "") + test["output"] + "\n"
    return outputs


def exercise_scores(result: dict) -> dict[str, float]:
    scores = {}
    for test in result["tests"]:
        scores[test["tags"][0]] = round(scores.get(test["tags"][0], 0.0) + test["score"], 2)
    return scores


def independent_of(helper: str) -> list[str]:
    """The exercises that neither are `helper` nor call it."""
    return [ex.name for ex in exercises(ASSIGNMENT) if ex.name != helper and helper not in ex.helpers]


def case_params() -> list:
    params = []
    for case in CASES:
        marks = []
        if case.sandbox:
            marks.append(pytest.mark.skipif(not SANDBOXED, reason=NEEDS_SANDBOX))
        params.append(pytest.param(case, id=case.name, marks=marks))
    return params


def test_batch_completes_with_one_result_per_submission(batch):
    assert batch.code == 0
    assert sorted(p.stem for p in batch.results.glob("*.json")) == sorted(case.name for case in GRADED)
    with open(batch.results / "gradebook.csv", newline="") as stream:
        assert sorted(row["student"] for row in csv.DictReader(stream)) == sorted(case.name for case in GRADED)


@pytest.mark.parametrize("case", case_params())
def test_case(batch, case):
    result = batch.result(case.name)
    want = {name: (points if case.total else 0) for name, points in POINTS.items()} | case.scores
    assert sum(want.values()) == case.total, "the table's expected scores do not add up"
    assert (result["score"], exercise_scores(result)) == (case.total, want), result["output"]
    outputs = exercise_outputs(result)
    for where, phrases in case.phrases.items():
        for phrase in phrases:
            assert phrase in outputs[where], f"{phrase!r} not in the output of {where or 'the submission'}"


def test_no_learner_process_is_left_behind(batch):
    assert batch.left == []
    now = processes()
    during_batch = [p for p in now if batch.began - 0.01 <= p.start <= batch.ended]
    assert [p for p in during_batch if p.uid == NOBODY or p.comm == "bwrap"] == []
    assert [p for p in now if p.comm == DAEMON_NAME or p.argv[:2] == [b"sleep", f"300.{NONCE}".encode()]] == []


def test_hung_function_gets_zero_and_the_exercises_not_using_it_full_marks(batch):
    result = batch.result("loop_function")
    scores = exercise_scores(result)
    assert scores["zero_pad"] == 0
    assert "time limit exceeded" in exercise_outputs(result)["zero_pad"]
    assert {name: scores[name] for name in independent_of("zero_pad")} == {
        name: POINTS[name] for name in independent_of("zero_pad")}


def test_function_ending_the_process_gets_zero_and_the_process_is_restarted(batch):
    result = batch.result("exit_function")
    scores = exercise_scores(result)
    assert scores["distribute_value"] == 0
    assert "ended the learner's process (the process exited with code 3)" in exercise_outputs(result)["distribute_value"]
    assert result["extra_data"]["restarts"] >= 1
    before = list(POINTS)[:list(POINTS).index("distribute_value")]
    assert {name: scores[name] for name in before} == {name: POINTS[name] for name in before}


@pytest.mark.skipif(not SANDBOXED, reason=NEEDS_SANDBOX)
@pytest.mark.parametrize("name", ["orphans", "signals"])
def test_hostile_cell_really_ran(batch, name):
    """Started its children (orphans) or survived its own signals (signals): its cell did not fail."""
    assert f"Cell {FIRST_EXTRA} failed" not in batch.result(name)["output"]


def test_results_stay_small_whatever_is_printed(batch):
    assert (batch.results / "big_print.json").stat().st_size < 200_000
    assert len(batch.result("big_print")["output"]) < 2000


def test_printed_fake_results_do_not_reach_the_results(batch):
    assert "FAKE_RESULTS" not in (batch.results / "fake_output.json").read_text()
    with open(batch.results / "gradebook.csv", newline="") as stream:
        row = next(row for row in csv.DictReader(stream) if row["student"] == "fake_output")
    assert float(row["total"]) == 0


def test_unpickling_payload_never_runs_on_the_host(batch):
    assert not PWNED.exists()


@pytest.mark.skipif(not SANDBOXED, reason=NEEDS_SANDBOX)
def test_learner_files_stay_in_the_sandbox(batch):
    assert not HACK.exists()
    assert not LEAK.exists()


@pytest.mark.skipif(not SANDBOXED, reason=NEEDS_SANDBOX)
def test_disk_search_would_succeed_if_the_files_were_visible():
    """The disk_search case scores 0 only because the sandbox hides the course: on the host it gets 100."""
    assert REFERENCE_H5.is_file() and SOURCE.is_file()
    namespace = {"__name__": "__main__"}
    for index, text in learner_code_cells(source(DISK_SEARCH)()):
        exec(compile(text, f"<cell {index}>", "exec"), namespace)
    cases = read_all_cases(REFERENCE_H5)
    verdicts = judge_assignment(exercises(ASSIGNMENT), cases, in_process_call(namespace))
    assert sum(v.score for v in verdicts) == 100
