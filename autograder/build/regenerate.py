"""The build: regenerate everything generated from the source notebooks, or check it is current.

Every output is first written into a staging folder that mirrors the repository; `build`
then copies it over the repository and `build --check` compares it with what is committed.
Generated, per assignment:
    source/<a>/<a>.ipynb           the source itself, normalised (no outputs or execution counts)
    images/*.png, *.gif            the figures, drawn by images/figures.py from the reference
    source/<a>/images/             copies of the figures that notebook shows (so a copied
                                   assignment folder still displays them)
    autograder/reference/<a>.h5    every case's inputs and reference outputs
    release/<a>/                   the student version, made by nbgrader generate_assignment
    notebooks/<a>.ipynb, notebooks/images/, notebooks/*.py
                                   the self-study edition (check(...) cells), with its figures
                                   and the provided modules it imports
"""

import importlib.util
import shutil
import tempfile
from pathlib import Path

import nbformat

from ..course import ASSIGNMENTS, Course, release_dir, source_notebook
from ..grading.reference import same_content, write_reference
from ..notebook_code import load_namespace
from .images import referenced_images
from .nbgrader_run import run_nbgrader
from .self_study import self_study_edition

FIGURE_SUFFIXES = (".png", ".gif")


def owned_dirs(assignment: str) -> list[Path]:
    """Folders whose whole content the build writes: any other file in them is stale."""
    return [Path("release") / assignment, Path("source") / assignment / "images", Path("notebooks") / "images"]


def normalised(notebook_path: Path) -> str:
    """The notebook's text with outputs, execution counts and run-time metadata removed."""
    notebook = nbformat.read(str(notebook_path), as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in ("execution", "scrolled", "collapsed"):
            cell.metadata.pop(key, None)
    return nbformat.writes(notebook) + "\n"


def draw_figures(root: Path, ref: dict, out_dir: Path) -> list[Path]:
    """Run images/figures.py's draw_all with the reference functions."""
    spec = importlib.util.spec_from_file_location("course_figures", root / "images" / "figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.draw_all(ref, out_dir)


def generate_release(root: Path, staged: Path, assignment: str) -> None:
    """Run nbgrader's generate_assignment on the staged source with the course's nbgrader_config.py,
    in a throw-away course folder: the same command, config and steps as Formgrader's Generate
    (the config's TagCourseChecks tags the course cells for Run All)."""
    with tempfile.TemporaryDirectory() as course:
        course = Path(course)
        shutil.copy(root / "nbgrader_config.py", course)
        shutil.copytree(staged / "source" / assignment, course / "source" / assignment)
        result = run_nbgrader(["generate_assignment", assignment, "--force", "--no-db"], course, own_config_only=True)
        if result.returncode != 0:
            raise RuntimeError(f"nbgrader generate_assignment failed:\n{result.stdout}{result.stderr}")
        shutil.copytree(course / "release" / assignment, staged / "release" / assignment)


def stage(root: Path, staged: Path) -> None:
    """Write every generated file of the course under `staged`, at its repository path."""
    refs = {}
    for assignment in ASSIGNMENTS:
        staged_source = source_notebook(staged, assignment)
        staged_source.parent.mkdir(parents=True, exist_ok=True)
        for module in source_notebook(root, assignment).parent.glob("*.py"):  # provided, hand-written
            shutil.copy(module, staged_source.parent)
        staged_source.write_text(normalised(source_notebook(root, assignment)), encoding="utf-8")
        refs[assignment] = load_namespace(staged_source)
        write_reference(Course.repository(staged).reference_file(assignment), assignment, refs[assignment])

    figures = {path.name: path for path in draw_figures(root, refs["conv_step_by_step"], staged / "images")}
    for assignment in ASSIGNMENTS:
        staged_source = source_notebook(staged, assignment)
        for relative in referenced_images(nbformat.read(str(staged_source), as_version=4)):
            name = Path(relative).name
            if name not in figures:
                raise RuntimeError(f"{staged_source.name} shows {relative}, which images/figures.py does not draw")
            (staged_source.parent / "images").mkdir(exist_ok=True)
            shutil.copy(figures[name], staged_source.parent / "images" / name)
        generate_release(root, staged, assignment)
        write_self_study(staged, assignment)


def write_self_study(staged: Path, assignment: str) -> None:
    """notebooks/<a>.ipynb from the staged release, with the figures it shows beside it."""
    release = release_dir(staged, assignment)
    notebook = self_study_edition(nbformat.read(str(release / f"{assignment}.ipynb"), as_version=4))
    folder = staged / "notebooks"
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / f"{assignment}.ipynb").write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")
    for relative in referenced_images(notebook):
        shutil.copy(release / relative, folder / relative)
    for module in release.glob("*.py"):  # provided modules the notebook imports
        shutil.copy(module, folder / module.name)


def generated_files(staged: Path) -> list[Path]:
    return sorted(path.relative_to(staged) for path in staged.rglob("*") if path.is_file())


def stale_files(root: Path, staged: Path) -> dict[Path, str]:
    """{repository path: why} of the files that differ from the build's output ("stale"), are
    missing, or should not exist."""
    stale = {}
    generated = generated_files(staged)
    for relative in generated:
        committed, fresh = root / relative, staged / relative
        if not committed.exists():
            stale[relative] = "missing"
        elif relative.suffix == ".h5":
            if not same_content(committed, fresh):
                stale[relative] = "stale"
        elif committed.read_bytes() != fresh.read_bytes():
            stale[relative] = "stale"
    for extra in sorted(set(committed_generated(root)) - set(generated)):
        stale[extra] = "not made by the build"
    return stale


def committed_generated(root: Path) -> list[Path]:
    """Files in the places the build owns: its folders and the figures in images/."""
    found = [path for path in (root / "images").glob("*") if path.suffix in FIGURE_SUFFIXES]
    found += Course.repository(root).reference.glob("*.h5")
    found += (root / "notebooks").glob("*.ipynb")
    found += (root / "notebooks").glob("*.py")
    for assignment in ASSIGNMENTS:
        for folder in owned_dirs(assignment):
            found += [path for path in (root / folder).rglob("*") if path.is_file() and "__pycache__" not in path.parts]
    return [path.relative_to(root) for path in found]


def build(root: Path, check: bool) -> list[str]:
    """Regenerate the course under `root`, or with check=True only report stale files."""
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp)
        stage(root, staged)
        stale = stale_files(root, staged)
        if not check:  # only what is stale: equal reference data keeps its committed bytes
            for relative, why in stale.items():
                if why == "not made by the build":
                    (root / relative).unlink()
                else:
                    (root / relative).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(staged / relative, root / relative)
        return [str(relative) if why == "stale" else f"{relative} ({why})" for relative, why in stale.items()]
