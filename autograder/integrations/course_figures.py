"""generate_feedback: the course's figures inside the feedback page (EmbedCourseFigures).

fetch_feedback gives a student the page alone, without the images/ folder its links point to.
"""

import base64
import mimetypes
import re
from pathlib import Path

from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

from .sanitizing import course_markdown

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
