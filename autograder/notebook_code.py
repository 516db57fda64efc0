"""Read the code of a notebook and run it: one loader for the reference and for submissions.

Which cells count as the learner's code is decided here, once: every code cell except the
course's own checks (nbgrader grade cells, and locked cells whose grade_id starts with
"public_"). IPython magics and shell escapes are not Python; they are blanked out.
"""
from pathlib import Path

import nbformat


def is_course_check(cell) -> bool:
    """True for the course's check cells: hidden-test (grade) cells and public checks."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) or str(meta.get("grade_id", "")).startswith("public_")


def without_magics(source: str) -> str:
    """Replace IPython magic (%, %%) and shell (!) lines with `pass`, keeping indentation."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            line = line[: len(line) - len(stripped)] + "pass  # IPython-only line skipped"
        lines.append(line)
    return "\n".join(lines)


def learner_code_cells(notebook) -> list[tuple[int, str]]:
    """(cell index, Python source) of every code cell that defines the learner's work."""
    return [
        (index, without_magics(cell.source))
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and not is_course_check(cell)
    ]


def load_namespace(path: Path) -> dict:
    """Execute a trusted notebook's learner cells in a fresh namespace and return it.

    Only for notebooks the course wrote (the source's reference solutions): the code runs
    in this process. Submissions are run by the isolated grader instead.
    """
    notebook = nbformat.read(str(path), as_version=4)
    namespace = {"__name__": f"notebook:{Path(path).stem}"}
    for index, source in learner_code_cells(notebook):
        exec(compile(source, f"<{Path(path).name} cell {index}>", "exec"), namespace)
    return namespace
