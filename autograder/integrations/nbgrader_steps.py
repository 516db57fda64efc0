"""nbgrader's own autograde steps, doing the same work with less repeated set-up (nbgrader_config.py).

- CheckCellMetadataOnce is nbgrader's CheckCellMetadata with the same checks and messages, but
  its JSON schema validator is built once per process (nbgrader's builds and checks the schema
  anew for every cell with nbgrader metadata: about 40 cells here, twice per submission), and
  each distinct cell metadata checked once per run.
- SaveAutoGradesOnce is nbgrader's SaveAutoGrades committing the gradebook once per notebook
  instead of once per grade or solution cell (each commit is a synchronous SQLite write).
- OverwriteKernelspecOnce and AssignLatePenaltiesOnce are nbgrader's OverwriteKernelspec and
  AssignLatePenalties.
- All of them, and the course's own steps, use run_gradebook: one connection to the gradebook
  for the whole run. nbgrader opens a Gradebook per step and notebook, and each one creates an
  engine, checks every table and compiles every query anew (SQLAlchemy caches compiled queries
  per engine): about 10 ms per step and notebook, then several ms per query. NotebookCells
  serves the course's OverwriteCells a notebook's cells read once.
"""

import atexit
import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import jsonschema
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.api import BaseCell, Comment, Grade, Gradebook, MissingEntry
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.nbgraderformat.common import BaseMetadataValidator
from nbgrader.preprocessors import AssignLatePenalties, CheckCellMetadata, OverwriteKernelspec, SaveAutoGrades

_gradebooks: dict[str, Gradebook] = {}


@contextmanager
def run_gradebook(db_url: str) -> Iterator[Gradebook]:
    """The gradebook at `db_url`, over one engine for the whole run: what the block changed is
    committed at its end (rolled back on an error) and its session closed, so each block reads
    the gradebook afresh, as with a Gradebook of its own, and holds no lock after it."""
    if db_url not in _gradebooks:
        _gradebooks[db_url] = Gradebook(db_url)
    gradebook = _gradebooks[db_url]
    try:
        yield gradebook
        gradebook.db.commit()
    except BaseException:
        gradebook.db.rollback()
        raise
    finally:
        gradebook.db.remove()


@atexit.register
def close_gradebooks() -> None:
    while _gradebooks:
        _gradebooks.popitem()[1].close()


class NotebookCells:
    """A gradebook whose find_source_cell and find_graded_cell answer for one notebook from its
    cells read once (nbgrader's OverwriteCells asks once or twice per cell, a query each);
    everything else is the gradebook's."""

    def __init__(self, gradebook: Gradebook, notebook: str, assignment: str):
        self.gradebook, self.notebook, self.assignment = gradebook, notebook, assignment
        found = gradebook.find_notebook(notebook, assignment)
        self.sources = {cell.name: cell for cell in found.source_cells}
        self.graded = {cell.name: cell for cell in [*found.task_cells, *found.grade_cells]}

    def find_source_cell(self, name: str, notebook: str, assignment: str):
        return self.cell(self.sources, name, notebook, assignment)

    def find_graded_cell(self, name: str, notebook: str, assignment: str):
        return self.cell(self.graded, name, notebook, assignment)

    def cell(self, cells: dict, name: str, notebook: str, assignment: str):
        """cells[name], or MissingEntry as the gradebook raises it (also for another notebook)."""
        if (notebook, assignment) != (self.notebook, self.assignment) or name not in cells:
            raise MissingEntry()
        return cells[name]

    def __getattr__(self, name: str):
        return getattr(self.gradebook, name)


class SchemaCheckedOnce(BaseMetadataValidator):
    """nbgrader's schema step of a cell's check (its version, then the schema), with a validator
    built once (jsonschema.validate checks the schema itself and builds a validator on each call),
    and each distinct metadata checked once: most cells carry the release's metadata unchanged."""

    def __init__(self) -> None:
        super().__init__()  # reads nbgrader's schema, v<schema_version>.json
        kind = jsonschema.validators.validator_for(self.schema)
        kind.check_schema(self.schema)
        self.schema_validator = kind(self.schema)
        self.valid: set[str] = set()

    def validate_cell(self, cell: NotebookNode) -> None:
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            return
        if meta.get("schema_version", 0) != self.schema_version:  # nbgrader's own errors for these
            return super().validate_cell(cell)
        seen = json.dumps(meta, sort_keys=True)  # JSON: 1, 1.0 and true stay distinct
        if seen in self.valid:
            return
        error = jsonschema.exceptions.best_match(self.schema_validator.iter_errors(meta))
        if error is not None:
            raise error
        self.valid.add(seen)


