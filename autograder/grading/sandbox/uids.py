"""Uids of their own for learner processes when the grader is root (UidLease), held through lock
files in a folder only root may write in (lock_folder), so that two graders on one machine never
hand the same uid to two learners, and a crashed grader holds none."""

import fcntl
import os
import stat
import time

from .kinds import NoIsolation

# Leased uids for learner processes (root only): far above any real account's uid.
UID_FIRST, UID_COUNT = 1_900_000_000, 10_000

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
