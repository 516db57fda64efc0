"""One learner process (LearnerProcess): started through a fork server with a uid of its own where
needed, talked to over framed pipes (every reply checked against its request's id, size and time),
its memory and files counted while the grader waits, and stopped with all it left. LIVE holds every
running one, for shut_down() to kill from another thread."""

import json
import math
import os
import secrets
import select
import signal
import socket
import struct
import tempfile
import threading
import time
from collections.abc import Iterator

from ...problems import CallError
from .. import runner
from .footprint import (
    descendants,
    files_of,
    kill_everything_of,
    live_processes,
    open_deleted_files,
    proportional_memory,
    remove_files_of,
    remove_tree,
    resident_memory,
    size_of,
)
from .fork_servers import fork_server
from .kinds import Isolation
from .limits import GRACE_SECONDS, MEMORY_CHECK_SECONDS, START_SECONDS, LearnerProcessDied, LearnerTimeout, Limits
from .uids import UidLease


class GradingStopped(BaseException):
    """The grader is shutting down (interrupted): no learner process may start any more."""


# Every learner process started and not yet stopped, for shut_down() to end from another thread.
LIVE: set["LearnerProcess"] = set()
LIVE_LOCK = threading.Lock()
CLOSING = threading.Event()

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
            timed_out = CallError.of(reply) is CallError.TIME_LIMIT
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
