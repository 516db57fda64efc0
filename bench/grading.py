"""Benchmark: this course's isolated grader against stock `nbgrader autograde`, on the same work.

What is measured
    One deterministic batch of N submissions of `conv_step_by_step` (default 100): 40% correct
    (copies of the source notebook), 40% partly wrong (the source with 1 to 3 solution cells
    replaced by a buggy version), 20% blank (the release notebook, stubs only). The batch is
    graded twice, in one run:

    1. ours:     `python -m autograder grade <submitted> --results-dir <tmp> --force --jobs J`
    2. nbgrader: `nbgrader autograde conv_step_by_step --force` in a temporary course folder
                 (its `generate_assignment` is run beforehand and not timed).

    Both are timed end to end with time.perf_counter, start-up included. The report gives the
    wall times, the time per submission, the ratio (target: nbgrader / ours >= 10x) and the mean
    score per category from each grader's own results (ours: <student>.json; nbgrader: its
    gradebook), so a reader can see both graded the same work. Submissions on which the two
    disagree are listed. Last, one correct notebook is graded alone by
    `python -m autograder grade one.ipynb --force`, five times; the median is the latency of a
    single submission (target: < 1 s).

How to run
    python bench/grading.py [--n 100] [--jobs N]

Everything is written inside a temporary folder that is removed at the end. Timings are
printed, never asserted; the exit status is 1 only when a grader produced no results.
"""

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from autograder.build.nbgrader_run import run_nbgrader
from autograder.course import REPO_ROOT, release_dir, source_notebook

ASSIGNMENT = "conv_step_by_step"
ROOT = REPO_ROOT
SINGLE_RUNS = 5
TARGET_RATIO = 10.0
TARGET_SINGLE_SECONDS = 1.0

#: Buggy versions of solution cells: grade_id -> (name of the bug, text in the solution, its replacement).
BUGS = {
    "zero_pad": ("pads every axis", "((0, 0), (pad, pad), (pad, pad), (0, 0))", "pad"),
    "conv_single_step": ("forgets the bias", "np.sum(a_slice_prev * W) + b.item()", "np.sum(a_slice_prev * W)"),
    "pool_forward": ("ignores mode", 'np.max if mode == "max" else np.mean', "np.max"),
    "distribute_value": ("does not divide", "dz / (f_H * f_W)", "dz"),
    "pool_backward": ("assigns instead of adding", "] += share", "] = share"),
}


def machine() -> str:
    """Cores, CPU model and Python version of this machine, on one line."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def buggy_notebook(source, bug_ids: list[str]):
    """A copy of the source notebook with the solution cells `bug_ids` replaced by their buggy version."""
    notebook = nbformat.from_dict(json.loads(json.dumps(source)))
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in bug_ids:
            _, correct, wrong = BUGS[grade_id]
            if correct not in cell.source:
                raise RuntimeError(f"the solution of {grade_id} changed: update BUGS in {__file__}")
            cell.source = cell.source.replace(correct, wrong)
    return notebook


def plan(n: int) -> list[tuple[str, str, list[str]]]:
    """(student id, category, bugs) for n submissions: 40% correct, 40% partly wrong, 20% blank, fixed seed."""
    rng = random.Random(20240501)
    categories = ["correct", "correct", "partly wrong", "partly wrong", "blank"]
    rows = []
    for index in range(n):
        category = categories[index % len(categories)]
        bugs = sorted(rng.sample(sorted(BUGS), rng.randint(1, 3))) if category == "partly wrong" else []
        rows.append((f"student{index:03d}", category, bugs))
    return rows


def write_submissions(course: Path, rows) -> None:
    """Write each planned submission to course/submitted/<student>/<assignment>/<assignment>.ipynb."""
    source = nbformat.read(str(source_notebook(ROOT, ASSIGNMENT)), as_version=4)
    release = nbformat.read(str(release_dir(ROOT, ASSIGNMENT) / f"{ASSIGNMENT}.ipynb"), as_version=4)
    for student, category, bugs in rows:
        notebook = {"correct": source, "blank": release}.get(category) or buggy_notebook(source, bugs)
        target = course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(notebook, str(target))


def prepare_course(course: Path) -> None:
    """An nbgrader course folder with the config and source; generate_assignment run there (not timed)."""
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "source", course / "source")
    result = run_nbgrader(["generate_assignment", ASSIGNMENT, "--force"], course)
    if result.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment failed:\n{result.stderr[-3000:]}")


def timed(function, *args):
    """(seconds, result) of function(*args)."""
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def run_ours(targets: list[Path], results_dir: Path, jobs: int | None) -> subprocess.CompletedProcess:
    """`python -m autograder grade TARGETS --results-dir DIR --force [--jobs J]`, output captured."""
    command = [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        *map(str, targets),
        "--results-dir",
        str(results_dir),
        "--force",
    ]
    if jobs:
        command += ["--jobs", str(jobs)]
    return subprocess.run(command, capture_output=True, text=True, cwd=results_dir.parent)


def our_scores(results_dir: Path, students: list[str]) -> dict[str, float]:
    """{student: total score} from the <student>.json files our grader wrote (missing ones left out)."""
    scores = {}
    for student in students:
        path = results_dir / f"{student}.json"
        if path.exists():
            scores[student] = json.loads(path.read_text(encoding="utf-8"))["score"]
    return scores


def nbgrader_scores(course: Path, students: list[str]) -> dict[str, float]:
    """{student: total score} from nbgrader's gradebook (students it did not grade left out)."""
    from nbgrader.api import Gradebook, MissingEntry

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in students:
            try:
                scores[student] = gradebook.find_submission(ASSIGNMENT, student).score
            except MissingEntry:
                pass
    return scores


