"""Benchmark: `nbgrader autograde` with stock nbgrader against this course's nbgrader configuration.

What is measured
    `nbgrader autograde conv_step_by_step --force`, timed end to end with time.perf_counter
    (start-up included), on the same batch of submissions in two temporary course folders:

    1. stock:  the repository's nbgrader_config.py with nbgrader's defaults restored for the
               autograde preprocessors, the pre-convert hook and the export plugin, so nbgrader's
               own Execute step runs the notebook, hidden tests included, in the student's kernel;
    2. course: the repository's nbgrader_config.py as is (Execute replaced by the isolated
               grader, nbgrader's other steps by their set-up-once equivalents; see
               autograder/integrations/).
    Then `python -m autograder grade` grades the course folder's submitted/ (timed the same way),
    to show that the course's autograde gives every submission the grader's own score.

    The batch is bench/grading.py's: N submissions (default 100), 40% correct, 40% partly wrong,
    20% blank, plus one tampering submission: the release notebook with a cell after the
    imports that makes np.allclose, np.isclose, np.array_equal and np.testing.assert_allclose
    always succeed, and every stub replaced by a function returning zeros of a plausible shape.
    `generate_assignment` is run beforehand in each folder and is not timed.

    The report gives the machine, the versions, the load average around the runs, each run's
    wall time and time per submission (the tamperer included), the ratio stock / course
    (target: >= 10x on 100 submissions), the mean score per category read from each gradebook
    or results folder, the tamperer's score in each run, and the submissions that stock nbgrader
    or the grader itself scored differently from the course's autograde.

How to run
    python bench/nbgrader_autograde.py [--n 100] [--threads 1]

Everything is written inside a temporary folder that is removed at the end. Timings are
printed, never asserted; the exit status is 1 only when a run produced no scores.
"""

import argparse
import resource
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell

sys.path.insert(0, str(Path(__file__).resolve().parent))
import grading  # noqa: E402 (bench/grading.py: the batch of submissions and its helpers)
from grading import ASSIGNMENT, ROOT  # noqa: E402

from autograder.build.nbgrader_run import run_nbgrader  # noqa: E402
from autograder.course import release_dir  # noqa: E402

TAMPERER = "tamperer"
TARGET_RATIO = 10.0

#: Appended to the repository's nbgrader_config.py: nbgrader's own defaults for the settings the
#: course changes, so that only the autograde plug-ins differ between the two runs.
STOCK_DEFAULTS = """
from nbgrader.apps.exportapp import ExportApp as _ExportApp
from nbgrader.converters import Autograde as _Autograde
c.Autograde.autograde_preprocessors = _Autograde.class_traits()["autograde_preprocessors"].default()
c.Autograde.pre_convert_hook = None
c.ExportApp.plugin_class = _ExportApp.class_traits()["plugin_class"].default()
"""

#: The cell the tamperer adds after the imports: every NumPy comparison says "equal".
TAMPER_CELL = """\
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.array_equal = lambda *a, **k: True
np.isclose = lambda a, b, *rest, **k: np.ones(np.shape(a), dtype=bool)  # right shape: every value 'close'
"""

#: The tamperer's "solutions": grade_id -> a function returning zeros of a plausible shape.
ZERO_STUBS = {
    "zero_pad": """\
def zero_pad(X, pad):
    m, n_H, n_W, n_C = X.shape
    return np.zeros((m, n_H + 2 * pad, n_W + 2 * pad, n_C))""",
    "conv_single_step": """\
def conv_single_step(a_slice_prev, W, b):
    return 0.0""",
    "conv_forward": """\
def conv_forward(A_prev, W, b, hparameters):
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, _, _, n_C = W.shape
    s, p = hparameters["stride"], hparameters["pad"]
    Z = np.zeros((m, (n_H_prev + 2 * p - f) // s + 1, (n_W_prev + 2 * p - f) // s + 1, n_C))
    return Z, (A_prev, W, b, hparameters)""",
    "pool_forward": """\
def pool_forward(A_prev, hparameters, mode="max"):
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    f, s = hparameters["f"], hparameters["stride"]
    A = np.zeros((m, (n_H_prev - f) // s + 1, (n_W_prev - f) // s + 1, n_C))
    return A, (A_prev, hparameters)""",
    "conv_backward": """\
def conv_backward(dZ, cache):
    A_prev, W, b, _ = cache
    return np.zeros_like(A_prev), np.zeros_like(W), np.zeros_like(b)""",
    "create_mask_from_window": """\
def create_mask_from_window(x):
    return np.zeros(np.shape(x), dtype=bool)""",
    "distribute_value": """\
def distribute_value(dz, shape):
    return np.zeros(shape)""",
    "pool_backward": """\
def pool_backward(dA, cache, mode="max"):
    A_prev, _ = cache
    return np.zeros_like(A_prev)""",
}


