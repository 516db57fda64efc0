"""Students attacking nbgrader's side of the course: the instructor's feedback and Formgrader views,
and the per-submission hooks.

A temporary course (this repository's nbgrader_config.py and source/) gets four submissions in
nbgrader's submitted/<student>/<assignment>/ layout, and goes through `nbgrader autograde`,
`generate_feedback` and `export`:

- ada: correct, plus an extra notebook junk.ipynb that is not JSON, and one grade cell deleted;
- bert, cleo: a main notebook that nbgrader cannot read (not JSON, not a notebook);
- mallory: correct, with script in every place a notebook can carry HTML (markdown, an edited
  teaching cell, saved outputs, a raw cell, cell tags, an attachment), files beside the
  notebook (an .html page, and a .png her markdown shows), and ordinary markdown: bold, a
  formula, a table, code, an https link, an image as a data URI.

Every script, event handler and javascript: URL the students wrote carries the marker XSS-. The
feedback pages and the page Formgrader serves are checked as HTML, and Formgrader itself once in
Chromium (skipped without it).

A second course goes through `nbgrader autograde` and `export` with assignment 2's cheats at its
large timing cases (mnist_cheats.py, tests/attacks/mnist/): the same judge must not be fooled there
either.
"""

import base64
import csv
import shutil
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbconvert.exporters import HTMLExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output, new_raw_cell
from nbgrader.api import Gradebook
from nbgrader.server_extensions.formgrader import handlers as formgrader_handlers
from traitlets.config import Config

import mnist_cheats
from autograder.build.nbgrader_run import run_nbgrader
from autograder.grading.sandbox import Isolation
from autograder.integrations.csv_export import submission_notes
from autograder.integrations.sanitizing import SanitizeStudentHTML, render_markdown
from conftest import ASSIGNMENT, ROOT, grade_id, isolations_named

pytestmark = pytest.mark.slow  # left out of the quick run: pytest -m "not slow"

MARKER = "XSS-"
FORMULA = "$E = mc^2$"
TEXT = "my own words, **in bold**"


def png(width: int, height: int) -> bytes:
    """A valid grey PNG image."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


DATA_URI_PNG = "data:image/png;base64," + base64.b64encode(png(2, 2)).decode()
HOSTILE_MARKDOWN = "\n\n".join(
    [
        f"My answer, in {TEXT}: {FORMULA}, and `x < y` in code.",
        "| size | stride |\n|---|---|\n| 3 | 1 |",
        f"![a dot]({DATA_URI_PNG})",
        "![my plot](plot.png)",
        "[NumPy's documentation](https://numpy.org/doc/)",
        "<script>alert('XSS-script')</script>",
        "<img src=x onerror=\"alert('XSS-onerror')\">",
        "<iframe src=\"javascript:alert('XSS-iframe')\"></iframe>",
        "[a markdown link](javascript:alert('XSS-markdown-link'))",
        "<a href=\"javascript:alert('XSS-html-link')\">an html link</a>",
        "<svg onload=\"alert('XSS-svg')\"></svg>",
        "<details open ontoggle=\"alert('XSS-details')\">more</details>",
        "<style>body { background: url('javascript:alert(\"XSS-style\")') }</style>",
    ]
)
HOSTILE_OUTPUT = {
    "text/html": "<script>alert('XSS-output-html')</script><b onmouseover=\"alert('XSS-output-b')\">hi</b>",
    "image/svg+xml": "<svg xmlns='http://www.w3.org/2000/svg' onload=\"alert('XSS-output-svg')\"/>",
    "application/javascript": "alert('XSS-output-js')",
    "text/markdown": "<script>alert('XSS-output-markdown')</script>",
    "text/plain": "hi",
}


def solved(release, source):
    """The release notebook with every solution cell filled in from the source."""
    solutions = {grade_id(c): c.source for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    notebook = nbformat.reads(nbformat.writes(release), as_version=4)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = solutions[grade_id(cell)]
    return notebook


def hostile(notebook):
    """Mallory's notebook: script wherever a notebook can carry HTML, beside ordinary markdown."""
    notebook.cells[0].source = "<script>alert('XSS-teaching-cell')</script>\n\n" + notebook.cells[0].source
    code = new_code_cell("print('hi')", outputs=[new_output("display_data", data=HOSTILE_OUTPUT)])
    code.metadata["tags"] = ["t\"><script>alert('XSS-tag')</script>"]
    raw = new_raw_cell("<script>alert('XSS-raw')</script>", metadata={"raw_mimetype": "text/html"})
    attached = new_markdown_cell("![attached](attachment:x.svg)")
    attached.attachments = {
        "x.svg": {
            "image/svg+xml": base64.b64encode(
                b"<svg xmlns='http://www.w3.org/2000/svg' onload=\"alert('XSS-attachment')\"/>"
            ).decode()
        }
    }
    notebook.cells[1:1] = [new_markdown_cell(HOSTILE_MARKDOWN), code, raw, attached]
    return notebook


