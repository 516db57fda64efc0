"""nbgrader, graded by the isolated grader: the pieces nbgrader_config.py plugs in.

- IsolatedAutograde replaces nbgrader's Execute preprocessor in `nbgrader autograde`. The
  submission is graded by grade_submission (learner code in the sandbox, judging outside it) and
  each grade cell receives the verdict as its output and the points as its result, which
  nbgrader's SaveAutoGrades records as (partial) credit. Learner code never runs in nbgrader's
  kernel, so patching NumPy or the tests earns nothing. The hidden part of each grade cell is
  removed from the autograded notebook, so generate_feedback cannot show it. The results are kept
  in the notebook's metadata (autograder.results) for `python -m autograder report`. A grade cell the
  student deleted is put back (nbgrader's own add_missing_cells fails on this course's layout,
  where a public-check cell stands between a solution and its grade cell). The next `jobs`
  submissions are graded ahead while nbgrader works on this one (grading_ahead.py).
- SanitizeStudentHTML cleans what the student wrote (markdown, raw cells, saved outputs) in the
  autograded notebook, which is all that feedback and Formgrader render: no script of theirs
  runs in the instructor's logged-in session.
- stand_in_for_invalid_submissions (a pre-convert hook) keeps a submission nbgrader cannot read
  as <name>.ipynb.invalid and puts a copy of the release in its place, marked with the reason:
  the student is graded 0 and told why, instead of being dropped with a traceback.
- RestoreReleasedGradeCells replaces nbgrader's OverwriteCells in autograde's first (sanitizing)
  pass: a grade cell exactly as the release has it (its hidden tests removed by
  generate_assignment) is put back to the source without nbgrader's "checksum has changed"
  warning, which stock nbgrader logs for every untouched hidden-test cell; a cell the student
  really changed is still reported.
- finish_submission (a post-convert hook) removes from autograded/ the files a student added
  beside their notebook (drop_student_files), which Formgrader would otherwise serve from the
  instructor's origin, and, when autograde runs as root, gives what it wrote to the owner of the
  course folder (own_like_course); own_feedback does the same for generate_feedback.
- CsvExportWithNotes is nbgrader's CSV export with a `notes` column carrying that reason.

Folders are the course's (nbgrader_config.py): release/, submitted/, autograded/, source/.
"""

import base64
import csv
import html
import json
import mimetypes
import os
import pwd
import re
from collections.abc import Iterable
from pathlib import Path

import bleach
import nbformat
from bleach.css_sanitizer import CSSSanitizer
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.preprocessors.sanitize import SanitizeHTML
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell
from nbgrader.api import Gradebook, GradeCell, MissingEntry
from nbgrader.converters import Autograde
from nbgrader.plugins.export import CsvExportPlugin
from nbgrader.preprocessors import NbGraderPreprocessor, OverwriteCells
from traitlets import Any, Bool, Int, List, Unicode
from traitlets.log import get_logger

from ..course import Course
from ..grading import sandbox
from ..grading.grade import InvalidSubmission, read_submission
from ..grading.results import Results
from .grading_ahead import GradingAhead, grading_ahead, stop_grading_ahead
from .nbgrader_steps import NotebookCells, run_gradebook

HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
#: What nbgrader's submit writes beside the notebooks, and release_feedback reads back.
NBGRADER_FILES = {"timestamp.txt", "submission_secret.txt"}
RASTER_IMAGES = {".png", ".jpg", ".jpeg", ".gif", ".webp"}

#: What rendered notebook markdown needs: text, lists, tables, code (highlighted), images, links.
NOTEBOOK_TAGS = sorted(
    bleach.ALLOWED_TAGS
    | {
        "p",
        "br",
        "hr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "pre",
        "span",
        "div",
        "img",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "del",
        "s",
        "u",
        "sub",
        "sup",
        "kbd",
        "dl",
        "dt",
        "dd",
        "details",
        "summary",
    }
)
NOTEBOOK_ATTRIBUTES = {
    **bleach.ALLOWED_ATTRIBUTES,
    "a": ["href", "title", "class"],
    "img": ["src", "alt", "title", "width", "height"],
    "th": ["style"],
    "td": ["style"],
    "span": ["class"],
    "div": ["class"],
    "code": ["class"],
    "pre": ["class"],
}
# data: URLs carry images pasted into a notebook; a data: document never shares the page's origin.
NOTEBOOK_PROTOCOLS = sorted(bleach.ALLOWED_PROTOCOLS | {"data"})