def prepare_course(course: Path, config: str) -> None:
    """A course folder with `config` as nbgrader_config.py and the source; generate_assignment run (not timed)."""
    course.mkdir()
    (course / "nbgrader_config.py").write_text(config, encoding="utf-8")
    shutil.copytree(ROOT / "source", course / "source")
    result = run_nbgrader(["generate_assignment", ASSIGNMENT, "--force"], course)
    if result.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment failed in {course.name}:\n{result.stderr[-3000:]}")


def tampering_notebook():
    """The release notebook with NumPy's comparisons patched after the imports and zero-returning stubs."""
    notebook = nbformat.read(str(release_dir(ROOT, ASSIGNMENT) / f"{ASSIGNMENT}.ipynb"), as_version=4)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in ZERO_STUBS:
            cell.source = ZERO_STUBS[grade_id]
    setup = next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")
    notebook.cells.insert(setup + 1, new_code_cell(TAMPER_CELL))
    missing = set(ZERO_STUBS) - {c.metadata.get("nbgrader", {}).get("grade_id") for c in notebook.cells}
    if missing:
        raise RuntimeError(f"the release has no solution cell for {sorted(missing)}: update ZERO_STUBS in {__file__}")
    return notebook


def write_batch(course: Path, rows) -> None:
    """Put bench/grading.py's planned submissions and the tamperer in course/submitted."""
    grading.write_submissions(course, rows)
    target = course / "submitted" / TAMPERER / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    target.parent.mkdir(parents=True)
    nbformat.write(tampering_notebook(), str(target))


def autograde(course: Path, students: list[str], threads: int):
    """(seconds, completed process, {student: score}, CPU seconds) of `nbgrader autograde ... --force` in course."""
    cpu = children_cpu()
    seconds, _, result = grading.run_timed(grading.nbgrader_command(), course, threads)
    return seconds, result, grading.nbgrader_scores(course, students), children_cpu() - cpu


def grade_directly(course: Path, results: Path, students: list[str], threads: int):
    """(seconds, completed process, {student: score}, CPU seconds) of `python -m autograder grade` on submitted/."""
    command = grading.ours_command([course / "submitted"], results, None)
    cpu = children_cpu()
    seconds, _, result = grading.run_timed(command, results.parent, threads)
    return seconds, result, grading.our_scores(results, students), children_cpu() - cpu


def children_cpu() -> float:
    """User + system CPU seconds of this process's finished children and of the processes those
    reaped (nbgrader's kernels are; the grader's learners, forked by a fork server that is stopped
    rather than reaped last, may not be): a lower bound that, unlike wall time, does not grow with
    the other jobs of a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Comparison:
    """One run of the benchmark: {name: (seconds, completed process, {student: score}, CPU seconds)} for 'stock'
    (nbgrader's Execute), 'course' (the course's nbgrader_config.py) and 'direct' (python -m
    autograder grade on the same submitted/ folder), and the load average before and after."""

    rows: list
    students: list[str]
    runs: dict = field(default_factory=dict)
    loads: list[str] = field(default_factory=list)


def compare(n: int, threads: int = 1) -> Comparison:
    """Grade bench/grading.py's batch of n submissions plus the tamperer each way, in temporary folders."""
    rows = grading.plan(n)
    result = Comparison(rows, [s for s, _, _ in rows] + [TAMPERER])
    course_config = (ROOT / "nbgrader_config.py").read_text(encoding="utf-8")
    configurations = {"stock": course_config + STOCK_DEFAULTS, "course": course_config}
    result.loads.append(grading.load())
    with tempfile.TemporaryDirectory(prefix="nbgrader-autograde-bench-") as temporary:
        for name, config in configurations.items():
            course = Path(temporary) / name
            prepare_course(course, config)
            write_batch(course, rows)
            print(f"{name}: nbgrader autograde on {len(result.students)} submissions ...", flush=True)
            result.runs[name] = autograde(course, result.students, threads)
            result.loads.append(grading.load())
        print(f"direct: python -m autograder grade on {len(result.students)} submissions ...", flush=True)
        results = Path(temporary) / "direct" / "results"
        results.parent.mkdir()
        result.runs["direct"] = grade_directly(Path(temporary) / "course", results, result.students, threads)
        result.loads.append(grading.load())
    return result


