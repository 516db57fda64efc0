"""Benchmark: this course's isolated grader against stock `nbgrader autograde`, on the same work.

What is measured
    One deterministic batch of N submissions of `conv_step_by_step` (default 100): 40% correct
    (copies of the source notebook), 40% partly wrong (the source with 1 to 3 solution cells
    replaced by a buggy version), 20% blank (the release notebook, stubs only). The batch is
    graded by each grader in turn, --repeats times (ours, nbgrader, ours, nbgrader, ...: a
    machine busy with other jobs slows both alike), each run a separate process:

    1. ours:     `python -m autograder grade <submitted> --results-dir <tmp> --force --jobs J`
    2. nbgrader: `nbgrader autograde conv_step_by_step --force` in a temporary course folder
                 (its `generate_assignment` is run beforehand and not timed).

    Each run is timed end to end with time.perf_counter, start-up included (our package is
    byte-compiled first, as an installed grader is; nbgrader's came compiled with pip). The
    report gives each grader's median wall time with its min-max, submissions per second, the
    ratio of the medians (targets: nbgrader / ours >= 30x on 100 submissions, ours >= 15
    submissions/s on 1,000), the peak memory of the largest process of our grader's run (the
    grader, its fork server or a learner: to see it does not grow with N), and the mean score
    per category from each grader's own results (ours: <student>.json; nbgrader: its gradebook),
    so a reader can see both graded the same work; submissions on which the two disagree are
    listed. Last, one correct notebook is graded alone by `python -m autograder grade one.ipynb
    --force`, five times; the median is the latency of a single submission (target: < 0.4 s).
    Then the least work any grader must let the learners' code do: the reference solutions' own
    calls on every case, timed in this process (no sandbox, no transport, no judging). Every
    submission that is not blank runs about that much learner code, so (their number x that time
    / cores) is a floor for any grader's wall time here, and nbgrader's time over that floor is
    the best ratio this batch allows (the floor counts a partly wrong submission as a correct
    one). The machine's load, the sandbox our grader used, and NumPy's BLAS and its threads
    (--threads, for both graders' processes) are printed too.

How to run
    python bench/grading.py [--n 100] [--jobs N] [--repeats 3] [--threads 1]

Everything is written inside a temporary folder that is removed at the end. Timings are
printed, never asserted; the exit status is 1 only when a grader produced no results.
"""

import argparse
import compileall
import copy
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
from train_mnist import thread_pools  # bench/ is this script's folder, first on sys.path

from autograder.assignments import exercises
from autograder.build.nbgrader_run import run_nbgrader
from autograder.course import REPO_ROOT, Course, release_dir, source_notebook
from autograder.grading.reference import read_all_cases
from autograder.notebook_code import load_namespace

ASSIGNMENT = "conv_step_by_step"
ROOT = REPO_ROOT
PACKAGE = ROOT / "autograder"
SINGLE_RUNS = 5
TARGET_RATIO = 30.0  # nbgrader / ours, on 100 submissions
TARGET_RATE = 15.0  # submissions per second, ours, on 1,000
TARGET_SINGLE_SECONDS = 0.4

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


def load() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def run_timed(command: list[str], cwd: Path, threads: int) -> tuple[float, int, subprocess.CompletedProcess]:
    """(wall seconds, peak resident KiB, result) of one command run in `cwd`, its output captured.

    The peak is that of the command's process or of the largest process below it that was
    waited for (for ours: the grader, its fork server or a learner). The interpreter's folder
    goes first on PATH, as nbgrader starts `alembic` by name; BLAS libraries get `threads` threads.
    """
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=stdout, stderr=stderr, text=True)
        _, status, usage = os.wait4(process.pid, 0)  # wait4: this command's peak memory, not the bench's
        seconds = time.perf_counter() - start
        process.returncode = code = os.waitstatus_to_exitcode(status)
        stdout.seek(0), stderr.seek(0)
        return seconds, usage.ru_maxrss, subprocess.CompletedProcess(command, code, stdout.read(), stderr.read())


def ours_command(targets: list[Path], results_dir: Path, jobs: int | None) -> list[str]:
    """`python -m autograder grade TARGETS --results-dir DIR --force [--jobs J]`."""
    command = [sys.executable, "-m", "autograder", "grade", *map(str, targets), "--results-dir", str(results_dir)]
    return command + ["--force"] + (["--jobs", str(jobs)] if jobs else [])


