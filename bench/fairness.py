"""Benchmark: what a classmate's CPU hog costs a batch, against the same batch without it.

What is measured
    Three correct submissions of `conv_mnist` (copies of the source notebook, whose large cases
    have a time allowance), graded by `python -m autograder grade --jobs 2 --force`:

    1. peer: the three alone;
    2. hog:  the three beside a fourth notebook (first in the batch) that starts 60 processes
             computing for a minute, each in a session of its own, and then waits in 8 cells.

    Each run is timed end to end (time.perf_counter). The report gives, per run, its wall time,
    the classmates' scores and how many submissions the batch graded again alone after the batch
    (those that reached a time limit while graded beside another), and the hog's score.

How to run
    python bench/fairness.py [--repeats 1]

Everything is written inside a temporary folder that is removed at the end. Timings are
printed, never asserted.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "source" / "conv_mnist" / "conv_mnist.ipynb"
CLASSMATES = ("ben", "cy", "dee")
HOG_CELLS = [
    "import os, time\nend = time.monotonic() + 60\nfor _ in range(60):\n    if os.fork() == 0:\n"
    "        os.setsid()\n        while time.monotonic() < end:\n            pass\n        os._exit(0)\n"
] + ["import time\ntime.sleep(7)\n"] * 8


def run(folder: Path, with_hog: bool) -> dict:
    """Grade the batch in `folder` (made here); its wall time, scores and regraded count."""
    corpus = folder / "corpus"
    corpus.mkdir(parents=True)
    for student in CLASSMATES:
        shutil.copy(SOURCE, corpus / f"{student}.ipynb")
    if with_hog:
        hog = nbformat.read(str(SOURCE), as_version=4)
        hog.cells += [nbformat.v4.new_code_cell(text) for text in HOG_CELLS]
        nbformat.write(hog, str(corpus / "al_hog.ipynb"))
    command = [sys.executable, "-m", "autograder", "grade", str(corpus), "--assignment", "conv_mnist"]
    command += ["--results-dir", str(folder / "results"), "--jobs", "2", "--force"]
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, capture_output=True, check=True)
    seconds = time.perf_counter() - start
    results = {path.stem: json.loads(path.read_text()) for path in (folder / "results").glob("*.json")}
    return {
        "seconds": seconds,
        "scores": {name: results[name]["score"] for name in sorted(results)},
        "regraded": sum(bool(r["extra_data"].get("graded_alone")) for r in results.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as scratch:
        for repeat in range(args.repeats):
            for label, with_hog in (("peer (3 classmates alone)", False), ("beside a 60-process hog", True)):
                figures = run(Path(scratch) / f"{repeat}-{with_hog}", with_hog)
                print(
                    f"{label:<27} {figures['seconds']:6.1f} s  scores {figures['scores']}  "
                    f"graded again alone: {figures['regraded']}"
                )


if __name__ == "__main__":
    main()
