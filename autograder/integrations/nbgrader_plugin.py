"""The plug-in names older nbgrader_config.py files give, kept so that an instructor's copy still works.

Those configs name plug-ins as strings such as
"autograder.integrations.nbgrader_plugin.IsolatedAutograde"; each now lives in a module named for
its job, which the repository's own nbgrader_config.py names directly. Nothing here is new code.
"""

from .autograded_files import finish_submission, own_feedback
from .autograding import IsolatedAutograde
from .course_figures import EmbedCourseFigures
from .csv_export import CsvExportWithNotes
from .invalid_submissions import stand_in_for_invalid_submissions
from .released_cells import RestoreReleasedGradeCells
from .sanitizing import SanitizeStudentHTML

__all__ = [
    "CsvExportWithNotes",
    "EmbedCourseFigures",
    "IsolatedAutograde",
    "RestoreReleasedGradeCells",
    "SanitizeStudentHTML",
    "finish_submission",
    "own_feedback",
    "stand_in_for_invalid_submissions",
]
