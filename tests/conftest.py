"""Shared helpers: where the course is, and running a notebook in a real kernel."""

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.course import REPO_ROOT, release_dir, source_notebook

ROOT = REPO_ROOT
ASSIGNMENT = "conv_step_by_step"
# The points course-spec.md gives each exercise of assignment 1, written out: the tests hold the
# notebook and the grader to the spec, not to the grader's own table.
POINTS = {
    "zero_pad": 10,
    "conv_single_step": 10,
    "conv_forward": 20,
    "pool_forward": 15,
    "conv_backward": 15,
    "create_mask_from_window": 5,
    "distribute_value": 5,
    "pool_backward": 20,
}

# Kernels, JupyterLab and nbgrader started by the tests inherit this: on a loaded machine a second
# BLAS thread mostly waits for the processor (training took 216 s instead of about 20). The grader's
# learner processes run with one thread anyway; tests/test_build.py sets its own thread counts.
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(variable, "1")


def execute(notebook_path: Path, allow_errors: bool = False, timeout: int = 300):
    """Run a notebook top to bottom in a fresh python3 kernel, in its own folder; return it."""
    notebook = nbformat.read(str(notebook_path), as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(notebook_path.parent)}},
    )
    client.execute()
    return notebook


def grade_id(cell) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id", "")


def plant(notebook, function: str, old: str, new: str):
    """A copy of `notebook` with `old` replaced by `new` in the cell that defines `function`: one mistake."""
    notebook = nbformat.from_dict(json.loads(json.dumps(notebook)))
    (cell,) = [cell for cell in notebook.cells if grade_id(cell) == function]
    assert old in cell.source, (function, old)
    cell.source = cell.source.replace(old, new)
    return notebook


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


def isolations_named(log: str) -> list[str]:
    """The isolation IsolatedAutograde names for each submission in nbgrader's log, sorted."""
    return sorted(
        line.split("(isolation: ")[1].split(")")[0]
        for line in log.splitlines()
        if "Isolated grader (isolation: " in line
    )


@pytest.fixture(scope="session")
def source_path() -> Path:
    return source_notebook(ROOT, ASSIGNMENT)


@pytest.fixture(scope="session")
def release_path() -> Path:
    return release_dir(ROOT, ASSIGNMENT) / f"{ASSIGNMENT}.ipynb"


# ---- the browser tests: JupyterLab on loopback and headless Chromium (tests/lab_in_browser.py) -------


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """Where the browser tests save what they saw: $BROWSER_SCREENSHOTS, or a pytest temporary folder."""
    import os

    folder = (
        Path(os.environ["BROWSER_SCREENSHOTS"])
        if os.environ.get("BROWSER_SCREENSHOTS")
        else tmp_path_factory.mktemp("screenshots")
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium driven by Playwright; afterwards no process it started is left."""
    import os
    import time

    from playwright.sync_api import sync_playwright

    from lab_in_browser import CHROMIUM_FLAGS, alive, chromium_executable, descendants

    executable = chromium_executable()
    if executable is None:
        pytest.skip("no Chromium executable")
    before, started = descendants(os.getpid()), set()
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        # Playwright's driver and Chromium, and later whatever they start: not the processes the rest
        # of the session starts meanwhile (an in-process grader's fork server lives until exit).
        launched = descendants(os.getpid()) - before
        try:
            yield chromium
        finally:
            started = launched.union(*(descendants(pid) for pid in launched))
            chromium.close()
    finally:
        playwright.stop()
    for _ in range(100):
        if not any(alive(pid) for pid in started):
            break
        time.sleep(0.1)
    assert not [pid for pid in started if alive(pid)], "Chromium or Playwright left processes behind"


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """JupyterLab serving an empty temporary folder, from a temporary home; stopped by its own Popen."""
    from lab_in_browser import JupyterLab

    server = JupyterLab(tmp_path_factory.mktemp("lab-root"), tmp_path_factory.mktemp("lab-home")).start()
    try:
        yield server
    finally:
        killed = server.stop()
    assert killed == [], f"processes of the server still running after it stopped: {killed}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so a fixture can tell that its test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(request, browser, lab, screenshots):
    """A fresh browser tab (tall viewport); afterwards its kernels are shut down and gone.

    When the test fails, the tab is saved as screenshots/FAILED-<test>.png."""
    import time

    context = browser.new_context(viewport={"width": 1280, "height": 2000})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    try:
        yield tab
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            tab.screenshot(path=str(screenshots / f"FAILED-{request.node.name}.png"))
        context.close()
        lab.shut_down_kernels()
        for _ in range(300):
            if not lab.leftovers():
                break
            time.sleep(0.1)
    assert lab.leftovers() == [], "kernels still running after the test"
