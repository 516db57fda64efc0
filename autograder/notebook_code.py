"""Read the code of a notebook and run it: one loader for the reference and for submissions.

Which cells count as the learner's code is decided here, once: every code cell except the
course's own (nbgrader grade cells, and read-only cells other than the setup cell: checks,
data loading, training, plots). IPython magics and shell escapes are not Python; they are
blanked out.
"""

import json
import sys
from pathlib import Path


def nbgrader_metadata(cell: object) -> dict:
    """A cell's nbgrader metadata, or {} when it has none (or something malformed)."""
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    return meta if isinstance(meta, dict) else {}


def is_course_check(cell: dict) -> bool:
    """True for the course's own cells that grading does not run: hidden-test (grade) cells and
    every read-only cell except the setup cell (public checks, data loading, training, plots)."""
    meta = nbgrader_metadata(cell)
    read_only = bool(meta.get("locked")) and not meta.get("solution") and meta.get("grade_id") != "setup"
    return bool(meta.get("grade")) or read_only or str(meta.get("grade_id", "")).startswith("public_")


def without_magics(source: str) -> str:
    """Replace IPython magic (%, %%) and shell (!) lines with `pass`, keeping indentation."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            line = line[: len(line) - len(stripped)] + "pass  # IPython-only line skipped"
        lines.append(line)
    return "\n".join(lines)


def cell_source(cell: dict) -> str:
    """A cell's source as one string (the format allows a list of lines)."""
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(map(str, source))


def learner_code_cells(notebook: dict) -> list[tuple[int, str]]:
    """(cell index, Python source) of every code cell that defines the learner's work.

    `notebook` is the notebook's JSON as a dict (an nbformat NotebookNode works too).
    """
    return [
        (index, without_magics(cell_source(cell)))
        for index, cell in enumerate(notebook["cells"])
        if isinstance(cell, dict) and cell.get("cell_type") == "code" and not is_course_check(cell)
    ]


def load_namespace(path: Path) -> dict:
    """Execute a trusted notebook's learner cells in a fresh namespace and return it.

    Only for notebooks the course wrote (the source's reference solutions): the code runs
    in this process. Submissions are run by the isolated grader instead.
    """
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    namespace = {"__name__": f"notebook:{Path(path).stem}"}
    sys.path.insert(0, str(Path(path).parent))  # the notebook's own modules, as Jupyter's working folder gives
    try:
        for index, source in learner_code_cells(notebook):
            exec(compile(source, f"<{Path(path).name} cell {index}>", "exec"), namespace)
    finally:
        sys.path.remove(str(Path(path).parent))
    return namespace
