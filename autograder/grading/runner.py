"""The learner's side of grading: runs notebook cells and calls functions, answers in plain data.

This module is self-contained (standard library and NumPy only). The isolated grader starts
`python -I -c <this file's text> fork-server FD` inside the sandbox, so nothing of the course
has to be on the sandbox's disk; `fork_server()` forks a learner process per request, which
enters namespaces of its own and whose `serve()` answers requests on its stdin/stdout. The
in-process `check()` imports this module to call functions exactly the same way.

Before any learner code runs, `serve()` confines its own process: resource limits (memory,
processes, file size, open files) and a seccomp filter (see SYSCALLS) that refuses what would
outlive a submission, escape its limits or reach into another process.

Values cross the process boundary as JSON (arrays as dtype + shape + base64 bytes), never as
pickles: whatever the learner's code returns, the grader only ever decodes numbers, strings,
lists, tuples, dicts and numeric arrays.
"""

from __future__ import annotations  # annotations stay unevaluated text: nothing to build at start-up

import ast
import base64
import copy
import ctypes
import gc
import hashlib
import importlib
import json
import linecache
import os
import platform
import resource
import signal
import struct
import sys
import time
import traceback
import types
from collections.abc import Callable
from typing import Any, BinaryIO, NoReturn

import numpy as np

ARRAY_KINDS = "biuf"  # bool, signed and unsigned integers, floats: all a grader needs
MAX_DEPTH = 20
MAX_TEXT = 300  # characters kept of an exception message
MAX_LINE = 200  # characters kept of the learner's line in an error
MAX_ITEMS = 100_000  # list items and dict entries in one message (arrays travel as one base64 string)


class Unsupported:
    """Stands for a value that plain data cannot carry (an object, a function, a complex array)."""

    def __init__(self, kind: str):
        self.kind = kind

    def __repr__(self):
        return f"<{self.kind}>"


class HelperNotRecorded(Exception):
    """A reference helper was called with arguments the reference solution never passed it."""

    def __init__(self, name: str):
        super().__init__(f"{name} was called with arguments the reference solution never uses")


# ---------------------------------------------------------------- plain data -----------------


def encode(value: object, depth: int = 0) -> object:
    """A JSON-ready form of `value`; anything that is not plain data becomes an Unsupported marker."""
    if depth > MAX_DEPTH:
        return {"__unsupported__": "too deeply nested value"}
    if value is None or type(value) in (bool, str):
        return value
    if type(value) in (int, float):
        return value
    if isinstance(value, (np.generic, np.ndarray)):
        array = np.asarray(value)
        if array.dtype.kind not in ARRAY_KINDS:
            return {"__unsupported__": f"array of dtype {array.dtype}"}
        array = array.copy(order="C")  # (np.ascontiguousarray would make a 0-d array 1-d)
        return {
            "__array__": base64.b64encode(array.tobytes()).decode("ascii"),
            "dtype": array.dtype.str,
            "shape": list(array.shape),
        }
    if type(value) is tuple:
        return {"__tuple__": [encode(item, depth + 1) for item in value]}
    if type(value) is list:
        return [encode(item, depth + 1) for item in value]
    if type(value) is dict and all(type(key) is str for key in value):
        return {"__dict__": {key: encode(item, depth + 1) for key, item in value.items()}}
    return {"__unsupported__": type(value).__name__}


def decode(value: object, depth: int = 0, arguments: Any = None) -> Any:
    """The value `encode` described, rebuilt from JSON; raises ValueError on anything else.

    arguments: for a recorded helper answer only (see recorded_helper), the arguments of the call
    it answers; {"__argument__": k} then stands for the k-th of them. Replies never hold one.
    """
    if depth > MAX_DEPTH + 1:
        raise ValueError("too deeply nested")
    if value is None or type(value) in (bool, int, float, str):
        return value
    if type(value) is list:
        return [decode(item, depth + 1, arguments) for item in value]
    if type(value) is dict and "__argument__" in value and arguments is not None:
        return arguments[int(value["__argument__"])]
    if type(value) is not dict or len(value) == 0:
        raise ValueError("not plain data")
    if "__array__" in value:
        dtype = np.dtype(str(value["dtype"]))
        shape = [int(n) for n in value["shape"]]
        if dtype.kind not in ARRAY_KINDS or dtype.hasobject or any(n < 0 for n in shape):
            raise ValueError("not a numeric array")
        data = base64.b64decode(value["__array__"], validate=True)
        return np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    if "__tuple__" in value:
        return tuple(decode(item, depth + 1, arguments) for item in value["__tuple__"])
    if "__dict__" in value:
        return {str(key): decode(item, depth + 1, arguments) for key, item in value["__dict__"].items()}
    if "__unsupported__" in value:
        return Unsupported(str(value["__unsupported__"])[:100])
    raise ValueError("not plain data")