def visible_part(source: str) -> str:
    """A grade cell's source without its hidden-test region."""
    while HIDDEN_BEGIN in source:
        before, _, rest = source.partition(HIDDEN_BEGIN)
        _, _, after = rest.partition(HIDDEN_END)
        source = before.rstrip("\n") + ("\n" + after.lstrip("\n") if after.strip() else "")
    return source


class IsolatedAutograde(NbGraderPreprocessor):
    """Grade the notebook with the isolated grader and write the verdicts into its grade cells."""

    unsandboxed = Bool(
        False,
        help="Grade even where no sandbox can be had: learner code then runs as the "
        "instructor, able to read and change everything they can.",
    ).tag(config=True)
    jobs = Int(
        os.cpu_count() or 1,
        help="Submissions graded ahead of the one nbgrader is at, at once (0: each when reached).",
    ).tag(config=True)
    course_folder = Unicode(
        "",
        help="A folder holding <assignment>.h5 and <assignment>/*.py to grade against; empty: the "
        "reference data and release of the repository this package was installed from.",
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        """Grade the submission (unless it was not readable) and fill in its grade cells."""
        info = resources["nbgrader"]
        invalid = nb.metadata.get("autograder", {}).get("invalid")
        if invalid:
            verdicts, summary, isolation = {}, f"Not graded: {invalid}", "none, nothing was run"
        else:
            results = self.grade(nb, info)
            verdicts, summary = results.exercise_feedback(), results.output
            isolation = results.extra.get("isolation", "unknown")
        # For `python -m autograder report`: the kinds of problem and mistakes named, which the grade
        # cells' text does not carry; always written, so a submission cannot bring its own.
        record = nb.metadata.get("autograder")
        nb.metadata["autograder"] = {
            **(record if isinstance(record, dict) else {}),
            "results": None if invalid else results.to_gradescope(),
        }
        self.log.info("Isolated grader (isolation: %s): %s", isolation, summary.splitlines()[0])
        with run_gradebook(info["db_url"]) as gradebook:
            notebook = gradebook.find_notebook(info["notebook"], info["assignment"])
            points = gradebook.db.query(GradeCell.name, GradeCell.max_score).filter(
                GradeCell.notebook_id == notebook.id
            )
            restore_missing_grade_cells(nb, dict(points.all()))
            name_from_account(gradebook, info["student"])
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code" or not meta.get("grade"):
                continue
            name = meta["grade_id"].removeprefix("test_")
            points, feedback = verdicts.get(name, (0.0, summary if invalid else f"{name} was not graded."))
            cell.source = visible_part(cell.source)
            cell.outputs = [  # as nbformat's new_output makes them, without checking each against the schema
                NotebookNode(output_type="stream", name="stdout", text=feedback + "\n"),
                NotebookNode(
                    output_type="execute_result",
                    data=NotebookNode({"text/plain": repr(points)}),
                    metadata=NotebookNode(),
                    execution_count=1,
                ),
            ]
        return nb, resources

    def grade(self, nb: NotebookNode, info: dict) -> Results:
        """grade_submission's results for this notebook (graded ahead, see grading_ahead). NoIsolation
        is logged and raised: nbgrader then fails this submission (no autograded notebook, no
        scores saved) and exits with an error. After the run's last submission every grading
        process is stopped: Formgrader runs autograde inside the instructor's long-lived Jupyter
        server, where a fork server would otherwise stay until the server stops."""
        ahead, refused = self.grading_ahead(info), False
        try:
            return ahead.results(info["student"], nb)
        except sandbox.NoIsolation as error:
            refused = True
            self.log.error(
                "Isolated grader refuses to grade: %s (nbgrader: set "
                "c.IsolatedAutograde.unsandboxed = True to grade without a sandbox)",
                error,
            )
            raise
        finally:
            if refused or ahead.last(info["student"]):
                stop_grading_ahead()
                sandbox.stop_all()

    def grading_ahead(self, info: dict) -> GradingAhead:
        """This run's grader of the notebook `info` names, over the submissions nbgrader will hand
        over (none outside an autograde run: each notebook is then graded alone)."""
        assignment, notebook = info["assignment"], info["notebook"]
        run = autograde_run(self)

        def make() -> GradingAhead:
            course = Course.folder(Path(self.course_folder)) if self.course_folder else Course.repository()
            paths = submissions_to_grade(run, assignment, notebook, info["student"]) if run else {}
            return GradingAhead(paths, assignment, course, self.unsandboxed, self.jobs if run else 0)

        return grading_ahead(run, (self.course_folder, assignment, notebook, self.unsandboxed, self.jobs), make)


def autograde_run(preprocessor: NbGraderPreprocessor) -> Autograde | None:
    """The nbgrader autograde run calling `preprocessor` (nbgrader's converter, its exporter's
    parent), or None when it is called outside one."""
    converter = getattr(getattr(preprocessor, "parent", None), "parent", None)
    return converter if isinstance(converter, Autograde) else None


def submissions_to_grade(run: Autograde, assignment: str, notebook: str, current: str) -> dict[str, Path]:
    """{student: submitted notebook} that `run` will hand over, in its order: its submissions less
    those its init_destination skips (excluded students; without --force, those autograded from
    a submission no newer), decided as nbgrader decides, without its side effects. `current`,
    being graded, is always one."""
    coursedir = run.coursedir
    excluded = set(filter(None, coursedir.student_id_exclude.split(",")))
    pattern = run._format_source("(?P<assignment_id>.*)", "(?P<student_id>.*)", escape=True)
    paths = {}
    for folder, found in sorted(run.assignments.items()):
        match = re.match(pattern, folder)
        student = match and match.group("student_id")
        ours = [Path(path) for path in found if Path(path).stem == notebook]
        if not student or not ours or student in excluded:
            continue
        dest = Path(run._format_dest(assignment, student))
        if coursedir.notebook_id == "*":
            fresh = not dest.exists()
        else:
            fresh = any(not (dest / f"{Path(path).stem}.ipynb").exists() for path in found)
        new, old = coursedir.get_existing_timestamp(folder), coursedir.get_existing_timestamp(str(dest))
        if student == current or fresh or run.force or (new is not None and old is not None and new > old):
            paths[student] = ours[0].resolve()
    return paths


def restore_missing_grade_cells(nb: NotebookNode, points_by_grade_id: dict[str, float]) -> None:
    """Put back each grade cell of this notebook (per the gradebook) that the student deleted:
    after its exercise's solution cell, or at the end."""
    present = {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in nb.cells}
    for grade_id, points in points_by_grade_id.items():
        if grade_id in present:
            continue
        name = grade_id.removeprefix("test_")
        cell = new_code_cell(
            f"# Hidden tests for {name} ({points:g} points): this cell was missing from the "
            "submission and was put back by the grader."
        )
        cell.metadata["nbgrader"] = {
            "grade": True,
            "grade_id": grade_id,
            "locked": True,
            "points": points,
            "schema_version": 3,
            "solution": False,
            "task": False,
        }
        after = [i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == name]
        nb.cells.insert(after[0] + 1 if after else len(nb.cells), cell)


def name_from_account(gradebook: Gradebook, student: str) -> None:
    """Give a student the name of the Unix account of the same id (its GECOS full name), when
    the gradebook has no name for them: on a shared server students are its users, and
    autograde would otherwise add them nameless (Formgrader shows "None, None")."""
    try:
        account = pwd.getpwnam(student)
    except KeyError:  # an id from elsewhere (a learning platform's, say)
        return
    words = account.pw_gecos.split(",")[0].split()
    if account.pw_uid < 1000 or not words:  # a system account, or no name on record
        return
    first, last = (" ".join(words[:-1]), words[-1]) if len(words) > 1 else (words[0], "")
    try:
        known = gradebook.find_student(student)
    except MissingEntry:
        return
    if not (known.first_name or known.last_name):
        gradebook.update_or_create_student(student, first_name=first, last_name=last)


class RestoreReleasedGradeCells(OverwriteCells):
    """nbgrader's OverwriteCells, quiet about grade cells the student did not touch.

    generate_assignment records each grade cell with its hidden tests and releases it without
    them, so every untouched hidden-test cell differs from the gradebook's checksum, and stock
    OverwriteCells warns "Attribute 'checksum' ... has changed!" for each: eight warnings per
    submission that look like tampering. A cell whose source is the release's (the recorded
    source with its hidden region removed) is given the recorded source first; any other change
    is still reported and restored by OverwriteCells itself. It reads the gradebook through the
    run's one connection (run_gradebook), each notebook's cells once (NotebookCells).
    """

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        """OverwriteCells.preprocess over run_gradebook, the notebook's cells read once (NotebookCells)."""
        info = resources["nbgrader"]
        self.notebook_id, self.assignment_id, self.db_url = info["notebook"], info["assignment"], info["db_url"]
        with run_gradebook(self.db_url) as gradebook:
            self.gradebook = NotebookCells(gradebook, self.notebook_id, self.assignment_id)
            nb, resources = NbGraderPreprocessor.preprocess(self, nb, resources)  # the cells, one by one
            if self.add_missing_cells:
                nb, resources = self.add_missing_grade_cells(nb, resources)
                nb, resources = self.add_missing_task_cells(nb, resources)
        return nb, resources

    def preprocess_cell(self, cell, resources, cell_index):
        """Put back the recorded source of a released, untouched grade cell, then OverwriteCells."""
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and meta.get("grade_id"):
            try:
                recorded = self.gradebook.find_source_cell(meta["grade_id"], self.notebook_id, self.assignment_id)
            except MissingEntry:
                recorded = None
            if recorded is not None and recorded.source != cell.source == visible_part(recorded.source):
                cell.source = recorded.source
        return super().preprocess_cell(cell, resources, cell_index)


class SanitizeStudentHTML(SanitizeHTML):
    """nbconvert's SanitizeHTML (bleach) over everything a student wrote into the notebook.

    Saved outputs and raw cells are cleaned by SanitizeHTML itself. Markdown is cleaned once
    rendered, as nbconvert renders it: bleach on the markdown text would miss
    [links](javascript:...) and mangle `<` and `&` in formulas, code and quotes. Markdown cells
    that are verbatim the release's text are the course's and stay as they are.
    """

    enabled = Bool(True).tag(config=True)
    tags = List(Unicode(), NOTEBOOK_TAGS, help="The HTML tags kept").tag(config=True)
    attributes = Any(NOTEBOOK_ATTRIBUTES, help="The HTML attributes kept, by tag").tag(config=True)
    strip = Bool(True, help="Remove markup that is not kept, instead of showing it as text").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        """Clean the notebook, knowing the release's markdown (resources name the notebook)."""
        self.course_text = course_markdown(resources)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int) -> tuple[NotebookNode, dict]:
        """Markdown as described above; other cells as SanitizeHTML cleans them."""
        if cell.cell_type != "markdown":
            return super().preprocess_cell(cell, resources, index)
        if cell.source not in self.course_text:
            cell.source = self.cleaned_markdown(cell.source, cell.get("attachments", {}))
        return cell, resources

    def sanitize_html_tags(self, html_str: str) -> str:
        """SanitizeHTML's bleach call, with data: URLs allowed (images pasted into the notebook)."""
        return bleach.clean(
            html_str,
            tags=self.tags,
            attributes=self.attributes,
            protocols=NOTEBOOK_PROTOCOLS,
            strip=self.strip,
            strip_comments=self.strip_comments,
            css_sanitizer=CSSSanitizer(allowed_css_properties=self.styles),
        )

    def cleaned_markdown(self, source: str, attachments: dict) -> str:
        """Markdown that renders as `source` rendered and cleaned: one line of clean HTML in a <div>.

        One line starting with <div> is an HTML block, which markdown passes through as it is
        (checked here, with the renderer feedback and Formgrader use); a newline written &#10;
        is the same character once the HTML is parsed.
        """
        try:
            rendered = render_markdown(source, attachments)
        except Exception:  # e.g. a missing attachment: show the text as it was written
            rendered = f"<pre>{html.escape(source)}</pre>"
        cleaned = self.sanitize_html_tags(rendered).replace("\r", "&#13;").replace("\n", "&#10;")
        block = f'<div class="student-markdown">{cleaned}</div>'
        if render_markdown(block, {}).strip() != block:
            return '<div class="student-markdown"><p>(This cell cannot be shown safely.)</p></div>'
        return block


