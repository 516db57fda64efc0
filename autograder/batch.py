"""Grading many submissions: find them, grade in parallel, write results atomically, summarise.

Writes DIR/<student>.json (Gradescope's results.json schema) per submission and
DIR/gradebook.csv (a row per submission, a column per exercise, the total). A submission
whose file and grader are unchanged since its results were written is not graded again.
"""
import csv
import hashlib
import io
import json
import os
import tempfile
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tqdm import tqdm

from . import paths
from .assignments import exercises
from .grade import blank_tests, grade_notebook
from .sandbox import Limits

NBGRADER_FOLDERS = ("submitted", "autograded")


@dataclass
class Submission:
    student: str  # the nbgrader student id, or the file's stem
    path: Path


def find_submissions(targets: list[Path]) -> list[Submission]:
    """Notebook files named directly or found under folders; raises FileNotFoundError for a missing path."""
    found = []
    for target in targets:
        if not target.exists():
            raise FileNotFoundError(f"no such file or folder: {target}")
        files = [target] if target.is_file() else sorted(
            p for p in target.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        found += [Submission(student_id(path), path) for path in files]
    seen = {}
    for submission in found:  # two files with the same stem keep apart: alice, alice-2
        count = seen[submission.student] = seen.get(submission.student, 0) + 1
        if count > 1:
            submission.student = f"{submission.student}-{count}"
    return found


def student_id(path: Path) -> str:
    """nbgrader's submitted/<student>/<assignment>/<notebook>.ipynb gives the student; else the file stem."""
    parts = path.resolve().parts
    if len(parts) >= 4 and parts[-4] in NBGRADER_FOLDERS:
        return parts[-3]
    return path.stem


@cache
def grader_fingerprint() -> str:
    """Changes whenever the grader's code or reference data change, so old results are graded again."""
    digest = hashlib.sha256()
    for file in sorted(Path(__file__).parent.rglob("*.py")) + sorted(Path(__file__).parent.rglob("*.h5")):
        digest.update(file.read_bytes())
    return digest.hexdigest()


def submission_digest(path: Path, assignment: str | None) -> str:
    data = path.read_bytes() if path.is_file() else b""
    return hashlib.sha256(data + grader_fingerprint().encode() + str(assignment).encode()).hexdigest()


def write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder and a rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def previous_results(path: Path, digest: str) -> dict | None:
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return results if results.get("extra_data", {}).get("digest") == digest else None


def grade_one(submission: Submission, results_dir: Path, assignment, limits, force) -> tuple[dict, bool]:
    """Grade (or reuse) one submission and write its results file; returns (results, graded now)."""
    out = results_dir / f"{submission.student}.json"
    digest = submission_digest(submission.path, assignment)
    if not force and (results := previous_results(out, digest)):
        return results, False
    try:
        results = grade_notebook(submission.path, assignment, limits)
    except Exception:  # a grader bug must not cost the batch or this student their result
        name = assignment or paths.ASSIGNMENTS[0]
        results = {"score": 0.0, "execution_time": 0, "tests": blank_tests(name, "the grader failed"),
                   "output": "The grader failed on this submission; please tell your instructor.\n"
                             + traceback.format_exc(limit=3),
                   "extra_data": {"assignment": name, "grader_error": True}}
    results["extra_data"].update(student=submission.student, file=str(submission.path), digest=digest)
    write_atomically(out, json.dumps(results, indent=1) + "\n")
    return results, True


def exercise_scores(results: dict) -> dict[str, float]:
    """{exercise name: score} summed over the exercise's parts."""
    scores = {}
    for test in results["tests"]:
        name = test["tags"][0]
        scores[name] = round(scores.get(name, 0.0) + test["score"], 2)
    return scores


def gradebook_csv(graded: list[tuple[Submission, dict]], names: list[str]) -> str:
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(["student", *names, "total"])
    for submission, results in graded:
        scores = exercise_scores(results)
        writer.writerow([submission.student, *(scores.get(name, 0.0) for name in names), results["score"]])
    return stream.getvalue()


def table(graded: list[tuple[Submission, dict]], assignment_exercises) -> str:
    """A plain-text table: a row per submission, a numbered column per exercise, and a legend."""
    names = [ex.name for ex in assignment_exercises]
    width = max([7] + [len(s.student) for s, _ in graded])
    header = f"{'student':<{width}} " + " ".join(f"{n:>6}" for n in range(1, len(names) + 1)) + "   total"
    rows = [header]
    for submission, results in graded:
        scores = exercise_scores(results)
        rows.append(f"{submission.student:<{width}} " + " ".join(f"{scores.get(n, 0.0):>6.1f}" for n in names)
                    + f" {results['score']:>7.1f}")
    legend = ", ".join(f"{n} {ex.name} ({ex.points})" for n, ex in enumerate(assignment_exercises, 1))
    return "\n".join(rows + [f"exercises: {legend}"])


def grade_batch(submissions: list[Submission], results_dir: Path, jobs: int, force: bool = False,
                assignment: str | None = None, limits: Limits = Limits()) -> list[tuple[Submission, dict]]:
    """Grade every submission (jobs at a time), write results and the gradebook; print a table."""
    graded, fresh = {}, 0
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(grade_one, s, results_dir, assignment, limits, force): s for s in submissions}
        progress = tqdm(as_completed(futures), total=len(futures), unit="notebook", disable=len(futures) < 2)
        for future in progress:
            results, now = future.result()
            graded[futures[future].student] = results
            fresh += now
    ordered = [(s, graded[s.student]) for s in submissions]
    if ordered:
        name = assignment or ordered[0][1]["extra_data"]["assignment"]
        assignment_exercises = exercises(name)
        write_atomically(results_dir / "gradebook.csv",
                         gradebook_csv(ordered, [ex.name for ex in assignment_exercises]))
        print(table(ordered, assignment_exercises))
    print(f"{len(ordered)} submission(s): {fresh} graded, {len(ordered) - fresh} unchanged since last time; "
          f"results in {results_dir}/")
    return ordered
