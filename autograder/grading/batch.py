"""Grading many submissions: find them, grade in parallel, write results atomically, summarise.

Writes DIR/<student>.json (Gradescope's results.json schema) per submission and
DIR/gradebook.csv (a row per submission, a column per exercise, the total). A submission
whose file, place and grader are unchanged since its results were written is not graded again.

Students are adversaries here too: nothing inside a student's own folder decides anyone's id,
and no single submission (its file, its id, a grader bug it triggers) can stop the batch. Nor
can one cost a classmate points through the CPU they share: time limits are judged on the wall
clock (a learner can fake any clock of its own), so a submission that reached one while others
were graded beside it is graded again, alone, after the batch. An interrupted batch (Ctrl-C,
SIGTERM, SIGHUP) stops every process it started before it exits.
"""

import csv
import hashlib
import io
import json
import os
import re
import signal
import stat
import sys
import tempfile
import threading
import traceback
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..assignments import Exercise, exercises
from ..course import ASSIGNMENTS, Course
from .grade import detect_assignment, grade_notebook, named_assignment, read_submission
from .results import Results
from .sandbox import Limits, NoIsolation, shut_down

NBGRADER_FOLDERS = ("submitted", "autograded")
MAX_NOTEBOOK_BYTES = 100_000 * 1024  # nbgrader's own cap on a submitted file (ExchangeSubmit.max_file_size)
SAFE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}")  # ASCII: no normalisation or case surprises
SHOWN_ID_CHARS = 40


@dataclass
class Submission:
    student: str  # the nbgrader student id, or the file's stem; unique within a batch
    path: Path
    assignment: str | None = None  # the nbgrader assignment folder it sits in, if any


class NotASubmission(Exception):
    """The file cannot be graded at all (not a regular file, too large); the message says why."""


def find_submissions(targets: list[Path]) -> list[Submission]:
    """The submissions among notebooks named directly and notebooks found under folders.

    targets: files and folders from the command line; raises FileNotFoundError for a missing one.
    Returns a Submission per notebook, in order, with distinct student ids (see distinct_ids).
    A file named directly is graded under its stem; folders are read by submissions_under, and
    the notebooks there that are not submissions are listed in a note on stderr.
    """
    found, ignored, seen = [], [], set()
    for target in targets:
        if not target.exists():
            raise FileNotFoundError(f"no such file or folder: {target}")
        if target.is_file():  # the instructor's own choice of file: a link is followed
            submissions = [Submission(target.stem, Path(os.path.realpath(target)))]
        else:
            submissions, not_submissions = submissions_under(target)
            ignored += not_submissions
        for submission in submissions:
            # The place, not the file: a student's link to a classmate's notebook must not hide it.
            place = Path(os.path.realpath(submission.path.parent), submission.path.name)
            if place not in seen:  # a notebook named twice is graded once
                seen.add(place)
                found.append(submission)
    if ignored:
        shown = ", ".join(printable(str(path)) for path in ignored[:3]) + (", ..." if len(ignored) > 3 else "")
        print(
            f"note: {len(ignored)} notebook(s) not directly in a <student>/<assignment>/ folder were not "
            f"graded: {shown}",
            file=sys.stderr,
        )
    for submission, student in zip(found, distinct_ids([s.student for s in found])):
        submission.student = student
    return found


def submissions_under(folder: Path) -> tuple[list[Submission], list[Path]]:
    """(submissions, other notebooks) under a folder, by nbgrader's layout relative to that folder.

    A course folder (one holding submitted/, else autograded/, and not itself named so) is read
    from that subfolder, and its source/, release/, ... are not submissions. There, and in any
    other folder:
      <folder>/<student>/<assignment>/<notebook>.ipynb   is a submission of <student>;
      <folder>/<notebook>.ipynb                          (a flat folder) is one named by its stem;
      <folder>/<assignment>/<notebook>.ipynb             (one student's folder) is one of <folder>;
    anything else is not a submission. That includes notebooks deeper inside a student's
    assignment folder: they are that student's own files (copies, scratch, a planted
    submitted/zoe/... tree), and they are not graded at all rather than graded as the student:
    what the student submitted is the notebook in their assignment folder, as nbgrader has it,
    and a second row (mallory-2) would only hand them another try or a confusing entry.
    So an id never comes from above the folder given nor from inside a student's own folder.
    Links to folders are not entered (they could loop, or lead to a classmate's folder); a
    notebook that is a link is found, and graded 0 as not a regular file (see check_file).
    """
    root = folder
    if folder.resolve().name not in NBGRADER_FOLDERS:
        root = next((folder / name for name in NBGRADER_FOLDERS if (folder / name).is_dir()), folder)
    submissions, others = [], []
    for path in notebooks_under(root):
        parts = path.relative_to(root).parts
        if len(parts) == 1:
            submissions.append(Submission(path.stem, path))
        elif len(parts) == 3 and parts[1] in ASSIGNMENTS:
            submissions.append(Submission(parts[0], path, parts[1]))
        elif len(parts) == 2 and parts[0] in ASSIGNMENTS and root == folder:  # one student's folder
            submissions.append(Submission(folder.resolve().name, path, parts[0]))
        else:
            others.append(path)
    return submissions, others