# A figure of the course in its markdown: ![alt text](images/<file>).
FIGURE_LINK = re.compile(r"(!\[[^\]]*\])\((images/[^)\s]+)\)")


class EmbedCourseFigures(NbGraderPreprocessor):
    """generate_feedback: the course's figures inside the feedback page, as data: URLs.

    A student reads the page that fetch_feedback copied alone, without the images/ folder that
    was beside it, where a relative link shows a broken image. Only markdown cells that are
    verbatim the release's change, and only links to a file in the release's images/ folder: a
    student's own cell cannot pull any other file of the instructor's into the page.
    """

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        self.course_text = course_markdown(resources)
        images = Path("release") / resources["nbgrader"]["assignment"] / "images"
        self.figures = {f"images/{path.name}": path for path in images.glob("*") if path.is_file()}
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int) -> tuple[NotebookNode, dict]:
        if cell.cell_type == "markdown" and cell.source in self.course_text:
            cell.source = FIGURE_LINK.sub(self.embedded, cell.source)
        return cell, resources

    def embedded(self, link: re.Match) -> str:
        """The link with its file as a data: URL, or as it was when that is not a course figure."""
        path = self.figures.get(link[2])
        if path is None:
            return link[0]
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return f"{link[1]}(data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')})"


def render_markdown(source: str, attachments: dict) -> str:
    """HTML of a markdown cell, as nbconvert's HTMLExporter renders it."""
    return MarkdownWithMath(renderer=IPythonRenderer(escape=False, attachments=attachments)).render(source)


