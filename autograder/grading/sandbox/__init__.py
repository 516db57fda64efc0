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

The modules, each one job, in the order they build on each other: limits (what a learner may use,
how it fails) · kinds (the kinds of isolation, the refusal) · uids (root's uid leases) · footprint
(a learner's processes, memory and files on the machine) · filesystem (what the learner sees) ·
fork_servers · learner (one learner process and its transport) · probe (which isolation, spare
learners) · stopping (stop_all, shut_down). This package gives the names the grader uses.
"""

from .filesystem import PACKAGE_DIR, exposed_to_learner, read_only_roots
from .footprint import live_processes
from .fork_servers import FORK_SERVERS, stop_fork_servers
from .kinds import Isolation, NoIsolation
from .learner import GradingStopped, LearnerProcess
from .limits import LearnerProcessDied, LearnerTimeout, Limits
from .probe import available_isolation, isolation, learner_process, stop_spares
from .stopping import shut_down, stop_all
from .uids import LOCK_BASES, LOCK_FOLDER_NAME, UID_COUNT, UID_FIRST, UidLease, UnsafeLockFolder, lock_folder

__all__ = [
    "FORK_SERVERS",
    "LOCK_BASES",
    "LOCK_FOLDER_NAME",
    "PACKAGE_DIR",
    "UID_COUNT",
    "UID_FIRST",
    "GradingStopped",
    "Isolation",
    "LearnerProcess",
    "LearnerProcessDied",
    "LearnerTimeout",
    "Limits",
    "NoIsolation",
    "UidLease",
    "UnsafeLockFolder",
    "available_isolation",
    "exposed_to_learner",
    "isolation",
    "learner_process",
    "live_processes",
    "lock_folder",
    "read_only_roots",
    "shut_down",
    "stop_all",
    "stop_fork_servers",
    "stop_spares",
]
