"""What a learner leaves on the machine, read from /proc and the filesystem: its processes (found
by ancestry or by uid, and killed), the memory they hold, the files it wrote and their size, and
their removal. The learner's code made all of it, so the walks through its files follow no link,
and size_of gives up past MAX_ENTRIES (its caller counts that as over the limit)."""

import os
import resource
import signal
import stat
import tempfile
import time
from functools import cache


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