def frame(message: dict) -> bytes:
    """One message as sent: a 4-byte big-endian length, then JSON."""
    data = json.dumps(message).encode("utf-8")
    return struct.pack(">I", len(data)) + data


def write_message(stream: BinaryIO, message: dict) -> None:
    stream.write(frame(message))
    stream.flush()


def read_exactly(stream: BinaryIO, count: int) -> bytes:
    """`count` bytes from a raw stream (a pipe hands out large messages in pieces), fewer at its end."""
    chunks = []
    while count:
        chunk = stream.read(count)
        if not chunk:
            break
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def read_message(stream: BinaryIO) -> dict | None:
    """Receive one message, or None at end of stream."""
    header = read_exactly(stream, 4)
    if len(header) < 4:
        return None
    (length,) = struct.unpack(">I", header)
    return json.loads(read_exactly(stream, length).decode("utf-8"))


# ---------------------------------------------------------------- calling --------------------


def helper_key(args: tuple) -> str:
    """A fingerprint of a helper's arguments by their values, shapes and dtypes aside.

    Tuples, lists and dicts (a layer's cache) are walked in order. Each array counts by its largest
    magnitude and its values in steps of that magnitude / 2**24: a learner's correct code that sums
    in another order than the reference, off in the last bits, still asks for the answer the
    reference recorded.
    """
    digest = hashlib.sha1()

    def add(value: object, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise ValueError("too deeply nested")
        if isinstance(value, str):
            digest.update(b"s" + value.encode("utf-8", "replace") + b"|")
        elif isinstance(value, dict):
            for name in sorted(value, key=str):
                digest.update(b"k" + str(name).encode("utf-8", "replace") + b"|")
                add(value[name], depth + 1)
        elif isinstance(value, (tuple, list)):
            digest.update(b"(")
            for item in value:
                add(item, depth + 1)
            digest.update(b")")
        else:
            array = np.asarray(value, dtype=np.float64)
            scale = float(np.abs(array).max()) if array.size else 0.0
            if 0.0 < scale < np.inf:
                array = np.round(array * (2.0**24 / scale))
            digest.update(np.float32(scale).tobytes())  # the scale itself to 24 bits
            digest.update((array + 0.0).tobytes() + b"|")  # + 0.0: -0.0 is 0.0; C order

    add(args, 0)
    return digest.hexdigest()


def recorded_helper(name: str, lookup: Callable[[str], Any]) -> Callable[..., Any]:
    """A stand-in for helper `name` that returns the reference's answer for the same arguments.

    lookup(key) -> the recorded answer in encode's form, or raises HelperNotRecorded (see
    sealed_lookup). Where the reference handed back one of its arguments (a layer's cache holds
    its input), the answer says so (see decode) and the stand-in hands back the learner's own.
    HelperNotRecorded is no verdict: the learner's code can raise one of that name too, so the
    judge only ever counts what a retried call returns (see judge.judge_exercise).
    """

    def helper(*args: Any, **kwargs: Any) -> Any:
        arguments = args + tuple(kwargs.values())  # pad=pad counts as the same call as pad
        try:
            key = helper_key(arguments)
        except (TypeError, ValueError):
            key = None
        if key is None:
            raise HelperNotRecorded(name)
        return decode(lookup(key), arguments=arguments)

    helper.__name__ = name
    return helper


def seal(answers: dict[str, object]) -> dict[str, str]:
    """Recorded answers {helper_key: answer in encode's form} as a table a learner's process may hold.

    Each answer is filed under a hash of its key and encrypted with a stream drawn from the key
    (SHAKE-256), so the table gives a process the answer to a call only when it makes that call:
    the answers cannot be listed, nor one read without the arguments it answers. The whole table
    travels with a retried call, and the learner's stand-in helpers look answers up on their own.
    """
    return {
        sealed_id(key): base64.b64encode(keystream_xor(key, json.dumps(answer).encode("utf-8"))).decode("ascii")
        for key, answer in answers.items()
    }


def sealed_id(key: str) -> str:
    return hashlib.sha256(b"id " + key.encode("ascii")).hexdigest()[:32]


def keystream_xor(key: str, data: bytes) -> bytes:
    """`data` XOR a stream as long, drawn from `key`: it both seals and opens."""
    stream = hashlib.shake_256(b"answer " + key.encode("ascii")).digest(len(data))
    return (np.frombuffer(data, dtype=np.uint8) ^ np.frombuffer(stream, dtype=np.uint8)).tobytes()


def sealed_lookup(name: str, table: dict[str, str]) -> Callable[[str], Any]:
    """A lookup over one helper's sealed answers (see seal): the answer for `key`, in encode's form."""

    def lookup(key: str) -> Any:
        sealed = table.get(sealed_id(key))
        if sealed is None:
            raise HelperNotRecorded(name)
        return json.loads(keystream_xor(key, base64.b64decode(sealed)))

    return lookup


def learner_line(error: BaseException) -> str | None:
    """'cell N, line L: code' for the innermost frame of the learner's own code, if any."""
    found = None
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename.startswith("<cell "):
            found = f"{frame.filename[1:-1]}, line {frame.lineno}: {(frame.line or '').strip()}"
    return found[:MAX_LINE] if found else None


def describe(error: BaseException) -> dict:
    return {"type": type(error).__name__, "message": str(error)[:MAX_TEXT], "line": learner_line(error)}


def notebook_globals_used(fn: Callable, namespace: dict) -> list[str]:
    """Names of notebook variables (not functions or modules) that `fn`'s code reads as globals."""
    code = getattr(fn, "__code__", None)
    names, stack = set(), [code] if code is not None else []
    while stack:
        current = stack.pop()
        names.update(current.co_names)
        stack.extend(const for const in current.co_consts if hasattr(const, "co_names"))
    return sorted(
        name
        for name in names
        if name in namespace
        and not name.startswith("__")
        and not callable(namespace[name])
        and type(namespace[name]).__name__ != "module"
    )


def call_function(
    namespace: dict, name: str, args: tuple, kwargs: dict, helpers: dict[str, Callable[[str], Any]] | None = None
) -> dict:
    """Call namespace[name] on deep copies of the arguments, with recorded helpers swapped in.

    helpers: {helper name: lookup(key) -> answer}; while the call runs, namespace[helper] is the
    recorded stand-in, so the learner's function uses it through its globals.
    Returns {"ok": True, "result": ..., "seconds": time the call took} or {"ok": False,
    "error": {...}}, plus "globals_used" (see notebook_globals_used).
    """
    fn = namespace.get(name)
    if not callable(fn):
        return {
            "ok": False,
            "error": {"type": "Missing", "message": f"{name} is not defined", "line": None},
            "globals_used": [],
        }
    saved = {helper: namespace.get(helper) for helper in helpers or {}}
    namespace.update({helper: recorded_helper(helper, lookup) for helper, lookup in (helpers or {}).items()})
    args, kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)
    try:
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        response = {"ok": True, "result": result, "seconds": time.perf_counter() - start}
    except BaseException as error:  # the learner's code may raise anything, SystemExit included
        response = {"ok": False, "error": describe(error)}
    finally:
        namespace.update(saved)
    response["globals_used"] = notebook_globals_used(fn, namespace)
    return response


