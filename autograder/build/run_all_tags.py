"""The release's Run All behaviour, as a step of `nbgrader generate_assignment`.

The course's nbgrader_config.py puts TagCourseChecks first among GenerateAssignment's
preprocessors, so the release is the same whether the build makes it or an instructor presses
Generate in Formgrader: both run nbgrader with that config.
"""

from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

from ..notebook_code import is_course_check

RUN_ALL_GOES_ON = "raises-exception"


class TagCourseChecks(NbGraderPreprocessor):
    """Tag the course's own code cells (public checks, data loading, training, plots) with
    Jupyter's `raises-exception`, so that Run All goes on past one that fails instead of stopping
    at the first exercise not yet done. With the setup cell's handler, a check that reaches a stub
    says so in one line; the learner's own cells are not tagged, and a real error shows its
    traceback. Grading does not run these cells (notebook_code.is_course_check)."""

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int) -> tuple[NotebookNode, dict]:
        if cell.cell_type == "code" and is_course_check(cell):
            tags = cell.metadata.get("tags", [])
            if RUN_ALL_GOES_ON not in tags:
                cell.metadata["tags"] = [*tags, RUN_ALL_GOES_ON]
        return cell, resources
