"""Where a course's files are: the repository that builds it, and the files that grading reads.

Grading needs two things per assignment and nothing else of the repository: its reference data
and the modules released with the notebook (e.g. mnist_tools.py). A `Course` says where they
are; the caller locates it once (the command line, the nbgrader plug-in, the Gradescope bundle)
and hands it down.
"""

from dataclasses import dataclass
from pathlib import Path

#: The repository this package was imported from (an editable install points here).
REPO_ROOT = Path(__file__).resolve().parents[1]

#: Assignments in course order; each has source/<name>/<name>.ipynb.
ASSIGNMENTS = ("conv_step_by_step", "conv_mnist")


@dataclass(frozen=True)
class Course:
    """What grading reads: `<reference>/<assignment>.h5` and `<provided>/<assignment>/*.py`."""

    reference: Path
    provided: Path

    @classmethod
    def repository(cls, root: Path = REPO_ROOT) -> "Course":
        """The course as the repository holds it: autograder/reference/ and release/."""
        return cls(reference=root / "autograder" / "reference", provided=root / "release")

    @classmethod
    def folder(cls, path: Path) -> "Course":
        """A course in one folder, as the Gradescope bundle ships it: <a>.h5 and <a>/*.py."""
        return cls(reference=Path(path), provided=Path(path))

    def reference_file(self, assignment: str) -> Path:
        return self.reference / f"{assignment}.h5"

    def provided_modules(self, assignment: str) -> dict[str, str]:
        """{module name: source} of the Python files released with `assignment`."""
        folder = self.provided / assignment
        return {path.stem: path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.py"))}


def source_notebook(root: Path, assignment: str) -> Path:
    return root / "source" / assignment / f"{assignment}.ipynb"


def release_dir(root: Path, assignment: str) -> Path:
    return root / "release" / assignment
