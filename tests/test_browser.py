"""The self-study notebooks as a learner sees them: JupyterLab in headless Chromium.

Each test copies notebooks/ into the server's folder (as shipped, with the reference solutions
filled in, or with one mistake), opens the notebook in a fresh tab, runs it from the menu or
cell by cell, and reads what the page shows. Screenshots go to $BROWSER_SCREENSHOTS or a pytest
temporary folder.
"""

import os
import re
import shutil

import nbformat
import pytest

from autograder.build.images import referenced_images
from autograder.course import Course, source_notebook
from autograder.grading.reference import read_all_cases
from conftest import POINTS, ROOT, grade_id
from lab_in_browser import (
    chromium_executable,
    input_text,
    markdown_images,
    open_notebook,
    output_images,
    output_text,
    run_all,
    run_cell,
    screenshot,
    scroll_to_top,
    shown,
    shows_traceback,
    wait_until_executed,
)

pytestmark = pytest.mark.slow  # left out of the quick run: pytest -m "not slow"

if chromium_executable() is None:
    pytest.skip("no Chromium executable (Debian: apt-get install chromium)", allow_module_level=True)

NOT_YET = "… {name} is not implemented yet: write it in its cell above, run that cell, then run this one."
STUB_LINE = r"… \w+ is not implemented yet: this cell runs once it is\."
STEP = "conv_step_by_step"
MNIST = "conv_mnist"


def solutions(assignment: str) -> dict[str, str]:
    """{function name: reference solution source} from the source notebook's solution cells."""
    source = nbformat.read(str(source_notebook(ROOT, assignment)), as_version=4)
    return {grade_id(cell): cell.source for cell in source.cells if cell.metadata.get("nbgrader", {}).get("solution")}


