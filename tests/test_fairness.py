"""A batch is fair and leaves nothing behind, in the three places a class grades: as root with
bubblewrap, as a normal user (bubblewrap in a user namespace) and as root in a container without
namespaces (a uid per learner).

- A student whose notebook keeps 60 busy processes running while it is graded (each in a session
  of its own), beside three correct classmates at --jobs 2 (assignment 2, whose large cases have
  a time allowance): the classmates get full marks (unfixed, one got 90: its timed cases were too
  slow) and the hog exactly what its notebook earns without its processes; once the run ends no
  process it started is left (a child subreaper watches).
- A run interrupted with SIGTERM, while a learner hangs in a cell, exits 130 and leaves nothing.
- A long-lived process that grades through IsolatedAutograde (Formgrader runs nbgrader autograde
  inside the instructor's Jupyter server) has no child process left once the notebook is graded,
  and once an autograde run through nbgrader's own API (Formgrader's *Autograde* button) ends,
  which grades the student asked for and no other.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from test_hostile import wrapper

import deployments
from autograder.course import Course, release_dir, source_notebook
from autograder.grading import sandbox
from autograder.grading.grade import grade_notebook
from conftest import ROOT
from deployments import Container, bubblewrap_works, give, run_as, throwaway_user, unavailable

pytestmark = pytest.mark.slow

ASSIGNMENT = "conv_mnist"
SOURCE = source_notebook(ROOT, ASSIGNMENT)
RELEASE = release_dir(ROOT, ASSIGNMENT) / f"{ASSIGNMENT}.ipynb"
TIMED = ("conv_forward_fast", "conv_backward_fast", "pool_forward_fast", "pool_backward_fast")
CLASSMATES = ("ben", "cy", "dee")
HOG = "al_hog"  # first in the batch: it is graded beside each classmate in turn
# 60 processes computing for a minute, each in a session of its own (the kernel's autogroups would
# otherwise share the CPU between learners, not processes), then a long wait in a few cells, so
# that classmates are graded while they run.
BUSY = """import os, time
end = time.monotonic() + 60
for _ in range(60):
    if os.fork() == 0:
        os.setsid()
        while time.monotonic() < end:
            pass
        os._exit(0)
"""
WAIT = "import time\ntime.sleep(7)\n"


def cell(notebook, grade_id: str):
    return next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def hog_without_processes():
    """The source notebook with the timed exercises left as the release's stubs."""
    notebook, release = nbformat.read(str(SOURCE), as_version=4), nbformat.read(str(RELEASE), as_version=4)
    for name in TIMED:
        cell(notebook, name).source = cell(release, name).source
    return notebook


def corpus(folder: Path) -> Path:
    folder.mkdir(parents=True)
    hog = hog_without_processes()
    hog.cells += [nbformat.v4.new_code_cell(BUSY)] + [nbformat.v4.new_code_cell(WAIT) for _ in range(8)]
    nbformat.write(hog, str(folder / f"{HOG}.ipynb"))
    for student in CLASSMATES:
        nbformat.write(nbformat.read(str(SOURCE), as_version=4), str(folder / f"{student}.ipynb"))
    return folder


# Runs `grade` (the rest of its arguments) and waits for its results file RESULT (an empty one:
# to the end); then, if RESULT was named, interrupts it with SIGTERM. Exits with grade's exit code.
INTERRUPTER = r"""
import os, signal, subprocess, sys, time
result = sys.argv[1]
grader = subprocess.Popen(sys.argv[2:])
deadline = time.monotonic() + 600
while result and not os.path.exists(result) and grader.poll() is None and time.monotonic() < deadline:
    time.sleep(0.1)
if result:
    grader.send_signal(signal.SIGTERM)
sys.exit(grader.wait())
"""
# Run inside the stand-in container: the grade CLI over the whole corpus at --jobs 2, as the bundle's
# run_autograder runs it (the course and the work folders closed to the learners' uids).
CONTAINER_DRIVER = r"""
import subprocess, sys
from pathlib import Path
root, corpus, out = map(Path, sys.argv[1:4])
subprocess.run(["chmod", "-R", "go-rwx", str(root / "source"), str(corpus), str(out)], check=True)
result = str(out / "STOP_AFTER.json") if "STOP_AFTER" else ""
grade = [sys.executable, "-m", "autograder", "grade", str(corpus), "--assignment", "ASSIGNMENT",
         "--course", str(root / "source" / "course"), "--results-dir", str(out), "--jobs", "2", *OPTIONS]
sys.exit(subprocess.run([sys.executable, "-c", INTERRUPTER, result, *grade], cwd=root / "source").returncode)
"""


