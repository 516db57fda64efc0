"""Starting the learner's code in a separate, limited process, and talking to it.

As root on Linux with bubblewrap installed, the learner's process runs in its own mount, PID,
network, IPC and UTS namespaces as the unprivileged user `nobody` with no capabilities. Its
filesystem holds only the system libraries, the Python installation and the virtual
environment, all read-only, plus an empty /tmp: no course file, reference data, grader code
or other submission exists there. Anywhere else it is an ordinary child process with the
same time and memory limits (see the README for what that gives up).
"""
import json
import os
import resource
import select
import shutil
import signal
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from . import runner

RUNNER_SOURCE = Path(runner.__file__).read_text(encoding="utf-8")
NOBODY = 65534
MAX_REPLY_BYTES = 256 * 2**20
GRACE_SECONDS = 2.0  # beyond the learner's own time limit, before the process is killed


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 2 * 2**30
    cell_seconds: float = 10.0
    call_seconds: float = 10.0
    max_restarts: int = 4
    processes: int = 128  # in the sandbox: processes and threads of all learners together (user nobody)
    output_chars: int = 4000


class LearnerProcessDied(Exception):
    """The learner's process ended (its own exit, a crash, or the memory limit)."""


class LearnerTimeout(Exception):
    """The learner's process did not answer within its time limit and was killed."""


@cache
def isolation() -> str:
    """'bubblewrap' when the full sandbox is available here, otherwise 'process'."""
    if sys.platform != "linux" or os.geteuid() != 0 or not shutil.which("bwrap") or not Path("/usr/bin/setpriv").exists():
        return "process"
    probe = subprocess.run(sandbox_prefix() + ["/bin/true"], capture_output=True)
    return "bubblewrap" if probe.returncode == 0 else "process"


SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")


def read_only_roots() -> list[str]:
    """The real folders the learner's Python needs: system libraries, the Python install, the venv."""
    roots = [d for d in SYSTEM_DIRS if not Path(d).is_symlink()] + [sys.base_prefix, sys.prefix]
    kept = []
    for root in sorted({str(Path(r).resolve()) for r in roots if Path(r).exists()}, key=len):
        if not any(root == k or root.startswith(k + "/") for k in kept):
            kept.append(root)
    return kept


def sandbox_prefix() -> list[str]:
    """The bubblewrap and setpriv words that go before the learner's command."""
    args = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--proc", "/proc", "--dev", "/dev",
            "--perms", "1777", "--tmpfs", "/tmp", "--chdir", "/tmp"]
    made = set()
    for root in read_only_roots():
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
    return args + ["/usr/bin/setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                   "--inh-caps=-all", "--bounding-set=-all", "--"]


def learner_environment() -> dict:
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    # Some processors need these OpenBLAS settings to compute correctly; keep them if set.
    env.update({k: v for k, v in os.environ.items() if k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")})
    return env


class LearnerProcess:
    """One learner process running runner.serve(): send a request, wait for its reply."""

    def __init__(self, limits: Limits):
        self.limits = limits
        command = [sys.executable, "-I", "-c", RUNNER_SOURCE]
        self.sandboxed = isolation() == "bubblewrap"
        if self.sandboxed:
            command = sandbox_prefix() + command
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=learner_environment(), start_new_session=True, preexec_fn=self._limit_resources)
        self.reply_fd = self.process.stdout.fileno()

    def _limit_resources(self):
        """Runs in the child before exec: the limits every process of the learner inherits."""
        resource.setrlimit(resource.RLIMIT_AS, (self.limits.memory_bytes, self.limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if self.sandboxed:  # RLIMIT_NPROC counts all processes of a user: only nobody's are learners' alone
            resource.setrlimit(resource.RLIMIT_NPROC, (self.limits.processes, self.limits.processes))

    def request(self, message: dict, seconds: float) -> dict:
        """Send `message`; return the reply, or raise LearnerTimeout / LearnerProcessDied."""
        try:
            runner.write_message(self.process.stdin, dict(message, timeout=seconds))
        except (BrokenPipeError, OSError):
            raise LearnerProcessDied(self._ended())
        deadline = time.monotonic() + seconds + GRACE_SECONDS
        (length,) = struct.unpack(">I", self._read(4, deadline))
        if length > MAX_REPLY_BYTES:
            self.stop()
            raise LearnerProcessDied("it sent a reply larger than the grader accepts")
        try:
            reply = json.loads(self._read(length, deadline))
        except ValueError:  # not JSON, or not UTF-8: something other than the runner wrote it
            reply = None
        if not isinstance(reply, dict):
            self.stop()
            raise LearnerProcessDied("it sent a reply that is not a message")
        return reply

    def _read(self, count: int, deadline: float) -> bytes:
        chunks, remaining = [], count
        while remaining:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([self.reply_fd], [], [], wait)[0]:
                self.stop()
                raise LearnerTimeout()
            chunk = os.read(self.reply_fd, min(remaining, 1 << 20))
            if not chunk:
                raise LearnerProcessDied(self._ended())
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def _ended(self) -> str:
        self.stop()
        code = self.process.returncode
        if code is not None and code < 0:
            return f"the process was killed by signal {signal.Signals(-code).name}"
        return f"the process exited with code {code}"

    def stop(self) -> None:
        """Kill the learner's process group (with bubblewrap, the whole PID namespace goes too)."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