class ActiveParts(HTMLParser):
    """What in a page can run script: script elements (with their text), frames and objects,
    event-handler attributes, and javascript: or vbscript: URLs."""

    def __init__(self, page: str):
        super().__init__()
        self.parts, self.in_script = [], False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "frame", "object", "embed", "base"):
            self.parts.append(f"<{tag} {sorted(attrs)}>")
        self.in_script = tag == "script"
        for name, value in attrs:
            scheme = (value or "").strip().lower().split(":")[0]
            if name.startswith("on") or scheme in ("javascript", "vbscript"):
                self.parts.append(f"<{tag} {name}={value}>")

    def handle_endtag(self, tag):
        self.in_script = False

    def handle_data(self, data):
        if self.in_script:
            self.parts.append(data)


def active(page: str) -> list[str]:
    """The parts of `page` that can run script."""
    return ActiveParts(page).parts


def formgrader_page(notebook: Path) -> str:
    """The page Formgrader serves for a submission: nbgrader's formgrade template, configured as
    Formgrader configures it, and nothing from the course's nbgrader_config.py."""
    config = Config()
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [formgrader_handlers.template_path]
    resources = {
        "assignment_id": ASSIGNMENT,
        "notebook_id": ASSIGNMENT,
        "submission_id": "1",
        "index": 0,
        "total": 1,
        "base_url": "",
        "student": "student",
        "first_name": None,
        "last_name": None,
        "notebook_path": "/notebook",
    }
    page, _ = HTMLExporter(config=config).from_filename(str(notebook), resources=resources)
    return page


