"""Shared helpers: where the course is, and running a notebook in a real kernel."""
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder import paths

ROOT = paths.REPO_ROOT
ASSIGNMENT = "conv_step_by_step"


def execute(notebook_path: Path, allow_errors: bool = False, timeout: int = 300):
    """Run a notebook top to bottom in a fresh python3 kernel, in its own folder; return it."""
    notebook = nbformat.read(str(notebook_path), as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(notebook_path.parent)}})
    client.execute()
    return notebook


def grade_id(cell) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id", "")


def output_text(cell) -> str:
    """Everything a code cell printed or displayed as text."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            parts.append(output.data.get("text/plain", ""))
        elif output.output_type == "error":
            parts.append(f"{output.ename}: {output.evalue}")
    return "".join(parts)


@pytest.fixture(scope="session")
def source_path() -> Path:
    return paths.source_notebook(ROOT, ASSIGNMENT)


@pytest.fixture(scope="session")
def release_path() -> Path:
    return paths.release_dir(ROOT, ASSIGNMENT) / f"{ASSIGNMENT}.ipynb"
