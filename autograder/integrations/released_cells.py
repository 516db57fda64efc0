"""Autograde's first pass: a grade cell exactly as released is put back without a false alarm.

RestoreReleasedGradeCells replaces nbgrader's OverwriteCells in autograde's sanitize_preprocessors:
stock nbgrader logs "checksum has changed" for every untouched hidden-test cell, since the release
drops the hidden tests the gradebook recorded; a cell the student really changed is still reported.
"""

from nbformat import NotebookNode
from nbgrader.api import MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor, OverwriteCells

from .autograding import visible_part
from .nbgrader_steps import NotebookCells, run_gradebook


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
