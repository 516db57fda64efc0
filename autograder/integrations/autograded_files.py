"""What autograde and generate_feedback leave on disk: no student files served, the instructor's to own.

finish_submission (autograde's post-convert hook) removes from autograded/ the files a student
added beside their notebook (drop_student_files), which Formgrader would otherwise serve from the
instructor's origin, and, when autograde runs as root, gives what it wrote to the owner of the
course folder (own_like_course); own_feedback does the same for generate_feedback.
"""

import os
from collections.abc import Iterable
from pathlib import Path

from traitlets.log import get_logger

#: What nbgrader's submit writes beside the notebooks, and release_feedback reads back.
NBGRADER_FILES = {"timestamp.txt", "submission_secret.txt"}
RASTER_IMAGES = {".png", ".jpg", ".jpeg", ".gif", ".webp"}


def finish_submission(
    assignment: str,
    student: str,
    notebooks: Iterable[str | Path] | None = None,
    course_root: str | Path | None = None,
) -> None:
    """autograde's post-convert hook: drop the student's own files from autograded/, then give what
    autograde wrote to the course folder's owner (when it runs as root)."""
    root = Path(course_root or os.getcwd())
    drop_student_files(assignment, student, notebooks, root)
    own_output(root, notebooks, "submitted", "autograded", [root / "gradebook.db", root / ".nbgrader.log"])


def own_feedback(
    assignment: str,
    student: str,
    notebooks: Iterable[str | Path] | None = None,
    course_root: str | Path | None = None,
) -> None:
    """generate_feedback's post-convert hook: as root, give feedback/ to the course folder's owner."""
    root = Path(course_root or os.getcwd())
    own_output(root, notebooks, "autograded", "feedback", [root / "gradebook.db"])


def own_output(
    root: Path, notebooks: Iterable[str | Path] | None, read_from: str, wrote_to: str, also: list[Path]
) -> None:
    """As root, give what a step wrote to the course folder's owner: for each notebook it read under
    `read_from`/<student>/<assignment>/, the matching folder under `wrote_to` with everything in
    it, the folders above it, and the files `also` (nbgrader's gradebook, its log)."""
    base = (root / read_from).resolve()
    folders = sorted({root / wrote_to / Path(path).parent.resolve().relative_to(base) for path in notebooks or []})
    own_like_course(root, folders, [root / wrote_to, *(folder.parent for folder in folders), *also])


def own_like_course(root: Path, trees: list[Path], single: Iterable[Path] = ()) -> list[Path]:
    """Run as root, give each folder of `trees` with everything in it, and each path of `single`,
    to the owner of the course folder `root`, so that the instructor can read, regrade and delete
    what a root autograde wrote (nbgrader leaves its files read-only, in root's folders).
    Returns the paths changed; does nothing when not run as root."""
    if os.geteuid() != 0:
        return []
    owner = root.stat()
    paths = [*single, *trees, *(path for tree in trees if tree.is_dir() for path in sorted(tree.rglob("*")))]
    changed = []
    for path in paths:
        try:
            status = path.lstat()
        except FileNotFoundError:
            continue
        if (status.st_uid, status.st_gid) != (owner.st_uid, owner.st_gid):
            os.lchown(path, owner.st_uid, owner.st_gid)
            changed.append(path)
    return changed


def drop_student_files(
    assignment: str,
    student: str,
    notebooks: Iterable[str | Path] | None = None,
    course_root: str | Path | None = None,
) -> list[Path]:
    """Remove from autograded/ the files a student submitted beside their notebooks.

    nbgrader copies them there, and Formgrader serves that folder from the instructor's own
    origin, with none of the sandboxing Jupyter puts on its own file views: an .html or .svg of
    theirs would run its script in the instructor's session. Grading does not use them, and they
    stay in submitted/. Kept: the course's files (from source/), the graded notebooks, nbgrader's
    own files, and raster images (a browser shows those, it never runs them).
    nbgrader calls this once per submission (a post-convert hook). Returns the files removed.
    """
    root = Path(course_root or os.getcwd())
    removed = []
    for submitted in sorted({Path(path).parent for path in notebooks or []}):
        student_and_assignment = submitted.resolve().relative_to((root / "submitted").resolve())
        graded, course = root / "autograded" / student_and_assignment, root / "source" / submitted.name
        for path in sorted(graded.rglob("*")):
            name = path.relative_to(graded)
            kept = (
                (course / name).is_file()
                or str(name) in NBGRADER_FILES
                or path.suffix.lower() in RASTER_IMAGES
                or (path.suffix == ".ipynb" and len(name.parts) == 1)
            )
            if kept or (path.is_dir() and not path.is_symlink()):
                continue
            try:
                path.unlink()
                removed.append(path)
            except OSError:
                get_logger().exception("Could not remove %s from the autograded submission", path)
    return removed
