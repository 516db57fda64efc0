"""nbgrader configuration: the repository root is the course directory.

`nbgrader autograde` grades through the course's isolated grader instead of running student
code in its own kernel, and cleans what students wrote before feedback and Formgrader show it
(see autograder/integrations/nbgrader_plugin.py and the README).

The plug-ins are named, not imported: nbgrader only logs an exception raised while this file
is read and goes on with its defaults, which would run student code in its own kernel. Named,
a plug-in that cannot be imported makes autograde fail instead.
"""

import os

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)
PLUGIN = "autograder.integrations.nbgrader_plugin."

c.CourseDirectory.course_id = "conv-from-scratch"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# Where release_assignment, submit, collect and the feedback commands meet.
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")

# Autograde: nbgrader's own steps, with its Execute step replaced by the isolated grader, and
# the student's HTML cleaned in the autograded notebook (what feedback and Formgrader render).
c.Autograde.autograde_preprocessors = [
    PLUGIN + "IsolatedAutograde",
    PLUGIN + "SanitizeStudentHTML",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.Autograde.pre_convert_hook = PLUGIN + "stand_in_for_invalid_submissions"
c.Autograde.post_convert_hook = PLUGIN + "drop_student_files"
# Where no sandbox can be had, autograde fails with the reason; True grades anyway, with student
# code running as you.
c.IsolatedAutograde.unsandboxed = False

# Feedback and Formgrader: nbconvert's own cleaning of outputs at render time as well.
c.HTMLExporter.sanitize_html = True

c.ExportApp.plugin_class = PLUGIN + "CsvExportWithNotes"