def nbgrader(args, course):
    """`nbgrader ARGS` in `course`, which must succeed."""
    result = run_nbgrader(args, course)
    assert result.returncode == 0, f"nbgrader {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("hostile") / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "source", course / "source", ignore=shutil.ignore_patterns("__pycache__"))
    nbgrader(["generate_assignment", ASSIGNMENT, "--force"], course)
    release = nbformat.read(str(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)
    source = nbformat.read(str(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)

    def submit(student, notebooks: dict[str, str], files: dict[str, bytes] | None = None):
        """Put a submission where `nbgrader collect` would: notebooks, other files, nbgrader's own."""
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        for name, text in notebooks.items():
            (folder / name).write_text(text, encoding="utf-8")
        for name, content in (files or {}).items():
            (folder / name).write_bytes(content)
        (folder / "timestamp.txt").write_text("2026-11-23 12:00:00.000000 UTC")
        (folder / "submission_secret.txt").write_text(f"secret of {student}")

    ada = solved(release, source)
    ada.cells = [cell for cell in ada.cells if grade_id(cell) != "test_conv_forward"]
    submit("ada", {f"{ASSIGNMENT}.ipynb": nbformat.writes(ada), "junk.ipynb": '{"cells": [ oops'})
    submit("bert", {f"{ASSIGNMENT}.ipynb": '{"cells": [{"cell_type": "code", "source": "def zero_pad(X, pad):'})
    submit("cleo", {f"{ASSIGNMENT}.ipynb": '["a list, not a notebook"]'})
    submit(
        "mallory",
        {f"{ASSIGNMENT}.ipynb": nbformat.writes(hostile(solved(release, source)))},
        {"page.html": b"<script>alert('XSS-file')</script>", "plot.png": png(3, 2)},
    )

    autograde = nbgrader(["autograde", ASSIGNMENT, "--force"], course)
    nbgrader(["generate_feedback", ASSIGNMENT, "--force"], course)
    nbgrader(["export"], course)
    return {"root": course, "log": autograde.stdout + autograde.stderr}


def grades(course) -> dict[str, dict]:
    """{student: row} of the exported grades.csv."""
    with open(course["root"] / "grades.csv", newline="") as stream:
        return {row["student_id"]: row for row in csv.DictReader(stream)}


def feedback(course, student) -> str:
    """The feedback page generate_feedback wrote for `student`."""
    return (course["root"] / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text(encoding="utf-8")


def autograded(course, student) -> Path:
    """Where autograde wrote `student`'s graded notebook."""
    return course["root"] / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


# ---- 2. the hooks work per submission ------------------------------------------------------------


def test_every_unreadable_notebook_gets_its_stand_in_whatever_another_student_submitted(course):
    rows = grades(course)
    assert {student: float(row["score"]) for student, row in rows.items()} == {
        "ada": 100.0,
        "bert": 0.0,
        "cleo": 0.0,
        "mallory": 100.0,
    }
    assert "not valid JSON" in rows["bert"]["notes"]
    assert "not a Jupyter notebook" in rows["cleo"]["notes"]
    assert rows["ada"]["notes"] == "" and rows["mallory"]["notes"] == ""
    for student in ("bert", "cleo"):
        assert (course["root"] / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb.invalid").is_file()
        assert "could not be graded" in feedback(course, student)


def test_a_notebook_that_is_not_in_the_assignment_is_left_alone(course):
    folder = course["root"] / "submitted" / "ada" / ASSIGNMENT
    assert (folder / "junk.ipynb").read_text() == '{"cells": [ oops'
    assert not (folder / "junk.ipynb.invalid").exists()
    assert not (course["root"] / "autograded" / "ada" / ASSIGNMENT / "junk.ipynb").exists()
    assert "Traceback" not in course["log"]


def test_a_deleted_grade_cell_is_put_back_and_graded(course):
    notebook = nbformat.read(str(autograded(course, "ada")), as_version=4)
    (cell,) = [cell for cell in notebook.cells if grade_id(cell) == "test_conv_forward"]
    assert "put back by the grader" in cell.source
    assert cell.outputs[-1]["data"]["text/plain"] == "20.0"


def test_the_log_names_the_isolation_of_each_submission(course):
    named = isolations_named(course["log"])
    sandboxes = {kind.name.lower() for kind in Isolation if kind is not Isolation.NONE}
    assert named[:2] == ["none, nothing was run"] * 2  # bert and cleo: nothing of theirs was run
    assert len(named) == 4 and set(named[2:]) <= sandboxes, named


# ---- 1. what the instructor's browser is given runs no student script ------------------------------


def test_feedback_runs_no_student_script(course):
    page = feedback(course, "mallory")
    assert [part for part in active(page) if MARKER in part] == []
    assert set(active(page)) <= set(active(feedback(course, "ada")))


def test_formgrader_page_runs_no_student_script(course):
    page = formgrader_page(autograded(course, "mallory"))
    assert [part for part in active(page) if MARKER in part] == []
    assert set(active(page)) <= set(active(formgrader_page(autograded(course, "ada"))))


@pytest.mark.parametrize("view", ["feedback", "formgrader"])
def test_the_students_markdown_still_shows(course, view):
    page = feedback(course, "mallory") if view == "feedback" else formgrader_page(autograded(course, "mallory"))
    assert "my own words, <strong>in bold</strong>" in page
    assert FORMULA in page
    assert "<code>x &lt; y</code>" in page
    assert "<th>size</th>" in page and "<td>3</td>" in page
    assert f'src="{DATA_URI_PNG}"' in page
    assert '<a href="https://numpy.org/doc/">NumPy\'s documentation</a>' in page
    assert '<img alt="my plot" src="plot.png"/>' in page


def test_markdown_cannot_end_its_cleaned_html_early():
    sanitizer = SanitizeStudentHTML()
    for text in (
        "a&#13;&#13;b `[x](javascript:alert('XSS-cr'))`",
        "a\n\n```\nb\n\n[y](javascript:alert('XSS-blank-line'))\n```",
    ):
        stored = sanitizer.cleaned_markdown(text, {})
        assert "javascript:alert" in stored  # kept, as text
        assert [part for part in active(render_markdown(stored, {})) if MARKER in part] == []


def test_the_course_text_is_shown_as_written(course):
    page = feedback(course, "ada")
    assert "<code>stride &lt; f</code>" in page
    # $$db_{c} \mathrel{+}= dZ_{i,h,w,c}$$, drawn as MathML (feedback_page.py), not mangled
    assert "<mi>d</mi><msub><mi>b</mi><mrow><mi>c</mi></mrow></msub><mo>+=</mo><mi>d</mi><msub><mi>Z</mi>" in page


def test_formgrader_in_a_browser_runs_no_student_script(course, browser, tmp_path):
    """Formgrader itself, in JupyterLab's server, opened in Chromium: no alert of the student's
    fires, no javascript: link is there to click, and her HTML file is not served."""
    from lab_in_browser import JupyterLab

    with Gradebook(f"sqlite:///{course['root'] / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "mallory").id
    server = JupyterLab(course["root"], tmp_path / "home").start()
    context = browser.new_context()
    try:
        page, alerts = context.new_page(), []
        page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
        address = f"http://127.0.0.1:{server.port}/formgrader/submissions/{submission}"
        assert page.goto(f"{address}/?token={server.token}").status == 200  # after its load event
        page.get_by_text("my own words").wait_for()
        links = page.locator('a[href^="javascript:"]').count()
        served = page.goto(f"{address}/page.html").status
        assert (alerts, links, served) == ([], 0, 404)
    finally:
        context.close()
        killed = server.stop()
    assert killed == []


def test_files_beside_the_notebook_are_not_served_from_the_autograded_folder_but_images(course):
    graded = course["root"] / "autograded" / "mallory" / ASSIGNMENT
    course_files = [
        path.name
        for path in (ROOT / "source" / ASSIGNMENT).iterdir()
        if path.suffix != ".ipynb" and path.name != "__pycache__"
    ]
    assert sorted(path.name for path in graded.iterdir()) == sorted(
        [f"{ASSIGNMENT}.ipynb", "timestamp.txt", "submission_secret.txt", "plot.png", *course_files]
    )
    assert (course["root"] / "submitted" / "mallory" / ASSIGNMENT / "page.html").is_file()
    assert not (course["root"] / "feedback" / "mallory" / ASSIGNMENT / "page.html").exists()


# ---- 3. autograde fails loudly, and the export says so --------------------------------------------


def test_a_plugin_that_cannot_be_imported_fails_autograde_instead_of_grading_in_nbgraders_kernel(course, tmp_path):
    broken = tmp_path / "course"
    shutil.copytree(course["root"], broken)
    config = broken / "nbgrader_config.py"
    config.write_text(
        config.read_text().replace('"autograder.integrations."', '"autograder.integrations.no_such_plugin."')
    )
    shutil.rmtree(broken / "autograded")
    result = run_nbgrader(["autograde", ASSIGNMENT, "--student=ada", "--force"], broken)
    assert result.returncode != 0
    assert "no_such_plugin" in result.stdout + result.stderr
    assert not (broken / "autograded").exists()


def test_a_submission_autograde_failed_on_is_exported_with_a_note(tmp_path):
    (tmp_path / "submitted" / "dora" / ASSIGNMENT).mkdir(parents=True)
    (tmp_path / "submitted" / "emil" / ASSIGNMENT).mkdir(parents=True)
    (tmp_path / "autograded" / "emil" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(), str(tmp_path / "autograded" / "emil" / ASSIGNMENT / "x.ipynb"))
    assert "not autograded" in submission_notes(tmp_path, "dora", ASSIGNMENT)
    assert submission_notes(tmp_path, "emil", ASSIGNMENT) == ""
    assert submission_notes(tmp_path, "fynn", ASSIGNMENT) == ""  # no submission, no note


# ---- 4. assignment 2's large cases, through nbgrader ---------------------------------------------

MNIST = "conv_mnist"


@pytest.fixture(scope="module")
def mnist_course(tmp_path_factory):
    """Assignment 2 autograded by nbgrader: two cheats at pool_backward_fast's large case and the
    honest submission with the same kind of wrong helper; then exported."""
    course = tmp_path_factory.mktemp("hostile-mnist") / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "source" / MNIST, course / "source" / MNIST, ignore=shutil.ignore_patterns("__pycache__"))
    nbgrader(["generate_assignment", MNIST, "--force"], course)
    release = nbformat.read(str(course / "release" / MNIST / f"{MNIST}.ipynb"), as_version=4)
    source = nbformat.read(str(course / "source" / MNIST / f"{MNIST}.ipynb"), as_version=4)
    for student, cheat in [
        ("forger", mnist_cheats.FORGED_HELPER_NOT_RECORDED),
        ("caller", mnist_cheats.HELPER_CALLED_ONLY),
        ("honest", mnist_cheats.HELPER_WRONG_EVERYWHERE),
    ]:
        notebook = solved(release, source)
        notebook.cells.append(new_code_cell(cheat))
        folder = course / "submitted" / student / MNIST
        folder.mkdir(parents=True)
        nbformat.write(notebook, str(folder / f"{MNIST}.ipynb"))
        (folder / "timestamp.txt").write_text("2026-12-05 12:00:00.000000 UTC")
    nbgrader(["autograde", MNIST, "--force"], course)
    nbgrader(["export"], course)
    return {"root": course}


def test_a_wrong_helper_excuses_no_large_case_left_undone_through_nbgrader(mnist_course):
    """forger raises the stand-in's HelperNotRecorded on pool_backward_fast's large case, caller only
    calls the helper there: each loses that case and the helper's (98.33 on the old judge); honest,
    whose pool_backward_fast is right, loses only its wrong pool_forward_fast."""
    scores = {student: float(row["score"]) for student, row in grades(mnist_course).items()}
    assert scores == {"forger": 96.66, "caller": 96.66, "honest": 90.0}
