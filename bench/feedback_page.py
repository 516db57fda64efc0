"""Benchmark: the course's feedback page against nbgrader's stock one, on the same graded class.

What is measured
    The class of three (tests/class_of_three.py) is autograded once with nbgrader and the
    course's configuration (not timed). Then `nbgrader generate_feedback conv_step_by_step
    --force` is run --repeats times with each exporter in turn (ours, stock, ours, ...), each a
    separate process timed end to end: ours is the course's FeedbackPageExporter (formulas
    rendered to MathML while the page is made), stock is nbgrader's own HTMLExporter (MathJax
    loaded from a CDN when the page is opened). Printed: each one's median wall time with its
    min-max, the size of one page, how many formulas it carries as MathML, how many bytes those
    take, and the scripts and stylesheets the page asks the network for.

How to run
    python bench/feedback_page.py [--repeats 5]

Everything is written inside a temporary folder that is removed at the end. Timings are
printed, never asserted.
"""

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from conftest import ASSIGNMENT  # noqa: E402
from nbgrader_class import graded_course  # noqa: E402

EXPORTERS = {
    "ours": "autograder.integrations.feedback_page.FeedbackPageExporter",
    "stock": "nbconvert.exporters.HTMLExporter",
}


def generate_feedback(course: Path, exporter: str) -> float:
    """Seconds `nbgrader generate_feedback` takes with `exporter`, start-up included."""
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "nbgrader",
            "generate_feedback",
            ASSIGNMENT,
            "--force",
            f"--GenerateFeedback.exporter_class={exporter}",
        ],
        cwd=course,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def describe(page: Path) -> str:
    """Size, formulas as MathML and their bytes, and what the page fetches from the network."""
    html = page.read_text(encoding="utf-8")
    maths = re.findall(r"<math\b.*?</math>", html, re.S)
    fetched = re.findall(r'<(?:script|link)[^>]*(?:src|href)="(https?://[^"]+)"', html)
    return (
        f"page {len(html) / 1024:.0f} KiB, {len(maths)} formulas as MathML ({sum(map(len, maths)) / 1024:.1f} KiB), "
        f"fetches {len(fetched)}: {', '.join(fetched) or 'nothing'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        course = graded_course(Path(folder))
        page = course / "feedback" / "half" / ASSIGNMENT / f"{ASSIGNMENT}.html"
        times = {name: [] for name in EXPORTERS}
        pages = {}
        for _ in range(args.repeats):
            for name, exporter in EXPORTERS.items():
                times[name].append(generate_feedback(course, exporter))
                pages[name] = describe(page)
        print(f"nbgrader generate_feedback, 3 students, {args.repeats} runs each (median, min-max):")
        for name in EXPORTERS:
            runs = times[name]
            print(f"  {name:<6}{statistics.median(runs):6.2f} s  ({min(runs):.2f}-{max(runs):.2f})  {pages[name]}")
        ratio = statistics.median(times["ours"]) / statistics.median(times["stock"])
        print(f"ours / stock: {ratio:.2f}x the time")


if __name__ == "__main__":
    main()
