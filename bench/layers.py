"""Benchmark: the reference NumPy layers of "A CNN on MNIST" against PyTorch on the CPU.

What is measured
    The reference solutions of assignment 2 (conv_forward_fast, conv_backward_fast,
    pool_forward_fast, pool_backward_fast, softmax_cross_entropy, train_step), on the shapes of
    the course's network at batch 256 (NHWC for NumPy, NCHW for PyTorch):

        conv1  5x5, 1 -> 8 channels, pad 2, on 28x28      pool1  max 2x2, stride 2, 28x28x8
        conv2  5x5, 8 -> 16 channels, pad 2, on 14x14     pool2  max 2x2, stride 2, 14x14x16
        dense  784 -> 10                                  softmax-CE  loss and its gradient
        train step  the whole network forward, backward and one SGD-with-momentum update
        train step, chunks of 32  the same step through the batch 32 digits at a time
                    (chunked_train_step: each chunk's windows stay in the caches; the notebook's
                    reference is the plain chain, this variant lives here to keep its speed measured)

    Forward and backward are timed separately; a backward computes every gradient the NumPy
    layer returns (the input's included, also for conv1), PyTorch's through
    torch.autograd.grad on a graph built once beforehand. Softmax-CE is timed as loss and
    gradient together, as the NumPy function returns both. Each figure is the median of
    --repeats runs (time.perf_counter) after two warm-up runs, in float32 and in float64; the
    NumPy and PyTorch runs of a row alternate in one process (numpy, torch, numpy, torch, ...),
    so that a machine busy with other jobs slows both alike. Both run on --threads threads
    (default 1: NumPy's BLAS through threadpoolctl, PyTorch through torch.set_num_threads).
    The table gives, per row, NumPy's median ms with the fastest and slowest run, the same for
    PyTorch, and the ratio of the medians (targets for the train step: NumPy <= 2x PyTorch in
    float32, <= 1.2x in float64). Before the tables: the CPU, cores, load average, NumPy and
    PyTorch versions, and every thread pool threadpoolctl finds (BLAS and OpenMP libraries,
    their versions and thread counts) once the limit is set; after them the load average
    again. PyTorch is optional: without it the NumPy timings are printed alone.

Where the reference functions come from
    The solution cells of source/conv_mnist/conv_mnist.ipynb, loaded as the grader loads a
    notebook (autograder.notebook_code.load_namespace).

How to run
    python bench/layers.py [--repeats 15] [--threads 1]
    (PyTorch in a separate venv: pip install torch==2.13.0 threadpoolctl -e <this repository>)

Timings are printed, never asserted.
"""

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from train_mnist import he_params, thread_pools  # bench/ is this script's folder, first on sys.path

from autograder.course import REPO_ROOT
from autograder.notebook_code import load_namespace

ROOT = REPO_ROOT
NOTEBOOK = ROOT / "source" / "conv_mnist" / "conv_mnist.ipynb"
BATCH = 256
CONV = {"stride": 1, "pad": 2}
POOL = {"f": 2, "stride": 2}
TARGET_RATIO = {np.float32: 2.0, np.float64: 1.2}  # the train step, NumPy / PyTorch
TORCH_HINT = "pip install torch==2.13.0"


def timings_ms(functions, repeats):
    """(median, fastest, slowest) wall time in milliseconds of each function, after two warm-up
    calls of each; the functions' runs alternate (a, b, a, b, ...), so that other jobs on the
    machine slow all alike."""
    for fn in functions * 2:
        fn()
    times = [[] for _ in functions]
    for _ in range(repeats):
        for fn, spent in zip(functions, times):
            start = time.perf_counter()
            fn()
            spent.append(time.perf_counter() - start)
    return [(1000 * statistics.median(spent), 1000 * min(spent), 1000 * max(spent)) for spent in times]


def limit_threads(threads, torch):
    """Run NumPy's BLAS and PyTorch on `threads` threads; a line saying what was done."""
    if torch is not None:
        torch.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return "threadpoolctl is not installed: NumPy's BLAS threads left as they are (pip install threadpoolctl)"
    threadpool_limits(threads)
    return f"threads: {threads} for NumPy's BLAS and for PyTorch"


def batch(dtype, seed=0):
    """A batch of BATCH black-and-white 28x28 images (0/1) and one-hot labels."""
    rng = np.random.default_rng(seed)
    X = (rng.random((BATCH, 28, 28, 1)) > 0.8).astype(dtype)
    labels = rng.integers(0, 10, BATCH)
    return X, np.eye(10, dtype=dtype)[labels], labels


