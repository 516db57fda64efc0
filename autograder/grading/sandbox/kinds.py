"""The kinds of isolation a machine can give a learner's process (Isolation), and the refusal,
with how to get one, when it gives none (NoIsolation). Named apart from the probing (probe.py), so
that every module that acts differently per kind can name them."""

import enum


class Isolation(enum.Enum):
    USER_NAMESPACE = "bubblewrap in a user namespace"
    ROOT_NAMESPACES = "bubblewrap namespaces and a uid of its own"
    SEPARATE_UID = "a uid of its own, without namespaces"
    NONE = "none: an ordinary child process (--unsandboxed)"


class NoIsolation(Exception):
    """No sandbox can be had here; the message says how to get one."""


HOW_TO_ISOLATE = (
    "The grader will not run learner code without a sandbox. Install bubblewrap (apt-get install "
    "bubblewrap) and allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, "
    "user.max_user_namespaces > 0; on Ubuntu 24.04 also kernel.apparmor_restrict_unprivileged_userns=0), "
    "or grade as root (without namespaces, as in a container, the learner then runs as a uid of its own, "
    "so the grader's Python must be one every user can run, such as /usr/bin/python3). To grade anyway, "
    "with learner code running as you and able to read and change everything you can, pass --unsandboxed "
    "(in nbgrader_config.py: c.IsolatedAutograde.unsandboxed = True)."
)
