"""Command line: python -m autograder build [--check]."""
import argparse
import sys
from pathlib import Path

from . import paths
from .build import build


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build_parser = commands.add_parser(
        "build", help="regenerate the release, figures and reference data from the source notebooks")
    build_parser.add_argument("--check", action="store_true",
                              help="write nothing; exit 1 and name the stale files if the build would change any")
    build_parser.add_argument("--root", type=Path, default=paths.REPO_ROOT,
                              help="the course repository (default: the one this package is in)")
    args = parser.parse_args(argv)

    if args.command == "build":
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


if __name__ == "__main__":
    sys.exit(main())