def numpy_cases(ref, dtype):
    """{row name: zero-argument function} running the reference NumPy layers."""
    rng = np.random.default_rng(1)
    params = he_params(dtype=dtype)
    X, Y, _ = batch(dtype)
    cases = {}
    inputs = {
        "conv1": (X, params["W1"], params["b1"]),
        "conv2": (rng.random((BATCH, 14, 14, 8)).astype(dtype), params["W2"], params["b2"]),
    }
    for name, (A, W, b) in inputs.items():
        Z, cache = ref["conv_forward_fast"](A, W, b, CONV)
        dZ = rng.standard_normal(Z.shape).astype(dtype)
        cases[f"{name} forward"] = lambda A=A, W=W, b=b: ref["conv_forward_fast"](A, W, b, CONV)
        cases[f"{name} backward"] = lambda dZ=dZ, cache=cache: ref["conv_backward_fast"](dZ, cache)
    for name, shape in {"pool1": (BATCH, 28, 28, 8), "pool2": (BATCH, 14, 14, 16)}.items():
        A = np.maximum(rng.standard_normal(shape), 0).astype(dtype)  # after a ReLU: ties at 0
        P, cache = ref["pool_forward_fast"](A, POOL)
        dP = rng.standard_normal(P.shape).astype(dtype)
        cases[f"{name} forward"] = lambda A=A: ref["pool_forward_fast"](A, POOL)
        cases[f"{name} backward"] = lambda dP=dP, cache=cache: ref["pool_backward_fast"](dP, cache)
    F = rng.random((BATCH, 784)).astype(dtype)
    dZ3 = rng.standard_normal((BATCH, 10)).astype(dtype)
    cases["dense forward"] = lambda: F @ params["W3"] + params["b3"]
    cases["dense backward"] = lambda: (F.T @ dZ3, dZ3.sum(axis=0, keepdims=True), dZ3 @ params["W3"].T)
    Z3 = rng.standard_normal((BATCH, 10)).astype(dtype)
    cases["softmax-CE loss+grad"] = lambda: ref["softmax_cross_entropy"](Z3, Y)
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    cases["train step"] = lambda: ref["train_step"](params, velocity, X, Y, 0.01, 0.9)
    cases["train step, chunks of 32"] = lambda: chunked_train_step(ref, params, velocity, X, Y, 0.01, 0.9)
    return cases


def chunked_train_step(ref, params, velocity, X, Y, learning_rate, momentum, chunk=32):
    """The notebook's train_step with its forward and backward passes run `chunk` digits at a time.

    ref: the reference functions (forward, softmax_cross_entropy and the fast layers)
    params, velocity: dicts of the network's arrays; X: (m, 28, 28, 1); Y: (m, 10) one-hot
    Returns new_params, new_velocity and the loss before the step, as train_step does. Each
    chunk's windows (5 MB for conv 2 at 32 digits, 40 MB at 256) mostly stay in the caches;
    its mean loss and gradients count for its share of the batch, len(X_chunk) / m.
    """
    m = X.shape[0]
    loss, grads = 0.0, {k: 0.0 for k in params}
    for start in range(0, m, chunk):
        X_chunk, Y_chunk = X[start : start + chunk], Y[start : start + chunk]
        Z3, cache = ref["forward"](params, X_chunk)
        chunk_loss, dZ3 = ref["softmax_cross_entropy"](Z3, Y_chunk)
        share = X_chunk.shape[0] / m
        loss += share * chunk_loss
        dW3, db3 = cache["F"].T @ dZ3, dZ3.sum(axis=0, keepdims=True)
        dP2 = (dZ3 @ params["W3"].T).reshape(cache["P2"].shape)
        dZ2 = ref["pool_backward_fast"](dP2, cache["pool2"]) * (cache["Z2"] > 0)
        dP1, dW2, db2 = ref["conv_backward_fast"](dZ2, cache["conv2"])
        dZ1 = ref["pool_backward_fast"](dP1, cache["pool1"]) * (cache["Z1"] > 0)
        _, dW1, db1 = ref["conv_backward_fast"](dZ1, cache["conv1"])
        chunk_grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "W3": dW3, "b3": db3}
        grads = {k: grads[k] + share * chunk_grads[k] for k in params}
    new_velocity = {k: momentum * velocity[k] - learning_rate * grads[k] for k in params}
    return {k: params[k] + new_velocity[k] for k in params}, new_velocity, loss