def score_text(scores: dict, student: str) -> str:
    """A student's score, or 'not graded'."""
    return f"{scores[student]:.2f}" if student in scores else "not graded"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100, help="submissions, the tamperer not counted (default 100)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads in every grader's processes (default 1)")
    args = parser.parse_args(argv)
    return report(compare(args.n, args.threads))


def report(result: Comparison) -> int:
    """Print the comparison; 1 when a run produced no scores, else 0."""
    rows, students, runs = result.rows, result.students, result.runs

    print()
    print(f"machine          {grading.machine()}")
    print(f"versions         {versions()}")
    print(f"load average     {' -> '.join(result.loads)} (1, 5, 15 min; before, after each run)")
    print(
        f"submissions      {len(rows)} ({sum(c == 'correct' for _, c, _ in rows)} correct, "
        f"{sum(c == 'partly wrong' for _, c, _ in rows)} partly wrong, {sum(c == 'blank' for _, c, _ in rows)} "
        f"blank) + 1 tamperer; per-submission times divide by {len(students)}"
    )
    labels = {
        "stock": "stock nbgrader autograde (its Execute step)",
        "course": "nbgrader autograde, course nbgrader_config.py",
        "direct": "python -m autograder grade (same submissions)",
    }
    for name, (seconds, _, scores, cpu) in runs.items():
        print(f"{labels[name]}:")
        print(f"  wall time        {seconds:8.1f} s")
        print(f"  CPU time         {cpu:8.1f} s (of the processes reaped in turn: a lower bound)")
        print(f"  per submission   {seconds / len(students):8.3f} s")
        print(f"  graded           {len(scores)} of {len(students)}")
        print(f"  mean score       {grading.category_means(scores, rows)}")
        print(f"  tamperer         {score_text(scores, TAMPERER)}")
    ratio = runs["stock"][0] / runs["course"][0]
    print(f"ratio (stock / course): {ratio:.1f}x   (target >= {TARGET_RATIO:.0f}x on 100 submissions)")
    print(f"ratio of CPU times (stock / course): {runs['stock'][3] / runs['course'][3]:.1f}x")
    for other in ("stock", "direct"):
        lines = grading.disagreements(runs[other][2], runs["course"][2], rows, names=(other, "course"))
        print(f"submissions {other} and course scored differently: {len(lines)}" + "".join(f"\n{x}" for x in lines))
    print("tamperer: " + ", ".join(f"{name} {score_text(run[2], TAMPERER)}" for name, run in runs.items()))

    empty = [(name, run) for name, (_, run, scores, _) in runs.items() if not scores]
    for name, run in empty:
        print(
            f"\nerror: the {name} run produced no scores (exit {run.returncode}):\n{run.stderr[-2000:]}",
            file=sys.stderr,
        )
    for name, (_, run, scores, _) in runs.items():
        if run.returncode != 0 and scores:
            print(f"\nwarning: the {name} run exited {run.returncode}:\n{run.stderr[-2000:]}", file=sys.stderr)
    return 1 if empty else 0


def versions() -> str:
    """The versions of the parts timed: nbgrader, nbconvert, nbformat, NumPy."""
    from importlib.metadata import version

    return ", ".join(f"{name} {version(name)}" for name in ("nbgrader", "nbconvert", "nbformat", "numpy"))


if __name__ == "__main__":
    sys.exit(main())