def grade_in(
    mode: str, tmp_path: Path, monkeypatch, assignment: str = ASSIGNMENT, options: tuple = (), stop_after: str = ""
) -> tuple[dict, dict, str]:
    """Grade tmp_path/corpus at --jobs 2 the way `mode` grades, run by test_hostile's child-subreaper
    wrapper; with `stop_after`, SIGTERM it once that student's results are written. Returns
    ({student: results.json}, the wrapper's report: grade's exit code and what it left running,
    grade's stderr)."""
    folder, results, report = tmp_path / "corpus", tmp_path / "results", tmp_path / "report.json"

    def command(notebooks: Path, out: Path, report: Path) -> list[str]:
        grade = [sys.executable, "-m", "autograder", "grade", str(notebooks), "--assignment", assignment]
        grade += ["--results-dir", str(out), "--jobs", "2", *options]
        result = str(out / f"{stop_after}.json") if stop_after else ""
        return [sys.executable, "-c", wrapper(900), str(report), sys.executable, "-c", INTERRUPTER, result, *grade]

    if mode == "root":
        if os.geteuid() != 0 or not bubblewrap_works():
            unavailable("the root mode needs root and bubblewrap")
        graded = subprocess.run(command(folder, results, report), capture_output=True, text=True, timeout=1200)
    elif mode == "user":
        if not bubblewrap_works():
            unavailable("the normal-user mode needs bubblewrap")
        with throwaway_user() as user:
            home = Path(user.pw_dir)
            shutil.copytree(folder, home / "corpus")
            give(home, user)
            graded = run_as(user.pw_name, command(home / "corpus", home / "results", home / "report.json"), cwd=ROOT)
            assert "isolation: bubblewrap in a user namespace" in graded.stderr
            shutil.copy(home / "report.json", report)
            shutil.copytree(home / "results", results)
    else:
        driver = CONTAINER_DRIVER.replace("STOP_AFTER", stop_after).replace("ASSIGNMENT", assignment)
        driver = f"INTERRUPTER = {INTERRUPTER!r}\nOPTIONS = {list(options)!r}\n" + driver
        monkeypatch.setattr(deployments, "DRIVER", driver)
        container = Container(ASSIGNMENT)
        try:
            notebooks = {path.stem: path for path in sorted(folder.glob("*.ipynb"))}
            container.grade_all(notebooks, results, wrapper(900), report)
        finally:
            container.close()
        graded = subprocess.CompletedProcess([], 0, "", "")
    assert graded.returncode == 0, graded.stderr[-2000:]
    found = {path.stem: json.loads(path.read_text()) for path in results.glob("*.json")}
    return found, json.loads(report.read_text()), graded.stderr


@pytest.mark.parametrize("mode", ["root", "user", "container"])
def test_a_process_hog_costs_its_classmates_nothing_and_leaves_nothing(mode, tmp_path, monkeypatch):
    corpus(tmp_path / "corpus")
    graded, report, _ = grade_in(mode, tmp_path, monkeypatch)
    assert report["code"] == 0 and report["left"] == []
    assert {student: graded[student]["score"] for student in CLASSMATES} == {student: 100.0 for student in CLASSMATES}
    if mode == "container":
        assert {graded[student]["extra_data"]["isolation"] for student in graded} == {"separate_uid"}
    # The hog: what its notebook earns without its processes, graded here on its own.
    plain = tmp_path / "plain" / f"{HOG}.ipynb"
    plain.parent.mkdir()
    nbformat.write(hog_without_processes(), str(plain))
    alone = grade_notebook(plain, Course.repository(ROOT), ASSIGNMENT)
    sandbox.stop_all()
    assert graded[HOG]["score"] == alone.score < 100


HANGS = "while True:\n    pass\n"


@pytest.mark.parametrize("mode", ["root", "user", "container"])
def test_an_interrupted_run_stops_every_process_it_started(mode, tmp_path, monkeypatch):
    """SIGTERM to `grade` once one student is graded, while a classmate's learner hangs in a cell:
    the run ends (exit 130) and none of the processes it started is left."""
    (tmp_path / "corpus").mkdir()
    for student in ("ann", "bob"):
        notebook = nbformat.read(str(SOURCE), as_version=4)
        if student == "bob":
            notebook.cells.insert(1, nbformat.v4.new_code_cell(HANGS))
        nbformat.write(notebook, str(tmp_path / "corpus" / f"{student}.ipynb"))
    graded, report, stderr = grade_in(mode, tmp_path, monkeypatch, options=("--cell-timeout", "600"), stop_after="ann")
    assert report["code"] == 130 and report["left"] == []
    assert list(graded) == ["ann"]  # nothing is written for the student whose grading was stopped
    if mode != "container":
        assert "interrupted: every process the grader started is stopped" in stderr


# What the long-lived processes below report: their children still running (not zombies).
CHILDREN = r"""
import os

def children():
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            found.append(int(entry))
    return found
"""

