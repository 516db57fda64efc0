"""The self-study edition: the student release, with a check(...) cell where grading would happen.

Self-learners have no instructor to grade them, so each hidden-test cell becomes a call to
`autograder.check`, which runs the function on the same public and hidden cases as the grader
and prints a short verdict with a hint.
"""

import re

import nbformat

# The introduction's sentence about grade cells, wherever its lines break.
GRADING_SENTENCE = re.compile(
    r"\s+".join(
        map(
            re.escape,
            "The cell after each check, marked `# Hidden tests`, is where grading happens: leave it as it is.".split(),
        )
    )
)
SELF_STUDY_SENTENCE = (
    "After each check, a `check(...)` cell runs\nyour function on the hidden cases a grader "
    "would use, and names what is wrong with a hint."
)


def with_check_imported(setup: str) -> str:
    """The setup cell's source with `from autograder import check` on the line after NumPy's import."""
    lines = setup.splitlines()
    if "import numpy as np" not in lines:
        raise RuntimeError(
            "the setup cell no longer has the line `import numpy as np`; update autograder/build/self_study.py"
        )
    lines.insert(lines.index("import numpy as np") + 1, "from autograder import check")
    return "\n".join(lines)


def self_study_edition(release_notebook: dict) -> nbformat.NotebookNode:
    """A new notebook: the release with nbgrader metadata removed and grade cells turned into checks.

    The release's course cells carry `raises-exception` (run_all_tags.TagCourseChecks): Run All
    goes past a public check that fails and reaches every check(...) cell.
    """
    notebook = nbformat.from_dict(release_notebook)
    notebook = nbformat.reads(nbformat.writes(notebook), as_version=4)  # a deep copy
    for cell in notebook.cells:
        meta = cell.metadata.pop("nbgrader", {})
        if meta.get("grade"):
            name = meta["grade_id"].removeprefix("test_")
            cell.source = f"check({name})"
        elif meta.get("grade_id") == "setup":
            cell.source = with_check_imported(cell.source)
        elif cell.cell_type == "markdown":
            cell.source = GRADING_SENTENCE.sub(lambda _: SELF_STUDY_SENTENCE, cell.source)
    if not any(SELF_STUDY_SENTENCE in cell.source for cell in notebook.cells):
        raise RuntimeError(
            "the source's introduction no longer has the sentence about grading cells; "
            "update autograder/build/self_study.py"
        )
    return notebook