class FastMetadataValidator(MetadataValidator, SchemaCheckedOnce):
    """nbgrader's metadata validator (its checks of grade ids, points, cell types and duplicate
    ids) over SchemaCheckedOnce: MetadataValidator's calls to its parent land there."""


@cache
def metadata_validator() -> FastMetadataValidator:
    """One validator for the whole autograde run (nbgrader makes one per notebook and step)."""
    return FastMetadataValidator()


class CheckCellMetadataOnce(CheckCellMetadata):
    """nbgrader's CheckCellMetadata (same checks, same error), with the validator built once."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        validator = metadata_validator()
        try:
            validator.validate_nb(nb)
        except jsonschema.ValidationError:
            return super().preprocess(nb, resources)  # nbgrader's own logging and error
        return nb, resources


class SaveAutoGradesOnce(SaveAutoGrades):
    """nbgrader's SaveAutoGrades with the notebook's grades and comments read in two queries (not
    two per cell) and committed once: the same scores, review flags and "No response." comments,
    written together (or, on an error, not at all). A cell the gradebook does not know fails the
    notebook with MissingEntry, as in SaveAutoGrades."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        info = resources["nbgrader"]
        self.notebook_id, self.assignment_id = info["notebook"], info["assignment"]
        self.student_id, self.db_url = info["student"], info["db_url"]
        with run_gradebook(self.db_url) as self.gradebook:
            notebook = self.gradebook.find_submission_notebook(self.notebook_id, self.assignment_id, self.student_id)
            self.grades, self.comments = (
                dict(
                    self.gradebook.db.query(BaseCell.name, kind)
                    .join(kind, kind.cell_id == BaseCell.id)
                    .filter(kind.notebook_id == notebook.id)
                )
                for kind in (Grade, Comment)
            )
            for index, cell in enumerate(nb.cells):  # SaveAutoGrades.preprocess_cell: the kinds of cell it saves
                nb.cells[index], resources = self.preprocess_cell(cell, resources, index)
        return nb, resources

    def _add_score(self, cell: NotebookNode, resources: dict) -> None:
        """The autograder's score of a grade cell; a manual score, if any, is kept and flagged for review."""
        grade = self.entry(self.grades, cell)
        grade.auto_score, _ = utils.determine_grade(cell, self.log)
        grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None

    def _add_comment(self, cell: NotebookNode, resources: dict) -> None:
        """ "No response." on a solution cell left as released (by its checksum); no comment otherwise."""
        comment = self.entry(self.comments, cell)
        unchanged = cell.metadata.nbgrader.get("checksum") == utils.compute_checksum(cell)
        comment.auto_comment = "No response." if unchanged and not utils.is_task(cell) else None

    def entry(self, entries: dict, cell: NotebookNode):
        """The gradebook's Grade or Comment of this cell, by its grade_id."""
        name = cell.metadata["nbgrader"]["grade_id"]
        if name not in entries:
            raise MissingEntry(f"no grade or comment of cell {name!r} for {self.student_id}'s {self.notebook_id}")
        return entries[name]


class OverwriteKernelspecOnce(OverwriteKernelspec):
    """nbgrader's OverwriteKernelspec: the notebook gets the kernelspec of the source notebook."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        info = resources["nbgrader"]
        with run_gradebook(info["db_url"]) as gradebook:
            kernelspec = gradebook.find_notebook(info["notebook"], info["assignment"]).kernelspec
        if kernelspec is not None and json.loads(kernelspec):
            nb.metadata["kernelspec"] = json.loads(kernelspec)
        return nb, resources


class AssignLatePenaltiesOnce(AssignLatePenalties):
    """nbgrader's AssignLatePenalties: the notebook's late penalty from the configured plug-in
    (none when on time), checked to lie between 0 and the notebook's score."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        info = resources["nbgrader"]
        self.notebook_id, self.assignment_id = info["notebook"], info["assignment"]
        self.student_id, self.db_url = info["student"], info["db_url"]
        self.init_plugin()
        with run_gradebook(self.db_url) as self.gradebook:
            submission = self.gradebook.find_submission(self.assignment_id, self.student_id)
            notebook = self.gradebook.find_submission_notebook(self.notebook_id, self.assignment_id, self.student_id)
            notebook.late_submission_penalty = None
            if submission.total_seconds_late > 0:
                self.log.warning("%s is %s seconds late", submission, submission.total_seconds_late)
                penalty = self.plugin_inst.late_submission_penalty(
                    self.student_id, notebook.score, submission.total_seconds_late
                )
                self.log.warning("Late submission penalty: %s", penalty)
                if penalty is not None:
                    notebook.late_submission_penalty = self._check_late_penalty(notebook, penalty)
        return nb, resources