def notebooks_under(folder: Path) -> list[Path]:
    """Every *.ipynb that is not a folder under `folder`, sorted; links to folders are not followed."""
    found = []
    for parent, folders, files in os.walk(folder):
        folders[:] = [name for name in folders if name != ".ipynb_checkpoints"]
        found += [Path(parent, name) for name in files if name.endswith(".ipynb")]
    return sorted(found)


def distinct_ids(ids: list[str]) -> list[str]:
    """The ids, the second and later of each repeated one renamed id-2, id-3, ...

    A new name is never one that any submission already has (alice, alice, alice-2 gives
    alice, alice-3, alice-2), so no submission takes another's id.
    """
    taken, seen, distinct = set(ids), set(), []
    for student in ids:
        if student in seen:
            count = 2
            while f"{student}-{count}" in taken:
                count += 1
            taken.add(student := f"{student}-{count}")
        seen.add(student)
        distinct.append(student)
    return distinct


def results_names(ids: list[str]) -> dict[str, str]:
    """{student id: results file stem} for distinct ids; stems are distinct even ignoring case.

    An id that is short, ASCII and not hidden is its own stem; any other (long, unicode, spaces,
    a leading dot) becomes a readable prefix, "~" and a hash of the whole id. "~" is never in a
    plain stem, so a hashed stem cannot be another student's id.
    """

    def hashed(student: str) -> str:
        prefix = re.sub(r"[^A-Za-z0-9._-]", "_", student)[:SHOWN_ID_CHARS].lstrip(".")
        return f"{prefix}~{hashlib.sha256(student.encode('utf-8', 'surrogateescape')).hexdigest()[:12]}"

    names = {student: student if SAFE_NAME.fullmatch(student) else hashed(student) for student in ids}
    clashes = Counter(name.casefold() for name in names.values())
    return {student: name if clashes[name.casefold()] == 1 else hashed(student) for student, name in names.items()}


def printable(text: str) -> str:
    """The text with control characters shown as '?': a name must not drive the terminal."""
    return "".join(char if char.isprintable() else "?" for char in text)


@cache
def grader_fingerprint(course: Course) -> str:
    """Changes whenever the grader's code or the course's files change, so old results are graded again."""
    package = Path(__file__).parents[1]
    files = sorted(package.rglob("*.py"))
    for assignment in ASSIGNMENTS:
        files += [course.reference_file(assignment), *sorted((course.provided / assignment).glob("*.py"))]
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.read_bytes() if file.exists() else b"(missing)")
    return digest.hexdigest()


def submission_digest(submission: Submission, course: Course, assignment: str | None) -> str:
    """Changes with the file's bytes, its place and id, the assignment and the grader."""
    facts = [grader_fingerprint(course), str(assignment), submission.student, str(submission.path)]
    digest = hashlib.sha256(json.dumps(facts).encode())
    digest.update(submission.path.read_bytes())
    return digest.hexdigest()


