"""Stopping everything this grader started: when it exits (stop_all: the spare learners and the
fork servers) and when a run is interrupted (shut_down: no new learner, the running ones killed)."""

import atexit
import signal

from .footprint import kill_everything_of
from .fork_servers import stop_fork_servers
from .learner import CLOSING, LIVE, LIVE_LOCK
from .probe import stop_spares


@atexit.register
def stop_all() -> None:
    """Stop every process this grader started and no session is using: the spare learners first
    (without namespaces a learner's parent is a fork of its fork server), then the fork servers.
    Grading after this starts them again."""
    stop_spares()
    stop_fork_servers()


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
