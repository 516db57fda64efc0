"""Starting the learner's code in a separate, limited process, and talking to it.

Where the learner's process runs depends on what this machine allows; `isolation()` finds the
strongest of these, in order, and the grader refuses to grade when there is none (unless the
instructor opts out with --unsandboxed):

- USER_NAMESPACE (any user, where unprivileged user namespaces are allowed: an instructor on a
  shared server): inside bubblewrap, each learner gets a user namespace of its own and its own
  mount, PID, network, IPC and UTS namespaces; it is uid 65534 there, with no capabilities.
- ROOT_NAMESPACES (root with bubblewrap: CI, a grading server): the same namespaces, and the
  learner runs as a uid of its own, leased for this one process.
- SEPARATE_UID (root without namespaces: a container such as Gradescope's): the learner runs as
  a leased uid of its own in a private working folder; the course must not be readable by
  other users (checked before grading); its processes and files are removed when it stops.

Learners are started by a fork server (runner.fork_server), one per grader process: a Python
that has loaded NumPy once and forks a learner per request, in a few milliseconds instead of a
new interpreter's tenth of a second. It never runs learner code nor sees a submission. In the
namespace kinds it runs in bubblewrap, where the filesystem holds only the system libraries,
the Python installation and the virtual environment, read-only, with the course package
hidden; each learner then has a size-limited /tmp of its own and an empty /proc (it sees no
other process, the fork server included). In every kind the learner first confines itself
(runner.confine: memory, process and file-size limits, no new privileges, no keyrings, no new
namespaces); the process count is the learner's alone (its own uid or user namespace), and the
grader counts the memory of all the learner's processes and of its /tmp together while it
waits for a reply.
"""

import atexit
import enum
import fcntl
import json
import math
import os
import resource
import secrets
import select
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from . import runner

RUNNER_SOURCE = Path(runner.__file__).read_text(encoding="utf-8")
PACKAGE_DIR = Path(runner.__file__).resolve().parents[1]  # the whole autograder package
GRACE_SECONDS = 2.0  # beyond the learner's own time limit, before the process is killed
START_SECONDS = 30.0  # for Python and NumPy to start in the sandbox, even on a loaded machine
MEMORY_CHECK_SECONDS = 0.2
# Leased uids for learner processes (root only): far above any real account's uid.
UID_FIRST, UID_COUNT = 1_900_000_000, 10_000
SANDBOX_UID = 65534  # the learner's uid inside a user namespace


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


class Isolation(enum.Enum):
    USER_NAMESPACE = "bubblewrap in a user namespace"
    ROOT_NAMESPACES = "bubblewrap namespaces and a uid of its own"
    SEPARATE_UID = "a uid of its own, without namespaces"
    NONE = "none: an ordinary child process (--unsandboxed)"


class NoIsolation(Exception):
    """No sandbox can be had here; the message says how to get one."""


class LearnerProcessDied(Exception):
    """The learner's process ended (its own exit, a crash, a bad reply, or a limit)."""


class LearnerTimeout(Exception):
    """The learner's process did not answer within its time limit and was killed."""


HOW_TO_ISOLATE = (
    "The grader will not run learner code without a sandbox. Install bubblewrap (apt-get install "
    "bubblewrap) and allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, "
    "user.max_user_namespaces > 0; on Ubuntu 24.04 also kernel.apparmor_restrict_unprivileged_userns=0), "
    "or grade as root (without namespaces, as in a container, the learner then runs as a uid of its own, "
    "so the grader's Python must be one every user can run, such as /usr/bin/python3). To grade anyway, "
    "with learner code running as you and able to read and change everything you can, pass --unsandboxed "
    "(in nbgrader_config.py: c.IsolatedAutograde.unsandboxed = True)."
)


def isolation(unsandboxed: bool = False) -> Isolation:
    """The strongest isolation this machine gives; NONE only when `unsandboxed`, else NoIsolation."""
    found = available_isolation()
    if found is not None:
        return found
    if unsandboxed:
        return Isolation.NONE
    raise NoIsolation(HOW_TO_ISOLATE)


