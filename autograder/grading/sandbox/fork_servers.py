"""The fork servers: one Python per grader process and kind of isolation, NumPy loaded once, that
forks a learner process per request (runner.fork_server) in milliseconds instead of a new
interpreter's tenth of a second. It runs in the sandbox and never runs learner code."""

import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

from .. import runner
from .filesystem import command_prefix, learner_environment, read_only_roots
from .kinds import Isolation
from .limits import GRACE_SECONDS, START_SECONDS, LearnerProcessDied, Limits

RUNNER_SOURCE = Path(runner.__file__).read_text(encoding="utf-8")


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