# ---------------------------------------------------------------- serving (in the sandbox) ---


class CappedText:
    """A stand-in for sys.stdout/sys.stderr that keeps only the first `limit` characters."""

    def __init__(self, limit):
        self.limit, self.parts, self.size, self.dropped = limit, [], 0, 0

    def write(self, text: object) -> int:
        text = str(text)
        room = self.limit - self.size
        self.parts.append(text[: max(room, 0)])
        self.size += min(len(text), max(room, 0))
        self.dropped += max(len(text) - max(room, 0), 0)
        return len(text)

    def flush(self) -> None:
        pass

    def take(self) -> str:
        text = "".join(self.parts) + (f"\n… {self.dropped} more characters not kept" if self.dropped else "")
        self.parts, self.size, self.dropped = [], 0, 0
        return text


class TimeLimit(BaseException):
    """Raised in the learner's code when a cell or call runs past its time limit."""


def on_alarm(signum: int, frame: types.FrameType | None) -> NoReturn:
    raise TimeLimit("time limit exceeded")


#: The course's own modules, compiled (and their imports loaded) once in the fork server, whose
#: learners inherit them: {(name, source): code}.
COMPILED: dict[tuple[str, str], types.CodeType] = {}


def compiled_module(name: str, source: str) -> types.CodeType:
    """The code of a provided module, compiled on first use; raises SyntaxError for bad source."""
    key = (name, source)
    if key not in COMPILED:
        COMPILED[key] = compile(source, f"<{name}.py>", "exec")
    return COMPILED[key]


