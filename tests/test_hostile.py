"""Hostile submissions: the isolated grader survives them, scores them exactly, and leaves nothing behind.

Every submission is built from the source notebook (or the release stubs) and graded in each
place a class grades, then checked case by case against the table CASES:
- "root": one batch run of `python -m autograder grade` as root with bubblewrap;
- "user": the same batch run by a throwaway normal user (an instructor on a shared server),
  whose sandbox is bubblewrap in a user namespace;
- "container": each submission through the Gradescope bundle's run_autograder, as root in a
  stand-in container without bubblewrap, where the learner runs as a uid of its own (two
  stand-ins share the corpus, as --jobs 2 does elsewhere).
Cheats at assignment 2's large timing cases (MNIST_CASES, from mnist_cheats.py) are a corpus of
their own, graded the same way once the rest is done: their timed cases are then not judged on a
machine that the rest of the batch keeps busy.
The few submissions that idle for a long time or may hang the grader are graded apart, each in a
grader run of its own beside the batch that is killed after a time limit: a grader that hangs then
costs that submission its results, not the whole mode. Where a case's effect shows outside the
results (files, processes, kernel objects left behind), a test of its own looks for it on the host.
"""

import csv
import ctypes
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import mnist_cheats
import nbformat
import numpy as np
import pytest

from autograder.assignments import exercises
from autograder.check import in_process_call
from autograder.course import Course, release_dir, source_notebook
from autograder.grading import reference, runner, sandbox
from autograder.grading.grade import grade_notebook
from autograder.grading.judge import judge_assignment
from autograder.grading.reference import read_all_cases
from autograder.grading.sandbox import Limits
from autograder.notebook_code import learner_code_cells
from conftest import ASSIGNMENT, ROOT
from deployments import Container, bubblewrap_works, give, run_as, throwaway_user, unavailable

pytestmark = pytest.mark.slow  # left out of the quick run: pytest -m "not slow"

SOURCE = source_notebook(ROOT, ASSIGNMENT)
RELEASE = release_dir(ROOT, ASSIGNMENT) / f"{ASSIGNMENT}.ipynb"
REFERENCE_H5 = Course.repository(ROOT).reference_file(ASSIGNMENT)
POINTS = {ex.name: ex.points for ex in exercises(ASSIGNMENT)}
MNIST = "conv_mnist"
MNIST_POINTS = {ex.name: ex.points for ex in exercises(MNIST)}
SOURCE_CELLS = nbformat.read(str(SOURCE), as_version=4).cells
FIRST_EXTRA = len(SOURCE_CELLS)
SOLUTION_INDEX = {cell.metadata.get("nbgrader", {}).get("grade_id"): index for index, cell in enumerate(SOURCE_CELLS)}

NONCE = f"{secrets.randbelow(10**8):08d}"  # digits only: it also goes into `sleep 300.<NONCE>`
PWNED = Path(f"/tmp/PWNED_{NONCE}")
LEAK = Path(f"/tmp/leak_{NONCE}")
HOST_MARKER = Path(f"/tmp/hostile_marker_{NONCE}")
# A server on the grader's loopback, for the network attack; it must never be reached.
LISTENER = socket.create_server(("127.0.0.1", 0))
COURSE = Path(f"/tmp/hostile_course_{NONCE}")  # stands for the course folder: the grading user may write it
HACK = COURSE / "hack.txt"
DAEMON_NAME = f"hstl{NONCE}"
MODES = ("root", "user", "container")
BUDGET_SECONDS = 60  # generous: a correct submission on a loaded machine stays far inside it
OPTIONS = ["--cell-timeout", "2", "--call-timeout", "2", "--memory", "1"]
# Assignment 2's large cases are timed against 3 s by the grader's own clock: a call limit of 2 s
# would end them first on a busy machine.
MNIST_OPTIONS = ["--cell-timeout", "10", "--call-timeout", "10", "--memory", "1"]


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


def mnist_source(*extra: str):
    """A builder: assignment 2's source notebook with plain code cells appended."""

    def build():
        notebook = nbformat.read(str(source_notebook(ROOT, MNIST)), as_version=4)
        notebook.cells += [nbformat.v4.new_code_cell(text) for text in extra]
        return notebook

    return build


def raw(text: str):
    """A builder for a file that is not a valid notebook."""
    return lambda: text


def wrap(name: str, before: str) -> str:
    """A cell that redefines `name` to run `before` (an indented block) and then the original."""
    return (
        f"_original_{name} = {name}\n"
        f"def {name}(*args, **kwargs):\n{before}\n"
        f"    return _original_{name}(*args, **kwargs)\n"
    )


def release_stubs() -> dict:
    """The release notebook's NotImplementedError stubs, by function name."""
    notebook = nbformat.read(str(RELEASE), as_version=4)
    return {name: solution_cell(notebook, name).source for name in POINTS}


LOOP = "while True:\n    pass\n"
STUBBORN_LOOP = (
    "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass\n"
)
ORPHANS = f"""import os, subprocess, time
sleeper = subprocess.Popen(["sleep", "300.{NONCE}"])
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        try:  # a disguise, where the learner sees a /proc (without namespaces of its own)
            with open("/proc/self/comm", "w") as comm:
                comm.write("{DAEMON_NAME}")
        except FileNotFoundError:
            pass
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
""" + "".join(
    f"def {name}(*args, **kwargs):\n    return _solutions()[{name!r}](*args, **kwargs)\n"
    for name in ("conv_forward", "pool_forward", "conv_backward", "distribute_value", "pool_backward")
)
TMP_WRITER = (
    wrap("zero_pad", f"    open({str(LEAK)!r}, 'w').write('secret')")
    + wrap("distribute_value", f"    assert open({str(LEAK)!r}).read() == 'secret'")
    + wrap("conv_single_step", f"    open({str(HACK)!r}, 'w').write('hacked')")
)
TMP_READER = wrap(
    "zero_pad",
    f"""    import os
    for path in ({str(LEAK)!r}, {str(HOST_MARKER)!r}):
        if os.path.exists(path):
            break
    else:
        raise FileNotFoundError("nothing shared in /tmp: " + repr(sorted(os.listdir("/tmp"))))""",
)
THREADS = """import threading
threading.Thread(target=lambda: [None for _ in iter(int, 1)], daemon=True).start()
""" + wrap(
    "create_mask_from_window",
    """    if not globals().get("_spinner"):
        globals()["_spinner"] = threading.Thread(target=lambda: [None for _ in iter(int, 1)])
        globals()["_spinner"].start()""",
)
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
""" + wrap(
    "distribute_value",
    """    if started >= 200:
        raise RuntimeError(f"started {started} processes")""",
)

# ---- forged messages on the runner's own reply pipe ------------------------------------------
RUNNER_PIPES = """import fcntl, os, stat, struct
def _runner_pipe(access):
    \"\"\"The runner's request pipe (os.O_RDONLY) or reply pipe (os.O_WRONLY): a FIFO of fd 3 or more.\"\"\"
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == access:
                return fd
        except OSError:
            pass
    raise LookupError("the runner's pipe was not found")
def _send_frame(data, length=None):
    \"\"\"A message as the runner frames it: 4-byte big-endian length, then the bytes.\"\"\"
    os.write(_runner_pipe(os.O_WRONLY), struct.pack(">I", len(data) if length is None else length) + data)
"""
NESTED_REPLY = RUNNER_PIPES + '_send_frame(b"[" * 200_000 + b"]" * 200_000)\n'
# Fewer brackets than the grader's item cap, so that only the JSON parser's depth limit can stop it.
NESTED_UNDER_ITEM_CAP = RUNNER_PIPES + """_send_frame(b'{"a": ' * 99_000 + b"1" + b"}" * 99_000)\n"""
OVERSIZED_REPLY = RUNNER_PIPES + '_send_frame(b"x" * (8 << 20), length=180_000_000)\n'
MILLION_ITEMS_REPLY = RUNNER_PIPES + '_send_frame(b"[" + b"0," * 999_999 + b"0]")\n'
NESTED_RESULT = """def zero_pad(X, pad):
    nested = []
    for _ in range(100_000):
        nested = [nested]
    return nested
"""
MILLION_ITEMS_RESULT = "def distribute_value(dz, shape):\n    return [0] * 1_000_000\n"

# ---- processes, memory and files ------------------------------------------------------------
# Forks until the kernel says EAGAIN; every child leaves the session and lives on as a sleep.
PROCESS_LIMIT = f"""import os
children, refusal = 0, "no refusal"
while children < 500:
    try:
        pid = os.fork()
    except OSError as error:
        refusal = str(error)
        break
    if pid == 0:
        try:
            os.setsid()
            os.execv("/bin/sleep", ["sleep", "301.{NONCE}"])
        finally:
            os._exit(1)
    children += 1
raise RuntimeError(f"FORKED {{children}} children, then {{refusal}}")
"""
# Eight processes of 400 MiB each: every one under the 1 GiB per-process cap, 3.2 GiB together.
FORKS_TIMES_MEMORY = """import os, time
ready, done = os.pipe()
for _ in range(8):
    if os.fork() == 0:
        try:
            block = b"\\1" * (400 << 20)
            os.write(done, b"+")
            time.sleep(60)
        except BaseException as error:
            os.write(done, type(error).__name__.encode() + b" ")
        finally:
            os._exit(0)
time.sleep(1.5)
os.set_blocking(ready, False)
raise RuntimeError(f"FORKS of 400 MiB each: {os.read(ready, 1000).decode()}")
"""
# As many idle children as the process limit allows, 8 MiB each: about 0.5 GiB in all, but each
# also maps the runner's pages it shares copy-on-write with the others.
IDLE_FORKS = """import os, time
children = 0
while children < 100:
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        try:
            block = b"\\1" * (8 << 20)
            time.sleep(60)
        finally:
            os._exit(0)
    children += 1
time.sleep(0.6)
raise RuntimeError(f"IDLE FORKS: {children} children of 8 MiB each")
"""


def fill(folder: str) -> str:
    """A cell allocating 1.5 GiB in 64 MiB files under `folder` (a Python expression), then waiting
    long enough for the grader to look; it reports whether it stayed within the 1 GiB limit."""
    return f"""import os, time
written, refusal = 0, "no refusal"
try:
    while written < 1536 << 20:
        fd = os.open(os.path.join({folder}, f"fill{{written >> 26}}"), os.O_CREAT | os.O_WRONLY, 0o600)
        try:
            os.posix_fallocate(fd, 0, 64 << 20)
        finally:
            os.close(fd)
        written += 64 << 20
