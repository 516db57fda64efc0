"""What one submission can do to the others, and what the grader does where no sandbox can be had.

- Two attackers (a reply nested 200,000 deep that the grader cannot parse, and a cell holding
  every process it may start) graded in one batch with four correct submissions: the four get
  full marks, one job at a time and two at a time, as root and as a normal user.
- A normal user without bubblewrap: the grader refuses, says how to get a sandbox, and grades
  only with --unsandboxed, saying so.
- A non-editable install puts the course package, reference data included, inside the venv the
  sandbox mounts: the sandbox hides it.
- Learner code cannot reach the network (a server listening on this machine's loopback), as
  root and as a normal user.
- One fork server starts every learner: what a learner leaves in its /tmp or as a process, the
  next never sees, and no learner holds a capability or sees a /proc, as root and as a normal
  user; without namespaces a learner's orphans are reaped by the fork server, and a fork server
  a learner killed is started again.
"""

import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from autograder.course import source_notebook
from autograder.grading.sandbox import Limits
from conftest import ASSIGNMENT, ROOT
from deployments import bubblewrap_works, give, path_without_bubblewrap, run_as, throwaway_user, unavailable

SOURCE = source_notebook(ROOT, ASSIGNMENT)

# Writes a framed reply (4-byte length, then JSON nested 200,000 deep) to every pipe it may write:
# one of them is the runner's reply pipe.
NESTED_REPLY = """import os, stat, struct
payload = b"[" * 200_000 + b"]" * 200_000
for fd in range(3, 64):
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.write(fd, struct.pack(">I", len(payload)) + payload)
    except OSError:
        pass
"""
# Starts processes until the kernel refuses, each in a session of its own, sleeping a minute.
PROCESS_HOG = """import os, time
started = 0
while started < 10_000:
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        os.setsid()
        time.sleep(60)
        os._exit(0)
    started += 1
print("started", started)
"""
VICTIMS = ("ada", "ben", "cy", "dee")


def corpus(folder: Path) -> Path:
    """Four correct submissions and two attackers, in nbgrader's <student>/<assignment>/ layout."""
    for student in VICTIMS + ("nested", "hog"):
        notebook = nbformat.read(str(SOURCE), as_version=4)
        if student == "nested":
            notebook.cells.insert(3, nbformat.v4.new_code_cell(NESTED_REPLY))
        if student == "hog":
            notebook.cells.insert(3, nbformat.v4.new_code_cell(PROCESS_HOG + NESTED_REPLY))
        target = folder / student / ASSIGNMENT
        target.mkdir(parents=True)
        nbformat.write(notebook, str(target / f"{ASSIGNMENT}.ipynb"))
    return folder


def scores(results: Path) -> dict[str, float]:
    with open(results / "gradebook.csv", newline="") as stream:
        return {row["student"]: float(row["total"]) for row in csv.DictReader(stream)}


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("mode", ["root", "user"])
def test_attackers_cost_their_classmates_nothing(mode, jobs, tmp_path):
    command = [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        "{corpus}",
        "--results-dir",
        "{results}",
        "--jobs",
        str(jobs),
        "--cell-timeout",
        "5",
        "--call-timeout",
        "5",
    ]
    if not bubblewrap_works():
        unavailable("needs bubblewrap")
    if mode == "root":
        submitted = corpus(tmp_path / "submitted")
        command = [word.format(corpus=submitted, results=tmp_path / "results") for word in command]
        graded = subprocess.run(command, capture_output=True, text=True, timeout=300)
        results = tmp_path / "results"
    else:
        with throwaway_user() as user:
            home = Path(user.pw_dir)
            submitted = corpus(home / "submitted")
            give(home, user)
            command = [word.format(corpus=submitted, results=home / "results") for word in command]
            graded = run_as(user.pw_name, command, cwd=ROOT, timeout=300)
            results = tmp_path / "results"
            shutil.copytree(home / "results", results)
    assert graded.returncode == 0, graded.stderr
    got = scores(results)
    assert {student: got[student] for student in VICTIMS} == {student: 100.0 for student in VICTIMS}
    for attacker in ("nested", "hog"):  # each loses only the cell that attacked
        result = json.loads((results / f"{attacker}.json").read_text())
        assert result["score"] == 100.0
        assert "it sent a reply that is not a message" in result["output"]


