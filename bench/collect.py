"""Time `nbgrader collect` of a class's submissions: the course's OwnedCollect (every file opened,
checked and staged before nbgrader's copy) against nbgrader's own ExchangeCollect.

    .venv/bin/python bench/collect.py [STUDENTS] [ROUNDS]

Each submission is the released assignment 1 (notebook, figures), timestamp.txt and
submission_secret.txt, owned by whoever runs the bench (the instructor, whose own submissions
OwnedCollect takes). Prints the median wall time of ROUNDS collects into an empty submitted/.
"""

import datetime
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "conv_step_by_step"
COURSE_ID = "conv-from-scratch"
PEERS = {
    "nbgrader ExchangeCollect": "nbgrader.exchange.default.collect.ExchangeCollect",
    "OwnedCollect": "autograder.integrations.exchange.OwnedCollect",
}


def make_class(base: Path, students: int) -> tuple[Path, Path]:
    """A course folder (the course's nbgrader_config.py) and an exchange holding `students` submissions."""
    course, inbound = base / "course", base / "exchange" / COURSE_ID / "inbound"
    course.mkdir()
    inbound.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    for index in range(students):
        folder = inbound / f"s{index:03d}+{ASSIGNMENT}+{stamp}"
        shutil.copytree(ROOT / "release" / ASSIGNMENT, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
        (folder / "timestamp.txt").write_text(stamp)
        (folder / "submission_secret.txt").write_text(secrets.token_hex(64))
    return course, base / "exchange"


def collect_seconds(course: Path, exchange: Path, collect_class: str) -> float:
    shutil.rmtree(course / "submitted", ignore_errors=True)
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    command = [sys.executable, "-m", "nbgrader", "collect", ASSIGNMENT, f"--Exchange.root={exchange}"]
    command.append(f"--ExchangeFactory.collect={collect_class}")
    started = time.perf_counter()
    result = subprocess.run(command, cwd=course, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0 or "Refused" in result.stdout + result.stderr:
        raise RuntimeError(result.stdout + result.stderr)
    return seconds


def main(students: int = 100, rounds: int = 3) -> None:
    with tempfile.TemporaryDirectory() as base:
        course, exchange = make_class(Path(base), students)
        print(f"nbgrader collect of {students} submissions of {ASSIGNMENT}, median of {rounds} rounds:")
        for peer, collect_class in PEERS.items():
            times = [collect_seconds(course, exchange, collect_class) for _ in range(rounds)]
            collected = len(list((course / "submitted").glob(f"*/{ASSIGNMENT}/{ASSIGNMENT}.ipynb")))
            print(f"  {peer:26s} {statistics.median(times):6.2f} s  ({collected} collected)")


if __name__ == "__main__":
    main(*map(int, sys.argv[1:]))
