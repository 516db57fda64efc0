"""nbgrader configuration: the repository root is the course directory.

`nbgrader autograde` grades through the course's isolated grader instead of running student
code in its own kernel (see autograder/nbgrader_plugin.py and the README).
"""
import os

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput, SaveAutoGrades

from autograder.nbgrader_plugin import CsvExportWithNotes, IsolatedAutograde, stand_in_for_invalid_submissions

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "conv-from-scratch"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# Where release_assignment, submit, collect and the feedback commands meet.
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")

# Autograde: nbgrader's own steps, with its Execute step replaced by the isolated grader.
c.Autograde.autograde_preprocessors = [IsolatedAutograde, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                       SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
c.Autograde.pre_convert_hook = stand_in_for_invalid_submissions

c.ExportApp.plugin_class = CsvExportWithNotes