def learner_copy(root, folder: str, assignment: str, filled: dict[str, str]):
    """notebooks/ copied to root/folder, with the cells defining each function of `filled` replaced; the notebook."""
    shutil.copytree(ROOT / "notebooks", root / folder, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_*"))
    path = root / folder / f"{assignment}.ipynb"
    notebook = nbformat.read(str(path), as_version=4)
    for name, source in filled.items():
        (cell,) = [c for c in notebook.cells if c.cell_type == "code" and c.source.startswith(f"def {name}(")]
        cell.source = source
    nbformat.write(notebook, str(path))
    return notebook


def code_cells(notebook) -> list[int]:
    return [i for i, c in enumerate(notebook.cells) if c.cell_type == "code"]


def check_cells(notebook) -> dict[str, int]:
    """{function name: index} of the check(...) cells."""
    return {
        m.group(1): i for i, c in enumerate(notebook.cells) if (m := re.fullmatch(r"check\((\w+)\)", c.source.strip()))
    }


def public_cells(notebook) -> list[int]:
    """The public checks: cells that call compare(...) (not the setup cell that defines it)."""
    return [
        i
        for i, c in enumerate(notebook.cells)
        if c.cell_type == "code" and "compare(" in c.source and "def compare(" not in c.source
    ]


def open_and_run_all(page, lab, path: str, notebook, timeout: float = 180_000) -> None:
    open_notebook(page, lab, path, len(notebook.cells))
    run_all(page)
    wait_until_executed(page, code_cells(notebook), timeout=timeout)


def test_shipped_notebook_figures_render_and_checks_say_not_yet(page, lab, screenshots):
    notebook = learner_copy(lab.root, "shipped", STEP, {})
    open_notebook(page, lab, f"shipped/{STEP}.ipynb", len(notebook.cells))
    expected = referenced_images(notebook)
    images = markdown_images(page, len(expected))
    assert len(images) == len(expected) == 7
    for image in images:
        assert image["naturalWidth"] > 0, f"figure not shown: {image['src']}"
    shown_files = [re.search(r"/files/shipped/(images/[^?]+)", image["src"]).group(1) for image in images]
    assert shown_files == expected and "images/conv_sliding.gif" in shown_files
    screenshot(page, screenshots / "step_shipped_top.png")

    run_all(page)
    wait_until_executed(page, code_cells(notebook), timeout=180_000)
    checks = check_cells(notebook)
    assert list(checks) == list(POINTS)  # every exercise, in course order
    for name, index in checks.items():
        assert input_text(page, index) == f"check({name})"
        assert output_text(page, index).strip() == NOT_YET.format(name=name)
        assert not shows_traceback(page, index), name
    for index in public_cells(notebook):  # each says its stub in one line
        assert re.fullmatch(STUB_LINE, output_text(page, index).strip()), output_text(page, index)
    assert not [index for index in code_cells(notebook) if shows_traceback(page, index)]
    screenshot(page, screenshots / "step_shipped_conv_forward_check.png", checks["conv_forward"])
    screenshot(page, screenshots / "step_shipped_conv_forward_public.png", checks["conv_forward"] - 1)


def test_shipped_release_run_all_says_each_stub_in_one_line(page, lab, screenshots):
    """The class release (no check() cells) as a student opens it: Run All reaches the last check,
    each public check says its stub in one line, nothing shows a traceback; the hints are folded."""
    shutil.copytree(ROOT / "release" / STEP, lab.root / "release", ignore=shutil.ignore_patterns("__pycache__"))
    notebook = nbformat.read(str(lab.root / "release" / f"{STEP}.ipynb"), as_version=4)
    open_and_run_all(page, lab, f"release/{STEP}.ipynb", notebook)
    (gradient,) = [i for i, c in enumerate(notebook.cells) if "def gradient_check(" in c.source]
    public = [*public_cells(notebook), gradient]
    assert len(public) == 9  # eight exercises and the gradient check
    for index in public:
        assert re.fullmatch(STUB_LINE, output_text(page, index).strip()), output_text(page, index)
    assert not [index for index in code_cells(notebook) if shows_traceback(page, index)]
    hints = page.locator(".jp-RenderedMarkdown details")
    assert hints.count() == 5
    for k in range(hints.count()):
        assert hints.nth(k).locator("summary").text_content() == "Hint"
        assert hints.nth(k).get_attribute("open") is None  # folded until the learner opens it
    screenshot(page, screenshots / "step_release_pool_backward_public.png", public[-2])
    (mask,) = [i for i, c in enumerate(notebook.cells) if "Exercise 6." in c.source]
    hint = shown(page, mask).locator("details")
    hint.locator("summary").click()
    assert "x == np.max(x)" in hint.inner_text()
    screenshot(page, screenshots / "step_release_mask_hint_open.png", mask)


def test_solved_notebook_every_check_passes(page, lab, screenshots):
    notebook = learner_copy(lab.root, "solved", STEP, solutions(STEP))
    open_and_run_all(page, lab, f"solved/{STEP}.ipynb", notebook)
    for index in public_cells(notebook):
        text = output_text(page, index)
        checks = sum(
            notebook.cells[index].source.count(f"{helper}(") for helper in ["compare", "check_contract", "expect"]
        )
        assert text.count("✓") == checks, (index, text)
        assert "✗" not in text and not shows_traceback(page, index), (index, text)
    cases = read_all_cases(Course.repository(ROOT).reference_file(STEP))
    for name, index in check_cells(notebook).items():
        assert output_text(page, index).strip() == f"✓ {name}: all {len(cases[name])} cases pass."
    (gradient,) = [i for i, c in enumerate(notebook.cells) if "def gradient_check(" in c.source]
    assert "✓" in output_text(page, gradient) and "✗" not in output_text(page, gradient)
    screenshot(page, screenshots / "step_solved_conv_forward.png", check_cells(notebook)["conv_forward"] - 1)
    screenshot(page, screenshots / "step_solved_conv_forward_check.png", check_cells(notebook)["conv_forward"])


def test_seeded_mistake_shows_its_hint(page, lab, screenshots):
    filled = solutions(STEP)
    right = "np.sum(a_slice_prev * W) + b.item()"
    assert right in filled["conv_single_step"]
    filled["conv_single_step"] = filled["conv_single_step"].replace(right, "np.sum(a_slice_prev * W)")
    notebook = learner_copy(lab.root, "mistake", STEP, filled)
    open_and_run_all(page, lab, f"mistake/{STEP}.ipynb", notebook)
    index = check_cells(notebook)["conv_single_step"]
    text = output_text(page, index)
    assert text.startswith("✗ conv_single_step:") and "Hint: The bias b is missing" in text, text
    assert not shows_traceback(page, index)
    assert output_text(page, check_cells(notebook)["zero_pad"]).startswith("✓ zero_pad")
    screenshot(page, screenshots / "step_mistake_conv_single_step_check.png", index)


def test_mnist_shipped_opens_and_shows_the_digits(page, lab, screenshots):
    notebook = learner_copy(lab.root, "mnist_shipped", MNIST, {})
    open_notebook(page, lab, f"mnist_shipped/{MNIST}.ipynb", len(notebook.cells))
    setup, load = [i for i in code_cells(notebook)][:2]
    assert "train_images, train_labels, test_images, test_labels = load_digits(" in notebook.cells[load].source
    run_cell(page, setup)
    run_cell(page, load)
    wait_until_executed(page, [setup, load], timeout=120_000)
    assert not shows_traceback(page, setup) and not shows_traceback(page, load), output_text(page, load)
    assert output_text(page, load).startswith("Loaded the 5,000 MNIST digits")
    images = output_images(page, load)
    assert len(images) == 1 and images[0]["naturalWidth"] > 0 and images[0]["naturalHeight"] > 0
    screenshot(page, screenshots / "mnist_shipped_digits.png", load)


def test_mnist_release_run_all_on_stubs_shows_no_traceback(page, lab, screenshots):
    """Assignment 2's class release as a student opens it: Run All goes to the end; each public
    check says its stub in one line, the cells that need what a stub did not make say so in one
    line, and no cell shows a traceback."""
    shutil.copytree(ROOT / "release" / MNIST, lab.root / "mnist_release", ignore=shutil.ignore_patterns("__pycache__"))
    notebook = nbformat.read(str(lab.root / "mnist_release" / f"{MNIST}.ipynb"), as_version=4)
    open_and_run_all(page, lab, f"mnist_release/{MNIST}.ipynb", notebook)
    public = public_cells(notebook)
    assert len(public) >= 7
    for index in public:
        assert re.fullmatch(STUB_LINE, output_text(page, index).strip()), output_text(page, index)
    assert not [index for index in code_cells(notebook) if shows_traceback(page, index)]
    screenshot(page, screenshots / "mnist_release_stub_check.png", public[0])


def quick_training(root, folder: str) -> None:
    """Set the notebook's EPOCHS cell to the quick run it offers: this test checks the plumbing
    (bar, accuracy line, checks), and tests/test_conv_mnist.py trains the full run once."""
    path = root / folder / f"{MNIST}.ipynb"
    notebook = nbformat.read(str(path), as_version=4)
    (cell,) = [c for c in notebook.cells if c.cell_type == "code" and c.source.startswith("EPOCHS = 15")]
    cell.source = cell.source.replace("EPOCHS = 15", "EPOCHS = 5", 1)
    nbformat.write(notebook, str(path))


def test_mnist_solved_trains_with_a_live_progress_bar(page, lab, screenshots):
    notebook = learner_copy(lab.root, "mnist_solved", MNIST, solutions(MNIST))
    quick_training(lab.root, "mnist_solved")
    (training,) = [i for i, c in enumerate(notebook.cells) if "train(train_step" in c.source]
    open_notebook(page, lab, f"mnist_solved/{MNIST}.ipynb", len(notebook.cells))
    run_all(page)
    bar = shown(page, training).locator(".jp-OutputArea-output .widget-hprogress")
    bar.wait_for(timeout=180_000)  # tqdm's bar appears while the network trains
    screenshot(page, screenshots / "mnist_training_live.png", training)
    wait_until_executed(page, code_cells(notebook), timeout=300_000)
    text = output_text(page, training)
    assert re.search(r"test accuracy: \d+\.\d% on \d+ digits never seen in training", text), text
    assert "100%" in text and "epoch=5/5" in text and not shows_traceback(page, training), text
    for name, index in check_cells(notebook).items():
        assert output_text(page, index).strip().startswith(f"✓ {name}: all"), name
    screenshot(page, screenshots / "mnist_training_done.png", training)


def slider(page, index: int, description: str):
    """The ipywidgets slider labelled `description` in cell `index`'s output."""
    return shown(page, index).locator(".widget-hslider", has=page.locator(".widget-label", has_text=description))


def press_right(page, index: int, description: str) -> None:
    """Move a slider one step to the right with the keyboard, as a learner can."""
    handle = slider(page, index, description).locator(".noUi-handle")
    handle.focus()
    handle.press("ArrowRight")


def test_convolution_explorer_stride_two_halves_the_output(page, lab, screenshots):
    notebook = learner_copy(lab.root, "explorers", STEP, {})
    (conv,) = [i for i, c in enumerate(notebook.cells) if c.source.startswith("from explorers import conv_explorer")]
    (pool,) = [i for i, c in enumerate(notebook.cells) if c.source.startswith("from explorers import pool_explorer")]
    assert conv < min(check_cells(notebook)["conv_forward"], pool) and pool > check_cells(notebook)["pool_forward"]
    open_notebook(page, lab, f"explorers/{STEP}.ipynb", len(notebook.cells))
    run_cell(page, conv)
    wait_until_executed(page, [conv], timeout=60_000)
    output = shown(page, conv).locator('table[data-role="output"]')
    formula = shown(page, conv).locator('[data-role="formula"]')
    output.wait_for()
    assert slider(page, conv, "stride").locator(".widget-readout").inner_text() == "1"
    assert output.locator("tr").count() == 6 and output.get_attribute("data-cols") == "6"
    assert formula.inner_text().endswith("⌊(6 − 3 + 2·1) / 1⌋ + 1 = 6")
    screenshot(page, screenshots / "explorer_conv_stride1.png", conv)

    press_right(page, conv, "stride")
    shown(page, conv).locator('table[data-role="output"][data-rows="3"]').wait_for()
    assert slider(page, conv, "stride").locator(".widget-readout").inner_text() == "2"
    assert output.locator("tr").count() == 3 and output.get_attribute("data-cols") == "3"
    assert formula.inner_text().endswith("⌊(6 − 3 + 2·1) / 2⌋ + 1 = 3")
    press_right(page, conv, "window")
    step = shown(page, conv).locator('[data-role="step"]', has_text="Z[0, 1] = ")
    step.wait_for()  # the next window: one stride (2 columns) to the right
    assert "starts at row 0, column 2" in step.inner_text()
    screenshot(page, screenshots / "explorer_conv_stride2.png", conv)

    run_cell(page, pool)
    wait_until_executed(page, [pool], timeout=60_000)
    window = shown(page, pool).locator('[data-role="window"]')
    window.wait_for()
    assert window.inner_text().startswith("window at output (0, 0): max = ")
    for role in ("max", "average", "max-gradient", "average-gradient"):
        assert shown(page, pool).locator(f'table[data-role="{role}"]').count() == 1, role
    press_right(page, pool, "window")
    shown(page, pool).locator('[data-role="window"]', has_text="window at output (0, 1)").wait_for()
    screenshot(page, screenshots / "explorer_pool.png", pool)


README_SCREENSHOT = ROOT / "images" / "screenshots" / "jupyterlab.png"


@pytest.mark.skipif(
    os.environ.get("UPDATE_SCREENSHOT") != "1", reason="writes the README's screenshot: UPDATE_SCREENSHOT=1"
)
def test_update_readme_screenshot(browser, lab):
    """images/screenshots/jupyterlab.png: the solved self-study notebook at the convolution explorer."""
    notebook = learner_copy(lab.root, "readme", STEP, solutions(STEP))
    (conv,) = [i for i, c in enumerate(notebook.cells) if c.source.startswith("from explorers import conv_explorer")]
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    try:
        open_and_run_all(page, lab, f"readme/{STEP}.ipynb", notebook)
        page.keyboard.press("Control+b")  # hide the file browser: more room for the notebook
        press_right(page, conv, "window")
        shown(page, conv).locator('[data-role="step"]', has_text="Z[0, 1] = ").wait_for()
        scroll_to_top(page, conv - 1)
        screenshot(page, README_SCREENSHOT)
    finally:
        context.close()
        lab.shut_down_kernels()