# A long-lived process (as Formgrader's Jupyter server, which runs nbgrader autograde inside it)
# grades a notebook through IsolatedAutograde, then reports its score, the isolation and the pids
# of its children still running after a generous wait.
LONG_LIVED = (
    CHILDREN
    + r"""
import json, os, sys, time
import nbformat
from autograder.integrations.autograding import IsolatedAutograde

info = {"assignment": "conv_step_by_step", "notebook": "conv_step_by_step", "student": "ann"}
results = IsolatedAutograde().grade(nbformat.read(sys.argv[1], as_version=4), info)
deadline = time.monotonic() + 30
while children() and time.monotonic() < deadline:
    time.sleep(0.1)
print(json.dumps({"score": results.score, "isolation": results.extra["isolation"], "children": children()}))
"""
)


@pytest.mark.parametrize("mode", ["root", "user", "container"])
def test_the_grader_in_a_long_lived_process_keeps_nothing_running(mode, tmp_path):
    """As in Formgrader: once IsolatedAutograde has graded a notebook, the process that called it
    (still running) has no child left: no fork server, no bubblewrap, no spare learner."""
    notebook = source_notebook(ROOT, "conv_step_by_step")
    command = [sys.executable, "-c", LONG_LIVED, str(notebook)]
    if mode == "user":
        if not bubblewrap_works():
            unavailable("the normal-user mode needs bubblewrap")
        with throwaway_user() as user:
            ran = run_as(user.pw_name, command, cwd=ROOT, timeout=600)
    else:
        if os.geteuid() != 0 or (mode == "root" and not bubblewrap_works()):
            unavailable("needs root (and bubblewrap, as root)")
        env = dict(os.environ)
        if mode == "container":  # without bubblewrap: the learner runs as a uid of its own
            env["PATH"] = deployments.path_without_bubblewrap(tmp_path / "bin")
        ran = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert ran.returncode == 0, ran.stderr[-2000:]
    report = json.loads(ran.stdout.splitlines()[-1])
    isolation = {"root": "root_namespaces", "user": "user_namespace", "container": "separate_uid"}[mode]
    assert report == {"score": 100.0, "isolation": isolation, "children": []}


# Formgrader's Autograde button: nbgrader's API runs autograde for one student inside the
# instructor's Jupyter server. The run grades ahead while nbgrader works; once it ends, nothing of
# the grader may stay in that server, and no student but the one asked for may be graded.
FORMGRADER = (
    CHILDREN
    + r"""
import json, os, sys, time
from nbgrader.apps.api import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config.loader import PyFileConfigLoader

import autograder.integrations.autograding as autograding

planned = []  # each run's submissions to grade, as the grader plans them (graded ahead but the first)
plan = autograding.submissions_to_grade
def planning(*args):
    paths = plan(*args)
    planned.append(list(paths))
    return paths

autograding.submissions_to_grade = planning

course = sys.argv[1]
config = PyFileConfigLoader("nbgrader_config.py", path=course).load_config()
api = NbGraderAPI(coursedir=CourseDirectory(root=course, config=config), config=config)
report = {}
for student, force in (("ann", True), ("cy", True), ("*", False)):  # "*": the class, the graded ones skipped
    planned.clear()
    ran = api.autograde("conv_step_by_step", student, force=force)
    log = ran.get("log", "")[-1500:]
    report[student] = {"success": ran["success"], "children": children(), "planned": planned[:], "log": log}
print(json.dumps(report))
"""
)


def test_an_autograde_run_from_formgrader_grades_whom_it_is_asked_and_leaves_nothing(tmp_path):
    """Runs of Formgrader's Autograde (nbgrader's API, in one long-lived process) over a class of
    four: for ann, then for cy, each grading its student alone (100); then for the class without
    --force, which grades bo and dot (bo while dot is graded ahead) and skips the two graded. Once
    each run returns no process of the grader is left in the calling process."""
    if os.geteuid() != 0 or not bubblewrap_works():
        unavailable("needs root and bubblewrap")
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "source", course / "source")
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))  # alembic
    generated = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", "conv_step_by_step", "--force"],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
    )
    assert generated.returncode == 0, generated.stderr[-2000:]
    solved = source_notebook(ROOT, "conv_step_by_step")
    for student in ("ann", "bo", "cy", "dot"):
        folder = course / "submitted" / student / "conv_step_by_step"
        folder.mkdir(parents=True)
        shutil.copy(solved, folder / "conv_step_by_step.ipynb")
    ran = subprocess.run(
        [sys.executable, "-c", FORMGRADER, str(course)],
        capture_output=True,
        text=True,
        cwd=course,
        timeout=900,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    report = json.loads(ran.stdout.splitlines()[-1])
    for student in ("ann", "cy", "*"):
        assert report[student]["success"], report[student]["log"]
        assert report[student]["children"] == [], report[student]["log"]
    assert [report[student]["planned"] for student in ("ann", "cy", "*")] == [[["ann"]], [["cy"]], [["bo", "dot"]]]
    assert sorted(path.name for path in (course / "autograded").iterdir()) == ["ann", "bo", "cy", "dot"]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {s.student.id: s.score for s in gradebook.assignment_submissions("conv_step_by_step")}
    assert scores == {"ann": 100.0, "bo": 100.0, "cy": 100.0, "dot": 100.0}