def torch_cases(torch, dtype):
    """{row name: zero-argument function} doing the same work in PyTorch (NCHW)."""
    F = torch.nn.functional
    tdtype = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    gen = torch.Generator().manual_seed(1)
    rand = lambda *shape: torch.randn(*shape, generator=gen, dtype=tdtype)
    cases = {}
    for name, (c_in, c_out, size) in {"conv1": (1, 8, 28), "conv2": (8, 16, 14)}.items():
        x = rand(BATCH, c_in, size, size).requires_grad_()
        w = rand(c_out, c_in, 5, 5).requires_grad_()
        b = rand(c_out).requires_grad_()
        z = F.conv2d(x, w, b, padding=2)
        dz = rand(*z.shape)
        cases[f"{name} forward"] = lambda x=x, w=w, b=b: F.conv2d(x.detach(), w.detach(), b.detach(), padding=2)
        cases[f"{name} backward"] = lambda z=z, x=x, w=w, b=b, dz=dz: torch.autograd.grad(
            z, (x, w, b), dz, retain_graph=True
        )
    for name, (channels, size) in {"pool1": (8, 28), "pool2": (16, 14)}.items():
        a = rand(BATCH, channels, size, size).clamp_(min=0).requires_grad_()
        p = F.max_pool2d(a, 2)
        dp = rand(*p.shape)
        cases[f"{name} forward"] = lambda a=a: F.max_pool2d(a.detach(), 2)
        cases[f"{name} backward"] = lambda p=p, a=a, dp=dp: torch.autograd.grad(p, (a,), dp, retain_graph=True)
    flat = rand(BATCH, 784).requires_grad_()
    w3, b3 = rand(784, 10).requires_grad_(), rand(10).requires_grad_()
    z3 = flat @ w3 + b3
    dz3 = rand(BATCH, 10)
    cases["dense forward"] = lambda: flat.detach() @ w3.detach() + b3.detach()
    cases["dense backward"] = lambda: torch.autograd.grad(z3, (flat, w3, b3), dz3, retain_graph=True)
    scores = rand(BATCH, 10)
    labels = torch.from_numpy(batch(dtype)[2])

    def softmax_ce():
        z = scores.detach().requires_grad_()
        loss = F.cross_entropy(z, labels)
        return loss, torch.autograd.grad(loss, (z,))

    cases["softmax-CE loss+grad"] = softmax_ce
    cases["train step"] = torch_train_step(torch, tdtype, labels, torch.from_numpy(batch(dtype)[0]))
    cases["train step, chunks of 32"] = cases["train step"]  # PyTorch has no reason to chunk: the same step
    return cases


def torch_train_step(torch, tdtype, labels, X_nhwc):
    """One SGD-with-momentum step of the same network in PyTorch, as a zero-argument function."""
    nn = torch.nn
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(1, 8, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(784, 10),
    ).to(tdtype)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    X = X_nhwc.permute(0, 3, 1, 2).contiguous()

    def step():
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(net(X), labels)
        loss.backward()
        optimizer.step()
        return loss

    return step


def machine_info(torch):
    """Lines describing the CPU, NumPy's BLAS, PyTorch and the thread pools."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # the layout of show_config's dict is not a stable API
        blas = "unknown BLAS"
    lines = [
        f"machine: {cpu}, {os.cpu_count()} logical cores, {platform.system()} {platform.release()}",
        f"python {platform.python_version()}, numpy {np.__version__} ({blas})",
    ]
    if torch is not None:
        lines.append(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    lines.extend(f"thread pool: {pool}" for pool in thread_pools())
    lines.append("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    return lines


def spread(timing):
    """'median (min-max)' of one (median, min, max) timing in ms."""
    median, fastest, slowest = timing
    return f"{median:8.2f} ({fastest:.2f}-{slowest:.2f})"


def print_table(dtype, numpy_ms, torch_ms):
    """One table: row, NumPy ms, PyTorch ms (each median, then min-max), ratio of the medians."""
    name = np.dtype(dtype).name
    print(f"\n{name:<22} {'numpy ms (min-max)':>26} {'torch ms (min-max)':>26} {'ratio':>7}")
    for row, timing in numpy_ms.items():
        if torch_ms is None:
            print(f"{row:<22} {spread(timing):>26}")
        else:
            ratio = timing[0] / torch_ms[row][0]
            print(f"{row:<22} {spread(timing):>26} {spread(torch_ms[row]):>26} {ratio:>6.2f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=15, help="timed runs per row (median)")
    parser.add_argument("--threads", type=int, default=1, help="threads for NumPy's BLAS and PyTorch")
    args = parser.parse_args()
    ref, origin = load_namespace(NOTEBOOK), NOTEBOOK.relative_to(ROOT)
    try:
        import torch
    except ImportError:
        torch = None
        print(f"PyTorch is not installed: NumPy timings only ({TORCH_HINT} for the comparison)")
    print(f"reference: {origin}; batch {BATCH}; median of {args.repeats} runs")
    print(limit_threads(args.threads, torch))
    for line in machine_info(torch):
        print(line)
    for dtype in (np.float32, np.float64):
        numpy_rows = numpy_cases(ref, dtype)
        torch_rows = torch_cases(torch, dtype) if torch is not None else None
        numpy_ms, torch_ms = {}, None if torch is None else {}
        for row, fn in numpy_rows.items():
            if torch is None:
                (numpy_ms[row],) = timings_ms([fn], args.repeats)
            else:
                numpy_ms[row], torch_ms[row] = timings_ms([fn, torch_rows[row]], args.repeats)
        print_table(dtype, numpy_ms, torch_ms)
        if torch_ms is not None:
            ratio, target = numpy_ms["train step"][0] / torch_ms["train step"][0], TARGET_RATIO[dtype]
            verdict = "met" if ratio <= target else "not met"
            name = np.dtype(dtype).name
            print(f"{name} train step: numpy / torch = {ratio:.2f}x (target <= {target}x: {verdict})")
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
