"""`nbgrader collect` with the course's config on a shared server, attacked through the exchange by a
student (autograder/integrations/exchange.py).

Three new Unix users: the instructor, who owns the course and runs every nbgrader command of theirs
as themselves, and two students, alice and mallory, who fetch and submit with nbgrader as
themselves (alice twice). Then mallory attacks: a file put into alice's second submission (nbgrader
makes submission folders writable by all), a folder in alice's name with a later time (her own
notebook in it), a resubmission of hers backdated 11 months (folder name, timestamp.txt and the
files' mtimes), and folders of hers holding a symbolic link to the course's gradebook, a FIFO, or
no submission_secret.txt. The due date is a month ago, so every real submission is late.

Needs root (useradd, runuser); skipped otherwise (fails with REQUIRE_ALL_MODES=1).
"""

import csv
import datetime
import os
import shutil
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import nbformat
import pytest

from conftest import ASSIGNMENT, ROOT
from deployments import run_as, throwaway_user

pytestmark = pytest.mark.slow  # runs nbgrader as throwaway users: left out of pytest -m "not slow"

COURSE_ID = "conv-from-scratch"
NOW = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
DUE = NOW - datetime.timedelta(days=30)
BACKDATED = NOW - datetime.timedelta(days=335)
STAMP = "%Y-%m-%d %H:%M:%S.%f UTC"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"


def nbgrader(user, args, cwd, exchange):
    """`nbgrader ARGS` as `user` in `cwd`, with the class's exchange and course id; must succeed."""
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "NBGRADER_EXCHANGE": str(exchange)}
    options = [f"--Exchange.root={exchange}", f"--CourseDirectory.course_id={COURSE_ID}"]
    result = run_as(user.pw_name, [sys.executable, "-m", "nbgrader", *args, *options], cwd=cwd, env=env)
    assert result.returncode == 0, f"nbgrader {args}:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def signed_notebook(fetched: Path, signature: str, released: str) -> str:
    """The `released` notebook with a first cell naming its author: how the test tells submissions apart."""
    notebook = nbformat.reads(released, as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_markdown_cell(f"written by {signature}"))
    return nbformat.writes(notebook)


