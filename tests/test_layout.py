"""The package's structure as the README draws it: every module imports only from modules listed
before it (shared, then grading, in-kernel checking, build, integrations, entry points), so no
import runs back up the pipeline and a newcomer can read the modules in this order."""

import ast

from autograder import paths

ORDER = [
    # shared
    "paths",
    "problems",
    "hints",
    "assignments",
    "runner",
    "reference",
    "notebook_code",
    # grading: isolation -> session -> verdicts -> results -> one notebook -> many
    "sandbox",
    "session",
    "judge",
    "results",
    "grade",
    "batch",
    # in the learner's kernel
    "check",
    # build
    "notebook_images",
    "self_study",
    "nbgrader_run",
    "build",
    # integrations
    "nbgrader_plugin",
    "gradescope",
    # entry points
    "__main__",
    "__init__",
]
PACKAGE = paths.REPO_ROOT / "autograder"


def imported_modules(path) -> set[str]:
    """The package's modules that a file imports relatively (from . import x, from .x import y)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level >= 1:
            inside_assignments = path.parent.name == "assignments" and node.level == 1
            if inside_assignments:
                continue  # assignments/ importing its own __init__
            found |= {node.module.split(".")[0]} if node.module else {alias.name for alias in node.names}
    return found & set(ORDER)


def test_every_module_is_placed():
    modules = {
        path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        for path in PACKAGE.rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert modules == set(ORDER)


def test_no_module_imports_from_a_later_one():
    upward = []
    for path in PACKAGE.rglob("*.py"):
        module = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        upward += [(module, used) for used in imported_modules(path) if ORDER.index(used) > ORDER.index(module)]
    assert upward == []