def category_means(scores: dict[str, float], rows) -> str:
    """'correct 100.0, partly wrong 61.2, blank 0.0': the mean score per category."""
    parts = []
    for category in ("correct", "partly wrong", "blank"):
        values = [scores[s] for s, c, _ in rows if c == category and s in scores]
        parts.append(f"{category} {statistics.mean(values):.1f}" if values else f"{category} n/a")
    return ", ".join(parts)


def disagreements(ours: dict, theirs: dict, rows, names=("ours", "nbgrader")) -> list[str]:
    """One line per submission the two graders scored differently (by more than 0.01 point)."""
    lines = []
    for student, category, bugs in rows:
        if student in ours and student in theirs and abs(ours[student] - theirs[student]) > 0.01:
            what = category + (f" ({', '.join(f'{b}: {BUGS[b][0]}' for b in bugs)})" if bugs else "")
            lines.append(f"  {student} {what}: {names[0]} {ours[student]:.2f}, {names[1]} {theirs[student]:.2f}")
    return lines


def single_submission_median(work: Path) -> tuple[float, list[float]]:
    """Median wall time of grading one correct notebook alone, SINGLE_RUNS times (and the runs)."""
    one = work / "single" / "one.ipynb"
    one.parent.mkdir()
    shutil.copy(source_notebook(ROOT, ASSIGNMENT), one)
    runs = []
    for _ in range(SINGLE_RUNS):
        seconds, result = timed(run_ours, [one], one.parent / "results", None)
        if result.returncode != 0:
            raise RuntimeError(f"grading one notebook failed:\n{result.stderr[-3000:]}")
        runs.append(seconds)
    return statistics.median(runs), runs


def report_grader(name: str, seconds: float, scores: dict, rows) -> None:
    """Print one grader's wall time, time per submission and mean score per category."""
    print(f"{name}:")
    print(f"  wall time        {seconds:8.1f} s")
    print(f"  per submission   {seconds / len(rows):8.3f} s")
    print(f"  graded           {len(scores)} of {len(rows)}")
    print(f"  mean score       {category_means(scores, rows)}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100, help="submissions in the batch (default 100)")
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="submissions our grader grades at once (default: one per core)",
    )
    args = parser.parse_args(argv)
    rows = plan(args.n)
    students = [s for s, _, _ in rows]

    with tempfile.TemporaryDirectory(prefix="grading-bench-") as temporary:
        work = Path(temporary)
        course = work / "course"
        prepare_course(course)
        write_submissions(course, rows)

        print(f"grading {args.n} submissions with our grader ({args.jobs} jobs) ...", flush=True)
        ours_seconds, ours_run = timed(run_ours, [course / "submitted"], work / "results", args.jobs)
        ours = our_scores(work / "results", students)
        print(f"grading {args.n} submissions with nbgrader autograde ...", flush=True)
        theirs_seconds, theirs_run = timed(run_nbgrader, ["autograde", ASSIGNMENT, "--force"], course)
        theirs = nbgrader_scores(course, students)
        print("grading one submission alone, 5 runs ...", flush=True)
        single, single_runs = single_submission_median(work)
        isolation = next(
            (json.loads((work / "results" / f"{s}.json").read_text())["extra_data"].get("isolation") for s in ours),
            "unknown",
        )

    print()
    print(f"machine          {machine()}")
    print(
        f"submissions      {args.n} ({sum(c == 'correct' for _, c, _ in rows)} correct, "
        f"{sum(c == 'partly wrong' for _, c, _ in rows)} partly wrong, {sum(c == 'blank' for _, c, _ in rows)} blank)"
    )
    print(f"jobs (ours)      {args.jobs}; isolation: {isolation}")
    report_grader("ours (python -m autograder grade)", ours_seconds, ours, rows)
    report_grader("nbgrader autograde", theirs_seconds, theirs, rows)
    print(f"ratio (nbgrader / ours): {theirs_seconds / ours_seconds:.1f}x   (target >= {TARGET_RATIO:.0f}x)")
    print(
        f"one submission alone: median {single:.2f} s of {SINGLE_RUNS} runs "
        f"({', '.join(f'{s:.2f}' for s in single_runs)})   (target < {TARGET_SINGLE_SECONDS:.0f} s)"
    )
    differing = disagreements(ours, theirs, rows)
    print(f"submissions scored differently: {len(differing)}" + "".join(f"\n{line}" for line in differing))

    failed = []
    if ours_run.returncode != 0 or len(ours) < len(rows):
        failed.append(f"ours (exit {ours_run.returncode}):\n{ours_run.stderr[-2000:]}")
    if theirs_run.returncode != 0 or len(theirs) < len(rows):
        failed.append(f"nbgrader (exit {theirs_run.returncode}):\n{theirs_run.stderr[-2000:]}")
    for message in failed:
        print(f"\nerror: a grader did not produce every result: {message}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