def write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder and a rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", errors="surrogateescape", newline="") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def previous_results(path: Path, digest: str) -> Results | None:
    try:
        results = Results.from_gradescope(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None
    return results if results.extra.get("digest") == digest else None


def check_file(path: Path) -> None:
    """Raises NotASubmission unless `path` is a regular file (not a link) of a notebook's size."""
    status = path.lstat()
    if not stat.S_ISREG(status.st_mode):
        raise NotASubmission("it is not a regular file (a link, a pipe or a device)")
    if status.st_size > MAX_NOTEBOOK_BYTES:
        raise NotASubmission(f"it is larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB")


def own_assignment(submission: Submission, assignment: str | None) -> str:
    """The submission's assignment for a report that grading could not make: named, from its folder,
    from its notebook, else the first."""
    if assignment or submission.assignment:
        return assignment or submission.assignment
    try:
        check_file(submission.path)
        return detect_assignment(read_submission(submission.path), submission.path, None)
    except Exception:
        return ASSIGNMENTS[0]


def likely_assignments(submissions: list[Submission], assignment: str | None) -> list[str]:
    """The assignments a batch will grade, as far as names tell, or a lone file's own (its cells
    may tell): their reference data can be read before grading starts."""
    if len(submissions) == 1:
        return [own_assignment(submissions[0], assignment)]
    return sorted({assignment or s.assignment or named_assignment(s.path, None) for s in submissions} - {None})


def failure_results(
    submission: Submission, course: Course, assignment: str | None, reason: str, **extra: object
) -> Results:
    """Score 0 with a one-line reason: the results of a submission that could not be graded."""
    name = own_assignment(submission, assignment)
    output = f"This submission was not graded: {reason}."
    try:
        return Results.blank(course, name, reason, output, **extra)
    except Exception:  # the report of a failure must not fail in turn
        return Results(name, [], output, 0.0, extra)


def grade_one(
    submission: Submission,
    out: Path,
    course: Course,
    assignment: str | None,
    limits: Limits,
    force: bool,
    unsandboxed: bool = False,
    note: str | None = None,
) -> tuple[Results, bool, bool]:
    """Grade (or reuse) one submission and write its results file to `out`; `note`, a line added to
    the results' message when graded now.

    Returns (results, graded now, results file written). Never raises for this submission's
    sake: anything that goes wrong becomes its results, score 0 and a one-line reason. Only
    NoIsolation (this machine cannot grade anyone) goes through.
    """
    try:
        check_file(submission.path)
        digest = submission_digest(submission, course, assignment)
        if not force and (results := previous_results(out, digest)):
            return results, False, True
        results = grade_notebook(submission.path, course, assignment or submission.assignment, limits, unsandboxed)
        results.extra.update(digest=digest)
        if note:
            results.output += "\n" + note
            results.extra.update(graded_alone=True)
    except NoIsolation:
        raise
    except NotASubmission as error:
        results = failure_results(submission, course, assignment, str(error), invalid=str(error))
    except Exception as error:  # a grader bug must not cost the batch or this student their result
        print(f"error: grading {printable(submission.student)} failed: {printable(repr(error))[:200]}", file=sys.stderr)
        results = failure_results(  # only the kind of error: its message could hold hidden data
            submission,
            course,
            assignment,
            f"the grader failed ({type(error).__name__}); please tell your instructor",
            grader_error=traceback.format_exc(limit=5),
        )
    results.extra.update(student=submission.student, file=str(submission.path))
    try:
        write_atomically(out, json.dumps(results.to_gradescope(), indent=1) + "\n")
    except Exception as error:
        print(f"error: could not write {printable(str(out))}: {printable(str(error))[:200]}", file=sys.stderr)
        return results, True, False
    return results, True, True


def gradebook_csv(graded: list[tuple[Submission, Results]], names: list[str]) -> str:
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(["student", *names, "total"])
    for submission, results in graded:
        scores = results.exercise_scores()
        writer.writerow([submission.student, *(scores.get(name, 0.0) for name in names), results.score])
    return stream.getvalue()


def shown_id(student: str) -> str:
    """The id as the table shows it: printable, and long ones cut (the gradebook has them whole)."""
    student = printable(student)
    return student if len(student) <= SHOWN_ID_CHARS else student[: SHOWN_ID_CHARS - 3] + "..."


def table(graded: list[tuple[Submission, Results]], assignment_exercises: list[Exercise]) -> str:
    """A plain-text table: a row per submission, a numbered column per exercise, and a legend."""
    names = [ex.name for ex in assignment_exercises]
    width = max([7] + [len(shown_id(s.student)) for s, _ in graded])
    header = f"{'student':<{width}} " + " ".join(f"{n:>6}" for n in range(1, len(names) + 1)) + "   total"
    rows = [header]
    for submission, results in graded:
        scores = results.exercise_scores()
        rows.append(
            f"{shown_id(submission.student):<{width}} "
            + " ".join(f"{scores.get(n, 0.0):>6.1f}" for n in names)
            + f" {results.score:>7.1f}"
        )
    legend = ", ".join(f"{n} {ex.name} ({ex.points})" for n, ex in enumerate(assignment_exercises, 1))
    return "\n".join(rows + [f"exercises: {legend}"])


def feedback_text(submission: Submission, results: Results) -> str:
    """What a submission lost points for, as the console shows it: its overall message, then each
    graded part below full marks with its feedback (cases, messages, hints), indented. Only what
    its results file holds: feedback never has hidden inputs or reference values."""
    first, *notes = results.output.splitlines() or [""]
    lines = [f"{shown_id(submission.student)}: {printable(first)}", *(f"  {printable(note)}" for note in notes)]
    lost = [test for test in results.tests if test.score < test.max_score]
    for test in lost:
        lines.append(f"  {test.name}: {test.score:g} of {test.max_score:g} points")
        lines += [f"    {printable(line)}" for line in test.output.splitlines()]
    if not lost:
        lines.append("  full marks in every exercise")
    return "\n".join(lines)


@contextmanager
def stopped_on_signals() -> Iterator[None]:
    """While in it, SIGTERM and SIGHUP interrupt the main thread as Ctrl-C does (KeyboardInterrupt),
    so that a killed run still stops the processes it started; after the first, these signals are
    ignored, so that a second one cannot cut that short. Elsewhere than in the main thread it
    changes nothing (only the main thread may set handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    numbers = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def interrupt(signum: int, frame: object) -> None:
        for number in numbers:
            signal.signal(number, signal.SIG_IGN)
        raise KeyboardInterrupt(signal.Signals(signum).name)

    saved = {number: signal.signal(number, interrupt) for number in numbers}
    try:
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


def writable_folder(folder: Path) -> str | None:
    """None if results can be written in `folder` (made if missing), else why not, in a few words."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return None
    except OSError as error:
        return error.strerror or type(error).__name__


def grade_batch(
    submissions: list[Submission],
    results_dir: Path,
    course: Course,
    jobs: int,
    force: bool = False,
    assignment: str | None = None,
    limits: Limits = Limits(),
    unsandboxed: bool = False,
    feedback: bool | None = None,
) -> list[tuple[Submission, Results]]:
    """Grade every submission (jobs at a time), write results and the gradebook; print a table.

    submissions: with distinct ids, as find_submissions gives them. feedback: print each
    submission's feedback after the table (None: only when there is one submission; otherwise
    say where it is). Returns (submission, results)
    for each submission whose results file was written, in order: fewer than given (none when the
    results folder or the gradebook cannot be written, after a one-line error on stderr) means
    the batch is incomplete.
    """
    if problem := writable_folder(results_dir):
        print(f"error: cannot write results in {printable(str(results_dir))}: {problem}", file=sys.stderr)
        return []
    names = results_names([s.student for s in submissions])

    def grade(index: int, note: str | None = None, again: bool = False) -> tuple[Results, bool, bool]:
        s = submissions[index]
        out = results_dir / f"{names[s.student]}.json"
        return grade_one(s, out, course, assignment, limits, force or again, unsandboxed, note)

    outcomes = [None] * len(submissions)
    with stopped_on_signals():
        pool = ThreadPoolExecutor(max_workers=max(1, jobs))
        try:
            futures = {pool.submit(grade, index): index for index in range(len(submissions))}
            progress = as_completed(futures)
            if len(futures) > 1:  # imported here: a one-notebook run (Gradescope's) has no bar to show
                from tqdm import tqdm

                progress = tqdm(progress, total=len(futures), unit="notebook")
            for future in progress:
                outcomes[futures[future]] = future.result()
            # A classmate's processes beside it may have cost a submission its time limits: those
            # that reached one are graded again, one at a time, and keep that grading's results.
            again = [i for i, (results, now, _) in enumerate(outcomes) if now and results.extra.get("time_limited")]
            at_once = min(jobs, len(submissions))
            if again and at_once > 1:
                print(
                    f"Grading {len(again)} submission(s) again, alone: they reached a time limit while "
                    f"{at_once} were graded at once.",
                    file=sys.stderr,
                )
                note = (
                    f"Graded alone, after the batch: it reached a time limit while {at_once} submissions "
                    "were graded at once, which can slow each down."
                )
                for index in again:
                    outcomes[index] = grade(index, note, again=True)
        except BaseException:  # interrupted: nothing started may outlive the run
            shut_down()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown()
    fresh = sum(now for _, now, _ in outcomes)
    ordered = [(s, results) for s, (results, _, _) in zip(submissions, outcomes)]
    written = [(s, results) for s, (results, _, ok) in zip(submissions, outcomes) if ok]
    if ordered:
        present = {results.assignment for _, results in ordered}
        assignment_exercises = [ex for name in ASSIGNMENTS if name in present for ex in exercises(name)]
        try:
            write_atomically(
                results_dir / "gradebook.csv", gradebook_csv(ordered, [ex.name for ex in assignment_exercises])
            )
        except OSError as error:
            print(
                f"error: cannot write the gradebook in {printable(str(results_dir))}: {error.strerror}", file=sys.stderr
            )
            written = []
        print(table(ordered, assignment_exercises))
        if feedback or (feedback is None and len(ordered) == 1):
            print("\n" + "\n\n".join(feedback_text(s, results) for s, results in ordered) + "\n")
        else:
            print(
                f"Feedback (each failing case's message and hints): {printable(str(results_dir))}/<student>.json; "
                "--feedback prints it here."
            )
    print(
        f"{len(ordered)} submission(s): {fresh} graded, {len(ordered) - fresh} unchanged since last time; "
        f"results in {results_dir}/"
    )
    return written
