"""Where things live in the course repository, relative to its root."""

from pathlib import Path

#: The repository this package was imported from (an editable install points here).
REPO_ROOT = Path(__file__).resolve().parents[1]

#: Assignments in course order; each has source/<name>/<name>.ipynb.
ASSIGNMENTS = ("conv_step_by_step", "conv_mnist")


def source_notebook(root: Path, assignment: str) -> Path:
    return root / "source" / assignment / f"{assignment}.ipynb"


def release_dir(root: Path, assignment: str) -> Path:
    return root / "release" / assignment


def reference_file(root: Path, assignment: str) -> Path:
    return root / "autograder" / "reference" / f"{assignment}.h5"


def provided_modules(root: Path, assignment: str) -> dict[str, str]:
    """{module name: source} of the Python files released with an assignment (e.g. mnist_tools)."""
    folder = release_dir(root, assignment)
    return {path.stem: path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.py"))}