def prepare_module(name: str, source: str) -> None:
    """In the fork server: compile a provided module and import the modules it imports at its top
    level, so that no learner pays for either. Its errors are left for the learner to meet."""
    if (name, source) in COMPILED:
        return
    try:
        tree = ast.parse(source)
        compiled_module(name, source)
    except (SyntaxError, ValueError):
        return
    for node in tree.body:
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module != "__future__":
            names = [node.module]
        for imported in names:
            try:
                importlib.import_module(imported)
            except Exception:
                pass


def install_module(name: str, source: str) -> dict:
    """Make a provided module (e.g. the assignment's mnist_tools.py) importable by the learner's cells."""
    module = types.ModuleType(name)
    module.__file__ = f"<{name}.py>"
    try:
        exec(compiled_module(name, source), module.__dict__)
    except BaseException as error:
        return {"ok": False, "error": describe(error)}
    sys.modules[name] = module
    return {"ok": True}


def run_cell(namespace: dict, index: int, source: str) -> dict:
    filename = f"<cell {index}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        exec(compile(source, filename, "exec"), namespace)
        return {"ok": True}
    except BaseException as error:
        return {"ok": False, "error": describe(error)}


# Per machine: audit architecture, and the numbers of seccomp, clone, clone3, and the calls refused
# outright, by what they would give the learner:
#   new namespaces: unshare, setns
#   state outliving it: add_key, request_key, keyctl
#   memory no process maps, or kernel memory: memfd_create, shmget, msgget, semget, mq_open,
#       socket, socketpair (socket buffers), io_uring_setup
#   reaching into another process: ptrace, process_vm_readv, process_vm_writev, pidfd_getfd, kcmp
#   kernel attack surface no course code needs: userfaultfd, bpf, perf_event_open
SYSCALLS = {
    "x86_64": (
        0xC000003E,
        317,
        56,
        435,
        (272, 308, 248, 249, 250, 319, 29, 68, 64, 240, 41, 53, 425, 101, 310, 311, 438, 312, 323, 321, 298),
    ),
    "aarch64": (
        0xC00000B7,
        277,
        220,
        435,
        (97, 268, 217, 218, 219, 279, 194, 186, 190, 180, 198, 199, 425, 117, 270, 271, 438, 272, 282, 280, 241),
    ),
}
NEW_NAMESPACE_FLAGS = 0x7E020080  # CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME


def syscall_filter(arch: int, clone: int, clone3: int, denied: tuple[int, ...]) -> bytes:
    """A classic-BPF seccomp program. Refused with EPERM: the calls in `denied` (see SYSCALLS), new
    namespaces (a private mount or user namespace would escape the /tmp size limit), x32 and
    foreign-ABI calls. clone3 answers ENOSYS, so that libc falls back to clone, whose flags a
    filter can read."""
    load, jump_eq, jump_ge, jump_set, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    program = [
        (load, None, None, 4),  # seccomp_data.arch
        (jump_eq, None, "deny", arch),
        (load, None, None, 0),  # seccomp_data.nr
        (jump_ge, "deny", None, 0x40000000),
    ]
    program += [(jump_eq, "deny", None, number) for number in denied]
    program += [
        (jump_eq, "nosys", None, clone3),
        (jump_eq, None, "allow", clone),
        (load, None, None, 16),  # low half of clone's first argument, the flags
        (jump_set, "deny", None, NEW_NAMESPACE_FLAGS),
    ]
    labels = {"allow": len(program), "deny": len(program) + 1, "nosys": len(program) + 2}
    program += [(ret, None, None, 0x7FFF0000), (ret, None, None, 0x00050000 | 1), (ret, None, None, 0x00050000 | 38)]

    def offset(index: int, label: str | None) -> int:
        return 0 if label is None else labels[label] - index - 1

    return b"".join(
        struct.pack("HBBI", code, offset(i, jt), offset(i, jf), k) for i, (code, jt, jf, k) in enumerate(program)
    )


def machine_filter() -> bytes | None:
    """The seccomp program for this machine, or None where there is none (not Linux on x86_64 or aarch64)."""
    if sys.platform != "linux" or platform.machine() not in SYSCALLS:
        return None
    arch, _, clone, clone3, denied = SYSCALLS[platform.machine()]
    return syscall_filter(arch, clone, clone3, denied)