def test_normal_user_without_a_sandbox_is_refused_unless_they_opt_out(tmp_path):
    with throwaway_user() as user:
        home = Path(user.pw_dir)
        submitted = corpus(home / "submitted")
        give(home, user)
        path = path_without_bubblewrap(tmp_path / "bin")
        tmp_path.chmod(0o755)
        command = [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            str(submitted / "ada"),
            "--results-dir",
            str(home / "results"),
        ]
        refused = run_as(user.pw_name, command, cwd=ROOT, env={"PATH": path}, timeout=120)
        assert refused.returncode == 2
        assert "will not run learner code without a sandbox" in refused.stderr
        assert "apt-get install bubblewrap" in refused.stderr and "--unsandboxed" in refused.stderr
        assert not (home / "results").exists()

        opted_out = run_as(user.pw_name, command + ["--unsandboxed"], cwd=ROOT, env={"PATH": path}, timeout=120)
        assert opted_out.returncode == 0, opted_out.stderr
        assert "isolation: none" in opted_out.stderr
        result = json.loads((home / "results" / "ada.json").read_text())
        assert result["score"] == 100.0 and result["extra_data"]["isolation"] == "none"


def test_a_package_installed_inside_the_venv_is_hidden_in_the_sandbox(monkeypatch, tmp_path):
    """With `pip install .` the package (reference data included) lives inside the venv that the
    sandbox mounts: the learner sees an empty folder there."""
    from autograder.grading import sandbox

    if not bubblewrap_works():
        unavailable("needs bubblewrap")
    inside = Path(sys.prefix) / f"autograder-installed-{tmp_path.name}"
    (inside / "reference").mkdir(parents=True)
    (inside / "reference" / "conv_step_by_step.h5").write_bytes(b"secret")
    try:
        monkeypatch.setattr(sandbox.filesystem, "PACKAGE_DIR", inside)
        sandbox.stop_all()  # a fork server started earlier in this session would not hide it
        learner = sandbox.learner_process(Limits(), sandbox.available_isolation())
        try:
            look = f"import os\nprint(sorted(os.listdir({str(inside)!r})))"
            reply = learner.request({"op": "run_cell", "index": 0, "source": look}, 10)
        finally:
            learner.stop()
            sandbox.stop_all()
        assert reply["ok"], reply
        assert reply["output"].strip() == "[]"
    finally:
        shutil.rmtree(inside)


# zero_pad works only while the grader's machine answers on the network.
PHONE_HOME = """import socket
_original_zero_pad = zero_pad
def zero_pad(X, pad):
    with socket.create_connection(("127.0.0.1", PORT), timeout=1) as connection:
        connection.sendall(repr(X.ravel()[:3]).encode())
    return _original_zero_pad(X, pad)
"""


@pytest.mark.parametrize("mode", ["root", "user"])
def test_learner_code_cannot_reach_the_network(mode, tmp_path):
    if not bubblewrap_works():
        unavailable("needs bubblewrap")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    notebook = nbformat.read(str(SOURCE), as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(PHONE_HOME.replace("PORT", str(listener.getsockname()[1]))))
    command = [sys.executable, "-m", "autograder", "grade", "{notebook}", "--results-dir", "{results}"]
    try:
        if mode == "root":
            nbformat.write(notebook, str(tmp_path / "caller.ipynb"))
            graded = subprocess.run(
                [w.format(notebook=tmp_path / "caller.ipynb", results=tmp_path / "results") for w in command],
                capture_output=True,
                text=True,
                timeout=120,
            )
            results = tmp_path / "results"
        else:
            with throwaway_user() as user:
                home = Path(user.pw_dir)
                nbformat.write(notebook, str(home / "caller.ipynb"))
                give(home, user)
                graded = run_as(
                    user.pw_name,
                    [w.format(notebook=home / "caller.ipynb", results=home / "results") for w in command],
                    cwd=ROOT,
                    timeout=120,
                )
                results = tmp_path / "results"
                shutil.copytree(home / "results", results)
        try:
            connection, _ = listener.accept()
            connection.close()
            reached = True
        except TimeoutError:
            reached = False
    finally:
        listener.close()
    assert graded.returncode == 0, graded.stderr
    result = json.loads((results / "caller.json").read_text())
    zero_pad = [test for test in result["tests"] if test["name"] == "zero_pad"][0]
    assert not reached
    assert zero_pad["score"] == 0 and "raised" in zero_pad["output"]
    assert result["score"] == 90


