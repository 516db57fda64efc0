"""Hostile submissions: the isolated grader survives them, scores them exactly, and leaves nothing behind.

Every submission is built from the source notebook (or the release stubs), its attack's cells
appended or put in place of solutions, and graded in each place a class grades, then checked case
by case against the table CASES, a Case of keywords per submission. An attack's cell is a file of
plain code in tests/attacks/ (<name>.py, the run's values as $PLACEHOLDERS that attack() fills; see
tests/attacks/README.md); a few cells short enough to read in their row are written there. The
places a class grades:
- "root": one batch run of `python -m autograder grade` as root with bubblewrap;
- "user": the same batch run by a throwaway normal user (an instructor on a shared server),
  whose sandbox is bubblewrap in a user namespace;
- "container": each submission through the Gradescope bundle's run_autograder, as root in a
  stand-in container without bubblewrap, where the learner runs as a uid of its own (two
  stand-ins share the corpus, as --jobs 2 does elsewhere).
Cheats at assignment 2's large timing cases (MNIST_CASES, from mnist_cheats.py, their files in
tests/attacks/mnist/) are a corpus of their own, graded the same way once the rest is done: their
timed cases are then not judged on a machine that the rest of the batch keeps busy.
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

import nbformat
import numpy as np
import pytest

import attack_files
import mnist_cheats
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
SHARED_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")  # writable by every user on Debian
# What the placeholders in the attacks' files (tests/attacks/, see its README.md) stand for in this run.
RUN_VALUES = {
    "NONCE": NONCE,
    "PWNED": PWNED,
    "LEAK": LEAK,
    "HOST_MARKER": HOST_MARKER,
    "COURSE": COURSE,
    "HACK": HACK,
    "DAEMON_NAME": DAEMON_NAME,
    "LISTENER_PORT": LISTENER.getsockname()[1],
    "REFERENCE_H5": REFERENCE_H5,
    "SOURCE": SOURCE,
    "SHARED_FOLDERS": repr(SHARED_FOLDERS),
}


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


def attack(name: str, **values) -> str:
    """The cell in tests/attacks/<name>.py, its placeholders filled with this run's values (and `values`)."""
    return attack_files.attack(name, **RUN_VALUES, **values)


# ---- pieces that several attacks begin with, and attacks some tests below run on the host ----
# _runner_pipe(access) and _send_frame(data, length=None): the runner's own pipes and framing.
RUNNER_PIPES = attack("runner_pipes")
# libc.syscall and _outcome(result), for the keyring system calls (x86_64 numbers: add_key 248,
# request_key 249, keyctl 250).
KEYRING_LIBC = attack("keyring_libc")
# _injected(pid, number, *args): through ptrace, a system call run by another process of the learner's
# uid, outside the learner's system call filter (pid 1 of its sandbox: its PID namespace's init); byte
# strings are written on its stack.
PTRACE_INJECT = attack("ptrace_inject")
# _secret(array): the first values of an input as digit strings, what the EXFIL attacks try to get
# into the feedback; _public(A_prev): whether an input is a public case of conv_forward, pool_forward.
SECRET = attack("secret")
# _writable_folder(): /dev/shm where it can be written, else HOME.
WRITABLE_FOLDER = attack("writable_folder")
# Looks for the course's reference file and source notebook on the whole disk, then answers every
# exercise from them.
DISK_SEARCH = attack("disk_search")
# Every route to the course package and its reference data: import it, ask importlib, read the
# editable install's map, look through other processes' folders and environments (course_import);
# then answers every exercise from a reference file found, matched on the arguments (answer_from_h5).
COURSE_IMPORT = attack("course_import") + attack("answer_from_h5")
# zero_pad and conv_single_step wrong on purpose, so that conv_forward is retried with the reference
# helpers; conv_forward then looks for the recorded helper answers and reshapes them into Z.
HARVEST = attack("harvest_helper_answers")

# ---- huge texts, generated -------------------------------------------------------------------
HUGE_LINE_CELL = f'_filler = "{"x" * 2_000_000}"; raise ValueError("LONG LINE " + _filler)\n'
HUGE_LINE_FUNCTION = f'def create_mask_from_window(x):\n    return "{"y" * 2_000_000}"[len(x) + 10**7]\n'
LARGE_CELL = f'_padding = "{"z" * 1_000_000}"\n'  # a request far larger than a pipe holds