except OSError as error:
    refusal = error.strerror
time.sleep(0.6)
raise RuntimeError(f"FILL {{'stopped within' if written <= 1 << 30 else 'went beyond'}} the limit: "
                   f"{{written >> 20}} MiB, then {{refusal}}")
"""


# Memory the grader's count of private pages does not see: anonymous files (memfd), not mapped.
MEMFD_MEMORY = """import os, time
held, refusal = 0, "no refusal"
try:
    for number in range(5):
        fd = os.memfd_create(f"hog{number}")
        os.posix_fallocate(fd, 0, 256 << 20)
        held += 256 << 20
except OSError as error:
    refusal = error.strerror
time.sleep(0.6)
raise RuntimeError(f"HOG {'refused within' if held <= 1 << 30 else 'held beyond'} the limit: "
                   f"{held >> 20} MiB, then {refusal}")
"""
# The same with System V shared memory: one 256 MiB segment per cell, touched once and detached,
# kept by the kernel (without an IPC namespace even after the process ends); the last cell waits.
SYSV_SHM_SEGMENT = """import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype, libc.shmat.argtypes = ctypes.c_void_p, [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.shmdt.argtypes = [ctypes.c_void_p]
libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
segment = libc.shmget(0, 256 << 20, 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600
address = libc.shmat(segment, None, 0) if segment >= 0 else None
if address in (None, 2**64 - 1):
    raise OSError(ctypes.get_errno(), "no segment")
if libc.madvise(address, 256 << 20, 23) != 0:  # MADV_POPULATE_WRITE; else touch every byte
    ctypes.memset(address, 1, 256 << 20)
libc.shmdt(address)
"""
SYSV_SHM_HELD = """import ctypes, os, time
time.sleep(0.6)
try:
    rows = [line.split() for line in open("/proc/sysvipc/shm").read().splitlines()[1:]]
    held = sum(int(row[3]) for row in rows if int(row[9]) == os.getuid())  # size, creator's uid
except OSError:  # no /proc (a learner with namespaces of its own): ask shmctl(0, SHM_INFO) instead
    info = (ctypes.c_ulong * 6)()
    ctypes.CDLL(None).shmctl(0, 14, info)
    held = info[1] * os.sysconf("SC_PAGE_SIZE")  # shm_tot: pages of all segments in its IPC namespace
raise RuntimeError(f"HOG {'refused within' if held <= 1 << 30 else 'held beyond'} the limit: {held >> 20} MiB")
"""
# A file in every folder a learner can usually write, to be found by a later run.
SHARED_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")  # writable by every user on Debian
FILES_LEFT = f"""import os
left = []
for folder in {SHARED_FOLDERS!r} + (os.environ.get("HOME", "/tmp"),):
    try:
        with open(os.path.join(folder, "left_{NONCE}"), "w") as stream:
            stream.write("for the next run")
        left.append(folder)
    except OSError:
        pass
raise RuntimeError(f"LEFT a file in {{left}}")
"""

# ---- the no-double-penalty retry: the grader's recorded helper answers -------------------------
HARVEST = """import gc, sys, types
import numpy as np
def zero_pad(X, pad):  # wrong on purpose: conv_forward then gets the reference helpers on a retry
    return X + 1
def conv_single_step(a_slice_prev, W, b):  # wrong on purpose, likewise
    return 0.0
def _answer_tables():
    \"\"\"Dicts of recorded helper answers (keyed by 40-hex fingerprints, or 32-hex ids when sealed)
    reachable from the stand-in helpers' closures, the runner's module, or anything the garbage
    collector knows; closures first.\"\"\"
    def is_table(value):
        keys = list(value)[:3] if isinstance(value, dict) else []
        return bool(keys) and all(isinstance(key, str) and len(key) in (32, 40) for key in keys)
    tables, seen, queue = [], set(), [globals()[name] for name in ("zero_pad", "conv_single_step")]
    queue.append(vars(sys.modules["__main__"]))
    while queue and len(seen) < 100_000:
        value = queue.pop(0)
        if id(value) in seen or isinstance(value, (type, types.ModuleType)):
            continue
        seen.add(id(value))
        if is_table(value):
            tables.append(value)
        elif isinstance(value, dict):
            queue += list(value.values())
        elif isinstance(value, (list, tuple, set)):
            queue += list(value)
        elif isinstance(value, types.FunctionType):
            queue += [cell.cell_contents for cell in value.__closure__ or ()]
        elif isinstance(value, types.MethodType):
            queue.append(value.__self__)
        elif hasattr(value, "__dict__"):
            queue.append(vars(value))
    return tables + [value for value in gc.get_objects() if is_table(value)]
def _plain(value):
    \"\"\"An answer as recorded: a number, or an array in the runner's encoded form; a sealed one
    (base64 text) is read as if it were only base64-coded JSON.\"\"\"
    import base64, json
    if isinstance(value, str):
        try:
            value = json.loads(base64.b64decode(value))
        except Exception:
            return None
    if isinstance(value, dict) and "__array__" in value:
        data = base64.b64decode(value["__array__"])
        return np.frombuffer(data, dtype=value["dtype"]).reshape(value["shape"])
    return value
def conv_forward(A_prev, W, b, hparameters):
    \"\"\"Computes nothing: reshapes conv_single_step's recorded answers into Z.\"\"\"
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, n_C, stride, pad = W.shape[0], W.shape[3], hparameters["stride"], hparameters["pad"]
    shape = (m, (n_H_prev - f + 2 * pad) // stride + 1, (n_W_prev - f + 2 * pad) // stride + 1, n_C)
    tables = _answer_tables()
    for table in tables:
        values = [value for value in map(_plain, table.values()) if np.ndim(value) == 0 and value is not None]
        if len(values) == np.prod(shape):
            return np.array(values, dtype=float).reshape(shape), (A_prev, W, b, hparameters)
    sizes = sorted({len(table) for table in tables}, reverse=True)
    raise LookupError(f"HARVEST found no table of {np.prod(shape)} answers (tables of {sizes} entries)")
"""

# ---- time --------------------------------------------------------------------------------------
# Learner clocks frozen and the runner's alarm switched off, then a call of 3 s against a limit of 2 s.
FORGED_CLOCK = """import signal, time
_sleep, _setitimer = time.sleep, signal.setitimer
time.perf_counter = time.monotonic = time.time = lambda: 0.0
signal.setitimer = lambda *args, **kwargs: (0.0, 0.0)
signal.alarm = lambda seconds: 0
_setitimer(signal.ITIMER_REAL, 0)  # the alarm the runner set for this cell
""" + wrap("distribute_value", "    _sleep(3)")
# Assignment 2 (a test of its own): a large case that takes 3.5 s while the learner's clocks say 0.01 s.
SLOW_LARGE_CASE = "import time\n" + wrap(
    "conv_forward_fast",
    """    if args[0].shape[0] == 256:  # the large case
        start = time.perf_counter()
        time.sleep(3.5)
        time.perf_counter = time.monotonic = time.time = lambda: start + 0.01""",
)
BUDGET = "import time\nimport numpy as np\n" + "".join(
    f"def {name}(*args, **kwargs):\n    time.sleep(1.9)\n    return np.zeros(1)\n" for name in POINTS
)

# ---- huge texts --------------------------------------------------------------------------------
HUGE_LINE_CELL = f'_filler = "{"x" * 2_000_000}"; raise ValueError("LONG LINE " + _filler)\n'
HUGE_LINE_FUNCTION = f'def create_mask_from_window(x):\n    return "{"y" * 2_000_000}"[len(x) + 10**7]\n'

# ---- results of a form no check foresaw -------------------------------------------------------
RAGGED = """_original_conv_forward, _original_pool_forward = conv_forward, pool_forward
def conv_forward(A_prev, W, b, hparameters):
    return [[1, 2], [3]], _original_conv_forward(A_prev, W, b, hparameters)[1]
def pool_forward(A_prev, hparameters, mode="max"):
    return _original_pool_forward(A_prev, hparameters, mode)[0], (A_prev, np.array([1, 2]))
"""

# ---- kernel keyrings (x86_64 system call numbers: add_key 248, request_key 249, keyctl 250) -----
KEYRING_LIBC = """import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def _outcome(result):
    return f"key {result}" if result >= 0 else os.strerror(ctypes.get_errno())
"""
KEY_PLANT = (
    KEYRING_LIBC
    + f"""outcomes = []
for keyring in (-3, -4):  # add_key to the session and the user keyring
    outcomes.append(_outcome(libc.syscall(ctypes.c_long(248), b"user", b"hostile_{NONCE}", b"EXFIL",
                                          ctypes.c_size_t(5), ctypes.c_long(keyring))))
raise RuntimeError("ADD_KEY " + ", ".join(outcomes))
"""
)
KEY_SEARCH = (
    KEYRING_LIBC
    + f"""def _planted_key():
    outcomes = []
    for keyring in (-3, -4):  # KEYCTL_SEARCH in the session and the user keyring
        found = libc.syscall(ctypes.c_long(250), ctypes.c_long(10), ctypes.c_long(keyring), b"user",
                             b"hostile_{NONCE}", ctypes.c_long(0))
        if found >= 0:
            return found
        outcomes.append(_outcome(found))
    found = libc.syscall(ctypes.c_long(249), b"user", b"hostile_{NONCE}", None, ctypes.c_long(0))
    if found >= 0:
        return found
    raise LookupError("KEY not found: " + ", ".join(outcomes + [_outcome(found)]))
"""
    + wrap("zero_pad", "    _planted_key()")
)

# Through ptrace, a system call run by another process of the learner's uid, outside the learner's
# system call filter (pid 1 of its sandbox: its PID namespace's init); byte strings are written on its stack.
PTRACE_INJECT = """import ctypes, os, time
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
class _Registers(ctypes.Structure):  # x86_64 user_regs_struct
    _fields_ = [(name, ctypes.c_ulonglong) for name in "r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi "
                "rdi orig_rax rip cs eflags rsp ss fs_base gs_base ds es fs gs".split()]
def _injected(pid, number, *args):
    \"\"\"The result of system call `number` made by process `pid`, or why it could not be made.\"\"\"
    if libc.ptrace(16, pid, None, None) != 0:  # PTRACE_ATTACH
        return "attach: " + os.strerror(ctypes.get_errno())
    os.waitpid(pid, 0x40000000)  # __WALL
    saved, registers = _Registers(), _Registers()
    libc.ptrace(12, pid, None, ctypes.byref(saved))  # PTRACE_GETREGS
    ctypes.memmove(ctypes.byref(registers), ctypes.byref(saved), ctypes.sizeof(saved))
    if libc.ptrace(2, pid, ctypes.c_void_p(saved.rip - 2), None) & 0xFFFF != 0x050F:  # PEEKDATA: after a syscall?
        libc.ptrace(17, pid, None, None)
        return "no system call instruction"
    address, values = saved.rsp - 4096, []
    for arg in args:
        if isinstance(arg, bytes):
            data = arg + bytes(8 - len(arg) % 8)
            for offset in range(0, len(data), 8):
                word = int.from_bytes(data[offset:offset + 8], "little")
                libc.ptrace(5, pid, ctypes.c_void_p(address + offset), ctypes.c_void_p(word))  # PTRACE_POKEDATA
            values.append(address)
            address += len(data)
        else:
            values.append(arg % 2**64)
    registers.rip, registers.orig_rax, registers.rax = saved.rip - 2, 2**64 - 1, number
    for name, value in zip(("rdi", "rsi", "rdx", "r10", "r8", "r9"), values):
        setattr(registers, name, value)
    libc.ptrace(13, pid, None, ctypes.byref(registers))  # PTRACE_SETREGS
    libc.ptrace(9, pid, None, None)  # PTRACE_SINGLESTEP over the system call
    os.waitpid(pid, 0x40000000)
    libc.ptrace(12, pid, None, ctypes.byref(registers))
    libc.ptrace(13, pid, None, ctypes.byref(saved))
    libc.ptrace(17, pid, None, None)  # PTRACE_DETACH
    result = registers.rax - 2**64 if registers.rax >= 2**63 else registers.rax
    return result if result >= 0 else os.strerror(-result)
"""
PTRACE_KEY_PLANT = (
    PTRACE_INJECT
    + f"""key = _injected(1, 248, b"user", b"ptrace_{NONCE}", b"EXFIL", 5, -3)  # add_key
if isinstance(key, int):
    _injected(1, 250, 15, key, 120)  # KEYCTL_SET_TIMEOUT: gone from the kernel in 2 minutes
raise RuntimeError(f"PTRACE_KEY planted: {{key}}")
"""
)
# Finds the key through its own pid 1 (waiting up to 1 s, once, for the planting submission), else fails.
PTRACE_KEY_SEARCH = (
    PTRACE_INJECT
    + f"""_searches = []
def _planted_key():
    while not _searches or (not isinstance(_searches[-1], int) and len(_searches) < 10):
        if _searches:
            time.sleep(0.1)
        _searches.append(_injected(1, 250, 10, -3, b"user", b"ptrace_{NONCE}", 0))  # KEYCTL_SEARCH, session
    if not isinstance(_searches[-1], int):
        raise LookupError(f"KEY not found: {{_searches[-1]}}")
"""
    + wrap("zero_pad", "    _planted_key()")
)

# ---- hidden inputs smuggled into feedback ------------------------------------------------------
SECRET = """import numpy as np
def _secret(array):
    \"\"\"The first values of an input as digit strings: what these submissions try to get into the feedback.\"\"\"
    return "_".join(str(int(abs(value) * 10**9)) for value in np.ravel(array)[:3])
def _public(A_prev):
    return A_prev.shape in ((2, 5, 7, 4), (2, 5, 5, 3))  # the public cases of conv_forward, pool_forward
"""
EXFIL_MESSAGE = (
    SECRET
    + """def conv_forward(A_prev, W, b, hparameters):
    raise ValueError("EX" + "FIL " + _secret(A_prev))
"""
)
EXFIL_CLASS_NAME = (
    SECRET
    + """def conv_forward(A_prev, W, b, hparameters):
    raise type("EX" + "FIL_" + _secret(A_prev), (Exception,), {})()
"""
)
# Classes named like the grader's own error kinds, raised on the hidden cases only.
EXFIL_RESERVED_NAMES = (
    SECRET
    + """TimeLimit = type("TimeLimit", (Exception,), {})
Missing = type("Missing", (Exception,), {})
_original_conv_forward, _original_pool_forward = conv_forward, pool_forward
def conv_forward(A_prev, W, b, hparameters):
    if not _public(A_prev):
        raise TimeLimit("EX" + "FIL " + _secret(A_prev))
    return _original_conv_forward(A_prev, W, b, hparameters)
def pool_forward(A_prev, hparameters, mode="max"):
    if not _public(A_prev):
        raise Missing("EX" + "FIL " + _secret(A_prev))
    return _original_pool_forward(A_prev, hparameters, mode)
"""
)
# The error's "line" is read from linecache, which the learner's code can rewrite before raising.
EXFIL_LINE = (
    SECRET
    + """import linecache
def conv_forward(A_prev, W, b, hparameters):
    filename = conv_forward.__code__.co_filename
    linecache.cache[filename] = (1, None, ["EX" + "FIL " + _secret(A_prev) + "\\n"] * 100, filename)
    raise ValueError("see the line")
"""
)
# An empty array whose dimensions are the hidden values: "`Z` has shape (0, ...)".
EXFIL_SHAPE = (
    SECRET
    + """def conv_forward(A_prev, W, b, hparameters):
    first, second = (int(abs(value) * 10**9) for value in np.ravel(A_prev)[:2])
    return np.zeros((0, first, second), dtype=bool), (A_prev, W, b, hparameters)
"""
)
# The mistake hint for a NameError quotes the name from the message, hidden cases included.
EXFIL_HINT_NAME = (
    SECRET
    + """def conv_forward(A_prev, W, b, hparameters):
    if _public(A_prev):
        raise ValueError("nothing to see")
    raise NameError(f"name 'EXFIL_{_secret(A_prev)}' is not defined")
"""
)
# The runner reports which notebook variables a function read; the learner rewrites that report.
EXFIL_VARIABLE_NAMES = (
    SECRET
    + """import sys
_seen = []
sys.modules["__main__"].notebook_globals_used = lambda fn, namespace: ["EXFIL_" + _seen[-1]] if _seen else []
def conv_forward(A_prev, W, b, hparameters):
    if not _public(A_prev):
        _seen.append(_secret(A_prev))
    return np.zeros(1), None
"""
)
# An object of a class named after the input: "the result is a EXFIL_..., not a number or an array".
EXFIL_RESULT_TYPE = (
    SECRET
    + """def zero_pad(X, pad):
    return type("EX" + "FIL_" + _secret(X), (), {})()
"""
)
# zero_pad records its hidden inputs; conv_single_step's public case, judged later, shows them.
EXFIL_LATER_PUBLIC = (
    SECRET
    + """_seen = []
_original_zero_pad, _original_conv_single_step = zero_pad, conv_single_step
def zero_pad(X, pad):
    _seen.append(_secret(X))
    return _original_zero_pad(X, pad)
def conv_single_step(a_slice_prev, W, b):
    if a_slice_prev.shape == (4, 4, 3):  # the public case
        raise ValueError("EX" + "FIL " + " ".join(_seen[1:]))
    return _original_conv_single_step(a_slice_prev, W, b)
"""
)

# ---- the course's own files and other students' files -------------------------------------------
# Answers every exercise from a reference file, matched on the arguments; FOUND is set by the cell.
ANSWER_FROM_H5 = """import numpy as np
def _flat(value, arrays, numbers):
    if isinstance(value, np.ndarray):
        arrays.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _flat(item, arrays, numbers)
    elif isinstance(value, tuple) and all(isinstance(item, int) for item in value):
        arrays.append(np.array(value))
    elif isinstance(value, (tuple, list)):
        for item in value:
            _flat(item, arrays, numbers)
    else:
        numbers.append(value)
def _reference(name, args, kwargs):
    import h5py
    arrays, numbers = [], []
    _flat((args, kwargs), arrays, numbers)
    for path in FOUND:
        try:
            h5 = h5py.File(path, "r")
        except OSError:
            continue
        with h5:
            for case in h5[name].values() if name in h5 else ():
                inputs = case["inputs"]
                if all(any(np.shape(a) == inputs[k].shape and np.array_equal(a, inputs[k][()]) for a in arrays)
                       for k in inputs) and all(v in numbers for v in inputs.attrs.values()):
                    return [case["outputs"][str(k)][()] for k in range(len(case["outputs"]))]
    raise LookupError(f"COURSE found nothing: {TRIED}")
def zero_pad(X, pad):
    return _reference("zero_pad", (X, pad), {})[0]
def conv_single_step(a_slice_prev, W, b):
    return float(_reference("conv_single_step", (a_slice_prev, W, b), {})[0])
def conv_forward(A_prev, W, b, hparameters):
    return _reference("conv_forward", (A_prev, W, b, hparameters), {})[0], (A_prev, W, b, hparameters)
def pool_forward(A_prev, hparameters, mode="max"):
    return _reference("pool_forward", (A_prev, hparameters), {"mode": mode})[0], (A_prev, hparameters)
def conv_backward(dZ, cache):
    return tuple(_reference("conv_backward", (dZ, cache), {}))
def create_mask_from_window(x):
    return _reference("create_mask_from_window", (x,), {})[0]
def distribute_value(dz, shape):
    return _reference("distribute_value", (dz, shape), {})[0]
def pool_backward(dA, cache, mode="max"):
    return _reference("pool_backward", (dA, cache), {"mode": mode})[0]
"""
# Every route to the course package and its reference data: import it, ask importlib, read the
# editable install's map, look through other processes' folders and environments.
COURSE_IMPORT = (
    """import glob, importlib.util, os, re, sys
FOUND, TRIED = [], []
def _try(route, action):
    try:
        TRIED.append(f"{route}: {'found' if action() else 'nothing'}")
    except BaseException as error:
        TRIED.append(f"{route}: {type(error).__name__}")
def _package(folder):
    found = glob.glob(os.path.join(folder, "reference", "*.h5"))
    FOUND.extend(found)
    return found
def _import():
    import autograder
    return _package(os.path.dirname(autograder.__file__))
def _import_reference():
    from autograder import reference
    return _package(os.path.dirname(reference.__file__))
def _find_spec():
    spec = importlib.util.find_spec("autograder")
    return spec and [_package(folder) for folder in spec.submodule_search_locations or ()]
def _site_packages():
    found = []
    for site in sys.path:
        for finder in glob.glob(os.path.join(site, "__editable__*finder.py")):
            for folder in re.findall(r"'(/[^']+)'", open(finder).read()):
                found += _package(folder)
        found += _package(os.path.join(site, "autograder"))
    return found
def _processes():
    found = []
    for proc in glob.glob("/proc/[0-9]*"):
        places = []
        for link in ("cwd", "root"):
            try:
                places.append(os.readlink(os.path.join(proc, link)))
                places.append(os.path.join(proc, link))
            except OSError:
                pass
        try:
            environ = open(os.path.join(proc, "environ"), "rb").read().decode(errors="replace")
            places += re.findall(r"=(/[^\\0:]+)", environ)
        except OSError:
            pass
        for place in places:
            for folder in (place, os.path.join(place, "source"), os.path.join(place, "autograder")):
                found += _package(os.path.join(folder, "autograder"))
    return found
for route, action in (("import autograder", _import), ("from autograder import reference", _import_reference),
                      ("find_spec", _find_spec), ("site-packages", _site_packages), ("/proc", _processes)):
    _try(route, action)
FOUND = sorted(set(FOUND))
"""
    + ANSWER_FROM_H5
)
# Any notebook or gradebook outside the system folders: a classmate's submission to copy from.
OTHER_SUBMISSIONS = """import json, os, time
def _search(seconds=1.0):
    found, start = [], time.monotonic()
    for top, dirs, files in os.walk("/"):
        dirs[:] = [d for d in dirs if d not in ("site-packages", "dist-packages", "__pycache__")
                   and os.path.join(top, d) not in ("/proc", "/sys", "/dev", "/usr")]
        found += [os.path.join(top, f) for f in files if f.endswith(".ipynb") or f.startswith("gradebook")]
        if time.monotonic() - start > seconds:
            return sorted(found), False
    return sorted(found), True
FOUND, COMPLETE = _search()
def _classmate():
    for path in FOUND:
        try:
            namespace = {}
            for cell in json.load(open(path))["cells"]:
                if cell["cell_type"] == "code":
                    exec("".join(cell["source"]), namespace)
            return namespace
        except BaseException:
            continue
    raise LookupError(f"found no other submission: {FOUND[:3]}, complete={COMPLETE}")
""" + "".join(f"def {name}(*args, **kwargs):\n    return _classmate()[{name!r}](*args, **kwargs)\n" for name in POINTS)

# ---- guessing recorded helper answers ----------------------------------------------------------
# On the retry with recorded answers, forged keys tried against the stand-in helper's own lookup.
HELPER_FLOOD = """def create_mask_from_window(x):  # wrong on purpose: pool_backward is retried with the recorded masks
    return x
def pool_backward(dA, cache, mode="max"):
    stand_in = globals()["create_mask_from_window"]
    lookup = next(cell.cell_contents for cell in stand_in.__closure__ or () if callable(cell.cell_contents))
    found = 0
    for number in range(60_000):
        try:
            lookup(f"{number:040x}")
            found += 1
        except Exception:
            pass
    raise RuntimeError(f"FLOOD guessed {found} of 60000 keys")
"""
# Frames that are not replies (questions, in the form of an older protocol) written straight to the
# reply pipe, then asleep with the alarm off.
HELPER_FLOOD_UNREAD = (
    RUNNER_PIPES
    + """import json, signal, time
def distribute_value(dz, shape):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    question = json.dumps({"op": "helper", "name": "zero_pad", "key": "0" * 40}).encode()
    for _ in range(20_000):
        _send_frame(question)
    time.sleep(3600)
"""
)
# The runner reads the length of a large request, never its body, and sleeps with the alarm off.
STALLED_READER = """import json, signal, sys, time
_runner = sys.modules["__main__"]
def _stalled_read_message(stream):
    header = _runner.read_exactly(stream, 4)
    if len(header) < 4:
        return None
    length = int.from_bytes(header, "big")
    if length > 100_000:
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        time.sleep(3600)
    return json.loads(_runner.read_exactly(stream, length))
_runner.read_message = _stalled_read_message
"""
LARGE_CELL = f'_padding = "{"z" * 1_000_000}"\n'  # a request far larger than a pipe holds

# ---- namespaces, ptrace, planted results -----------------------------------------------------------
UNSHARE = """import ctypes, os, subprocess
outcomes = []
command = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=4g none /tmp && echo MOUNTED"],
                         capture_output=True, text=True)
outcomes.append("unshare -rm: " + (command.stdout + command.stderr).strip())
libc = ctypes.CDLL(None, use_errno=True)
for name, flags in (("user+mount", 0x10000000 | 0x00020000), ("mount", 0x00020000)):
    if libc.unshare(flags) == 0:
        mounted = libc.mount(b"none", b"/tmp", b"tmpfs", 0, b"size=4g")
        outcomes.append(f"unshare({name}) done, mount: {os.strerror(ctypes.get_errno()) if mounted else 'MOUNTED'}")
    else:
        outcomes.append(f"unshare({name}): {os.strerror(ctypes.get_errno())}")
raise RuntimeError("UNSHARE " + "; ".join(outcomes))
"""
# PTRACE_ATTACH to every other process the learner can see (the grader, bubblewrap, ...).
PTRACE = """import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
mine = {os.getpid()}
attached, refused = [], 0
for entry in os.listdir("/proc"):
    if entry.isdigit() and int(entry) not in mine:
        if libc.ptrace(16, int(entry), None, None) == 0:  # PTRACE_ATTACH
            attached.append(int(entry))
            libc.ptrace(17, int(entry), None, None)  # PTRACE_DETACH
        else:
            refused += 1
raise RuntimeError(f"PTRACE attached to {attached or 'nothing'}, refused {'some' if refused else 'none'}")
"""
# A perfect results.json wherever results are written (Gradescope's /autograder/results included).
PLANT_RESULTS = """import glob, json, os
fake = json.dumps({"score": 100, "output": "PLANTED" + "_RESULTS", "tests": []})
own = {os.path.realpath(os.environ.get("HOME", "/tmp")), os.path.realpath(os.getcwd()), "/tmp"}
places = ["/autograder/results", "/mnt/autograder/results", "/autograder", *glob.glob("/tmp/*/"),
          *glob.glob("/tmp/*/results*"), *glob.glob("/home/*/results*"), *glob.glob("/root/*")]
planted = []
for folder in places:
    try:
        if os.path.realpath(folder) in own or os.stat(folder).st_uid == os.getuid():
            continue  # its own folders: planting there fools nobody
    except OSError:
        continue
    try:
        with open(os.path.join(folder, "results.json"), "w") as stream:
            stream.write(fake)
        planted.append(folder)
    except OSError:
        pass
raise RuntimeError(f"PLANT {'refused everywhere' if not planted else 'planted in ' + repr(planted)}")
"""

# ---- memory the grader does not see, folders it cannot walk -------------------------------------
# Kernel buffers of Unix socket pairs: neither a process's pages nor a file. Each of two cells queues
# 768 MiB in pairs it keeps; the last cell waits for the grader to look and says what was held.
SOCKET_BUFFERS = """import resource, socket
resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
_pairs = globals().setdefault("_pairs", [])
_held = globals().setdefault("_held", [0, "no refusal"])
chunk, goal = bytes(212992), _held[0] + (768 << 20)
try:
    while _held[0] < goal:
        pair = socket.socketpair()
        _pairs.append(pair)
        for end in pair:
            end.setblocking(False)
            while True:
                try:
                    _held[0] += end.send(chunk)
                except BlockingIOError:
                    break
except OSError as error:
    _held[1] = error.strerror
"""
BUFFERS_HELD = """import time
time.sleep(0.6)
raise RuntimeError(f"BUFFERS {'refused within' if _held[0] <= 1 << 30 else 'held beyond'} the limit: "
                   f"{_held[0] >> 20} MiB in {len(_pairs)} socket pairs, then {_held[1]}")
"""
# Files deleted while still open: no name to find them by, their memory (a tmpfs's) still held.
# In /dev/shm where it can be written, else in HOME.
WRITABLE_FOLDER = """import os
def _writable_folder():
    for folder in ("/dev/shm", os.environ["HOME"]):
        try:
            open(os.path.join(folder, "probe_{NONCE}"), "w").close()
            os.unlink(os.path.join(folder, "probe_{NONCE}"))
            return folder
        except OSError:
            pass
"""
DELETED_FILES = (
    WRITABLE_FOLDER.replace("{NONCE}", NONCE)
    + f"""import time
held, refusal, kept = 0, "no refusal", []
try:
    while held < 1536 << 20:
        path = os.path.join(_writable_folder(), f"deleted_{NONCE}_{{held >> 27}}")
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        os.unlink(path)
        kept.append(fd)
        os.posix_fallocate(fd, 0, 128 << 20)
        held += 128 << 20
except OSError as error:
    refusal = error.strerror
time.sleep(0.6)
raise RuntimeError(f"HOG {{'refused within' if held <= 1 << 30 else 'held beyond'}} the limit: "
                   f"{{held >> 20}} MiB in deleted files, then {{refusal}}")
"""
)
# A folder of the learner's whose every path cannot be looked at by name (longer than PATH_MAX, made
# a step at a time), and 1.5 GiB of files beside it: a count that gives up on the folder misses them.
UNREADABLE_SIZE = (
    WRITABLE_FOLDER.replace("{NONCE}", NONCE)
    + f"""import time
top = os.path.join(_writable_folder(), "hide_{NONCE}")
os.mkdir(top)
here = os.open(".", os.O_RDONLY)
os.chdir(top)
for _ in range(20):
    os.mkdir("d" * 250)
    os.chdir("d" * 250)
os.fchdir(here)
written, refusal = 0, "no refusal"
try:
    while written < 1536 << 20:
        fd = os.open(os.path.join(top, f"fill{{written >> 27}}"), os.O_CREAT | os.O_WRONLY, 0o600)
        try:
            os.posix_fallocate(fd, 0, 128 << 20)
        finally:
            os.close(fd)
        written += 128 << 20
except OSError as error:
    refusal = error.strerror
time.sleep(0.6)
raise RuntimeError(f"FILL {{'stopped within' if written <= 1 << 30 else 'went beyond'}} the limit: "
                   f"{{written >> 20}} MiB, then {{refusal}}")
"""
)
# Folders 1500 deep in HOME (made a step at a time) and a sleeper: a count or a clean-up that walks
# them by recursion fails, and must not fail the grader nor leave the sleeper running.
DEEP_FOLDERS = f"""import os, subprocess, time
sleeper = subprocess.Popen(["sleep", "302.{NONCE}"])
here = os.open(".", os.O_RDONLY)
os.chdir(os.environ["HOME"])
for _ in range(1500):
    os.mkdir("d")
    os.chdir("d")
os.fchdir(here)
time.sleep(0.6)
raise RuntimeError("DEEP folders: 1500 levels, sleeper " + ("running" if sleeper.poll() is None else "ended"))
"""


NETWORK = wrap(
    "zero_pad",
    f"""    import socket
    with socket.create_connection(("127.0.0.1", {LISTENER.getsockname()[1]}), timeout=1) as connection:
        connection.sendall(repr(args[0].ravel()[:3]).encode())""",
)


@dataclass
class Case:
    """name: file stem; total: expected score; scores: exercises not at full marks (all 0 when
    total is 0); phrases: {exercise name, or "" for the overall output: texts it must contain,
    a tuple where any one of its texts will do}; apart: graded alone, beside the main batch, in a
    grader run killed after that many seconds (for submissions that idle a long time or may hang
    the grader), else None; budget: the submission's time budget, if not BUDGET_SECONDS (apart only)."""

    name: str
    build: Callable
    total: float
    scores: dict = field(default_factory=dict)
    phrases: dict = field(default_factory=dict)
    apart: float | None = None
    budget: float = BUDGET_SECONDS


CELL = f"Cell {FIRST_EXTRA} failed"
NOT_A_MESSAGE = "ended the learner's process (it sent a reply that is not a message)"
OVER_MEMORY = "used more than the memory limit of 1 GiB"
KEYRING_CASES = (
    [
        Case(
            "keyring_plant",
            source(KEY_PLANT),
            100,
            phrases={"": [CELL, "ADD_KEY Operation not permitted, Operation not permitted"]},
        ),
        Case(
            "keyring_search",
            source(KEY_SEARCH),
            90,
            {"zero_pad": 0},
            {"zero_pad": ["raised LookupError: KEY not found: Operation not permitted"]},
        ),
        # The same through ptrace, by the sandbox's init (pid 1), which the system call filter does not bind.
        Case(
            "ptrace_key_plant",
            source(PTRACE_KEY_PLANT),
            100,
            phrases={"": [CELL, "PTRACE_KEY planted: attach: Operation not permitted"]},
        ),
        Case(
            "ptrace_key_search",
            source(PTRACE_KEY_SEARCH),
            90,
            {"zero_pad": 0},
            {"zero_pad": ["raised LookupError: KEY not found: attach: Operation not permitted"]},
        ),
    ]
    if platform.machine() == "x86_64"
    else []
)
CASES = [
    Case("loop_cell", source(LOOP), 100, phrases={"": [CELL, "TimeLimit", "while True"]}),
    Case(
        "loop_cell_stubborn",
        source(STUBBORN_LOOP),
        100,
        phrases={"": [CELL, "did not finish within the time limit of 2 s"]},
    ),
    Case(
        "loop_function",
        source(replace={"zero_pad": "def zero_pad(X, pad):\n    while True:\n        pass\n"}),
        90,
        {"zero_pad": 0},
        {"zero_pad": ["time limit exceeded"]},
    ),
    # Hidden cases go to the learner in one exchange: after one hangs, the others are not run (one
    # time limit of 2 s is spent, not eight: those would overrun this submission's budget of 5 s).
    Case(
        "loop_hidden_cases",
        source(wrap("pool_forward", '    while args[1]["stride"] != 1:  # the public cases\' stride\n        pass')),
        87.5,
        {"pool_forward": 2.5},
        {"pool_forward": ["time limit exceeded", "not run: an earlier case of this exercise"]},
        apart=45,
        budget=5,
    ),
    Case("exit_cell", source("import os\nos._exit(3)"), 100, phrases={"": [CELL, "exited with code 3"]}),
    Case(
        "exit_function",
        source(wrap("distribute_value", "    import os\n    os._exit(3)")),
        95,
        {"distribute_value": 0},
        {"distribute_value": ["exited with code 3"]},
    ),
    Case("sys_exit_cell", source("import sys\nsys.exit()"), 100, phrases={"": [CELL, "SystemExit"]}),
    Case("interrupt_cell", source("raise KeyboardInterrupt"), 100, phrases={"": [CELL, "KeyboardInterrupt"]}),
    Case(
        "interrupt_function",
        source(wrap("conv_backward", "    raise KeyboardInterrupt")),
        85,
        {"conv_backward": 0},
        {"conv_backward": ["raised KeyboardInterrupt"]},
    ),
    Case("memory_cell", source("x = bytearray(5 * 2**30)"), 100, phrases={"": [CELL, "MemoryError"]}),
    Case(
        "memory_function",
        source(wrap("pool_backward", "    np.ones((50000, 50000))")),
        80,
        {"pool_backward": 0},
        {"pool_backward": ["raised MemoryError"]},
    ),
    Case("orphans", source(ORPHANS), 100, phrases={"": ["100.0 of 100 points."]}),
    Case(
        "signals",
        source(SIGNALS, "import os, signal\nos.killpg(0, signal.SIGKILL)"),
        100,
        phrases={"": [f"Cell {FIRST_EXTRA + 1} failed: ended the learner's process"]},
    ),
    Case("patched_numpy", source(PATCH_NUMPY), 0, phrases={"zero_pad": ["has shape (1,)"]}),
    Case(
        "unpickle_payload",
        source(EVIL),
        90,
        {"conv_single_step": 0},
        {"conv_single_step": ["is a Evil, not a number or an array"]},
    ),
    Case("fake_output", source(FAKE_OUTPUT, replace=release_stubs()), 0, phrases={"zero_pad": ["not implemented yet"]}),
    Case("forged_reply", source(FORGED_REPLY), 100, phrases={"": [CELL]}),
    Case("disk_search", source(DISK_SEARCH), 0, phrases={name: ["found []"] for name in POINTS}),
    Case(
        "big_print",
        source(
            'print("x" * 50_000_000)',
            "for _ in range(200_000):\n    print('spam')",
            'raise ValueError("y" * 10_000_000)',
        ),
        100,
        phrases={"": [f"Cell {FIRST_EXTRA + 2} failed: ValueError: yyy"]},
    ),
    Case(
        "wrong_types",
        source("""def zero_pad(X, pad):
    return "padded"
def conv_single_step(a_slice_prev, W, b):
    return {"Z": 1.0}
def conv_forward(A_prev, W, b, hparameters):
    return None
def distribute_value(dz, shape):
    return [["x"] * shape[1]] * shape[0]
"""),
        55,
        {"zero_pad": 0, "conv_single_step": 0, "conv_forward": 0, "distribute_value": 0},
        {
            "zero_pad": ["the result is a str, not a number or an array"],
            "conv_single_step": ["the result is a dict"],
            "conv_forward": ["it returned a NoneType"],
            "distribute_value": ["expected real numbers"],
        },
    ),
    Case(
        "nan",
        source(wrap("zero_pad", "    return np.full(np.shape(_original_zero_pad(*args, **kwargs)), np.nan)")),
        90,
        {"zero_pad": 0},
        {"zero_pad": ["contains NaN"]},
    ),
    Case(
        "syntax_error",
        source(replace={"pool_forward": "def pool_forward(A_prev, hparameters, mode='max'):\n    return ("}),
        85,
        {"pool_forward": 0},
        {
            "": [f"Cell {SOLUTION_INDEX['pool_forward']} failed: SyntaxError"],
            "pool_forward": ["pool_forward is not defined"],
        },
    ),
    Case(
        "missing_function",
        source(replace={"create_mask_from_window": ""}),
        95,
        {"create_mask_from_window": 0},
        {"create_mask_from_window": ["create_mask_from_window is not defined"]},
    ),
    Case("invalid_json", raw('{"cells": ['), 0, phrases={"": ["not valid JSON"], "zero_pad": ["Not graded"]}),
    Case(
        "empty_notebook",
        raw('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'),
        0,
        phrases={"": ["no code cells"], "zero_pad": ["zero_pad is not defined"]},
    ),
    Case("not_a_notebook", raw("[1, 2, 3]"), 0, phrases={"": ["JSON but not a Jupyter notebook"]}),
    Case("tmp_writer", source(TMP_WRITER), 90, {"conv_single_step": 0}, {"conv_single_step": ["raised"]}),
    Case("tmp_reader", source(TMP_READER), 90, {"zero_pad": 0}, {"zero_pad": ["raised FileNotFoundError"]}),
    # zero_pad works only if the grader's machine answers on its loopback (no network namespace of its
    # own refuses the connection; without namespaces, sockets are refused).
    Case(
        "network",
        source(NETWORK),
        90,
        {"zero_pad": 0},
        {"zero_pad": [("ConnectionRefusedError", "PermissionError", "OSError")]},
    ),
    Case(
        "threads_and_alarm",
        source(THREADS, IGNORE_ALARM),
        85,
        {"pool_forward": 0},
        {"pool_forward": ["did not finish within the time limit of 2 s"]},
    ),
    Case("fork_flood", source(FORK_FLOOD), 100),
    # Forged replies: every one costs its cell, and only its cell.
    Case("nested_reply", source(NESTED_REPLY), 100, phrases={"": [CELL, NOT_A_MESSAGE]}),
    Case("nested_reply_under_item_cap", source(NESTED_UNDER_ITEM_CAP), 100, phrases={"": [CELL, NOT_A_MESSAGE]}),
    Case(
        "oversized_reply",
        source(OVERSIZED_REPLY),
        100,
        phrases={"": [CELL, "it sent a reply of 171.7 MiB, more than the 4 MiB the grader reads"]},
    ),
    Case("million_items_reply", source(MILLION_ITEMS_REPLY), 100, phrases={"": [CELL, NOT_A_MESSAGE]}),
    Case("nested_result", source(NESTED_RESULT), 90, {"zero_pad": 0}, {"zero_pad": ["has shape (1, 1, 1, 1, 1"]}),
    Case(
        "million_items_result",
        source(MILLION_ITEMS_RESULT),
        95,
        {"distribute_value": 0},
        {"distribute_value": [NOT_A_MESSAGE]},
    ),
    # Limits of processes, memory and files: each is this learner's alone, and holds.
    Case(
        "process_limit",
        source(PROCESS_LIMIT),
        100,
        phrases={"": [CELL, "then [Errno 11] Resource temporarily unavailable"]},
    ),
    Case("forks_times_memory", source(FORKS_TIMES_MEMORY), 100, phrases={"": [CELL, OVER_MEMORY]}),
    Case("idle_forks", source(IDLE_FORKS), 100, phrases={"": [CELL, "RuntimeError: IDLE FORKS:"]}),
    Case("fill_tmp", source(fill('"/tmp"')), 100, phrases={"": [("FILL stopped within the limit", OVER_MEMORY)]}),
    Case(
        "fill_dev_shm", source(fill('"/dev/shm"')), 100, phrases={"": [("FILL stopped within the limit", OVER_MEMORY)]}
    ),
    Case(
        "fill_home",
        source(fill('os.environ["HOME"]')),
        100,
        phrases={"": [("FILL stopped within the limit", OVER_MEMORY)]},
    ),
    Case("memfd_memory", source(MEMFD_MEMORY), 100, phrases={"": [("HOG refused within the limit", OVER_MEMORY)]}),
    Case(
        "sysv_shm_memory",
        source(*[SYSV_SHM_SEGMENT] * 5, SYSV_SHM_HELD),
        100,
        phrases={"": [("HOG refused within the limit", OVER_MEMORY)]},
    ),
    Case("files_left", source(FILES_LEFT), 100, phrases={"": [CELL, "LEFT a file in"]}),
    # The no-double-penalty retry hands the learner's process sealed answers: it finds their table
    # (192 entries, one per output value) and reads none of them.
    Case(
        "harvest_helper_answers",
        source(HARVEST),
        60,
        {"zero_pad": 0, "conv_single_step": 0, "conv_forward": 0},
        {
            "conv_forward": ["raised LookupError: HARVEST found no table of 192 answers (tables of [192, 1] entries)"],
            "conv_backward": ["right when it is given a correct zero_pad"],
        },
    ),
    # Time: the grader's clock, the grader's limits.
    Case("forged_clock", source(FORGED_CLOCK), 95, {"distribute_value": 0}, {"distribute_value": ["time limit"]}),
    Case("budget", source(BUDGET), 0, phrases={"": ["used up its time budget of 15 s"]}, apart=60, budget=15),
    # Huge texts are cut before they reach the results.
    Case("huge_line_cell", source(HUGE_LINE_CELL), 100, phrases={"": [CELL, "ValueError: LONG LINE xxxxxxxx"]}),
    Case(
        "huge_line_function",
        source(replace={"create_mask_from_window": HUGE_LINE_FUNCTION}),
        95,
        {"create_mask_from_window": 0},
        {"create_mask_from_window": ["raised IndexError"]},
    ),
    Case(
        "ragged_results",
        source(RAGGED),
        65,
        {"conv_forward": 0, "pool_forward": 0},
        {
            "conv_forward": ["`Z` cannot be read as an array"],
            "pool_forward": ["the result could not be judged (ValueError)"],
        },
    ),
    *KEYRING_CASES,
    # Hidden inputs smuggled into feedback (test_case also looks for their values in every result).
    Case(
        "exfil_message", source(EXFIL_MESSAGE), 80, {"conv_forward": 0}, {"conv_forward": ["raised ValueError: EXFIL"]}
    ),
    Case(
        "exfil_class_name",
        source(EXFIL_CLASS_NAME),
        80,
        {"conv_forward": 0},
        {"conv_forward": ["raised EXFIL_", "raised an exception of its own class"]},
    ),
    Case(
        "exfil_reserved_names",
        source(EXFIL_RESERVED_NAMES),
        70.83,
        {"conv_forward": 3.33, "pool_forward": 2.5},
        {"conv_forward": ["time limit exceeded"], "pool_forward": ["pool_forward is not defined"]},
    ),
    Case(
        "exfil_line", source(EXFIL_LINE), 80, {"conv_forward": 0}, {"conv_forward": ["raised ValueError: see the line"]}
    ),
    Case("exfil_shape", source(EXFIL_SHAPE), 80, {"conv_forward": 0}, {"conv_forward": ["`Z` has shape (0, "]}),
    Case(
        "exfil_hint_name",
        source(EXFIL_HINT_NAME),
        80,
        {"conv_forward": 0},
        {"conv_forward": ["raised ValueError: nothing to see"]},
    ),
    Case(
        "exfil_variable_names",
        source(EXFIL_VARIABLE_NAMES),
        80,
        {"conv_forward": 0},
        {"conv_forward": ["the cache should be"]},
    ),
    Case(
        "exfil_result_type", source(EXFIL_RESULT_TYPE), 90, {"zero_pad": 0}, {"zero_pad": ["not a number or an array"]}
    ),
    Case(
        "exfil_later_public",
        source(EXFIL_LATER_PUBLIC),
        98,
        {"conv_single_step": 8},
        {"conv_single_step": ["raised ValueError: EXFIL"]},
    ),
    # The course's files and classmates' submissions are out of sight.
    Case("course_import", source(COURSE_IMPORT), 0, phrases={name: ["COURSE found nothing"] for name in POINTS}),
    Case(
        "other_submissions",
        source(OTHER_SUBMISSIONS),
        0,
        phrases={name: ["found no other submission: []"] for name in POINTS},
    ),
    # A reply written ahead of the grader's request does not carry that request's id: it ends the
    # process, and is never taken for the next reply (the cell is left out, the rest graded).
    Case(
        "reply_ahead",
        source(RUNNER_PIPES + 'import json\n_send_frame(json.dumps({"ok": True, "output": ""}).encode())\n'),
        100,
        phrases={"": [f"{CELL}: ended the learner's process (it sent something that is not a reply)"]},
    ),
    # Recorded helper answers: forged keys open none, and frames that are not replies cost their own call.
    Case(
        "helper_flood",
        source(HELPER_FLOOD),
        75,
        {"create_mask_from_window": 0, "pool_backward": 0},
        {"pool_backward": ["FLOOD guessed 0 of 60000 keys"]},
    ),
    Case(
        "helper_flood_unread",
        source(HELPER_FLOOD_UNREAD),
        95,
        {"distribute_value": 0},
        {"distribute_value": [("time limit", "ended the learner's process")]},
        apart=45,
    ),
    Case(
        "unread_request",
        source(STALLED_READER, LARGE_CELL),
        100,
        phrases={"": [f"Cell {FIRST_EXTRA + 1} failed"]},
        apart=45,
    ),
    # Namespaces, ptrace, planted results.
    Case(
        "unshare_tmpfs",
        source(UNSHARE),
        100,
        phrases={"": [CELL, "unshare(user+mount): Operation not permitted", "unshare failed: Operation not permitted"]},
    ),
    Case("ptrace_others", source(PTRACE), 100, phrases={"": [CELL, "PTRACE attached to nothing"]}),
    Case("plant_results", source(PLANT_RESULTS), 100, phrases={"": [CELL, "PLANT refused everywhere"]}),
    # Memory and files the grader's count may miss, and folders its count and clean-up may choke on.
    Case(
        "socket_buffers",
        source(*[SOCKET_BUFFERS] * 2, BUFFERS_HELD),
        100,
        phrases={"": [("BUFFERS refused within the limit", OVER_MEMORY)]},
    ),
    Case("deleted_files", source(DELETED_FILES), 100, phrases={"": [("HOG refused within the limit", OVER_MEMORY)]}),
    Case(
        "unreadable_size", source(UNREADABLE_SIZE), 100, phrases={"": [("FILL stopped within the limit", OVER_MEMORY)]}
    ),
    Case("deep_folders", source(DEEP_FOLDERS), 100, phrases={"": [CELL, "DEEP folders: 1500 levels"]}),
]

# Assignment 2: a wrong helper excuses no large case left undone, and a large case is compared,
# in a result of its shape, at positions no learner can know (see mnist_cheats.py).
MNIST_CASES = [
    Case(
        "mnist_forged_helper_not_recorded",
        mnist_source(mnist_cheats.FORGED_HELPER_NOT_RECORDED),
        96.66,  # 8.33 + 8.33 lost, each exercise's score rounded to 2 places
        {"pool_forward_fast": 8.33, "pool_backward_fast": 8.33},
        {"pool_backward_fast": ["5 of 6 cases pass", "case 6 (hidden case): a helper was called with arguments"]},
    ),
    Case(
        "mnist_helper_called_only",
        mnist_source(mnist_cheats.HELPER_CALLED_ONLY),
        96.66,  # 8.33 + 8.33 lost, each exercise's score rounded to 2 places
        {"pool_forward_fast": 8.33, "pool_backward_fast": 8.33},
        {"pool_backward_fast": ["5 of 6 cases pass", "case 6 (hidden case): the result is wrong at"]},
    ),
    Case(  # the honest counterpart: the large case counts, judged with the reference's answers
        "mnist_helper_wrong_everywhere",
        mnist_source(mnist_cheats.HELPER_WRONG_EVERYWHERE),
        90,
        {"pool_forward_fast": 0},
        {"pool_backward_fast": ["6 of 6 cases pass", "right when it is given a correct pool_forward_fast"]},
    ),
    Case(
        "mnist_seeded_positions",
        mnist_source(mnist_cheats.SEEDED_POSITIONS),
        96.67,
        {"conv_forward_fast": 16.67},
        {"conv_forward_fast": ["5 of 6 cases pass", "case 6 (hidden case): `Z` is wrong at most positions"]},
    ),
    Case(
        "mnist_flat_result",
        mnist_source(mnist_cheats.FLAT_RESULT),
        96.67,
        {"conv_forward_fast": 16.67},
        {"conv_forward_fast": ["case 6 (hidden case): `Z` has the wrong shape (this case's shapes are hidden)"]},
    ),
]


# Runs the grader as a child subreaper: any process the batch leaves behind is re-parented to
# it, so "left behind by this batch" is exact even while other graders run on this machine.
# After LIMIT seconds (None: no limit) it kills the grader and everything below it: a grader that
# hangs costs that run its missing results, not the whole test session.
WRAPPER = r"""
import ctypes, json, os, signal, subprocess, sys, time
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)

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

def reap():
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass

grader = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL)
try:
    code, hung = grader.wait(timeout=LIMIT), False
except subprocess.TimeoutExpired:
    code, hung = None, True
    for _ in range(100):
        for process in descendants():
            try:
                os.kill(process["pid"], signal.SIGKILL)
            except OSError:
                pass
        reap()
        if not descendants():
            break
        time.sleep(0.1)
    grader.wait()

deadline = time.monotonic() + 5
while True:
    reap()
    left = descendants()
    if not left or time.monotonic() > deadline:
        break
    time.sleep(0.1)
json.dump({"code": code, "hung": hung, "left": left}, open(sys.argv[1], "w"))
"""


def wrapper(limit: float | None) -> str:
    return f"LIMIT = {limit!r}\n" + WRAPPER


@dataclass
class Run:
    """One grader run over a corpus; the batch is one run of most cases plus one per case apart."""

    corpus: Path
    results: Path
    report: Path
    limit: float | None  # seconds before the run is killed as hung (None: never)
    apart: bool = False  # a run of one case apart, else a share of the main corpus
    jobs: int = 2
    budget: float = BUDGET_SECONDS
    assignment: str = ASSIGNMENT  # MNIST: the corpus of MNIST_CASES, graded after the others

    def options(self) -> list[str]:
        return [*(MNIST_OPTIONS if self.assignment == MNIST else OPTIONS), "--budget", f"{self.budget:g}"]

    def command(self, corpus: Path, results: Path, report: Path) -> list:
        return [
            sys.executable,
            "-c",
            wrapper(self.limit),
            str(report),
            sys.executable,
            "-m",
            "autograder",
            "grade",
            str(corpus),
            "--results-dir",
            str(results),
            "--jobs",
            str(self.jobs),
            "--assignment",
            self.assignment,
            *self.options(),
        ]

    def outcome(self) -> dict:
        return json.loads(self.report.read_text()) if self.report.exists() else {"code": None, "hung": True, "left": []}


@dataclass
class Batch:
    mode: str
    runs: list  # [Run]: the first ones share the main corpus, the others grade one case apart each
    began: float  # seconds since boot, as /proc reports process start times
    ended: float
    own_uids: range  # uids no other grader on this machine uses (the throwaway user's), or none

    def result_file(self, name: str) -> Path:
        return next(
            (run.results / f"{name}.json" for run in self.runs if (run.results / f"{name}.json").exists()),
            self.runs[0].results / f"{name}.json",
        )

    def result(self, name: str) -> dict:
        path = self.result_file(name)
        hung = [run.corpus.name for run in self.runs if run.outcome()["hung"]]
        assert path.exists(), f"no results for {name}: the grader runs killed as hung: {hung}"
        return json.loads(path.read_text())

    @property
    def left(self) -> list:
        return [process for run in self.runs for process in run.outcome()["left"]]


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
        fields = stat[stat.rindex(")") + 2 :].split()
        uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
        if fields[0] != "Z":
            found.append(
                Process(int(proc.name), uid, stat[stat.index("(") + 1 : stat.rindex(")")], argv, int(fields[19]) / tick)
            )
    return found


def write_submission(path: Path, built) -> None:
    """A built notebook, or raw text for the files that are not notebooks."""
    if isinstance(built, str):
        path.write_text(built)
    else:
        nbformat.write(built, str(path))


def all_at_once(work: Callable, items: list) -> list:
    """work(item) for every item, each in a thread of its own; the first exception goes through."""
    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        return list(pool.map(work, items))


def in_waves(work: Callable, runs: list[Run]) -> None:
    """work(run) for every run: those of assignment 1 all at once, then the MNIST corpus."""
    for wave in ([run for run in runs if run.assignment != MNIST], [run for run in runs if run.assignment == MNIST]):
        if wave:
            all_at_once(work, wave)


def grade_in(mode: str, runs: list[Run]) -> range:
    """Grade every run's corpus into its results, in waves (see in_waves), the way `mode` grades;
    return the uids that only this batch's processes use (learner uids leased as root may be
    another grader's next)."""
    if mode == "root":
        if os.geteuid() != 0 or not bubblewrap_works():
            unavailable("the root mode needs root and bubblewrap")
        COURSE.mkdir()
        in_waves(
            lambda run: subprocess.run(
                run.command(run.corpus, run.results, run.report), cwd=ROOT, timeout=600, check=True
            ),
            runs,
        )
        return range(0)
    if mode == "container":
        COURSE.mkdir()

        def in_a_container(run):  # one stand-in per run: a real container grades one submission
            container = Container(run.assignment)
            try:
                notebooks = {path.stem: path for path in sorted(run.corpus.glob("*.ipynb"))}
                run.report.parent.mkdir(parents=True, exist_ok=True)
                container.grade_all(notebooks, run.results, wrapper(run.limit), run.report, " ".join(run.options()))
            finally:
                container.close()

        in_waves(in_a_container, runs)
        return range(0)
    with throwaway_user() as user:  # the instructor of a shared server: their own folders, their own uid
        home = Path(user.pw_dir)
        for run in runs:
            shutil.copytree(run.corpus, home / run.corpus.name)
        COURSE.mkdir()
        give(home, user)
        give(COURSE, user)

        def as_the_user(run):
            theirs = [home / run.corpus.name, home / f"{run.corpus.name}-results", home / f"{run.corpus.name}.json"]
            graded = run_as(user.pw_name, run.command(*theirs), cwd=ROOT, timeout=600)
            assert graded.returncode == 0, graded.stdout + graded.stderr
            assert "isolation: bubblewrap in a user namespace" in graded.stderr
            if theirs[1].exists():
                shutil.copytree(theirs[1], run.results, dirs_exist_ok=True)
            shutil.copy(theirs[2], run.report)

        in_waves(as_the_user, runs)
        return range(user.pw_uid, user.pw_uid + 1)


def leased_uid(uid: int) -> bool:
    return sandbox.UID_FIRST <= uid < sandbox.UID_FIRST + sandbox.UID_COUNT


def learner_shm_segments() -> list[dict]:
    """System V shared memory segments created by a learner uid (leased as root), from /proc/sysvipc/shm."""
    lines = Path("/proc/sysvipc/shm").read_text().splitlines()
    rows = [dict(zip(lines[0].split(), line.split())) for line in lines[1:]]
    return [row for row in rows if leased_uid(int(row["cuid"]))]


def remove_shm_segment(shmid: int) -> None:
    ctypes.CDLL(None, use_errno=True).shmctl(shmid, 0, None)  # IPC_RMID


@pytest.fixture(scope="module", params=MODES)
def batch(request, tmp_path_factory):
    base = tmp_path_factory.mktemp(f"batch-{request.param}")
    # A container grades one submission at a time: there two stand-ins share the main corpus, as
    # --jobs 2 does elsewhere.
    shares = [
        Run(base / f"corpus{k}", base / f"results{k}", base / f"corpus{k}.json", limit=None)
        for k in range(2 if request.param == "container" else 1)
    ]
    # One at a time: each submission's timed cases have the grader's share of the machine to themselves.
    mnist = Run(base / "mnist", base / "mnist-results", base / "mnist.json", limit=None, jobs=1, assignment=MNIST)
    runs = (
        shares
        + [mnist]
        + [
            Run(
                base / case.name,
                base / f"{case.name}-results",
                base / f"{case.name}.json",
                case.apart,
                True,
                budget=case.budget,
            )
            for case in CASES
            if case.apart
        ]
    )
    main = [case for case in CASES if not case.apart]
    for case in CASES:
        corpus = base / case.name if case.apart else shares[main.index(case) % len(shares)].corpus
        corpus.mkdir(exist_ok=True)
        write_submission(corpus / f"{case.name}.ipynb", case.build())
    mnist.corpus.mkdir()
    for case in MNIST_CASES:
        write_submission(mnist.corpus / f"{case.name}.ipynb", case.build())
    for run in runs:
        run.results.mkdir()
    HOST_MARKER.write_text("visible on the host")
    HOST_MARKER.chmod(0o644)
    began = time.clock_gettime(time.CLOCK_BOOTTIME)
    try:
        uids = grade_in(request.param, runs)
        yield Batch(request.param, runs, began, time.clock_gettime(time.CLOCK_BOOTTIME), uids)
    finally:
        HOST_MARKER.unlink(missing_ok=True)
        shutil.rmtree(COURSE, ignore_errors=True)
        for segment in learner_shm_segments():  # memory a learner may have left in the kernel
            remove_shm_segment(int(segment["shmid"]))
        shutil.rmtree(f"/dev/shm/hide_{NONCE}", ignore_errors=True)  # unreadable_size's, where a grader left it
        for folder in SHARED_FOLDERS:  # files_left's files, where a grader left them
            Path(folder, f"left_{NONCE}").unlink(missing_ok=True)
        for run in runs:
            for process in run.outcome()["left"] if run.report.exists() else []:
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


def hidden_fingerprints(reference_h5: Path) -> set[str]:
    """The first values of every hidden input array as the EXFIL cases write them (digits of
    |value| * 1e9), those of 8 digits or more: none may appear in any results file."""
    public, hidden = set(), set()
    for cases in read_all_cases(reference_h5).values():
        for case in cases:
            for value in case.inputs.values():
                if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                    digits = {str(int(abs(v) * 10**9)) for v in np.ravel(value)[:3]}
                    (public if case.name.startswith("public") else hidden).update(digits)
    return {digits for digits in hidden - public if len(digits) >= 8}


HIDDEN_FINGERPRINTS = hidden_fingerprints(REFERENCE_H5)
MNIST_HIDDEN_FINGERPRINTS = hidden_fingerprints(Course.repository(ROOT).reference_file(MNIST))


def test_batch_completes_with_one_result_per_submission(batch):
    assert [run.corpus.name for run in batch.runs if run.outcome()["hung"]] == [], "grader runs that hung"
    assert {run.outcome()["code"] for run in batch.runs if not run.apart} == {0}
    assert [case.name for case in CASES + MNIST_CASES if not batch.result_file(case.name).exists()] == []
    if batch.mode != "container":  # a container grades one submission: no gradebook
        with open(batch.runs[0].results / "gradebook.csv", newline="") as stream:
            assert sorted(row["student"] for row in csv.DictReader(stream)) == sorted(
                case.name for case in CASES if not case.apart
            )


def test_every_submission_says_which_sandbox_graded_it(batch):
    expected = {"root": "root_namespaces", "user": "user_namespace", "container": "separate_uid"}[batch.mode]
    graded = [batch.result(case.name) for case in CASES + MNIST_CASES if batch.result_file(case.name).exists()]
    assert {result["extra_data"].get("isolation") for result in graded if "invalid" not in result["extra_data"]} == {
        expected
    }


@pytest.mark.parametrize("case", [pytest.param(case, id=case.name) for case in CASES])
def test_case(batch, case):
    assert_graded_as(batch, case, POINTS, HIDDEN_FINGERPRINTS)


@pytest.mark.parametrize("case", [pytest.param(case, id=case.name) for case in MNIST_CASES])
def test_mnist_case(batch, case):
    assert_graded_as(batch, case, MNIST_POINTS, MNIST_HIDDEN_FINGERPRINTS)


def assert_graded_as(batch: Batch, case: Case, points: dict[str, int], fingerprints: set[str]) -> None:
    """The case's scores and phrases as its table says, and none of the hidden `fingerprints` in its results."""
    result = batch.result(case.name)
    want = {name: (worth if case.total else 0) for name, worth in points.items()} | case.scores
    assert round(sum(want.values()), 2) == case.total, "the table's expected scores do not add up"
    outputs = exercise_outputs(result)
    differing = [name for name, score in exercise_scores(result).items() if score != want.get(name)]
    assert (result["score"], exercise_scores(result)) == (case.total, want), "\n".join(
        [result["output"], *(f"{name}: {outputs[name]}" for name in differing)]
    )
    for where, phrases in case.phrases.items():
        for phrase in phrases:
            alternatives = (phrase,) if isinstance(phrase, str) else phrase
            assert any(text in outputs[where] for text in alternatives), (
                f"{phrase!r} not in the output of {where or 'the submission'}"
            )
    text = batch.result_file(case.name).read_text()
    leaked = sorted(digits for digits in fingerprints if digits in text)
    assert leaked == [], (
        "hidden input values in the feedback: "
        + "; ".join(line.strip() for line in text.splitlines() if any(digits in line for digits in leaked))[:1500]
    )


def test_no_learner_process_is_left_behind(batch):
    assert batch.left == []
    now = processes()
    during_batch = [p for p in now if batch.began - 0.01 <= p.start <= batch.ended]
    assert [p for p in during_batch if p.uid in batch.own_uids] == []
    sleeps = [
        [b"sleep", f"{seconds}.{NONCE}".encode()] for seconds in (300, 301, 302)
    ]  # orphans, process_limit, deep_folders
    assert [p for p in now if p.comm == DAEMON_NAME or p.argv[:2] in sleeps] == []


def test_hung_function_gets_zero_and_the_exercises_not_using_it_full_marks(batch):
    result = batch.result("loop_function")
    scores = exercise_scores(result)
    assert scores["zero_pad"] == 0
    assert "time limit exceeded" in exercise_outputs(result)["zero_pad"]
    assert {name: scores[name] for name in independent_of("zero_pad")} == {
        name: POINTS[name] for name in independent_of("zero_pad")
    }


def test_function_ending_the_process_gets_zero_and_the_process_is_restarted(batch):
    result = batch.result("exit_function")
    scores = exercise_scores(result)
    assert scores["distribute_value"] == 0
    assert (
        "ended the learner's process (the process exited with code 3)" in exercise_outputs(result)["distribute_value"]
    )
    assert result["extra_data"]["restarts"] >= 1
    before = list(POINTS)[: list(POINTS).index("distribute_value")]
    assert {name: scores[name] for name in before} == {name: POINTS[name] for name in before}


@pytest.mark.parametrize("name", ["orphans", "signals"])
def test_hostile_cell_really_ran(batch, name):
    """Started its children (orphans) or survived its own signals (signals): its cell did not fail."""
    assert f"Cell {FIRST_EXTRA} failed" not in batch.result(name)["output"]


@pytest.mark.parametrize(
    "name",
    ["big_print", "huge_line_cell", "huge_line_function", "nested_reply", "oversized_reply", "million_items_reply"],
)
def test_results_stay_small_whatever_is_printed_or_sent(batch, name):
    assert batch.result_file(name).stat().st_size < 200_000
    result = batch.result(name)
    assert len(result["output"]) < 2000
    assert max(len(line) for test in result["tests"] for line in test["output"].splitlines()) < 600


@pytest.mark.parametrize(
    "name", ["nested_reply", "nested_reply_under_item_cap", "oversized_reply", "million_items_reply"]
)
def test_forged_replies_are_refused_cheaply(batch, name):
    """Refused at the length, the item count or the parser's depth, well before its time limit."""
    assert batch.result(name)["execution_time"] < 10


def test_printed_fake_results_do_not_reach_the_results(batch):
    assert "FAKE_RESULTS" not in batch.result_file("fake_output").read_text()
    assert not [path for run in batch.runs for path in run.results.iterdir() if "PLANTED_RESULTS" in path.read_text()]
    if batch.mode == "container":
        return  # one submission per container: no gradebook
    with open(batch.runs[0].results / "gradebook.csv", newline="") as stream:
        row = next(row for row in csv.DictReader(stream) if row["student"] == "fake_output")
    assert float(row["total"]) == 0


def test_unpickling_payload_never_runs_on_the_host(batch):
    assert not PWNED.exists()


def test_learner_files_stay_in_the_sandbox(batch):
    assert not HACK.exists()
    assert not LEAK.exists()


def test_no_submission_reached_the_network(batch):
    LISTENER.settimeout(0.2)
    with pytest.raises(TimeoutError):
        LISTENER.accept()[0].close()


def owned_by_learners(folder: Path) -> list[str]:
    """Files under `folder` that belong to a learner uid (leased as root)."""
    found = []
    for path in folder.rglob("*"):
        try:
            found += [str(path)] if leased_uid(path.lstat().st_uid) else []
        except OSError:  # gone meanwhile
            pass
    return found


def test_no_learner_file_is_left_in_shared_folders(batch):
    """files_left wrote where it could, fill_dev_shm filled /dev/shm: nothing of a learner remains
    (/tmp aside from the search by owner: other tests' learners may be at work there)."""
    assert [folder for folder in SHARED_FOLDERS if Path(folder, f"left_{NONCE}").exists()] == []
    assert [path for folder in SHARED_FOLDERS[1:] for path in owned_by_learners(Path(folder))] == []


def test_no_learner_memory_is_left_in_the_kernel(batch):
    """sysv_shm_memory created System V segments: they must end with the learner's process."""
    assert [(row["shmid"], row["size"]) for row in learner_shm_segments()] == []


@pytest.mark.skipif(platform.machine() != "x86_64", reason="the keyring cases use x86_64 system call numbers")
def test_no_key_is_left_in_the_kernel(batch):
    assert f"hostile_{NONCE}" not in Path("/proc/keys").read_text()
    users = [int(line.split(":")[0]) for line in Path("/proc/key-users").read_text().splitlines()]
    assert [uid for uid in users if leased_uid(uid)] == []


def test_time_budget_bounds_the_submission(batch):
    result = batch.result("budget")
    assert result["execution_time"] <= 15 + 8
    assert "not run: the submission used up its time budget of 15 s" in exercise_outputs(result)["pool_backward"]


def judged_in_process(cells_of) -> dict[str, float]:
    """Scores of a submission's code run in this process (the course visible, no sandbox)."""
    namespace = {"__name__": "__main__"}
    folder = str(source_notebook(ROOT, ASSIGNMENT).parent)  # the setup cell imports check_helpers from there
    sys.path.insert(0, folder)
    try:
        for index, text in learner_code_cells(cells_of()):
            exec(compile(text, f"<cell {index}>", "exec"), namespace)
    finally:
        sys.path.remove(folder)
    cases = read_all_cases(REFERENCE_H5)
    verdicts = judge_assignment(exercises(ASSIGNMENT), cases, in_process_call(namespace))
    return {verdict.exercise.name: verdict.score for verdict in verdicts}


def test_disk_search_would_succeed_if_the_files_were_visible():
    """The disk_search case scores 0 only because the sandbox hides the course: on the host it gets 100."""
    assert REFERENCE_H5.is_file() and SOURCE.is_file()
    assert sum(judged_in_process(source(DISK_SEARCH)).values()) == 100


def test_course_import_would_succeed_if_the_course_were_importable():
    """course_import scores 0 only because the sandbox hides the course: here it imports it and gets 100."""
    assert sum(judged_in_process(source(COURSE_IMPORT)).values()) == 100


def test_harvest_would_succeed_if_the_answers_were_not_sealed(monkeypatch):
    """harvest_helper_answers scores 0 on conv_forward only because the recorded answers it finds are
    sealed: were the stand-in helpers given them plain ({key: answer}), it would reshape them into
    full marks. (In check(), in the learner's own kernel, nothing is secret: the cases are there.)"""

    def plain_lookup(name, table):
        return lambda key: table[key]  # the recorded answer in encode's form, as sealed_lookup gives it

    monkeypatch.setattr(reference, "seal", lambda answers: dict(answers))
    monkeypatch.setattr(runner, "sealed_lookup", plain_lookup)
    read_all_cases.cache_clear()
    try:
        scores = judged_in_process(source(HARVEST))
    finally:
        read_all_cases.cache_clear()
    assert (scores["conv_forward"], scores["zero_pad"], scores["conv_single_step"]) == (20, 0, 0)


def test_forged_clock_does_not_hide_a_slow_large_case(tmp_path):
    """Assignment 2's large case must finish in 3 s, timed by the grader: a conv_forward_fast that
    takes 3.5 s there and sets the learner's clocks to say 0.01 s fails that case only."""
    if os.geteuid() != 0 or not bubblewrap_works():
        unavailable("grading here needs root and bubblewrap")
    notebook = nbformat.read(str(source_notebook(ROOT, "conv_mnist")), as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(SLOW_LARGE_CASE))
    nbformat.write(notebook, str(tmp_path / "conv_mnist.ipynb"))
    result = grade_notebook(
        tmp_path / "conv_mnist.ipynb", Course.repository(), "conv_mnist", Limits(memory_bytes=2**30)
    ).to_gradescope()
    scores, outputs = exercise_scores(result), exercise_outputs(result)
    assert scores["conv_forward_fast"] == round(20 * 5 / 6, 2), outputs["conv_forward_fast"]
    assert "on a large case that must finish within 3 s" in outputs["conv_forward_fast"]
    took = re.search(r"took (\d+\.\d\d) s", outputs["conv_forward_fast"])  # the grader's clock, not the forged one
    assert took and float(took[1]) >= 3.5, outputs["conv_forward_fast"]
