"""Feedback pages read right without internet: formulas drawn, each exercise named in the summary.

The class of three is graded with nbgrader's own commands and the course's configuration
(tests/nbgrader_class.py); each page generate_feedback wrote is opened in headless Chromium with
every request that is not the page itself refused, as on a laptop without a connection.
"""

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser

import nbformat
import pytest

from autograder.assignments import exercises
from autograder.integrations.feedback_page import MATHML_TAGS, tex_to_mathml
from class_of_three import SCORES
from conftest import ASSIGNMENT, ROOT
from nbgrader_class import graded_course

#: What a page shows when its formulas were left for MathJax.
RAW_TEX = ("$$", "\\frac", "\\left", "\\sum", "\\text{", "_{")


#: What Formgrader's "Generate Feedback" button runs (nbgrader's NbGraderAPI, which sets
#: HTMLExporter.template_name = "feedback" itself), in the course folder.
FORMGRADER_BUTTON = f"""
from nbgrader.apps import NbGraderAPI
from nbgrader.apps.baseapp import NbGrader
app = NbGrader()
app.initialize([])
result = NbGraderAPI(coursedir=app.coursedir, parent=app).generate_feedback({ASSIGNMENT!r}, "half", force=True)
assert result["success"], result
"""


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return graded_course(tmp_path_factory.mktemp("feedback"))


@pytest.fixture(scope="module")
def pages(course):
    """{student: their feedback page}, as generate_feedback wrote it."""
    return {s: course / "feedback" / s / ASSIGNMENT / f"{ASSIGNMENT}.html" for s in SCORES}


def display_formulas() -> int:
    """How many $$...$$ formulas the release's markdown has."""
    release = nbformat.read(str(ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)
    return sum(cell.source.count("$$") // 2 for cell in release.cells if cell.cell_type == "markdown")


def opened_offline(browser, path, screenshot=None):
    """Open the page with every request but file: and data: refused; (page's facts, refused URLs)."""
    context = browser.new_context(viewport={"width": 1100, "height": 1400})
    refused = []

    def only_local(route):
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page = context.new_page()
    page.route("**/*", only_local)
    try:
        page.goto(path.as_uri())
        facts = page.evaluate(
            """() => ({
                text: document.body.innerText,
                maths: [...document.querySelectorAll('math')].map(m => ({
                    display: m.getAttribute('display'),
                    width: m.getBoundingClientRect().width,
                    height: m.getBoundingClientRect().height,
                })),
                summary: [...document.querySelectorAll('#toc li')].map(li => li.innerText.trim()),
            })"""
        )
        if screenshot:
            page.locator("math").nth(1).scroll_into_view_if_needed()
            page.screenshot(path=str(screenshot))
    finally:
        context.close()
    return facts, refused


@pytest.mark.slow  # runs nbgrader and a browser
def test_formulas_are_drawn_without_internet(pages, browser, screenshots):
    expected = display_formulas()
    assert expected >= 8
    for student, path in pages.items():
        facts, refused = opened_offline(browser, path, screenshots / f"feedback-{student}.png")
        assert refused == [], (student, refused)
        assert len(facts["maths"]) == expected, student
        for math in facts["maths"]:
            assert math["display"] == "block" and math["width"] > 100 and math["height"] > 15, (student, math)
        shown = [tex for tex in RAW_TEX if tex in facts["text"]]
        assert shown == [], (student, shown)


@pytest.mark.slow
def test_the_page_is_one_file_that_loads_nothing(pages):
    for student, path in pages.items():
        html = path.read_text(encoding="utf-8")
        assert "<script" not in html and "mathjax" not in html.lower(), student
        assert re.findall(r'<(?:link|img|iframe)[^>]*(?:src|href)="(?!data:)[^"]*"', html) == [], student


@pytest.mark.slow
def test_the_summary_names_each_exercise_with_its_points(pages, browser):
    facts, _ = opened_offline(browser, pages["half"])
    summary = facts["summary"]
    listed = exercises(ASSIGNMENT)
    assert [line.split(" (")[0] for line in summary] == [ex.name for ex in listed]
    for line, ex in zip(summary, listed):
        done = ex.name in ("zero_pad", "conv_single_step", "conv_forward", "pool_forward")
        assert line == f"{ex.name} ({ex.points:g} points): {ex.points if done else 0:g} / {ex.points:g}"
    assert not any("Test cell" in line for line in summary)


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.seen = []

    def handle_starttag(self, tag, attrs):
        self.seen.append((tag, dict(attrs)))


def tags_in(html: str) -> list[tuple[str, dict]]:
    parser = Tags()
    parser.feed(html)
    return parser.seen


@pytest.mark.parametrize(
    "tex",
    [
        r"\text{<img src=x onerror=alert(1)>}",
        r"\text{</mtext></math><script>alert(1)</script>}",
        r"\mathrm{<a href='javascript:alert(1)'>x</a>}",
        r"\frac{a}{b} \text{<iframe src=//evil>}",
    ],
)
def test_a_formula_cannot_carry_html_into_the_page(tex):
    """latex2mathml copies \\text{...} through unescaped: what reaches the page is MathML only."""
    for display in (True, False):
        tags = tags_in(tex_to_mathml(tex, display))
        assert tags and {tag for tag, _ in tags} <= MATHML_TAGS, tags
        assert not any(name.startswith("on") or "javascript" in value for _, a in tags for name, value in a.items())


def test_a_formula_that_cannot_be_read_is_shown_as_text():
    assert tex_to_mathml(r"\left( a < b", display=False) == '<code class="tex">$\\left( a &lt; b$</code>'


@pytest.mark.slow
def test_formgraders_button_makes_the_same_page(course, tmp_path):
    copy = tmp_path / "course"
    shutil.copytree(course, copy)
    shutil.rmtree(copy / "feedback")
    run = subprocess.run([sys.executable, "-c", FORMGRADER_BUTTON], cwd=copy, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    html = (copy / "feedback" / "half" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text(encoding="utf-8")
    assert html.count("<math") == display_formulas() and "<script" not in html
    assert '<a href="#test_conv_forward">conv_forward</a>' in html and "Test cell" not in html
