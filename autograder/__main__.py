"""Command line of the course tools.

python -m autograder build [--check]         regenerate (or check) everything generated
python -m autograder grade PATH... [options]  grade submitted notebooks in isolation
python -m autograder gradescope ASSIGNMENT [-o autograder.zip]
                                              build the Gradescope autograder zip of an assignment
python -m autograder report ASSIGNMENT [--results-dir results|COURSE]
                                              the class's results per exercise and its mistakes, and a plot
                                              (COURSE: a course folder graded through nbgrader)
"""

import argparse
import os
import sys
from pathlib import Path

from .course import ASSIGNMENTS, REPO_ROOT, Course


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograder", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    build_parser = commands.add_parser(
        "build", help="regenerate the release, figures and reference data from the source notebooks"
    )
    build_parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and name the stale files if the build would change any",
    )
    build_parser.add_argument(
        "--root", type=Path, default=REPO_ROOT, help="the course repository (default: the one this package is in)"
    )

    grade_parser = commands.add_parser("grade", help="grade submitted notebooks in isolation")
    grade_parser.add_argument(
        "paths",
        nargs="+",
        type=Path,
        help="notebooks, or folders searched for them (nbgrader's submitted/<student>/<assignment>/ "
        "gives the student id)",
    )
    grade_parser.add_argument(
        "--results-dir",
        type=Path,
        default=Path("results"),
        help="where <student>.json and gradebook.csv go (default: results)",
    )
    grade_parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="submissions graded at once (default: one per core)"
    )
    grade_parser.add_argument("--force", action="store_true", help="grade again even if nothing changed")
    grade_parser.add_argument(
        "--feedback",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="print each submission's feedback (failing cases, their messages and hints) after the table "
        "(default: only when one submission is graded; it is always in <results-dir>/<student>.json)",
    )
    grade_parser.add_argument(
        "--course",
        type=Path,
        help="a course folder holding <assignment>.h5 and <assignment>/*.py, as the Gradescope bundle ships "
        "it (default: this repository's autograder/reference/ and release/)",
    )
    grade_parser.add_argument(
        "--assignment", choices=ASSIGNMENTS, help="the assignment (default: taken from each notebook)"
    )
    grade_parser.add_argument("--cell-timeout", type=float, default=10.0, help="seconds per notebook cell (default 10)")
    grade_parser.add_argument("--call-timeout", type=float, default=10.0, help="seconds per function call (default 10)")
    grade_parser.add_argument(
        "--memory", type=float, default=2.0, help="memory cap of one submission's processes and files, GiB (default 2)"
    )
    grade_parser.add_argument(
        "--budget", type=float, default=180.0, help="wall-clock seconds one submission may take in all (default 180)"
    )
    grade_parser.add_argument(
        "--unsandboxed",
        action="store_true",
        help="grade even where no sandbox is possible: learner code then runs as you "
        "and can read and change everything you can",
    )
    gradescope_parser = commands.add_parser("gradescope", help="build the Gradescope autograder zip of an assignment")
    gradescope_parser.add_argument("assignment", choices=ASSIGNMENTS)
    gradescope_parser.add_argument(
        "-o", "--output", type=Path, default=Path("autograder.zip"), help="the zip to write (default: autograder.zip)"
    )
    report_parser = commands.add_parser(
        "report", help="the class's results per exercise, the mistakes the diagnoses named, and a plot"
    )
    report_parser.add_argument("assignment", choices=ASSIGNMENTS)
    report_parser.add_argument(
        "--results-dir",
        type=Path,
        default=Path("results"),
        help="where grade wrote <student>.json, or a course folder graded through nbgrader (it holds "
        "gradebook.db); the plot is written there too (default: results)",
    )
    args = parser.parse_args(argv)

    if args.command == "report":
        from .grading.report import ClassReport, UnreadableGradebook, read_results

        try:
            by_student = read_results(args.results_dir, args.assignment)
        except UnreadableGradebook as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        if not by_student:
            print(f"error: no results of {args.assignment} in {args.results_dir}", file=sys.stderr)
            return 2
        report = ClassReport.from_results(args.assignment, by_student)
        print(report.text())
        plot = report.plot(args.results_dir / f"report-{args.assignment}.png")
        print(f"\nPlot: {plot}")
        return 0

    if args.command == "build":
        from .build.regenerate import build

        stale = build(args.root.resolve(), check=args.check)
        if args.check:
            if stale:
                print("Stale generated files (run `python -m autograder build`):")
                print("\n".join(f"  {name}" for name in stale))
                return 1
            print("Build check: every generated file is up to date.")
        else:
            print(f"Build done: {len(stale)} file(s) updated." + "".join(f"\n  {name}" for name in stale))
        return 0

    if args.command == "gradescope":
        from .integrations.gradescope import build_bundle

        names = build_bundle(args.assignment, args.output)
        print(f"Gradescope autograder for {args.assignment}: {args.output} ({len(names)} files).")
        return 0

    from .grading.batch import find_submissions, grade_batch, likely_assignments
    from .grading.grade import refuse_if_exposed
    from .grading.reference import read_meanwhile
    from .grading.sandbox import Limits, NoIsolation, isolation

    course = Course.folder(args.course.resolve()) if args.course else Course.repository()

    try:
        submissions = find_submissions(args.paths)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not submissions:
        print("error: no .ipynb files found in " + ", ".join(map(str, args.paths)), file=sys.stderr)
        return 2
    # The reference data is read while the sandbox's Python and NumPy start: that is mostly a wait.
    read = read_meanwhile([course.reference_file(name) for name in likely_assignments(submissions, args.assignment)])
    try:
        kind = isolation(args.unsandboxed)
        refuse_if_exposed(kind, [*args.paths, args.results_dir, course.reference])
    except NoIsolation as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        read()  # also before a refusal's exit: a reading thread cut off there holds h5py's lock that exit needs
    print(f"isolation: {kind.value}", file=sys.stderr)
    limits = Limits(
        memory_bytes=int(args.memory * 2**30),
        cell_seconds=args.cell_timeout,
        call_seconds=args.call_timeout,
        submission_seconds=args.budget,
    )
    try:
        graded = grade_batch(
            submissions,
            args.results_dir,
            course,
            args.jobs,
            args.force,
            args.assignment,
            limits,
            args.unsandboxed,
            args.feedback,
        )
    except KeyboardInterrupt:  # Ctrl-C, SIGTERM or SIGHUP: grade_batch has stopped what it started
        print(
            "interrupted: every process the grader started is stopped; results written so far are kept", file=sys.stderr
        )
        return 130
    return 0 if len(graded) == len(submissions) else 1


if __name__ == "__main__":
    sys.exit(main())
