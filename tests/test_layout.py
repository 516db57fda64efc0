"""The package's structure as docs/design.md draws it: shared modules, then the three parts (grading,
build, integrations), then the entry points. Every module imports only from modules listed before
it, so no import runs back up the pipeline and a newcomer can read the modules in this order."""

import ast
import re
from pathlib import Path

from autograder.course import REPO_ROOT

ORDER = [
    # shared: where the course is, what can be wrong, recognisers, the assignments, notebook cells
    "course",
    "problems",
    "hints",
    "assignments",
    "notebook_code",
    # grading: the learner side -> cases -> isolation -> session -> verdicts -> results -> one -> many -> a class
    "grading.runner",
    "grading.reference",
    "grading.sandbox.limits",
    "grading.sandbox.kinds",
    "grading.sandbox.uids",
    "grading.sandbox.footprint",
    "grading.sandbox.filesystem",
    "grading.sandbox.fork_servers",
    "grading.sandbox.learner",
    "grading.sandbox.probe",
    "grading.sandbox.stopping",
    "grading.sandbox",
    "grading.session",
    "grading.judge",
    "grading.results",
    "grading.grade",
    "grading.batch",
    "grading.report",
    # in the learner's kernel
    "check",
    # build
    "build.images",
    "build.self_study",
    "build.nbgrader_run",
    "build.run_all_tags",
    "build.regenerate",
    # integrations
    "integrations.exchange",
    "integrations.nbgrader_steps",
    "integrations.grading_ahead",
    "integrations.autograding",
    "integrations.released_cells",
    "integrations.sanitizing",
    "integrations.course_figures",
    "integrations.invalid_submissions",
    "integrations.autograded_files",
    "integrations.csv_export",
    "integrations.nbgrader_plugin",
    "integrations.feedback_page",
    "integrations.gradescope",
    # entry points
    "__main__",
    "__init__",
]
PACKAGE = REPO_ROOT / "autograder"
PARTS = ("grading", "build", "integrations")


def module_name(path: Path) -> str:
    """`grading.judge` for autograder/grading/judge.py; `assignments` for anything in assignments/;
    a part's own __init__ is the part's first module; a package's within a part is the package
    (`grading.sandbox` for grading/sandbox/__init__.py)."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[0] == "assignments":
        return "assignments"
    if parts[0] in PARTS and parts[1:] == ("__init__",):
        return next(name for name in ORDER if name.startswith(parts[0] + "."))
    if len(parts) > 2 and parts[-1] == "__init__":
        return ".".join(parts[:-1])
    return ".".join(parts)


def imported_modules(path: Path) -> set[str]:
    """The package's modules that a file imports relatively, named as in ORDER."""
    here = path.relative_to(PACKAGE).parent.parts
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level >= 1:
            base = here[: len(here) - (node.level - 1)]
            targets = [node.module] if node.module else [alias.name for alias in node.names]
            for target in targets:
                dotted = ".".join([*base, *target.split(".")])
                if dotted in PARTS:  # `from ..grading import runner, sandbox`
                    found |= {f"{dotted}.{alias.name}" for alias in node.names}
                else:
                    found.add("assignments" if dotted.startswith("assignments") else dotted)
    return found


def package_files() -> list[Path]:
    return [path for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts]


def test_every_module_is_placed():
    assert {module_name(path) for path in package_files()} == set(ORDER)


def test_the_three_parts_are_folders():
    assert all((PACKAGE / part / "__init__.py").is_file() for part in PARTS)


def test_no_module_imports_from_a_later_one():
    upward, unknown = [], []
    for path in package_files():
        module = module_name(path)
        if module == "assignments":
            continue  # assignments/ importing its own modules; its imports of hints and problems are below
        for used in imported_modules(path):
            if used not in ORDER:
                unknown.append((module, used))
            elif ORDER.index(used) > ORDER.index(module):
                upward.append((module, used))
    assert unknown == [] and upward == []


def test_assignments_import_only_shared_modules():
    for path in (PACKAGE / "assignments").glob("*.py"):
        used = {name for name in imported_modules(path) if name != "assignments"}
        assert used <= {"course", "problems", "hints"}, path


def test_an_older_nbgrader_config_still_finds_every_plug_in():
    """An instructor's copy of nbgrader_config.py from before the split names the plug-ins in
    nbgrader_plugin; nbgrader imports them by name, and gets the ones the course config names now."""
    from traitlets.utils.importstring import import_item

    config = (REPO_ROOT / "nbgrader_config.py").read_text(encoding="utf-8")
    prefix = re.search(r'^PLUGIN = "([\w.]+)"', config, re.MULTILINE)[1]
    current = {name.split(".")[-1]: prefix + name for name in re.findall(r'PLUGIN \+ "([\w.]+)"', config)}
    assert len(current) == 8
    for plug_in, name in current.items():
        assert import_item(f"autograder.integrations.nbgrader_plugin.{plug_in}") is import_item(name), plug_in
