"""A submission nbgrader cannot read is graded 0 and told why, instead of dropped with a traceback.

stand_in_for_invalid_submissions (autograde's pre-convert hook) keeps such a notebook as
<name>.ipynb.invalid and puts a copy of the release in its place, marked with the reason, which
IsolatedAutograde and the CSV export (csv_export.py) read back.
"""

import os
from collections.abc import Iterable
from pathlib import Path

import nbformat
from nbformat.v4 import new_markdown_cell
from traitlets.log import get_logger

from ..grading.grade import InvalidSubmission, read_submission


def stand_in_for_invalid_submissions(
    assignment: str,
    student: str,
    notebooks: Iterable[str | Path] | None = None,
    course_root: str | Path | None = None,
) -> list[str]:
    """Replace each submitted notebook of the assignment that nbgrader cannot read by a marked copy of the release.

    nbgrader calls this once per submission with that submission's notebooks (its `assignment`
    and `student` are the command line's ids, often '*'); without `notebooks` every submission
    matching the ids is looked at. Each notebook is handled on its own: one that fails is logged
    and the others still get their stand-in. Returns the reasons found.
    """
    root = Path(course_root or os.getcwd())
    if notebooks is None:
        notebooks = (root / "submitted").glob(f"{student or '*'}/{assignment or '*'}/*.ipynb")
    reasons = []
    for path in sorted(map(Path, notebooks)):
        try:
            reason = stand_in(path, root / "release" / path.parent.name / path.name)
        except Exception:
            get_logger().exception("No stand-in could be made for %s", path)
            continue
        if reason:
            reasons.append(reason)
    return reasons


def stand_in(path: Path, release: Path) -> str | None:
    """If nbgrader cannot read the notebook at `path`, keep it as <name>.ipynb.invalid and write a
    copy of `release` marked with the reason in its place; return the reason, else None.

    A notebook the release does not have is left alone: nbgrader skips it ("Skipping unknown
    notebook"), and it neither earns nor costs points.
    """
    if not release.is_file():
        return None
    reason = unreadable_reason(path)
    if reason is None:
        return None
    copy = nbformat.read(str(release), as_version=4)
    copy.metadata["autograder"] = {"invalid": reason}
    copy.cells.insert(
        0,
        new_markdown_cell(
            f"**Your submitted `{path.name}` could not be graded:** {reason}. It is kept unchanged as "
            f"`{path.name}.invalid`; this copy of the assignment stands in for it so that your grade and "
            "feedback say why. Ask your instructor if you think your work was lost."
        ),
    )
    path.replace(path.with_name(path.name + ".invalid"))
    nbformat.write(copy, str(path))
    return reason


def unreadable_reason(path: Path) -> str | None:
    """Why nbgrader cannot read this notebook, or None when it can."""
    try:
        read_submission(path)
        nbformat.read(str(path), as_version=4)
    except InvalidSubmission as error:
        return str(error)
    except Exception as error:
        return f"the file is not a valid Jupyter notebook ({error.__class__.__name__})"
    return None