@cache
def available_isolation() -> Isolation | None:
    if sys.platform != "linux":
        return None
    if os.geteuid() == 0:
        kinds = [Isolation.ROOT_NAMESPACES, Isolation.SEPARATE_UID]
    else:
        kinds = [Isolation.USER_NAMESPACE]
    for kind in kinds:
        if works(kind):
            return kind
    return None


def works(kind: Isolation) -> bool:
    """True when a learner Python (with NumPy) starts and exits cleanly in this kind of sandbox."""
    if kind in (Isolation.USER_NAMESPACE, Isolation.ROOT_NAMESPACES) and not shutil.which("bwrap"):
        return False
    try:
        process = LearnerProcess(Limits(), kind)
    except (OSError, subprocess.SubprocessError, LearnerProcessDied, LearnerTimeout):
        return False
    with SPARE_LOCK:
        SPARES.append(process)
    return True


# The learner process that proved a sandbox works has run nothing: the first submission whose
# limits it was started with takes it, so grading one notebook starts one learner Python, not two.
SPARES: list["LearnerProcess"] = []
SPARE_LOCK = threading.Lock()


def learner_process(limits: Limits, kind: Isolation, modules: dict[str, str] | None = None) -> "LearnerProcess":
    """A fresh learner process in a sandbox of `kind`: a spare that fits, else a new one.
    Raises GradingStopped once shut_down() has been called."""
    if CLOSING.is_set():
        raise GradingStopped()
    with SPARE_LOCK:
        fits = [spare for spare in SPARES if spare.kind is kind and spare.config == limits.process_config()]
        if fits:
            SPARES.remove(fits[0])
    if fits and fits[0].running():
        return fits[0]
    if fits:
        fits[0].stop()
    return LearnerProcess(limits, kind, modules)


def stop_spares() -> None:
    with SPARE_LOCK:
        spares = SPARES[:]
        SPARES.clear()
    for spare in spares:
        spare.stop()


# ---------------------------------------------------------------- leased uids ----------------


# Folders only root may write in, where root keeps its uid lock files: a world-writable folder
# such as /run/lock or /tmp would let any local user create the lock folder first (stopping all
# root grading) or plant a link in its place.
LOCK_BASES = ("/run", "/var/lib")
LOCK_FOLDER_NAME = "conv-grader-uids"


class UnsafeLockFolder(NoIsolation):
    """Root's folder of uid lock files cannot be had safely; the message names the folder and why."""


def lock_folder(bases: tuple[str, ...] | None = None) -> int:
    """A descriptor of root's folder of uid lock files, <base>/conv-grader-uids in the first of
    `bases` (default LOCK_BASES) that only root may write in; made if missing. Raises
    UnsafeLockFolder when that folder is a link, or not root's alone."""
    bases = bases or LOCK_BASES
    for base in bases:
        try:
            info = os.stat(base)
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o022:
            continue  # a folder others may write in: they could make the lock folder first
        folder = os.path.join(base, LOCK_FOLDER_NAME)
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            pass
        try:
            handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError as error:
            raise UnsafeLockFolder(
                f"The grader keeps the uids of learner processes in {folder}, which is not a folder "
                f"({error.strerror}): remove it (root will make it again)."
            ) from None
        info = os.fstat(handle)
        if info.st_uid != 0 or info.st_mode & 0o077:
            os.close(handle)
            raise UnsafeLockFolder(
                f"The grader keeps the uids of learner processes in {folder}, which belongs to uid "
                f"{info.st_uid} with mode {stat.S_IMODE(info.st_mode):o}: it must be root's alone "
                f"(mode 700). Remove it (root will make it again)."
            )
        return handle
    raise UnsafeLockFolder(
        "The grader keeps the uids of learner processes in a folder only root may write in, and "
        f"none of {', '.join(bases)} is one here."
    )


class UidLease:
    """A uid that no other learner process, of this grader or another, uses while it is held.

    Held through an exclusive flock on <lock folder>/<uid>: released when closed or when the
    grader dies, so a crashed grader never keeps uids.
    """

    def __init__(self):
        folder, start = lock_folder(), (os.getpid() * 7919 + time.monotonic_ns()) % UID_COUNT
        try:
            for step in range(UID_COUNT):
                uid = UID_FIRST + (start + step) % UID_COUNT
                handle = os.open(str(uid), os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW, 0o600, dir_fd=folder)
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(handle)
                    continue
                self.uid, self.handle = uid, handle
                return
        finally:
            os.close(folder)
        raise OSError("every learner uid is in use")

    def release(self) -> None:
        if self.handle is not None:
            os.close(self.handle)
            self.handle = None


