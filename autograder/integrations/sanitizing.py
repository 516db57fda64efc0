"""Cleaning what a student wrote (markdown, raw cells, saved outputs) in the autograded notebook.

That notebook is all that feedback and Formgrader render, in the instructor's logged-in session:
SanitizeStudentHTML (an autograde step) keeps any script of the student's from running there. The
release's own markdown (course_markdown) is the course's and stays as it is.
"""

import html
from pathlib import Path

import bleach
import nbformat
from bleach.css_sanitizer import CSSSanitizer
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.preprocessors.sanitize import SanitizeHTML
from nbformat import NotebookNode
from traitlets import Any, Bool, List, Unicode

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