# One fork server starts every learner of a grader process: what one learner leaves, in its
# /tmp or as a process, the next never sees, and no learner holds a capability or a /proc.
FORKED_LEARNERS = r"""
import json, platform, sys
from autograder.grading import sandbox

LEAVE = '''
import os, subprocess
open("/tmp/left-by-first", "w").write("x")
subprocess.Popen(["sleep", "300"], start_new_session=True)
'''
LOOK = '''
import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
header, caps = (ctypes.c_uint32 * 2)(0x20080522, 0), (ctypes.c_uint32 * 6)()
libc.syscall({"x86_64": 125, "aarch64": 90}[os.uname().machine], header, caps)
print(json.dumps({
    "uid": os.getuid(), "tmp": os.listdir("/tmp"), "proc": os.listdir("/proc"), "capabilities": list(caps),
    "mount": libc.mount(b"none", b"/tmp", b"tmpfs", 0, None), "umount": libc.umount2(b"/tmp", 2),
}))
'''
kind = sandbox.available_isolation()
first = sandbox.learner_process(sandbox.Limits(), kind)
assert first.request({"op": "run_cell", "index": 0, "source": LEAVE}, 10)["ok"]
left = first.members()
server = sandbox.FORK_SERVERS[kind].process.pid
seen = []
second = sandbox.learner_process(sandbox.Limits(), kind)  # while the first still runs
seen.append(json.loads(second.request({"op": "run_cell", "index": 0, "source": LOOK}, 10)["output"]))
first.stop()
after = sandbox.live_processes()
third = sandbox.learner_process(sandbox.Limits(), kind)
seen.append(json.loads(third.request({"op": "run_cell", "index": 0, "source": LOOK}, 10)["output"]))
servers = {server, sandbox.FORK_SERVERS[kind].process.pid}
second.stop(), third.stop()
# A Python or venv that lives under /tmp is in the learner's /tmp too, read-only: nothing else is.
expected = sorted({root.split("/")[2] for root in sandbox.read_only_roots() if root.startswith("/tmp/")})
print(json.dumps({"kind": kind.name, "seen": seen, "left_alive": [p for p in left if p in after],
                  "left": len(left), "servers": len(servers), "tmp": expected}))
"""


@pytest.mark.parametrize("mode", ["root", "user"])
def test_learners_forked_by_one_server_share_nothing(mode):
    if not bubblewrap_works():
        unavailable("needs bubblewrap")
    command = [sys.executable, "-c", FORKED_LEARNERS]
    if mode == "root":
        ran = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    else:
        with throwaway_user() as user:
            ran = run_as(user.pw_name, command, cwd=ROOT, timeout=120)
    assert ran.returncode == 0, ran.stderr
    report = json.loads(ran.stdout.strip().splitlines()[-1])
    assert report["kind"] == {"root": "ROOT_NAMESPACES", "user": "USER_NAMESPACE"}[mode]
    assert report["servers"] == 1
    assert report["left"] >= 3  # its init, itself, and the sleep it left behind
    assert report["left_alive"] == []
    for seen in report["seen"]:
        assert seen["tmp"] == report["tmp"] and seen["proc"] == []
        assert seen["capabilities"] == [0] * 6
        assert seen["mount"] == -1 and seen["umount"] == -1
    if mode == "root":  # a uid of its own each
        assert report["seen"][0]["uid"] != report["seen"][1]["uid"]


def test_a_dead_fork_server_is_started_again():
    """Unsandboxed, a learner can kill the fork server (its grandparent, same user): the next
    learner still starts, from a new fork server."""
    from autograder.grading import sandbox

    kind = sandbox.Isolation.NONE
    first = sandbox.learner_process(sandbox.Limits(), kind)
    server = sandbox.FORK_SERVERS[kind].process
    killer = "import os, signal\nos.kill(int(open(f'/proc/{os.getppid()}/stat').read().split()[3]), signal.SIGKILL)"
    try:
        assert first.request({"op": "run_cell", "index": 0, "source": killer}, 10)["ok"]
    finally:
        first.stop()
    second = sandbox.learner_process(sandbox.Limits(), kind)
    try:
        reply = second.request({"op": "run_cell", "index": 0, "source": "print(6 * 7)"}, 10)
    finally:
        second.stop()
        sandbox.stop_fork_servers()  # none is left running in the test session
    assert server.wait(timeout=10) == -9  # it was killed
    assert reply["ok"] and reply["output"].strip() == "42"


ORPHAN_PARENT = """import os, time
r, w = os.pipe()
if os.fork() == 0:
    if os.fork() == 0:
        time.sleep(0.3)  # by now its parent has ended: who adopted it?
        os.write(w, str(os.getppid()).encode())
        os._exit(0)
    os._exit(0)
os.wait()
print(os.read(r, 20).decode())
"""