@dataclass(kw_only=True)
class Case:
    """name: file stem; build: makes the submission (a notebook, or text for a file that is not one);
    total: expected score; scores: exercises not at full marks (all 0 when total is 0); phrases:
    {exercise name, or "" for the overall output: texts it must contain, a tuple where any one of its
    texts will do}; apart: graded alone, beside the main batch, in a grader run killed after that many
    seconds (for submissions that idle a long time or may hang the grader), else None; budget: the
    submission's time budget, if not BUDGET_SECONDS (apart only)."""

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
OVER_FILL = ("FILL stopped within the limit", OVER_MEMORY)
# Kernel keyrings: a key planted by one submission and searched for by another.
KEYRING_CASES = (
    [
        Case(
            name="keyring_plant",
            build=source(KEYRING_LIBC + attack("keyring_plant")),
            total=100,
            phrases={"": [CELL, "ADD_KEY Operation not permitted, Operation not permitted"]},
        ),
        Case(
            name="keyring_search",
            build=source(KEYRING_LIBC + attack("keyring_search")),
            total=90,
            scores={"zero_pad": 0},
            phrases={"zero_pad": ["raised LookupError: KEY not found: Operation not permitted"]},
        ),
        # The same through ptrace, by the sandbox's init (pid 1), which the system call filter does not bind.
        Case(
            name="ptrace_key_plant",
            build=source(PTRACE_INJECT + attack("ptrace_key_plant")),
            total=100,
            phrases={"": [CELL, "PTRACE_KEY planted: attach: Operation not permitted"]},
        ),
        # Finds the key through its own pid 1 (waiting up to 1 s, once, for the planting submission), else fails.
        Case(
            name="ptrace_key_search",
            build=source(PTRACE_INJECT + attack("ptrace_key_search")),
            total=90,
            scores={"zero_pad": 0},
            phrases={"zero_pad": ["raised LookupError: KEY not found: attach: Operation not permitted"]},
        ),
    ]
    if platform.machine() == "x86_64"
    else []
)
CASES = [
    Case(
        name="loop_cell",
        build=source(attack("loop_cell")),
        total=100,
        phrases={"": [CELL, "TimeLimit", "while True"]},
    ),
    Case(
        name="loop_cell_stubborn",
        build=source(attack("loop_cell_stubborn")),
        total=100,
        phrases={"": [CELL, "did not finish within the time limit of 2 s"]},
    ),
    Case(
        name="loop_function",
        build=source(replace={"zero_pad": "def zero_pad(X, pad):\n    while True:\n        pass\n"}),
        total=90,
        scores={"zero_pad": 0},
        phrases={"zero_pad": ["time limit exceeded"]},
    ),
    # Hidden cases go to the learner in one exchange: after one hangs, the others are not run (one
    # time limit of 2 s is spent, not eight: those would overrun this submission's budget of 5 s).
    Case(
        name="loop_hidden_cases",
        build=source(
            wrap("pool_forward", '    while args[1]["stride"] != 1:  # the public cases\' stride\n        pass')
        ),
        total=87.5,
        scores={"pool_forward": 2.5},
        phrases={"pool_forward": ["time limit exceeded", "not run: an earlier case of this exercise"]},
        apart=45,
        budget=5,
    ),
    Case(
        name="exit_cell",
        build=source("import os\nos._exit(3)"),
        total=100,
        phrases={"": [CELL, "exited with code 3"]},
    ),
    Case(
        name="exit_function",
        build=source(wrap("distribute_value", "    import os\n    os._exit(3)")),
        total=95,
        scores={"distribute_value": 0},
        phrases={"distribute_value": ["exited with code 3"]},
    ),
    Case(name="sys_exit_cell", build=source("import sys\nsys.exit()"), total=100, phrases={"": [CELL, "SystemExit"]}),
    Case(
        name="interrupt_cell",
        build=source("raise KeyboardInterrupt"),
        total=100,
        phrases={"": [CELL, "KeyboardInterrupt"]},
    ),
    Case(
        name="interrupt_function",
        build=source(wrap("conv_backward", "    raise KeyboardInterrupt")),
        total=85,
        scores={"conv_backward": 0},
        phrases={"conv_backward": ["raised KeyboardInterrupt"]},
    ),
    Case(
        name="memory_cell",
        build=source("x = bytearray(5 * 2**30)"),
        total=100,
        phrases={"": [CELL, "MemoryError"]},
    ),
    Case(
        name="memory_function",
        build=source(wrap("pool_backward", "    np.ones((50000, 50000))")),
        total=80,
        scores={"pool_backward": 0},
        phrases={"pool_backward": ["raised MemoryError"]},
    ),
    # A sleeper, and a daemon disguised by name that leaves the session: none may outlive the grader.
    Case(name="orphans", build=source(attack("orphans")), total=100, phrases={"": ["100.0 of 100 points."]}),
    Case(
        name="signals",
        build=source(attack("signals"), "import os, signal\nos.killpg(0, signal.SIGKILL)"),
        total=100,
        phrases={"": [f"Cell {FIRST_EXTRA + 1} failed: ended the learner's process"]},
    ),
    Case(
        name="patched_numpy",
        build=source(attack("patched_numpy")),
        total=0,
        phrases={"zero_pad": ["has shape (1,)"]},
    ),
    Case(
        name="unpickle_payload",
        build=source(attack("unpickle_payload")),
        total=90,
        scores={"conv_single_step": 0},
        phrases={"conv_single_step": ["is a Evil, not a number or an array"]},
    ),
    Case(
        name="fake_output",
        build=source(attack("fake_output"), replace=release_stubs()),
        total=0,
        phrases={"zero_pad": ["not implemented yet"]},
    ),
    Case(name="forged_reply", build=source(attack("forged_reply")), total=100, phrases={"": [CELL]}),
    Case(
        name="disk_search",
        build=source(DISK_SEARCH),
        total=0,
        phrases={name: ["found []"] for name in POINTS},
    ),
    Case(
        name="big_print",
        build=source(
            'print("x" * 50_000_000)',
            "for _ in range(200_000):\n    print('spam')",
            'raise ValueError("y" * 10_000_000)',
        ),
        total=100,
        phrases={"": [f"Cell {FIRST_EXTRA + 2} failed: ValueError: yyy"]},
    ),
    Case(
        name="wrong_types",
        build=source(attack("wrong_types")),
        total=55,
        scores={"zero_pad": 0, "conv_single_step": 0, "conv_forward": 0, "distribute_value": 0},
        phrases={
            "zero_pad": ["the result is a str, not a number or an array"],
            "conv_single_step": ["the result is a dict"],
            "conv_forward": ["it returned a NoneType"],
            "distribute_value": ["expected real numbers"],
        },
    ),
    Case(
        name="nan",
        build=source(wrap("zero_pad", "    return np.full(np.shape(_original_zero_pad(*args, **kwargs)), np.nan)")),
        total=90,
        scores={"zero_pad": 0},
        phrases={"zero_pad": ["contains NaN"]},
    ),
    Case(
        name="syntax_error",
        build=source(replace={"pool_forward": "def pool_forward(A_prev, hparameters, mode='max'):\n    return ("}),
        total=85,
        scores={"pool_forward": 0},
        phrases={
            "": [f"Cell {SOLUTION_INDEX['pool_forward']} failed: SyntaxError"],
            "pool_forward": ["pool_forward is not defined"],
        },
    ),
    Case(
        name="missing_function",
        build=source(replace={"create_mask_from_window": ""}),
        total=95,
        scores={"create_mask_from_window": 0},
        phrases={"create_mask_from_window": ["create_mask_from_window is not defined"]},
    ),
    Case(
        name="invalid_json",
        build=raw('{"cells": ['),
        total=0,
        phrases={"": ["not valid JSON"], "zero_pad": ["Not graded"]},
    ),
    Case(
        name="empty_notebook",
        build=raw('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'),
        total=0,
        phrases={"": ["no code cells"], "zero_pad": ["zero_pad is not defined"]},
    ),
    Case(
        name="not_a_notebook",
        build=raw("[1, 2, 3]"),
        total=0,
        phrases={"": ["JSON but not a Jupyter notebook"]},
    ),
    # Files written to /tmp and the course folder, and read back by a later call or another submission.
    Case(
        name="tmp_writer",
        build=source(attack("tmp_writer")),
        total=90,
        scores={"conv_single_step": 0},
        phrases={"conv_single_step": ["raised"]},
    ),
    Case(
        name="tmp_reader",
        build=source(attack("tmp_reader")),
        total=90,
        scores={"zero_pad": 0},
        phrases={"zero_pad": ["raised FileNotFoundError"]},
    ),
    # zero_pad works only if the grader's machine answers on its loopback (no network namespace of its
    # own refuses the connection; without namespaces, sockets are refused).
    Case(
        name="network",
        build=source(attack("network")),
        total=90,
        scores={"zero_pad": 0},
        phrases={"zero_pad": [("ConnectionRefusedError", "PermissionError", "OSError")]},
    ),
    Case(
        name="threads_and_alarm",
        build=source(attack("threads"), attack("ignore_alarm")),
        total=85,
        scores={"pool_forward": 0},
        phrases={"pool_forward": ["did not finish within the time limit of 2 s"]},
    ),
    Case(name="fork_flood", build=source(attack("fork_flood")), total=100),
    # Forged replies: every one costs its cell, and only its cell.
    Case(
        name="nested_reply",
        build=source(RUNNER_PIPES + '_send_frame(b"[" * 200_000 + b"]" * 200_000)\n'),
        total=100,
        phrases={"": [CELL, NOT_A_MESSAGE]},
    ),
    # Fewer brackets than the grader's item cap, so that only the JSON parser's depth limit can stop it.
    Case(
        name="nested_reply_under_item_cap",
        build=source(RUNNER_PIPES + """_send_frame(b'{"a": ' * 99_000 + b"1" + b"}" * 99_000)\n"""),
        total=100,
        phrases={"": [CELL, NOT_A_MESSAGE]},
    ),
    Case(
        name="oversized_reply",
        build=source(RUNNER_PIPES + '_send_frame(b"x" * (8 << 20), length=180_000_000)\n'),
        total=100,
        phrases={"": [CELL, "it sent a reply of 171.7 MiB, more than the 4 MiB the grader reads"]},
    ),
    Case(
        name="million_items_reply",
        build=source(RUNNER_PIPES + '_send_frame(b"[" + b"0," * 999_999 + b"0]")\n'),
        total=100,
        phrases={"": [CELL, NOT_A_MESSAGE]},
    ),
    Case(
        name="nested_result",
        build=source(attack("nested_result")),
        total=90,
        scores={"zero_pad": 0},
        phrases={"zero_pad": ["has shape (1, 1, 1, 1, 1"]},
    ),
    Case(
        name="million_items_result",
        build=source(attack("million_items_result")),
        total=95,
        scores={"distribute_value": 0},
        phrases={"distribute_value": [NOT_A_MESSAGE]},
    ),
    # Limits of processes, memory and files: each is this learner's alone, and holds.
    # Forks until the kernel says EAGAIN; every child leaves the session and lives on as a sleep.
    Case(
        name="process_limit",
        build=source(attack("process_limit")),
        total=100,
        phrases={"": [CELL, "then [Errno 11] Resource temporarily unavailable"]},
    ),
    # Eight processes of 400 MiB each: every one under the 1 GiB per-process cap, 3.2 GiB together.
    Case(
        name="forks_times_memory",
        build=source(attack("forks_times_memory")),
        total=100,
        phrases={"": [CELL, OVER_MEMORY]},
    ),
    # As many idle children as the process limit allows, 8 MiB each: about 0.5 GiB in all, but each
    # also maps the runner's pages it shares copy-on-write with the others.
    Case(
        name="idle_forks",
        build=source(attack("idle_forks")),
        total=100,
        phrases={"": [CELL, "RuntimeError: IDLE FORKS:"]},
    ),
    # fill: 1.5 GiB in 64 MiB files under $FOLDER (a Python expression), then a wait long enough for
    # the grader to look; it reports whether it stayed within the 1 GiB limit.
    Case(name="fill_tmp", build=source(attack("fill", FOLDER='"/tmp"')), total=100, phrases={"": [OVER_FILL]}),
    Case(name="fill_dev_shm", build=source(attack("fill", FOLDER='"/dev/shm"')), total=100, phrases={"": [OVER_FILL]}),
    Case(
        name="fill_home",
        build=source(attack("fill", FOLDER='os.environ["HOME"]')),
        total=100,
        phrases={"": [OVER_FILL]},
    ),
    # Memory the grader's count of private pages does not see: anonymous files (memfd), not mapped.
    Case(
        name="memfd_memory",
        build=source(attack("memfd_memory")),
        total=100,
        phrases={"": [("HOG refused within the limit", OVER_MEMORY)]},
    ),
    # The same with System V shared memory: one 256 MiB segment per cell, touched once and detached,
    # kept by the kernel (without an IPC namespace even after the process ends); the last cell waits.
    Case(
        name="sysv_shm_memory",
        build=source(*[attack("sysv_shm_segment")] * 5, attack("sysv_shm_held")),
        total=100,
        phrases={"": [("HOG refused within the limit", OVER_MEMORY)]},
    ),
    # A file in every folder a learner can usually write, to be found by a later run.
    Case(name="files_left", build=source(attack("files_left")), total=100, phrases={"": [CELL, "LEFT a file in"]}),
    # The no-double-penalty retry hands the learner's process sealed answers: it finds their table
    # (192 entries, one per output value) and reads none of them.
    Case(
        name="harvest_helper_answers",
        build=source(HARVEST),
        total=60,
        scores={"zero_pad": 0, "conv_single_step": 0, "conv_forward": 0},
        phrases={
            "conv_forward": ["raised LookupError: HARVEST found no table of 192 answers (tables of [192, 1] entries)"],
            "conv_backward": ["right when it is given a correct zero_pad"],
        },
    ),
    # Time: the grader's clock, the grader's limits.
    # Learner clocks frozen and the runner's alarm switched off, then a call of 3 s against a limit of 2 s.
    Case(
        name="forged_clock",
        build=source(attack("forged_clock")),
        total=95,
        scores={"distribute_value": 0},
        phrases={"distribute_value": ["time limit"]},
    ),
    # Every exercise sleeps 1.9 s, under the call limit: the budget of 15 s ends the submission.
    Case(
        name="budget",
        build=source(attack("budget")),
        total=0,
        phrases={"": ["used up its time budget of 15 s"]},
        apart=60,
        budget=15,
    ),
    # Huge texts are cut before they reach the results.
    Case(
        name="huge_line_cell",
        build=source(HUGE_LINE_CELL),
        total=100,
        phrases={"": [CELL, "ValueError: LONG LINE xxxxxxxx"]},
    ),
    Case(
        name="huge_line_function",
        build=source(replace={"create_mask_from_window": HUGE_LINE_FUNCTION}),
        total=95,
        scores={"create_mask_from_window": 0},
        phrases={"create_mask_from_window": ["raised IndexError"]},
    ),
    # Results of a form no check foresaw.
    Case(
        name="ragged_results",
        build=source(attack("ragged_results")),
        total=65,
        scores={"conv_forward": 0, "pool_forward": 0},
        phrases={
            "conv_forward": ["`Z` cannot be read as an array"],
            "pool_forward": ["the result could not be judged (ValueError)"],
        },
    ),
    *KEYRING_CASES,
    # Hidden inputs smuggled into feedback (test_case also looks for their values in every result).
    Case(
        name="exfil_message",
        build=source(SECRET + attack("exfil_message")),
        total=80,
        scores={"conv_forward": 0},
        phrases={"conv_forward": ["raised ValueError: EXFIL"]},
    ),
    Case(
        name="exfil_class_name",
        build=source(SECRET + attack("exfil_class_name")),
        total=80,
        scores={"conv_forward": 0},
        phrases={"conv_forward": ["raised EXFIL_", "raised an exception of its own class"]},
    ),
    # Classes named like the grader's own error kinds, raised on the hidden cases only.
    Case(
        name="exfil_reserved_names",
        build=source(SECRET + attack("exfil_reserved_names")),
        total=70.83,
        scores={"conv_forward": 3.33, "pool_forward": 2.5},
        phrases={"conv_forward": ["time limit exceeded"], "pool_forward": ["pool_forward is not defined"]},
    ),
    # The error's "line" is read from linecache, which the learner's code can rewrite before raising.
    Case(
        name="exfil_line",
        build=source(SECRET + attack("exfil_line")),
        total=80,
        scores={"conv_forward": 0},
        phrases={"conv_forward": ["raised ValueError: see the line"]},
    ),
    # An empty array whose dimensions are the hidden values: "`Z` has shape (0, ...)".
    Case(
        name="exfil_shape",
        build=source(SECRET + attack("exfil_shape")),
        total=80,
        scores={"conv_forward": 0},
        phrases={"conv_forward": ["`Z` has shape (0, "]},
    ),
    # The mistake hint for a NameError quotes the name from the message, hidden cases included.
    Case(
        name="exfil_hint_name",
        build=source(SECRET + attack("exfil_hint_name")),
        total=80,
        scores={"conv_forward": 0},
        phrases={"conv_forward": ["raised ValueError: nothing to see"]},
    ),
    # The runner reports which notebook variables a function read; the learner rewrites that report.
    Case(
        name="exfil_variable_names",
        build=source(SECRET + attack("exfil_variable_names")),
        total=80,
        scores={"conv_forward": 0},
        phrases={"conv_forward": ["the cache should be"]},
    ),
    # An object of a class named after the input: "the result is a EXFIL_..., not a number or an array".
    Case(
        name="exfil_result_type",
        build=source(SECRET + attack("exfil_result_type")),
        total=90,
        scores={"zero_pad": 0},
        phrases={"zero_pad": ["not a number or an array"]},
    ),
    # zero_pad records its hidden inputs; conv_single_step's public case, judged later, shows them.
    Case(
        name="exfil_later_public",
        build=source(SECRET + attack("exfil_later_public")),
        total=98,
        scores={"conv_single_step": 8},
        phrases={"conv_single_step": ["raised ValueError: EXFIL"]},
    ),
    # The course's files and classmates' submissions are out of sight.
    Case(
        name="course_import",
        build=source(COURSE_IMPORT),
        total=0,
        phrases={name: ["COURSE found nothing"] for name in POINTS},
    ),
    # Any notebook or gradebook outside the system folders: a classmate's submission to copy from.
    Case(
        name="other_submissions",
        build=source(attack("other_submissions")),
        total=0,
        phrases={name: ["found no other submission: []"] for name in POINTS},
    ),
    # A reply written ahead of the grader's request does not carry that request's id: it ends the
    # process, and is never taken for the next reply (the cell is left out, the rest graded).
    Case(
        name="reply_ahead",
        build=source(RUNNER_PIPES + 'import json\n_send_frame(json.dumps({"ok": True, "output": ""}).encode())\n'),
        total=100,
        phrases={"": [f"{CELL}: ended the learner's process (it sent something that is not a reply)"]},
    ),
    # Recorded helper answers: forged keys open none, and frames that are not replies cost their own call.
    # On the retry with recorded answers, forged keys tried against the stand-in helper's own lookup.
    Case(
        name="helper_flood",
        build=source(attack("helper_flood")),
        total=75,
        scores={"create_mask_from_window": 0, "pool_backward": 0},
        phrases={"pool_backward": ["FLOOD guessed 0 of 60000 keys"]},
    ),
    # Frames that are not replies (questions, in the form of an older protocol) written straight to the
    # reply pipe, then asleep with the alarm off.
    Case(
        name="helper_flood_unread",
        build=source(RUNNER_PIPES + attack("helper_flood_unread")),
        total=95,
        scores={"distribute_value": 0},
        phrases={"distribute_value": [("time limit", "ended the learner's process")]},
        apart=45,
    ),
    # The runner reads the length of a large request, never its body, and sleeps with the alarm off.
    Case(
        name="unread_request",
        build=source(attack("stalled_reader"), LARGE_CELL),
        total=100,
        phrases={"": [f"Cell {FIRST_EXTRA + 1} failed"]},
        apart=45,
    ),
    # Namespaces, ptrace, planted results.
    Case(
        name="unshare_tmpfs",
        build=source(attack("unshare_tmpfs")),
        total=100,
        phrases={"": [CELL, "unshare(user+mount): Operation not permitted", "unshare failed: Operation not permitted"]},
    ),
    # PTRACE_ATTACH to every other process the learner can see (the grader, bubblewrap, ...).
    Case(
        name="ptrace_others",
        build=source(attack("ptrace_others")),
        total=100,
        phrases={"": [CELL, "PTRACE attached to nothing"]},
    ),
    # A perfect results.json wherever results are written (Gradescope's /autograder/results included).
    Case(
        name="plant_results",
        build=source(attack("plant_results")),
        total=100,
        phrases={"": [CELL, "PLANT refused everywhere"]},
    ),
    # Memory and files the grader's count may miss, and folders its count and clean-up may choke on.
    # Kernel buffers of Unix socket pairs: neither a process's pages nor a file. Each of two cells queues
    # 768 MiB in pairs it keeps; the last cell waits for the grader to look and says what was held.
    Case(
        name="socket_buffers",
        build=source(*[attack("socket_buffers")] * 2, attack("buffers_held")),
        total=100,
        phrases={"": [("BUFFERS refused within the limit", OVER_MEMORY)]},
    ),
    # Files deleted while still open: no name to find them by, their memory (a tmpfs's) still held.
    Case(
        name="deleted_files",
        build=source(WRITABLE_FOLDER + attack("deleted_files")),
        total=100,
        phrases={"": [("HOG refused within the limit", OVER_MEMORY)]},
    ),
    # A folder of the learner's whose every path cannot be looked at by name (longer than PATH_MAX, made
    # a step at a time), and 1.5 GiB of files beside it: a count that gives up on the folder misses them.
    Case(
        name="unreadable_size",
        build=source(WRITABLE_FOLDER + attack("unreadable_size")),
        total=100,
        phrases={"": [OVER_FILL]},
    ),
    # Folders 1500 deep in HOME (made a step at a time) and a sleeper: a count or a clean-up that walks
    # them by recursion fails, and must not fail the grader nor leave the sleeper running.
    Case(
        name="deep_folders",
        build=source(attack("deep_folders")),
        total=100,
        phrases={"": [CELL, "DEEP folders: 1500 levels"]},
    ),
]