def confine(config: dict) -> None:
    """Limit this process and all it starts, before any learner code: memory, processes, file size,
    no core files, no new privileges; on x86_64 and aarch64 Linux the system call filter above."""
    for name, value in (
        ("RLIMIT_AS", config["memory_bytes"]),
        ("RLIMIT_NPROC", config["processes"]),
        ("RLIMIT_FSIZE", config["file_bytes"]),
        ("RLIMIT_NOFILE", 256),  # open files, pipes included: kernel memory the grader cannot count
        ("RLIMIT_CORE", 0),
    ):
        resource.setrlimit(getattr(resource, name), (value, value))
    code = machine_filter()
    if code is None:
        return
    seccomp = SYSCALLS[platform.machine()][1]
    libc = ctypes.CDLL(None, use_errno=True)
    buffer = ctypes.create_string_buffer(code)

    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    program = Program(len(code) // 8, ctypes.addressof(buffer))
    # PR_SET_NO_NEW_PRIVS; then seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC): every thread
    if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.syscall(seccomp, 1, 1, ctypes.byref(program)) != 0:
        raise OSError(ctypes.get_errno(), "could not install the seccomp filter")


def serve(config: dict) -> None:
    """Answer the grader's requests on stdin/stdout until it says exit or closes the pipe.

    config: memory_bytes, processes, file_bytes (limits of this process and its children) and
    output_chars (how much printed text is kept per request). The learner's prints go to a
    capped buffer and the process's own stdout/stderr file descriptors point at /dev/null, so
    nothing the learner writes can mix with the replies.
    """
    confine(config)
    requests = os.fdopen(os.dup(0), "rb", buffering=0)
    replies = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    captured = CappedText(config["output_chars"])
    sys.stdout = sys.stderr = captured
    sys.stdin = open(os.devnull)
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    signal.signal(signal.SIGALRM, on_alarm)
    write_message(replies, {"op": "ready"})
    while True:
        request = read_message(requests)
        if request is None or request.get("op") == "exit":
            return
        # A batch of calls is answered one reply at a time, each as soon as it is ready; it stops
        # after a time limit when asked to (the grader then gives up that exercise's other cases).
        for one in request["calls"] if request["op"] == "calls" else [request]:
            reply = answer(namespace, one, captured)
            write_message(replies, reply)
            if request.get("stop_at_time_limit") and reply.get("error", {}).get("type") == "TimeLimit":
                break


def answer(namespace: dict, request: dict, captured: CappedText) -> dict:
    """The reply to one request (run a cell, install a module, call a function) within its time
    limit, with what the learner printed meanwhile and the request's id."""
    signal.setitimer(signal.ITIMER_REAL, float(request.get("timeout", 10)))
    try:
        if request["op"] == "run_cell":
            reply = run_cell(namespace, request["index"], request["source"])
        elif request["op"] == "module":
            reply = install_module(request["name"], request["source"])
        else:
            args, kwargs = decode(request["args"]), decode(request["kwargs"])
            helpers = {name: sealed_lookup(name, table) for name, table in request.get("helpers", {}).items()}
            reply = call_function(namespace, request["name"], args, kwargs, helpers)
            if reply["ok"]:
                reply["result"] = encode(reply["result"])
    except TimeLimit:  # raised between the learner's code and here
        reply = {"ok": False, "error": {"type": "TimeLimit", "message": "time limit exceeded", "line": None}}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    reply["output"] = captured.take()
    reply["id"] = request.get("id")
    return reply


# ---------------------------------------------------------------- the fork server ------------

MAX_FORK_REQUEST = 1 << 20  # bytes: a request carries the course's provided modules
CLONE_NEWUSER, NEW_LEARNER_NAMESPACES = 0x10000000, 0x6C020000  # CLONE_NEWNS | NEWUTS | NEWIPC | NEWPID | NEWNET
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 0x1000, 0x2000, 0x4000, 0x40000
CAPSET = {"x86_64": 126, "aarch64": 91}


def fork_server(control_fd: int) -> None:
    """Start one learner process per request that arrives on the socket `control_fd`, until it closes.

    Python and NumPy are loaded once, here; each learner is a fork of this process, so it starts in
    a few milliseconds. This process never runs learner code and never receives a submission: a
    request holds the learner's limits, uid, home folder and kind of namespaces, the course's
    provided modules (compiled here once, and what they import loaded, so that no learner pays
    for either: see prepare_module), and three file descriptors: the learner's requests to read,
    its replies to write, and a status socket (see start_learner).
    """
    import socket  # the learners never need it

    import numpy.random  # noqa: F401  NumPy loads it on first use; every assignment's seeded inputs do

    control = socket.socket(fileno=control_fd)
    # Orphans of learners without namespaces of their own come here (PR_SET_CHILD_SUBREAPER), and
    # the kernel reaps them at once, as it does the short-lived first forks: no dead process
    # lingers to count against the next learner that gets its uid.
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    control.send(b"ready")
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(control, MAX_FORK_REQUEST, 3)
        except OSError:
            return
        if not data:
            return
        request = json.loads(data)
        for name, source in request.get("modules", {}).items():
            prepare_module(name, source)
        # Frozen objects are left out of every collection, the learner's too: its collector does not
        # walk (and so copy, page by page) the heap it shares with this process.
        gc.freeze()
        if len(fds) == 3 and os.fork() == 0:
            try:
                control.close()
                start_learner(request, *fds)
            finally:
                os._exit(70)
        for fd in fds:
            os.close(fd)


def start_learner(request: dict, requests_fd: int, replies_fd: int, status_fd: int) -> None:
    """In a fork of the fork server: enter the learner's own namespaces, if any, and fork it.

    request["namespaces"]: None (no namespaces: the learner is this process's child), "root" (the
    fork server runs as root in bubblewrap) or "user" (it runs as an unprivileged user in
    bubblewrap's user namespace, and first makes a user namespace of its own for this learner).
    With namespaces, the learner gets new mount, PID, network, IPC and UTS namespaces, its own
    size-limited /tmp and an empty /proc (it sees no other process); its first process is a
    small init that reaps orphans and reports the learner's end.

    On status_fd (a Unix socket whose other end receives the sender's credentials) the process
    the grader must kill to end the learner (its init, or the learner itself without namespaces)
    writes "started": the kernel tells the grader that process's pid as the grader sees it,
    whatever namespaces lie between. "exit STATUS" follows when the learner ends.
    """
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    libc = ctypes.CDLL(None, use_errno=True)

    def check(result: int, what: str) -> None:
        if result != 0:
            raise OSError(ctypes.get_errno(), what)

    namespaces = request["namespaces"]
    if namespaces == "user":
        uid, gid = os.getuid(), os.getgid()
        check(libc.unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)")
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as stream:
                stream.write(text)
    if namespaces:
        check(libc.unshare(NEW_LEARNER_NAMESPACES), "unshare")
        check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
        own_tmp(request["config"]["file_bytes"], request["under_tmp"], check, libc)
        empty = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC
        check(libc.mount(b"tmpfs", b"/proc", b"tmpfs", empty, b"size=4k,mode=555"), "mount /proc")
    pid = os.fork()
    if pid == 0:
        os.write(status_fd, b"started")
        if not namespaces:
            learner(request, requests_fd, replies_fd, libc)
        # pid 1 of the new PID namespace: when it ends, every process in the namespace ends.
        libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0
        child = os.fork()
        if child == 0:
            learner(request, requests_fd, replies_fd, libc)
        os.close(requests_fd)
        os.close(replies_fd)
        while True:
            ended, status = os.wait()
            if ended == child:
                os.write(status_fd, f"exit {status}".encode())
                os._exit(0)
    os.close(requests_fd)
    os.close(replies_fd)
    if not namespaces:
        _, status = os.waitpid(pid, 0)
        os.write(status_fd, f"exit {status}".encode())
    os._exit(0)


def own_tmp(size: int, under_tmp: list[str], check: Callable[[int, str], None], libc: ctypes.CDLL) -> None:
    """A fresh tmpfs of `size` bytes on /tmp, with the read-only folders the sandbox has under /tmp
    (`under_tmp`: a Python or venv that lives there) bound into it again: it is filled at a
    staging point, then moved onto /tmp, which hides the fork server's /tmp entirely."""
    stage = "/tmp/.learner-tmp"
    os.makedirs(stage, mode=0o755, exist_ok=True)
    check(
        libc.mount(b"tmpfs", stage.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=1777".encode()), "tmpfs"
    )
    for folder in under_tmp:
        target = stage + folder[len("/tmp") :]
        os.makedirs(target, mode=0o755, exist_ok=True)
        # A bind keeps the read-only flag of bubblewrap's mount (in a user namespace, locked).
        check(libc.mount(folder.encode(), target.encode(), None, MS_BIND | MS_REC, None), f"bind {folder}")
    check(libc.mount(stage.encode(), b"/tmp", None, MS_MOVE, None), "move onto /tmp")


def learner(request: dict, requests_fd: int, replies_fd: int, libc: ctypes.CDLL) -> NoReturn:
    """The learner's process: its uid (if it has one of its own), no capabilities, its home folder,
    only its two pipes open; then serve() until the grader is done with it."""
    try:
        os.setsid()
        uid = request["uid"]
        if uid is not None or request["namespaces"]:
            for capability in range(64):
                libc.prctl(24, capability, 0, 0, 0)  # PR_CAPBSET_DROP (EINVAL past the last one)
            libc.prctl(47, 4, 0, 0, 0)  # PR_CAP_AMBIENT_CLEAR_ALL
        if uid is not None:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            libc.prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE, which the uid change cleared: its /proc is its own
        if request["namespaces"] and platform.machine() in CAPSET:
            header, data = (ctypes.c_uint32 * 2)(0x20080522, 0), (ctypes.c_uint32 * 6)()  # version 3: no capabilities
            if libc.syscall(CAPSET[platform.machine()], header, data) != 0:
                raise OSError(ctypes.get_errno(), "capset")
        os.chdir(request["home"])
        os.environ["HOME"] = os.environ["TMPDIR"] = request["home"]
        os.dup2(requests_fd, 0)
        os.dup2(replies_fd, 1)
        os.closerange(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
        serve(request["config"])
    except BaseException:  # it never started: the grader sees its pipe close before "ready"
        os._exit(70)
    os._exit(0)


if __name__ == "__main__":
    if sys.argv[1] == "fork-server":
        fork_server(int(sys.argv[2]))
    else:
        serve(json.loads(sys.argv[1]))