def test_orphans_without_namespaces_are_reaped_by_the_fork_server():
    """As in a container (a uid of its own, no namespaces): the learner's orphans go to the fork
    server, which reaps them at once, not to the container's process 1, which may never: a
    dead process of the uid would count against the next learner that leases it."""
    from autograder.grading import sandbox

    if os.geteuid() != 0:
        unavailable("a uid of its own needs root")
    kind = sandbox.Isolation.SEPARATE_UID
    learner = sandbox.learner_process(sandbox.Limits(), kind)
    uid = learner.lease.uid
    try:
        reply = learner.request({"op": "run_cell", "index": 0, "source": ORPHAN_PARENT}, 10)
        adopter = sandbox.FORK_SERVERS[kind].process.pid
    finally:
        learner.stop()
        sandbox.stop_fork_servers()
    assert reply["ok"] and reply["output"].strip() == str(adopter)
    assert [pid for pid, (_, owner) in sandbox.live_processes(zombies=True).items() if owner == uid] == []


def test_a_user_cannot_stop_root_grading_through_the_uid_lock_folder(tmp_path, monkeypatch):
    """Root keeps its uid locks in a folder only root may write in: a local user cannot make it
    first nor put a link there. Where the folder is not root's alone, or is a link (as a user
    could leave in a world-writable place like /run/lock), the grader refuses, follows no link,
    and says which folder and why, not "install bubblewrap"."""
    from autograder.grading import sandbox

    if os.geteuid() != 0:
        unavailable("root's uid leases need root")
    with throwaway_user() as user:
        for attack in (
            f"os.mkdir('{sandbox.LOCK_BASES[0]}/{sandbox.LOCK_FOLDER_NAME}-x')",
            f"os.symlink('/etc', '{sandbox.LOCK_BASES[0]}/{sandbox.LOCK_FOLDER_NAME}-x')",
        ):
            tried = run_as(user.pw_name, [sys.executable, "-c", f"import os\n{attack}"])
            assert "PermissionError" in tried.stderr
        # A world-writable place (as /run/lock or /tmp) where the user made the folder first.
        shared = Path(tempfile.mkdtemp(prefix="shared-", dir="/tmp"))
        try:
            shared.chmod(0o1777)
            planted = run_as(user.pw_name, [sys.executable, "-c", f"import os; os.mkdir('{shared}/conv-grader-uids')"])
            assert planted.returncode == 0, planted.stderr
            with pytest.raises(sandbox.UnsafeLockFolder, match="only root may write in"):
                sandbox.lock_folder((str(shared),))
        finally:
            shutil.rmtree(shared)
    # A root-only place where the folder is a link, or belongs to someone else.
    target = tmp_path / "target"
    target.mkdir(mode=0o700)
    for name, make in (("link", lambda folder: folder.symlink_to(target)), ("theirs", lambda folder: folder.mkdir())):
        base = tmp_path / name
        base.mkdir(mode=0o755)
        make(base / sandbox.LOCK_FOLDER_NAME)
        if name == "theirs":
            os.chown(base / sandbox.LOCK_FOLDER_NAME, 4242, 4242)
        with pytest.raises(sandbox.UnsafeLockFolder, match=str(base / sandbox.LOCK_FOLDER_NAME)) as refused:
            sandbox.lock_folder((str(base),))
        assert "bubblewrap" not in str(refused.value)
    assert list(target.iterdir()) == []  # no lock file was made through the link
    # The grader's own refusal names the cause.
    monkeypatch.setattr(sandbox.uids, "LOCK_BASES", (str(tmp_path / "theirs"),))
    sandbox.stop_spares()
    sandbox.available_isolation.cache_clear()
    try:
        with pytest.raises(sandbox.NoIsolation, match="belongs to uid 4242") as refused:
            sandbox.isolation()
        assert "bubblewrap" not in str(refused.value)
    finally:
        monkeypatch.undo()
        sandbox.available_isolation.cache_clear()
    # Where it is safe (the real place), root's leases work and their files are root's alone.
    lease = sandbox.UidLease()
    try:
        folder = Path(sandbox.LOCK_BASES[0], sandbox.LOCK_FOLDER_NAME)
        info = os.lstat(folder / str(lease.uid))
        assert info.st_uid == 0 and (os.lstat(folder).st_mode & 0o777) == 0o700
    finally:
        lease.release()