# Assignment 2: a wrong helper excuses no large case left undone, and a large case is compared,
# in a result of its shape, at positions no learner can know (see mnist_cheats.py).
MNIST_CASES = [
    Case(
        name="mnist_forged_helper_not_recorded",
        build=mnist_source(mnist_cheats.FORGED_HELPER_NOT_RECORDED),
        total=96.66,  # 8.33 + 8.33 lost, each exercise's score rounded to 2 places
        scores={"pool_forward_fast": 8.33, "pool_backward_fast": 8.33},
        phrases={
            "pool_backward_fast": ["5 of 6 cases pass", "case 6 (hidden case): a helper was called with arguments"]
        },
    ),
    Case(
        name="mnist_helper_called_only",
        build=mnist_source(mnist_cheats.HELPER_CALLED_ONLY),
        total=96.66,  # 8.33 + 8.33 lost, each exercise's score rounded to 2 places
        scores={"pool_forward_fast": 8.33, "pool_backward_fast": 8.33},
        phrases={"pool_backward_fast": ["5 of 6 cases pass", "case 6 (hidden case): the result is wrong at"]},
    ),
    Case(  # the honest counterpart: the large case counts, judged with the reference's answers
        name="mnist_helper_wrong_everywhere",
        build=mnist_source(mnist_cheats.HELPER_WRONG_EVERYWHERE),
        total=90,
        scores={"pool_forward_fast": 0},
        phrases={"pool_backward_fast": ["6 of 6 cases pass", "right when it is given a correct pool_forward_fast"]},
    ),
    Case(
        name="mnist_seeded_positions",
        build=mnist_source(mnist_cheats.SEEDED_POSITIONS),
        total=96.67,
        scores={"conv_forward_fast": 16.67},
        phrases={"conv_forward_fast": ["5 of 6 cases pass", "case 6 (hidden case): `Z` is wrong at most positions"]},
    ),
    Case(
        name="mnist_flat_result",
        build=mnist_source(mnist_cheats.FLAT_RESULT),
        total=96.67,
        scores={"conv_forward_fast": 16.67},
        phrases={
            "conv_forward_fast": ["case 6 (hidden case): `Z` has the wrong shape (this case's shapes are hidden)"]
        },
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
    notebook.cells.append(nbformat.v4.new_code_cell(attack("mnist/slow_large_case")))
    nbformat.write(notebook, str(tmp_path / "conv_mnist.ipynb"))
    result = grade_notebook(
        tmp_path / "conv_mnist.ipynb", Course.repository(), "conv_mnist", Limits(memory_bytes=2**30)
    ).to_gradescope()
    scores, outputs = exercise_scores(result), exercise_outputs(result)
    assert scores["conv_forward_fast"] == round(20 * 5 / 6, 2), outputs["conv_forward_fast"]
    assert "on a large case that must finish within 3 s" in outputs["conv_forward_fast"]
    took = re.search(r"took (\d+\.\d\d) s", outputs["conv_forward_fast"])  # the grader's clock, not the forged one
    assert took and float(took[1]) >= 3.5, outputs["conv_forward_fast"]
