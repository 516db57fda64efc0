"""A Gradescope autograder zip for one assignment: `python -m autograder gradescope <a> -o autograder.zip`.

Gradescope unzips the bundle into /autograder/source, runs setup.sh once when it builds the
image, and for every submission runs run_autograder with the student's files in
/autograder/submission/; run_autograder must leave /autograder/results/results.json.
The bundle holds only:
    setup.sh            apt: Python 3, venv, pip, bubblewrap; /autograder/venv with the pinned
                        numpy, h5py and tqdm of requirements.txt (all the grading path imports)
    run_autograder      picks the notebook, runs `python -m autograder grade` on it, copies its
                        results; a missing notebook or a grader failure still gives results.json
    autograder/         this package (.py files only): no notebook, no solution code
    course/<a>.h5       the assignment's reference data, read by `grade --course course`
    course/<a>/*.py     the provided modules the learner's notebook imports, if any
The zip is deterministic: sorted entries, fixed timestamps and permissions.
"""

import json
import re
import tomllib
import zipfile
from pathlib import Path

from ..course import REPO_ROOT, Course
from ..grading.results import Results

GRADING_PACKAGES = ("numpy", "h5py", "tqdm")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip bubblewrap
if ! python3 -c 'import sys; sys.exit(sys.version_info < (@PYTHON_MIN@))'; then
    echo "The grader needs Python >= @PYTHON_MIN_DOTTED@ (this image has $(python3 -V)):" \
         "choose a newer Ubuntu base image in Gradescope's autograder settings." >&2
    exit 1
fi
python3 -m venv "$ROOT/venv"
"$ROOT/venv/bin/pip" install --no-cache-dir @PINS@
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission. It always leaves results.json, whatever happens.
set -u
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
ASSIGNMENT="@ASSIGNMENT@"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
rm -f "$RESULTS"

# Every test at 0, written at build time; used as is when even Python cannot run.
BLANK=$(cat <<'END_OF_JSON'
@BLANK@
END_OF_JSON
)

# Write BLANK with the message $1 for the student (Python only for JSON-escaping it).
zero() {
    echo "$1"
    "$PYTHON" -I -c 'import json, sys
results = json.loads(sys.argv[1])
results["output"] = sys.argv[2]
with open(sys.argv[3], "w", encoding="utf-8") as stream:
    json.dump(results, stream, indent=1)' "$BLANK" "$1" "$RESULTS" || printf '%s\n' "$BLANK" > "$RESULTS"
}

# The notebook: <assignment>.ipynb anywhere in the submission, else the only notebook there.
cd "$ROOT/submission" 2>/dev/null || { zero "Nothing was submitted: upload $ASSIGNMENT.ipynb."; exit 0; }
mapfile -d '' all < <(find . -type f -name '*.ipynb' -not -name '._*' -not -path '*/.ipynb_checkpoints/*' \
                           -not -path '*/__MACOSX/*' -print0 | LC_ALL=C sort -z)
named=()
for path in "${all[@]}"; do
    [[ "$(basename "$path")" == "$ASSIGNMENT.ipynb" ]] && named+=("$path")
