"""Assignment 2 as learners and instructors meet it: the source trains, the release fails kindly,
the grader grades it, and the fast reference layers agree with the loop versions."""

import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from autograder.assignments.conv_mnist import materialised
from autograder.course import Course, release_dir, source_notebook
from autograder.grading.grade import grade_notebook
from autograder.grading.reference import read_all_cases
from autograder.notebook_code import load_namespace
from conftest import ROOT, execute, grade_id, output_text

pytestmark = pytest.mark.slow  # left out of the quick run: pytest -m "not slow"

ASSIGNMENT = "conv_mnist"
SOURCE = source_notebook(ROOT, ASSIGNMENT)
RELEASE = release_dir(ROOT, ASSIGNMENT) / f"{ASSIGNMENT}.ipynb"


@pytest.fixture(scope="module")
def executed_source(tmp_path_factory):
    folder = tmp_path_factory.mktemp("source")
    shutil.copytree(SOURCE.parent, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    return execute(folder / SOURCE.name, timeout=600)


def test_source_runs_and_reaches_the_accuracy_it_states(executed_source):
    errors = [grade_id(c) for c in executed_source.cells if any(o.output_type == "error" for o in c.get("outputs", []))]
    assert errors == []
    stated = re.search(r"about (\d+)–(\d+)% accuracy", "\n".join(c.source for c in executed_source.cells))
    (training,) = [c for c in executed_source.cells if grade_id(c) == "training"]
    reached = float(re.search(r"test accuracy: ([\d.]+)%", output_text(training)).group(1))
    assert reached >= float(stated.group(1)), (reached, stated.group(0))


def test_source_public_checks_and_hidden_tests_pass(executed_source):
    for cell in executed_source.cells:
        if grade_id(cell).startswith("public_") and "gradient" not in grade_id(cell):
            assert "✓" in output_text(cell) and "✗" not in output_text(cell), grade_id(cell)
        if cell.metadata.get("nbgrader", {}).get("grade"):
            (result,) = [o for o in cell.outputs if o.output_type == "execute_result"]
            assert float(result.data["text/plain"]) == cell.metadata.nbgrader.points, grade_id(cell)
    (progress,) = [c for c in executed_source.cells if grade_id(c) == "progress"]
    assert output_text(progress).splitlines()[-1].startswith("All 7 exercises pass their checks: you are done.")


def test_source_draws_every_plot(executed_source):
    for name in [
        "load_data",
        "prepare_data",
        "plot_history",
        "plot_filters",
        "plot_feature_maps",
        "plot_confusion",
        "plot_mistakes",
    ]:
        (cell,) = [c for c in executed_source.cells if grade_id(c) == name]
        assert [o for o in cell.outputs if "image/png" in o.get("data", {})], name


# The stub each public check of the release reaches first.
FIRST_CALLED = {
    "public_binarize": "binarize",
    "public_conv_windows": "conv_windows",
    "public_conv_forward_fast": "conv_forward_fast",
    "public_conv_backward_fast": "conv_backward_fast",
    "public_layer_gradient_check": "conv_forward_fast",
    "public_pool_forward_fast": "pool_forward_fast",
    "public_pool_backward_fast": "pool_backward_fast",
    "public_softmax_cross_entropy": "softmax_cross_entropy",
    "public_train_step": "train_step",
    "public_network_gradient_check": "conv_forward_fast",  # it checks the forward pass first
}


def test_release_on_stubs_says_each_stub_in_one_line(tmp_path):
    """Run All on the release: every check says its stub in one line, every provided cell after
    the data is skipped in one line (binarize is a stub), and nothing shows a traceback."""
    shutil.copytree(RELEASE.parent, tmp_path, dirs_exist_ok=True)
    notebook = execute(tmp_path / RELEASE.name)
    public = {grade_id(c): c for c in notebook.cells if grade_id(c).startswith("public_")}
    assert list(public) == list(FIRST_CALLED)  # seven exercises, the conv_windows helper and two gradient checks
    for name, cell in public.items():
        assert output_text(cell) == f"… {FIRST_CALLED[name]} is not implemented yet: this cell runs once it is.\n"
    for cell in notebook.cells:
        assert not [o for o in cell.get("outputs", []) if o.output_type == "error"], grade_id(cell)
    for name in ["training", "plot_history", "plot_filters", "plot_feature_maps", "plot_confusion", "plot_mistakes"]:
        (cell,) = [c for c in notebook.cells if grade_id(c) == name]
        assert re.fullmatch(
            r"… skipped: it needs `\w+`, which an earlier cell could not make \(binarize is not "
            r"implemented yet\)\.\n",
            output_text(cell),
        ), (name, output_text(cell))
    code = "\n".join(c.source for c in nbformat.read(str(RELEASE), as_version=4).cells if c.cell_type == "code")
    for solution_only in ["BEGIN SOLUTION", "run_hidden_cases", "np.add.at", "tensordot"]:
        assert solution_only not in code


def loop_conv_forward(A_prev, W, b, hparameters):
    """Four nested loops, as in assignment 1: right, and far too slow for the large case."""
    stride, pad = hparameters["stride"], hparameters["pad"]
    f, n_c = W.shape[0], W.shape[3]
    A = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    m, n_h, n_w = A.shape[0], (A.shape[1] - f) // stride + 1, (A.shape[2] - f) // stride + 1
    Z = np.zeros((m, n_h, n_w, n_c))
    for i in range(m):
        for h in range(n_h):
            for w in range(n_w):
                for c in range(n_c):
                    window = A[i, h * stride : h * stride + f, w * stride : w * stride + f, :]
                    Z[i, h, w, c] = np.sum(window * W[:, :, :, c]) + b[0, 0, 0, c]
    return Z, (A_prev, W, b, hparameters)


def test_grader_gives_source_full_marks_release_zero_and_loops_lose_the_large_case(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    shutil.copy(SOURCE, folder / "source.ipynb")
    shutil.copy(RELEASE, folder / "release.ipynb")
    loops = nbformat.read(str(SOURCE), as_version=4)
    import inspect

    (cell,) = [c for c in loops.cells if grade_id(c) == "conv_forward_fast"]
    cell.source = inspect.getsource(loop_conv_forward).replace("loop_conv_forward", "conv_forward_fast")
    nbformat.write(loops, str(folder / "loops.ipynb"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            str(folder),
            "--results-dir",
            str(tmp_path / "results"),
            "--assignment",
            ASSIGNMENT,
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    scores = {
        name: json.loads((tmp_path / "results" / f"{name}.json").read_text()) for name in ["source", "release", "loops"]
    }
    assert scores["source"]["score"] == 100 and scores["release"]["score"] == 0
    (conv,) = [t for t in scores["loops"]["tests"] if t["name"] == "conv_forward_fast"]
    assert conv["output"].startswith("5 of 6 cases pass.")
    assert "must finish within 3 s" in conv["output"] or "time limit" in conv["output"]


@pytest.fixture(scope="module")
def references():
    return load_namespace(SOURCE), load_namespace(source_notebook(ROOT, "conv_step_by_step"))


def single_max_pool_backward(dA, A_prev, f, stride):
    """The loop reference of assignment 2's pooling backward: each window's gradient to its first maximum."""
    dA_prev = np.zeros(A_prev.shape)
    m, n_h, n_w, n_c = dA.shape
    for i in range(m):
        for h in range(n_h):
            for w in range(n_w):
                for c in range(n_c):
                    window = A_prev[i, h * stride : h * stride + f, w * stride : w * stride + f, c]
                    r, s = divmod(int(np.argmax(window)), f)
                    dA_prev[i, h * stride + r, w * stride + s, c] += dA[i, h, w, c]
    return dA_prev


def test_fast_layers_equal_the_loop_versions_on_every_hidden_case(references):
    fast, loops = references
    cases = read_all_cases(Course.repository(ROOT).reference_file(ASSIGNMENT))
    for case in (
        cases["conv_forward_fast"]
        + cases["conv_backward_fast"]
        + cases["pool_forward_fast"]
        + cases["pool_backward_fast"]
    ):
        x = materialised(case.inputs)
        if "W" in x and "dZ" not in x:
            hp = {"stride": x["stride"], "pad": x["pad"]}
            np.testing.assert_allclose(
                fast["conv_forward_fast"](x["A_prev"], x["W"], x["b"], hp)[0],
                loops["conv_forward"](x["A_prev"], x["W"], x["b"], hp)[0],
                rtol=0,
                atol=1e-10,
            )
        elif "dZ" in x:
            cache = (x["A_prev"], x["W"], x["b"], {"stride": x["stride"], "pad": x["pad"]})
            for mine, theirs in zip(fast["conv_backward_fast"](x["dZ"], cache), loops["conv_backward"](x["dZ"], cache)):
                np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-10)
        elif "dA" in x:
            np.testing.assert_allclose(
                fast["pool_backward_fast"](x["dA"], (x["A_prev"], {"f": x["f"], "stride": x["stride"]})),
                single_max_pool_backward(x["dA"], x["A_prev"], x["f"], x["stride"]),
                rtol=0,
                atol=1e-10,
            )
        else:
            hp = {"f": x["f"], "stride": x["stride"]}
            np.testing.assert_allclose(
                fast["pool_forward_fast"](x["A_prev"], hp)[0],
                loops["pool_forward"](x["A_prev"], hp, mode="max")[0],
                rtol=0,
                atol=1e-10,
            )


def load_layers_bench(monkeypatch):
    """bench/layers.py as a module, its folder first on sys.path as when the script runs."""
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location("bench_layers", ROOT / "bench" / "layers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_chunked_train_step_of_the_bench_equals_the_reference(references, dtype, monkeypatch):
    """The bench's faster variant goes through a batch in chunks of 32: on a batch of 70 (two full
    chunks and a short one) it gives the values of the notebook's plain train_step, in the dtype
    it is given, so that its timing in bench/layers.py is that of the same step."""
    from autograder.assignments.conv_mnist import binary_digits, network

    fast, _ = references
    params, velocity = network(7)
    X, Y = binary_digits(7, 70), np.eye(10)[np.random.RandomState(7).randint(0, 10, 70)]
    cast = lambda d: {k: v.astype(dtype) for k, v in d.items()}
    args = (cast(params), cast(velocity), X.astype(dtype), Y.astype(dtype), 0.05, 0.9)
    chunked, plain = load_layers_bench(monkeypatch).chunked_train_step(fast, *args), fast["train_step"](*args)
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    for mine, theirs in zip(chunked[:2], plain[:2]):
        for k in theirs:
            assert mine[k].dtype == theirs[k].dtype == dtype, k
            np.testing.assert_allclose(mine[k], theirs[k], rtol=rtol, atol=rtol * np.abs(theirs[k]).max())
    assert np.asarray(chunked[2]).dtype == np.asarray(plain[2]).dtype == dtype
    np.testing.assert_allclose(chunked[2], plain[2], rtol=rtol)


def test_reference_train_step_is_the_plain_chain():
    """The solution learners compare theirs with is forward, loss, the six-line backward chain and
    the momentum update: no loop over chunks of the batch (that variant lives in bench/layers.py)."""
    notebook = nbformat.read(str(SOURCE), as_version=4)
    (cell,) = [c for c in notebook.cells if grade_id(c) == "train_step"]
    solution = cell.source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
    lines = [line.strip() for line in solution.splitlines() if line.strip()]
    assert "range(" not in solution and "chunk" not in solution
    assert lines[0].startswith("Z3, cache = forward(params, X)") and len(lines) == 11, lines


def test_stopping_the_training_leaves_the_later_cells_working(tmp_path):
    """The stop button (SIGINT to the kernel, as Jupyter sends it) during the full training: the
    training cell ends normally, says where it stopped, and every later cell runs on that network."""
    shutil.copytree(SOURCE.parent, tmp_path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    notebook = nbformat.read(str(tmp_path / SOURCE.name), as_version=4)
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            if grade_id(cell) == "training":  # 15 epochs take 20 s or more: 5 s in, it is training
                stop = threading.Timer(5.0, os.kill, (client.km.provisioner.process.pid, signal.SIGINT))
                stop.start()
            client.execute_cell(cell, index)
    (training,) = [cell for cell in notebook.cells if grade_id(cell) == "training"]
    assert re.search(r"Stopped by you at step \d+ of 1650", output_text(training)), output_text(training)[-500:]
    assert "test accuracy:" in output_text(training)
    later = notebook.cells[notebook.cells.index(training) + 1 :]
    errors = [
        (grade_id(cell), o.get("ename")) for cell in later for o in cell.get("outputs", []) if o.output_type == "error"
    ]
    assert errors == []
    assert sum(o.output_type == "display_data" for cell in later for o in cell.get("outputs", [])) >= 4  # the plots


def test_a_cell_after_binarize_is_written_is_not_told_binarize_is_not_implemented(tmp_path):
    """Run All on the release stops prepare_data at the binarize stub; the learner then writes
    binarize and runs a cell that needs X_train: the message says to run the cell that makes it
    again, not (as it once did) that binarize is not implemented yet."""
    shutil.copytree(RELEASE.parent, tmp_path, dirs_exist_ok=True)
    notebook = nbformat.read(str(tmp_path / RELEASE.name), as_version=4)
    (solution,) = [c.source for c in nbformat.read(str(SOURCE), as_version=4).cells if grade_id(c) == "binarize"]
    (prepare,) = [k for k, cell in enumerate(notebook.cells) if grade_id(cell) == "prepare_data"]
    notebook.cells[prepare + 1 : prepare + 1] = [
        nbformat.v4.new_code_cell(solution),
        nbformat.v4.new_code_cell("X_train.shape"),
    ]
    nbformat.write(notebook, str(tmp_path / RELEASE.name))
    run = execute(tmp_path / RELEASE.name, allow_errors=True).cells
    assert output_text(run[prepare]).startswith("… binarize is not implemented yet")
    assert output_text(run[prepare + 2]) == (
        "… `X_train` is not made yet: binarize has changed since the cell that makes it stopped; run that cell again.\n"
    )


def test_a_correct_pool_backward_fast_costs_train_step_nothing_when_pool_forward_fast_is_not_written(tmp_path):
    """pool_backward_fast calls pool_forward_fast: when that is not written, pool_backward_fast is
    right only with the reference's answers in its place, and train_step must be given the
    reference's answers for both. A conv layer of the learner's that rounds differently (einsum)
    made the reference's pooling answers miss exact equality inside the learner's pool_backward_fast:
    train_step lost all 20 points in the grader while check(train_step) said it passed."""
    notebook = nbformat.read(str(SOURCE), as_version=4)
    stubs = nbformat.read(str(RELEASE), as_version=4)
    (pool,) = [c for c in notebook.cells if grade_id(c) == "pool_forward_fast"]
    pool.source = next(c.source for c in stubs.cells if grade_id(c) == "pool_forward_fast")
    notebook.cells.append(
        nbformat.v4.new_code_cell(
            "def conv_forward_fast(A_prev, W, b, hparameters):\n"
            "    windows = conv_windows(A_prev, W.shape[0], hparameters['stride'], hparameters['pad'])\n"
            "    return np.einsum('mhwpqc,pqcn->mhwn', windows, W) + b, (A_prev, W, b, hparameters)\n"
        )
    )
    path = tmp_path / "einsum.ipynb"
    nbformat.write(notebook, str(path))
    results = grade_notebook(path, Course.repository(ROOT), ASSIGNMENT)
    scores = {test.exercise: test.score for test in results.tests}
    assert scores["pool_forward_fast"] == 0
    assert (scores["pool_backward_fast"], scores["train_step"]) == (10, 20)
    assert results.score == 90
    (train_step,) = [test for test in results.tests if test.exercise == "train_step"]
    assert "given a correct pool_backward_fast and pool_forward_fast" in train_step.output