def course_markdown(resources: dict) -> set[str]:
    """The markdown texts of the release of the notebook being converted (none when it cannot be read)."""
    info = resources["nbgrader"]
    path = Path("release") / info["assignment"] / f"{info['notebook']}.ipynb"
    try:
        return {cell.source for cell in nbformat.read(str(path), as_version=4).cells if cell.cell_type == "markdown"}
    except (OSError, ValueError):
        return set()


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


def submission_notes(root: Path, student: str, assignment: str) -> str:
    """The reason a submission was not graded, if any: its notebook could not be read, or autograde
    failed on it (nbgrader then keeps no autograded notebook, and exports its score as 0)."""
    graded = sorted((root / "autograded" / student / assignment).glob("*.ipynb"))
    if not graded and (root / "submitted" / student / assignment).is_dir():
        return "submitted but not autograded: see the output of nbgrader autograde"
    notes = []
    for path in graded:
        try:
            invalid = json.loads(path.read_text(encoding="utf-8"))["metadata"].get("autograder", {}).get("invalid")
        except (OSError, ValueError, KeyError, AttributeError):
            continue
        if invalid:
            notes.append(f"{path.name} not graded: {invalid}")
    return "; ".join(notes)


class CsvExportWithNotes(CsvExportPlugin):
    """nbgrader's CSV export, plus a `notes` column saying why a submission got no grade, and what
    collect refused or found backdated (exchange.OwnedCollect)."""

    def export(self, gradebook: Gradebook) -> None:
        from .exchange import collect_notes

        super().export(gradebook)
        destination = Path(self.to or "grades.csv")
        with destination.open(newline="") as stream:
            rows = list(csv.DictReader(stream))
        root = Path(os.getcwd())
        for row in rows:
            notes = [submission_notes(root, row["student_id"], row["assignment"])]
            notes += collect_notes(root, row["student_id"], row["assignment"])  # refused or backdated
            row["notes"] = "; ".join(note for note in notes if note)
        with destination.open("w", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=[*rows[0].keys()] if rows else ["notes"], lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