done
if (( ${#named[@]} == 1 )); then
    notebook="${named[0]}"
elif (( ${#named[@]} == 0 && ${#all[@]} == 1 )); then
    notebook="${all[0]}"
else
    found=""
    for path in "${all[@]}"; do found+="${found:+,} ${path#./}"; done
    zero "No notebook was graded: upload one notebook, named $ASSIGNMENT.ipynb (in Jupyter: File > Download). \
Found:${found:- no .ipynb file}."
    exit 0
fi

# Where the container forbids namespaces the learner runs as a uid of its own on this filesystem:
# the grader, its reference data, the submission and the results must be closed to other users.
chmod -R go-rwx "$ROOT/source" "$ROOT/submission" "$ROOT/results" 2>/dev/null || true
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "Grading ${notebook#./}"
# AUTOGRADER_GRADE_OPTIONS: more options for the grader, e.g. "--cell-timeout 20" (word-split).
(cd "$ROOT/source" && "$PYTHON" -m autograder grade "$ROOT/submission/${notebook#./}" \
    --assignment "$ASSIGNMENT" --course "$ROOT/source/course" --results-dir "$WORK" --jobs 1 \
    ${AUTOGRADER_GRADE_OPTIONS:-})
shopt -s nullglob
graded=("$WORK"/*.json)
if (( ${#graded[@]} == 1 )); then
    cp "${graded[0]}" "$RESULTS"
else
    zero "The autograder failed on this submission; please tell your instructor."
fi
exit 0
"""


def pinned_versions(requirements: Path, names: tuple[str, ...] = GRADING_PACKAGES) -> list[str]:
    """`name==version` for each of `names`, as requirements.txt pins it (one place for versions)."""
    pins = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*==\s*([^\s#;]+).*", line)
        if match:
            pins[match[1].lower()] = f"{match[1]}=={match[2]}"
    missing = [name for name in names if name not in pins]
    if missing:
        raise ValueError(f"{requirements} pins no version of {', '.join(missing)}")
    return [pins[name] for name in names]


def minimum_python(pyproject: Path) -> tuple[int, ...]:
    """The lowest Python version pyproject.toml's requires-python (">=X.Y") allows."""
    spec = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["requires-python"]
    match = re.fullmatch(r"\s*>=\s*(\d+(?:\.\d+)*)\s*", spec)
    if not match:
        raise ValueError(f"requires-python {spec!r} is not of the form '>=X.Y'")
    return tuple(int(part) for part in match[1].split("."))


def setup_script(root: Path) -> str:
    """setup.sh, with the Python floor of pyproject.toml and the pins of requirements.txt."""
    version = minimum_python(root / "pyproject.toml")
    return (
        SETUP_SH.replace("@PINS@", " ".join(pinned_versions(root / "requirements.txt")))
        .replace("@PYTHON_MIN@", ", ".join(map(str, version)))
        .replace("@PYTHON_MIN_DOTTED@", ".".join(map(str, version)))
    )


def run_script(course: Course, assignment: str) -> str:
    """run_autograder, with the assignment's tests at 0 for when there is nothing to grade."""
    blank = Results.blank(
        course,
        assignment,
        "see the message above the tests",
        "The autograder failed on this submission; please tell your instructor.",
        graded=False,
    ).to_gradescope()
    return RUN_AUTOGRADER.replace("@ASSIGNMENT@", assignment).replace("@BLANK@", json.dumps(blank, indent=1))


def bundle_files(root: Path, assignment: str) -> dict[str, tuple[bytes, int]]:
    """{path in the zip: (content, permissions)} of everything the bundle holds."""
    course = Course.repository(root)
    files = {
        "setup.sh": (setup_script(root).encode(), 0o755),
        "run_autograder": (run_script(course, assignment).encode(), 0o755),
    }
    package = root / "autograder"
    for path in package.rglob("*.py"):
        if "__pycache__" not in path.parts:
            files[path.relative_to(root).as_posix()] = (path.read_bytes(), 0o644)
    files[f"course/{assignment}.h5"] = (course.reference_file(assignment).read_bytes(), 0o644)
    for name, source in course.provided_modules(assignment).items():  # e.g. mnist_tools.py
        files[f"course/{assignment}/{name}.py"] = (source.encode(), 0o644)
    return files


def build_bundle(assignment: str, output: Path, root: Path = REPO_ROOT) -> list[str]:
    """Write the Gradescope zip of `assignment` to `output`; return the names of its entries."""
    files = bundle_files(root, assignment)
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w") as bundle:
        for name in sorted(files):
            content, mode = files[name]
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.create_system = 3  # Unix, so that unzip applies the permissions below
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, content)
    return sorted(files)