# ---------------------------------------------------------------- the sandbox command ---------

SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")


def read_only_roots() -> list[str]:
    """The real folders the learner's Python needs: system libraries, the Python install, the venv."""
    roots = [d for d in SYSTEM_DIRS if not Path(d).is_symlink()] + [sys.base_prefix, sys.prefix]
    kept = []
    for root in sorted({str(Path(r).resolve()) for r in roots if Path(r).exists()}, key=len):
        if not any(root == k or root.startswith(k + "/") for k in kept):
            kept.append(root)
    return kept


def command_prefix(kind: Isolation, limits: Limits) -> list[str]:
    """The words that go before the fork server's command (none for SEPARATE_UID and NONE).

    Bubblewrap's namespaces keep the fork server (and so every learner it starts) away from the
    machine: system folders, the Python install and the venv read-only, the course package
    hidden, no network. Each learner then gets namespaces of its own (runner.start_learner).
    As root the fork server keeps its capabilities inside, to make those namespaces and to take
    each learner's uid; in a user namespace it needs none.
    """
    if kind not in (Isolation.USER_NAMESPACE, Isolation.ROOT_NAMESPACES):
        return []
    args = [
        "bwrap",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
    ]
    if kind is Isolation.USER_NAMESPACE:
        args += ["--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
    else:
        args += ["--cap-add", "ALL"]
    # /tmp first: a Python or venv that lives under /tmp is mounted inside it below, not hidden by it.
    args += ["--perms", "1777", "--size", str(limits.file_bytes), "--tmpfs", "/tmp"]
    made = {"/tmp"}
    roots = read_only_roots()
    for root in roots:
        for parent in reversed(Path(root).parents):
            if str(parent) != "/" and str(parent) not in made:
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(str(parent))
        args += ["--ro-bind", root, root]
        made.add(root)
    # Merged-/usr systems link /lib, /bin, ... into /usr: recreate the links.
    for link in SYSTEM_DIRS:
        if Path(link).is_symlink():
            args += ["--symlink", os.readlink(link), link]
    # A non-editable install puts the course package (reference data included) in the venv: hide it.
    if any(str(PACKAGE_DIR).startswith(root + "/") for root in roots):
        args += ["--perms", "0555", "--size", "4096", "--tmpfs", str(PACKAGE_DIR)]
    return args + ["--chdir", "/tmp", "--remount-ro", "/dev", "--remount-ro", "/"]


def learner_environment(home: str) -> dict:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    # Some processors need these OpenBLAS settings to compute correctly; keep them if set.
    env.update({k: v for k, v in os.environ.items() if k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")})
    return env


# ---------------------------------------------------------------- the learner's processes ----


def live_processes(zombies: bool = False) -> dict[int, tuple[int, int]]:
    """{pid: (parent pid, uid)} of every process that is not a zombie (or of every one)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            uid = os.stat(f"/proc/{entry}").st_uid
            with open(f"/proc/{entry}/stat", "rb") as stream:
                fields = stream.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if zombies or fields[0] != b"Z":
            found[int(entry)] = (int(fields[1]), uid)
    return found


def descendants(root: int, table: dict) -> list[int]:
    """`root` and every process below it in `table` ({pid: (parent pid, uid)})."""
    children = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        if pid in table:
            found.append(pid)
        stack.extend(children.get(pid, ()))
    return found


def resident_memory(pid: int) -> int:
    """Bytes of a process in memory, shared pages included (cheap: an upper bound of its share)."""
    try:
        with open(f"/proc/{pid}/statm") as stream:
            return int(stream.read().split()[1]) * resource.getpagesize()
    except (OSError, IndexError, ValueError):
        return 0


def proportional_memory(pid: int) -> int:
    """Bytes of anonymous and shared memory a process holds, each page divided among the processes
    that map it (copy-on-write pages of a fork count once in all), libraries and files left out."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as stream:
            fields = {line.split(":")[0]: int(line.split()[1]) for line in stream if line.endswith("kB\n")}
    except (OSError, IndexError, ValueError):
        return 0
    if "Pss_Anon" in fields:
        return (fields["Pss_Anon"] + fields.get("Pss_Shmem", 0)) * 1024
    return fields.get("Pss", 0) * 1024


def kill_everything_of(uid: int) -> None:
    """Kill every process running as `uid` (root only), round after round until none is left, not
    even a dead one not yet reaped (it would still count against the uid's process limit)."""
    for _ in range(200):
        pids = [pid for pid, (_, owner) in live_processes(zombies=True).items() if owner == uid]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.005)
    raise OSError(f"processes of uid {uid} could not be stopped")


@cache
def shared_folders() -> tuple[str, ...]:
    """Folders of this machine where any user may create files (/tmp, /var/tmp, /dev/shm, /run/lock,
    ...), looked for two levels deep: all a learner without namespaces can write to."""
    found = set()
    for top in ("/", "/run", "/var", "/dev", tempfile.gettempdir()):
        try:
            entries = [os.path.realpath(top)] + [
                entry.path for entry in os.scandir(top) if entry.is_dir(follow_symlinks=False)
            ]
        except OSError:
            continue
        for path in entries:
            try:
                if os.stat(path).st_mode & 0o002 and not path.startswith(("/proc", "/sys")):
                    found.add(os.path.realpath(path))
            except OSError:
                pass
    return tuple(sorted(found))


def files_of(uid: int) -> list[str]:
    """SEPARATE_UID: what `uid` made at the top of the machine's shared folders (a learner can
    create nothing deeper, except inside what it made)."""
    found = []
    for top in shared_folders():
        try:
            entries = list(os.scandir(top))
        except OSError:
            continue
        found += [entry.path for entry in entries if entry.stat(follow_symlinks=False).st_uid == uid]
    return found


MAX_ENTRIES = 20_000  # files and folders measured in one check; more is counted as over the limit


def size_of(path: str) -> int:
    """Bytes held by a file, or by everything under a folder, counted through folder descriptors
    (paths of any depth and length), links not followed. Raises OSError when it cannot tell
    (unreadable, or more than MAX_ENTRIES entries): the caller counts that as over the limit."""
    status = os.lstat(path)
    if not stat.S_ISDIR(status.st_mode):
        return status.st_blocks * 512
    total, seen, folders = status.st_blocks * 512, 0, [os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)]
    try:
        while folders:
            folder = folders.pop()
            try:
                for entry in os.scandir(folder):
                    seen += 1
                    if seen > MAX_ENTRIES:
                        raise OSError(f"more than {MAX_ENTRIES} files")
                    info = entry.stat(follow_symlinks=False)
                    total += info.st_blocks * 512
                    if stat.S_ISDIR(info.st_mode):
                        folders.append(os.open(entry.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=folder))
            finally:
                os.close(folder)
    finally:
        for folder in folders:
            os.close(folder)
    return total


def open_deleted_files(pids: list[int]) -> int:
    """Bytes of the files the processes hold open that no longer have a name (each counted once)."""
    found = {}
    for pid in pids:
        try:
            descriptors = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in descriptors:
            try:
                info = os.stat(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode) and info.st_nlink == 0:
                found[(info.st_dev, info.st_ino)] = info.st_blocks * 512
    return sum(found.values())


def remove_tree(path: str) -> None:
    """Delete a file, or a folder of any depth and path length: one folder descriptor open at a time,
    links never followed (the learner's processes are gone by then, so the tree holds still)."""
    try:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            os.unlink(path)
            return
        folder, names = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW), []
    except FileNotFoundError:
        return
    try:
        while True:
            with os.scandir(folder) as entries:
                entries = list(entries)
            deeper = next((entry.name for entry in entries if entry.is_dir(follow_symlinks=False)), None)
            for entry in entries:
                if not entry.is_dir(follow_symlinks=False):
                    os.unlink(entry.name, dir_fd=folder)
            if deeper is not None:  # down into a subfolder, and back here once it is gone
                child = os.open(deeper, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=folder)
                os.close(folder)
                folder = child
                names.append(deeper)
                continue
            if not names:
                break
            parent = os.open("..", os.O_RDONLY | os.O_DIRECTORY, dir_fd=folder)
            os.close(folder)
            folder = parent
            os.rmdir(names.pop(), dir_fd=folder)
    finally:
        os.close(folder)
    os.rmdir(path)


