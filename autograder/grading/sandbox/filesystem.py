"""What of this machine a learner's process can see: bubblewrap's command that mounts only the
system, the Python install and the venv, read-only, with the course package hidden (command_prefix);
the environment it starts with; and, without namespaces, the check that the course is not readable
by other users (exposed_to_learner)."""

import os
import sys
from pathlib import Path

from .. import runner
from .kinds import Isolation
from .limits import Limits

PACKAGE_DIR = Path(runner.__file__).resolve().parents[1]  # the whole autograder package
SANDBOX_UID = 65534  # the learner's uid inside a user namespace
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