@pytest.fixture(scope="module")
def collected():
    with ExitStack() as stack:
        instructor, alice, mallory = (stack.enter_context(throwaway_user()) for _ in range(3))
        base = Path(tempfile.mkdtemp(prefix="exchange-"))  # where every user can reach (pytest's is root's)
        stack.callback(shutil.rmtree, base, ignore_errors=True)
        base.chmod(0o755)
        exchange, course = base / "exchange", base / "course"
        exchange.mkdir(mode=0o1777)
        exchange.chmod(0o1777)
        course.mkdir()
        shutil.copy(ROOT / "nbgrader_config.py", course)
        shutil.copytree(ROOT / "release" / ASSIGNMENT, course / "release" / ASSIGNMENT)
        shutil.copytree(ROOT / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT)
        for path in [course, *course.rglob("*")]:
            os.chown(path, instructor.pw_uid, instructor.pw_gid)
        course.chmod(0o700)
        due = f"--duedate={DUE:%Y-%m-%d %H:%M:%S} UTC"
        nbgrader(instructor, ["db", "assignment", "add", ASSIGNMENT, due], course, exchange)
        for student in (alice, mallory):
            nbgrader(instructor, ["db", "student", "add", student.pw_name], course, exchange)
        nbgrader(instructor, ["release_assignment", ASSIGNMENT, "--force"], course, exchange)

        for student in (alice, mallory):
            home = Path(student.pw_dir)
            nbgrader(student, ["fetch_assignment", ASSIGNMENT], home, exchange)
            fetched, released = home / ASSIGNMENT / NOTEBOOK, (home / ASSIGNMENT / NOTEBOOK).read_text()
            for version in (1, 2) if student is alice else (1,):
                signed = signed_notebook(fetched, f"{student.pw_name} ({version})", released)
                run_as(student.pw_name, ["tee", fetched], input=signed, check=True)
                nbgrader(student, ["submit", ASSIGNMENT], home, exchange)

        inbound = exchange / COURSE_ID / "inbound"
        alices_second = sorted(inbound.glob(f"{alice.pw_name}+*"))[-1]  # nbgrader made it 0777: mallory writes in it
        run_as(mallory.pw_name, ["sh", "-c", f'echo planted > "{alices_second}/notes.txt"'], check=True)
        later = NOW + datetime.timedelta(hours=1)

        cache = Path(mallory.pw_dir) / ".local" / "share" / "jupyter" / "nbgrader_cache" / COURSE_ID

        def plant(name: str, stamp: datetime.datetime, *extra: list[str]) -> None:
            """As mallory: a folder <name>+<assignment>+<stamp> holding her submission (from her nbgrader
            cache: notebook, submission_secret.txt) with `stamp` in timestamp.txt."""
            folder = inbound / f"{name}+{ASSIGNMENT}+{stamp:{STAMP}}"
            script = f'mkdir "{folder}" && cp -r "{cache}"/*/* "{folder}/"'
            script += f' && printf "{stamp:{STAMP}}" > "{folder}/timestamp.txt"'
            for command in extra:
                script += " && " + command.format(folder=folder)
            result = run_as(mallory.pw_name, ["sh", "-c", script])
            assert result.returncode == 0, result.stderr

        plant(alice.pw_name, later)  # in alice's name, later than hers
        plant(mallory.pw_name, later + datetime.timedelta(seconds=1), f'ln -s "{course}/gradebook.db" "{{folder}}/x"')
        plant(mallory.pw_name, later + datetime.timedelta(seconds=2), 'mkfifo "{folder}/pipe"')
        plant(mallory.pw_name, BACKDATED, f'touch -d "{BACKDATED:%Y-%m-%d %H:%M:%S}" "{{folder}}" "{{folder}}"/*')
        plant(mallory.pw_name, later + datetime.timedelta(seconds=3), 'rm "{folder}/submission_secret.txt"')
        log = nbgrader(instructor, ["collect", ASSIGNMENT], course, exchange)
        nbgrader(instructor, ["export"], course, exchange)
        with open(course / "grades.csv", newline="") as stream:
            notes = {row["student_id"]: row["notes"] for row in csv.DictReader(stream)}
        submitted = {
            student.pw_name: {
                "notebook": (course / "submitted" / student.pw_name / ASSIGNMENT / NOTEBOOK).read_text(),
                "timestamp": (course / "submitted" / student.pw_name / ASSIGNMENT / "timestamp.txt").read_text(),
            }
            for student in (alice, mallory)
        }
        yield {"log": log, "notes": notes, "submitted": submitted, "alice": alice.pw_name, "mallory": mallory.pw_name}


def test_a_submission_in_a_classmates_name_is_refused_and_theirs_kept(collected):
    alice, mallory = collected["alice"], collected["mallory"]
    assert f"written by {alice} (1)" in collected["submitted"][alice]["notebook"]
    assert (
        f"Refused {alice}+{ASSIGNMENT}+" in collected["log"] and f"the folder belongs to {mallory}" in collected["log"]
    )


def test_a_file_put_into_a_classmates_submission_refuses_it(collected):
    """Her first submission is taken instead: nothing of mallory's is graded as alice's."""
    assert f"notes.txt belongs to {collected['mallory']}" in collected["log"]
    assert f"written by {collected['alice']} (2)" not in collected["submitted"][collected["alice"]]["notebook"]


def test_links_special_files_and_made_up_folders_are_refused_without_stopping_collect(collected):
    assert "x is a symbolic link" in collected["log"]
    assert "pipe is not a regular file" in collected["log"]
    assert "it has no submission_secret.txt" in collected["log"]
    assert f"written by {collected['mallory']}" in collected["submitted"][collected["mallory"]]["notebook"]


def test_a_backdated_submission_is_timed_by_the_file_system(collected):
    """Autograde's late penalty and Formgrader read the collected timestamp.txt."""
    recorded = datetime.datetime.strptime(collected["submitted"][collected["mallory"]]["timestamp"], STAMP)
    assert recorded > NOW - datetime.timedelta(minutes=10) and recorded > DUE
    assert "files were last changed at" in collected["log"]


def test_the_export_notes_say_what_collect_refused_and_found_backdated(collected):
    alice, mallory = collected["alice"], collected["mallory"]
    assert "collect refused a submission in this name" in collected["notes"][alice]
    assert f"belongs to {mallory}" in collected["notes"][alice]
    assert f"put a submission in {alice}'s name into the exchange (refused)" in collected["notes"][mallory]
    assert f"backdated: claimed {BACKDATED:%Y-%m-%d}" in collected["notes"][mallory]