def remove_files_of(uid: int) -> None:
    """SEPARATE_UID: delete what the learner wrote in the machine's shared folders."""
    for path in files_of(uid):
        remove_tree(path)


def readable_by_others(path: Path) -> bool:
    """True when a user other than the owner (and not in its group) can read `path`."""
    path = Path(path).resolve()
    try:
        for folder in reversed(path.parents):
            if not folder.stat().st_mode & 0o001:
                return False
        return bool(path.stat().st_mode & (0o005 if path.is_dir() else 0o004))
    except OSError:
        return False


def exposed_to_learner(kind: Isolation, paths: list[Path]) -> list[Path]:
    """SEPARATE_UID only: the paths among `paths` (and the grader's own package) any other user can read."""
    if kind is not Isolation.SEPARATE_UID:
        return []
    candidates = [PACKAGE_DIR, *[Path(p) for p in paths]]
    return [path for path in candidates if readable_by_others(path)]


class ForkServer:
    """A Python with NumPy loaded, in a sandbox of `kind`, that forks a learner process per request
    (runner.fork_server). Started once per grader process and kind; it never runs learner code."""

    def __init__(self, kind: Isolation):
        self.kind, self.lock, self.broken = kind, threading.Lock(), False
        # Read-only folders of its sandbox under /tmp (a Python or venv there), for each learner's own /tmp.
        self.under_tmp = [root for root in read_only_roots() if root.startswith("/tmp/")]
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            command = command_prefix(kind, Limits()) + [
                sys.executable,
                "-I",
                "-c",
                RUNNER_SOURCE,
                "fork-server",
                str(theirs.fileno()),
            ]
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=learner_environment("/tmp"),
                cwd="/",
                start_new_session=True,
                pass_fds=(theirs.fileno(),),
            )
        finally:
            theirs.close()
        self.control.settimeout(START_SECONDS)
        try:
            ready = self.control.recv(16)
        except OSError:
            ready = b""
        if ready != b"ready":
            self.stop()
            raise LearnerProcessDied("the learner's Python did not start")

    def alive(self) -> bool:
        return not self.broken and self.process.poll() is None

    def fork(self, request: dict, fds: list[int]) -> None:
        """Ask for a learner process; fds: the read end of its requests, the write end of its
        replies, and its end of the status socket."""
        with self.lock:
            try:
                socket.send_fds(self.control, [json.dumps(dict(request, under_tmp=self.under_tmp)).encode()], fds)
            except OSError as error:
                self.broken = True
                raise LearnerProcessDied(f"the learner's Python could not be started ({error})") from None

    def stop(self) -> None:
        """Close its socket, on which it ends (with bubblewrap, its namespaces end with it); kill it
        if it does not. The forks that still wait on learners stay to reap them."""
        self.control.close()
        try:
            self.process.wait(timeout=GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


FORK_SERVERS: dict[Isolation, ForkServer] = {}
FORK_SERVER_LOCK = threading.Lock()


def fork_server(kind: Isolation) -> ForkServer:
    """The running fork server for `kind`, started (again) if there is none."""
    with FORK_SERVER_LOCK:
        server = FORK_SERVERS.get(kind)
        if server is None or not server.alive():
            if server is not None:
                server.stop()
            server = FORK_SERVERS[kind] = ForkServer(kind)
        return server


def stop_fork_servers() -> None:
    with FORK_SERVER_LOCK:
        for server in FORK_SERVERS.values():
            server.stop()
        FORK_SERVERS.clear()


@atexit.register
def stop_all() -> None:
    """Stop every process this grader started and no session is using: the spare learners first
    (without namespaces a learner's parent is a fork of its fork server), then the fork servers.
    Grading after this starts them again."""
    stop_spares()
    stop_fork_servers()


class GradingStopped(BaseException):
    """The grader is shutting down (interrupted): no learner process may start any more."""


# Every learner process started and not yet stopped, for shut_down() to end from another thread.
LIVE: set["LearnerProcess"] = set()
LIVE_LOCK = threading.Lock()
CLOSING = threading.Event()


def shut_down() -> None:
    """On an interrupted run: refuse new learner processes, kill the running ones (the sessions
    that own them see them end and clean up after them), then stop all the rest (stop_all)."""
    CLOSING.set()
    with LIVE_LOCK:
        for process in LIVE:
            try:
                signal.pidfd_send_signal(process.pidfd, signal.SIGKILL)
            except OSError:
                pass
            if process.lease is not None:  # without namespaces, its other processes go by uid
                try:
                    kill_everything_of(process.lease.uid)
                except OSError:
                    pass
    stop_all()


NAMESPACES = {Isolation.USER_NAMESPACE: "user", Isolation.ROOT_NAMESPACES: "root"}


class LearnerProcess:
    """One learner process running runner.serve(): send a request, wait for its reply.

    `pid` is the process that ends the learner when killed: with namespaces its PID namespace's
    init (killing it ends every process in the namespace), else the learner itself.
    modules: {name: source} of the course's provided modules, which the fork server prepares
    before it forks (runner.prepare_module); the learner is still sent them to install.
    """

    def __init__(self, limits: Limits, kind: Isolation, modules: dict[str, str] | None = None):
        self.limits, self.kind, self.pid, self.pidfd, self.folder, self.status = limits, kind, None, None, None, None
        self.lease = UidLease() if kind in (Isolation.ROOT_NAMESPACES, Isolation.SEPARATE_UID) else None
        self.config = limits.process_config()
        self.request_fd = self.reply_fd = None
        theirs = []
        try:
            home = "/tmp"
            if kind in (Isolation.SEPARATE_UID, Isolation.NONE):
                self.folder = home = tempfile.mkdtemp(prefix="learner-")
            if kind is Isolation.SEPARATE_UID:
                os.chown(self.folder, self.lease.uid, self.lease.uid)
            (requests_r, self.request_fd), (self.reply_fd, replies_w) = os.pipe(), os.pipe()
            self.status, status = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            self.status.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)  # the sender's pid, as seen here
            theirs = [requests_r, replies_w, status.detach()]
            request = {
                "config": self.config,
                "uid": None if self.lease is None or kind is Isolation.USER_NAMESPACE else self.lease.uid,
                "home": home,
                "namespaces": NAMESPACES.get(kind),
                "modules": modules or {},
            }
            try:
                fork_server(kind).fork(request, theirs)
            except LearnerProcessDied:  # the fork server had died (an unsandboxed learner can kill it): anew
                fork_server(kind).fork(request, theirs)
            for fd in theirs:
                os.close(fd)
            theirs = []
            os.set_blocking(self.request_fd, False)  # a learner that stops reading must not block the grader
            started = self.status_message(time.monotonic() + START_SECONDS)
            if started is None or started[0] != "started":
                raise LearnerProcessDied("the learner's Python did not start")
            self.pid = started[1]
            try:
                self.pidfd = os.pidfd_open(self.pid)  # signals and waits go by this handle: never to a reused pid
            except ProcessLookupError:
                raise LearnerProcessDied("the learner's Python did not start") from None
            with LIVE_LOCK:
                if CLOSING.is_set():
                    raise GradingStopped()
                LIVE.add(self)
            self.next_memory_check = time.monotonic() + MEMORY_CHECK_SECONDS
            if self.receive(time.monotonic() + START_SECONDS).get("op") != "ready":
                raise LearnerProcessDied("the learner's Python did not start")
        except BaseException:
            for fd in theirs:
                os.close(fd)
            self.stop()
            raise

    def running(self) -> bool:
        """False once the learner's process has ended (its status socket has something to say)."""
        return self.status is not None and not select.select([self.status], [], [], 0)[0]

    def status_message(self, deadline: float) -> tuple[str, int] | None:
        """(text, sender's pid) of the next message on the status socket; None at its end or deadline."""
        wait = deadline - time.monotonic()
        if wait <= 0 or not select.select([self.status], [], [], wait)[0]:
            return None
        data, ancillary, _, _ = self.status.recvmsg(64, socket.CMSG_SPACE(struct.calcsize("iII")))
        pids = [
            struct.unpack("iII", item[: struct.calcsize("iII")])[0]
            for level, kind, item in ancillary
            if (level, kind) == (socket.SOL_SOCKET, socket.SCM_CREDENTIALS)
        ]
        return (data.decode("ascii", "replace"), pids[0]) if data and pids else None

    def request(self, message: dict, seconds: float, reply_bytes: int | None = None) -> dict:
        """Send `message`; return the reply, or raise LearnerTimeout / LearnerProcessDied (see replies)."""
        return next(self.replies([message], seconds, [reply_bytes]))

    def replies(
        self,
        messages: list[dict],
        seconds: float,
        reply_bytes: list[int | None],
        stop_at_time_limit: bool = False,
        until: float | None = None,
    ) -> Iterator[dict]:
        """Send `messages` at once; yield their replies in order, each as it arrives; raise
        LearnerTimeout / LearnerProcessDied when one does not come.

        A reply's "seconds" is the time the grader waited for it since the one before (or since
        sending), and a reply later than `seconds` is a time-out, whatever the learner's process
        says (its own clock and alarm are not trusted). Nothing is waited for past `until` (a
        time.monotonic() instant). stop_at_time_limit: the learner's process stops after a reply
        that ran out of time, and so does this. Each message carries an id of the grader's that
        its reply must echo: a reply the learner's code wrote ahead of a call, or a frame that is
        not a reply, ends the process.
        """
        ids = [secrets.token_hex(8) for _ in messages]
        batch = [dict(message, timeout=seconds, id=id_) for message, id_ in zip(messages, ids)]
        if len(batch) == 1:
            sent = batch[0]
        else:  # one frame for them all; the learner's process answers them one by one
            sent = {"op": "calls", "calls": batch, "stop_at_time_limit": stop_at_time_limit}
        end = math.inf if until is None else until
        last = time.monotonic()
        self.send(sent, min(last + seconds, end) + GRACE_SECONDS)
        for id_, cap in zip(ids, reply_bytes):
            reply = self.receive(min(last + seconds, end) + GRACE_SECONDS, cap)
            if not isinstance(reply.get("ok"), bool) or reply.get("id") != id_:
                self.stop()
                raise LearnerProcessDied("it sent something that is not a reply")
            now = time.monotonic()
            reply["seconds"], last = now - last, now
            timed_out = isinstance(reply.get("error"), dict) and reply["error"].get("type") == "TimeLimit"
            if reply["seconds"] > seconds and not timed_out:  # its own alarm did not stop it: it cheated
                self.stop()
                raise LearnerTimeout()
            yield reply
            if timed_out and stop_at_time_limit:
                return

    def send(self, message: dict, deadline: float) -> None:
        """Write one framed message to the learner's process, giving up at `deadline`."""
        data = memoryview(runner.frame(message))
        while data:
            wait = deadline - time.monotonic()
            if wait <= 0:
                self.stop()
                raise LearnerTimeout()
            if not select.select([], [self.request_fd], [], min(wait, MEMORY_CHECK_SECONDS))[1]:
                continue
            try:
                data = data[os.write(self.request_fd, data[: 1 << 20]) :]
            except BlockingIOError:
                continue
            except OSError:  # the pipe is closed: the process has ended
                raise LearnerProcessDied(self.ended()) from None

    def receive(self, deadline: float, reply_bytes: int | None = None) -> dict:
        """One message from the learner's process, bounded in size, nesting and count of items."""
        cap = reply_bytes or self.limits.reply_bytes
        (length,) = struct.unpack(">I", self.read(4, deadline))
        if length > cap:
            self.stop()
            raise LearnerProcessDied(
                f"it sent a reply of {length / 2**20:.1f} MiB, more than the {cap / 2**20:g} MiB the grader reads"
            )
        data = self.read(length, deadline)
        try:
            if data.count(b",") + data.count(b"[") + data.count(b"{") > runner.MAX_ITEMS:
                raise ValueError("too many items")
            reply = json.loads(data)
        except Exception:  # not JSON, not UTF-8, nested too deeply, too many items: not the runner's
            reply = None
        if not isinstance(reply, dict):
            self.stop()
            raise LearnerProcessDied("it sent a reply that is not a message")
        return reply

    def read(self, count: int, deadline: float) -> bytes:
        chunks, remaining = [], count
        while remaining:
            now = time.monotonic()
            if now >= self.next_memory_check:
                self.check_memory()
                self.next_memory_check = now + MEMORY_CHECK_SECONDS
            wait = min(deadline - now, MEMORY_CHECK_SECONDS)
            if deadline - now <= 0:
                self.stop()
                raise LearnerTimeout()
            if not select.select([self.reply_fd], [], [], wait)[0]:
                continue
            chunk = os.read(self.reply_fd, min(remaining, 1 << 20))
            if not chunk:
                raise LearnerProcessDied(self.ended())
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def members(self) -> list[int]:
        """The learner's live processes."""
        table = live_processes()
        if self.kind is Isolation.SEPARATE_UID:
            return [pid for pid, (_, uid) in table.items() if uid == self.lease.uid]
        return descendants(self.pid, table) if self.pid is not None else []

    def memory_in_use(self) -> int:
        """Memory of all the learner's processes, plus what its /tmp (or its files) hold."""
        pids = self.members()
        used = sum(resident_memory(pid) for pid in pids)
        if used > self.limits.memory_bytes:  # the cheap bound says maybe: count shared pages once
            used = sum(proportional_memory(pid) for pid in pids)
        if self.kind is Isolation.SEPARATE_UID:
            used += open_deleted_files(pids)
            for path in files_of(self.lease.uid) + [self.folder]:
                try:
                    used += size_of(path)
                except FileNotFoundError:
                    pass  # removed meanwhile
                except OSError:  # what cannot be measured is not trusted
                    return self.limits.memory_bytes + 1
        elif self.kind in NAMESPACES and pids:
            tmp = os.statvfs(f"/proc/{self.pid}/root/tmp")  # the learner's own /tmp, through its init
            used += (tmp.f_blocks - tmp.f_bfree) * tmp.f_frsize
        return used

    def check_memory(self) -> None:
        try:
            used = self.memory_in_use()
        except Exception:  # whatever the learner made that cannot be measured is not trusted
            used = self.limits.memory_bytes + 1
        if used > self.limits.memory_bytes:
            self.stop()
            raise LearnerProcessDied(
                f"its processes and files used more than the memory limit of {self.limits.memory_bytes / 2**30:g} GiB"
            )

    def ended(self) -> str:
        """How the learner's process ended (it is stopped first, if it still runs)."""
        message = self.status_message(time.monotonic() + 1.0) if self.status is not None else None
        self.stop()
        if message is None or not message[0].startswith("exit "):
            return "the process ended"
        code = os.waitstatus_to_exitcode(int(message[0].split()[1]))
        if code < 0:
            return f"the process was killed by signal {signal.Signals(-code).name}"
        return f"the process exited with code {code}"

    def stop(self) -> None:
        """Kill the learner's processes (with namespaces, the whole PID namespace goes too), remove
        what it left, and give back its uid. Safe to call more than once."""
        with LIVE_LOCK:  # from now on shut_down() no longer touches its pidfd
            LIVE.discard(self)
        if self.pidfd is not None:
            # Its PID namespace's init or, without namespaces, the learner; the rest of an
            # unsandboxed learner's processes by ancestry, SEPARATE_UID's by uid below.
            for pid in self.members()[1:] if self.kind is Isolation.NONE else []:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass
            # Readable once it has ended; an init ends only after every process of its namespace.
            select.select([self.pidfd], [], [], GRACE_SECONDS)
            os.close(self.pidfd)
            self.pid = self.pidfd = None
        for fd in (self.request_fd, self.reply_fd):
            if fd is not None:
                os.close(fd)
        self.request_fd = self.reply_fd = None
        if self.status is not None:
            self.status.close()
            self.status = None
        try:
            if self.lease is not None and self.lease.handle is not None:
                kill_everything_of(self.lease.uid)  # raises, keeping the uid leased, if processes survive
                if self.kind is Isolation.SEPARATE_UID:
                    remove_files_of(self.lease.uid)
                self.lease.release()
        finally:
            if self.folder:
                remove_tree(self.folder)
                self.folder = None
