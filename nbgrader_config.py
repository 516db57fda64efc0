"""nbgrader configuration: the repository root is the course directory.

`nbgrader autograde` grades through the course's isolated grader instead of running student
code in its own kernel, and cleans what students wrote before feedback and Formgrader show it
(see autograder/integrations/, one module per plug-in, and the README).

The plug-ins are named, not imported: nbgrader only logs an exception raised while this file
is read and goes on with its defaults, which would run student code in its own kernel. Named,
a plug-in that cannot be imported makes autograde fail instead.
"""

import os

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)
PLUGIN = "autograder.integrations."
# nbgrader's own steps with their set-up done once per run (autograder/integrations/nbgrader_steps.py).
STEPS = "autograder.integrations.nbgrader_steps."

c.CourseDirectory.course_id = "conv-from-scratch"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# Where release_assignment, submit, collect and the feedback commands meet.
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")

# Collect takes only submissions owned by the students they name, timed by the file system, and
# says what it refused (see autograder/integrations/exchange.py).
c.ExchangeFactory.collect = "autograder.integrations.exchange.OwnedCollect"

# Generate (the build and Formgrader's Generate alike): nbgrader's own steps, after tagging the
# course's cells so that the students' Run All goes on past a check of an exercise not yet done.
c.GenerateAssignment.preprocessors = [
    "autograder.build.run_all_tags.TagCourseChecks",
    "nbgrader.preprocessors.IncludeHeaderFooter",
    "nbgrader.preprocessors.InstantiateTests",
    "nbgrader.preprocessors.LockCells",
    "nbgrader.preprocessors.ClearSolutions",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.CheckCellMetadata",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.SaveCells",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.ClearMarkScheme",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Autograde's first pass (its checks of the submitted notebook): nbgrader's own steps, with
# OverwriteCells quiet about grade cells exactly as released (stock nbgrader warns "checksum has
# changed" for every hidden-test cell, since the release drops the hidden tests it recorded).
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    STEPS + "OverwriteKernelspecOnce",
    PLUGIN + "released_cells.RestoreReleasedGradeCells",
    STEPS + "CheckCellMetadataOnce",
]
# Autograde: nbgrader's own steps, with its Execute step replaced by the isolated grader, and
# the student's HTML cleaned in the autograded notebook (what feedback and Formgrader render).
# STEPS are nbgrader's own steps with their set-up done once per run instead of per notebook.
c.Autograde.autograde_preprocessors = [
    PLUGIN + "autograding.IsolatedAutograde",
    PLUGIN + "sanitizing.SanitizeStudentHTML",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    STEPS + "SaveAutoGradesOnce",
    STEPS + "AssignLatePenaltiesOnce",
    STEPS + "CheckCellMetadataOnce",
]
# nbconvert checks the notebook against nbformat's schema after each of these steps (13 per
# notebook, twice per submission); once, after the last, is enough: a bad notebook still fails.
c.NotebookExporter.optimistic_validation = True
c.Autograde.pre_convert_hook = PLUGIN + "invalid_submissions.stand_in_for_invalid_submissions"
# After each submission: the student's extra files out of autograded/, and (as root) what autograde
# wrote given to the course folder's owner.
c.Autograde.post_convert_hook = PLUGIN + "autograded_files.finish_submission"
c.GenerateFeedback.post_convert_hook = PLUGIN + "autograded_files.own_feedback"
# Feedback pages read right without internet: formulas as MathML made here (no MathJax from a CDN),
# no script, and a summary naming each exercise (autograder/integrations/feedback_page.py).
c.GenerateFeedback.exporter_class = "autograder.integrations.feedback_page.FeedbackPageExporter"
# Feedback pages carry the course's figures inside them: fetch_feedback gives students the page
# alone, without the images/ folder its links point to.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    PLUGIN + "course_figures.EmbedCourseFigures",
]
# Where no sandbox can be had, autograde fails with the reason; True grades anyway, with student
# code running as you.
c.IsolatedAutograde.unsandboxed = False

# Feedback and Formgrader: nbconvert's own cleaning of outputs at render time as well.
c.HTMLExporter.sanitize_html = True

c.ExportApp.plugin_class = PLUGIN + "csv_export.CsvExportWithNotes"