def nbgrader_command() -> list[str]:
    """Stock `nbgrader autograde` with this interpreter, in the course folder (its nbgrader_config.py)."""
    return [sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--force"]


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


def single_submission_times(work: Path, threads: int) -> list[float]:
    """Wall times of grading one correct notebook alone, SINGLE_RUNS times."""
    one = work / "single" / "one.ipynb"
    one.parent.mkdir()
    shutil.copy(source_notebook(ROOT, ASSIGNMENT), one)
    runs = []
    for _ in range(SINGLE_RUNS):
        seconds, _, result = run_timed(ours_command([one], one.parent / "results", None), one.parent, threads)
        if result.returncode != 0:
            raise RuntimeError(f"grading one notebook failed:\n{result.stderr[-3000:]}")
        runs.append(seconds)
    return runs


def learner_work_seconds(repeats: int = 5) -> float:
    """Median time of the reference solutions' own calls on every case, here, in this process.

    This is the least work a correct submission's code does when graded (no sandbox, no
    judging, no transport): it bounds what any grader can reach on this machine.
    """
    namespace = load_namespace(source_notebook(ROOT, ASSIGNMENT))
    cases = read_all_cases(Course.repository().reference_file(ASSIGNMENT))
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for ex in exercises(ASSIGNMENT):
            for case in cases[ex.name]:
                ex.call(namespace[ex.name], copy.deepcopy(case.inputs))
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def spread(seconds: list[float]) -> str:
    """'median 2.31 s (min 2.20, max 2.52)'."""
    return f"median {statistics.median(seconds):.2f} s (min {min(seconds):.2f}, max {max(seconds):.2f})"


def report_grader(name: str, seconds: list[float], scores: dict, rows, memory_kib: int | None = None) -> None:
    """Print one grader's wall times, submissions per second and mean score per category."""
    print(f"{name}:")
    print(f"  wall time        {spread(seconds)} of {len(seconds)} runs")
    print(f"  per second       {len(rows) / statistics.median(seconds):.1f} submissions")
    if memory_kib is not None:
        print(f"  peak memory      {memory_kib / 1024:.0f} MiB (the largest process: grader, fork server or a learner)")
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
    parser.add_argument("--repeats", type=int, default=3, help="runs of each grader, interleaved (default 3)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads in both graders' processes (default 1)")
    args = parser.parse_args(argv)
    rows = plan(args.n)
    students = [s for s, _, _ in rows]
    loads = [load()]

    with tempfile.TemporaryDirectory(prefix="grading-bench-") as temporary:
        work = Path(temporary)
        course = work / "course"
        prepare_course(course)
        write_submissions(course, rows)

        # Our package byte-compiled, as an installed (or once-run) grader is: where PYTHONDONTWRITEBYTECODE
        # is set (this project's CI machine sets it), each of our runs would compile it anew, while
        # nbgrader's modules came compiled with pip.
        compileall.compile_dir(str(PACKAGE), quiet=1)
        ours_seconds, theirs_seconds, memory, failed = [], [], 0, []
        for run in range(1, args.repeats + 1):
            print(f"run {run} of {args.repeats}: {args.n} submissions, ours ({args.jobs} jobs) ...", flush=True)
            command = ours_command([course / "submitted"], work / "results", args.jobs)
            seconds, peak, ours_run = run_timed(command, work, args.threads)
            ours_seconds.append(seconds)
            memory = max(memory, peak)
            ours = our_scores(work / "results", students)
            if ours_run.returncode != 0 or len(ours) < len(rows):
                failed.append(f"ours (exit {ours_run.returncode}):\n{ours_run.stderr[-2000:]}")
            print(f"run {run} of {args.repeats}: {args.n} submissions, nbgrader autograde ...", flush=True)
            seconds, _, theirs_run = run_timed(nbgrader_command(), course, args.threads)
            theirs_seconds.append(seconds)
            theirs = nbgrader_scores(course, students)
            if theirs_run.returncode != 0 or len(theirs) < len(rows):
                failed.append(f"nbgrader (exit {theirs_run.returncode}):\n{theirs_run.stderr[-2000:]}")
            loads.append(load())
        print("grading one submission alone, 5 runs ...", flush=True)
        single = single_submission_times(work, args.threads)
        loads.append(load())
        work_seconds = learner_work_seconds()
        isolation = next(
            (json.loads((work / "results" / f"{s}.json").read_text())["extra_data"].get("isolation") for s in ours),
            "unknown",
        )

    print()
    print(f"machine          {machine()}")
    pools = "; ".join(thread_pools()) or "no thread pool found"
    print(f"BLAS             {pools}; {args.threads} thread(s) in both graders' processes")
    print(f"load average     {' -> '.join(loads)} (1, 5, 15 min; before, after each run, at the end)")
    print(
        f"submissions      {args.n} ({sum(c == 'correct' for _, c, _ in rows)} correct, "
        f"{sum(c == 'partly wrong' for _, c, _ in rows)} partly wrong, {sum(c == 'blank' for _, c, _ in rows)} blank)"
    )
    print(f"jobs (ours)      {args.jobs}; isolation: {isolation}")
    report_grader("ours (python -m autograder grade)", ours_seconds, ours, rows, memory)
    report_grader("nbgrader autograde", theirs_seconds, theirs, rows)
    ratio = statistics.median(theirs_seconds) / statistics.median(ours_seconds)
    rate = args.n / statistics.median(ours_seconds)
    print(f"ratio (nbgrader / ours, medians): {ratio:.1f}x   (target >= {TARGET_RATIO:.0f}x on 100 submissions)")
    print(f"ours: {rate:.1f} submissions/s   (target >= {TARGET_RATE:.0f}/s on 1,000 submissions)")
    print(f"one submission alone: {spread(single)} of {SINGLE_RUNS} runs   (target < {TARGET_SINGLE_SECONDS} s)")
    working = sum(c != "blank" for _, c, _ in rows)
    floor = working * work_seconds / (os.cpu_count() or 1)
    print(
        f"the learners' own calls: {work_seconds * 1000:.1f} ms per correct submission here; {working} submissions "
        f"that run them need >= {floor:.2f} s on {os.cpu_count()} cores with no grader at all, "
        f"so nbgrader / ours <= {statistics.median(theirs_seconds) / floor:.0f}x on this batch"
    )
    differing = disagreements(ours, theirs, rows)
    print(f"submissions scored differently: {len(differing)}" + "".join(f"\n{line}" for line in differing))

    for message in failed:
        print(f"\nerror: a grader did not produce every result: {message}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
