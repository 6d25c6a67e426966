"""How fast nncalc is next to what a skilled user would write by hand, measured in one run.

Prints, for each case, nncalc's time, the baseline's time and their ratio (below 1.0 means
nncalc is faster). Every time is the best of several runs. Cases:

- start-up: `nncalc forward` on a small example, and `nncalc --help`, against
  `python -c "import numpy, yaml"`; and, where valgrind is installed, the same forward in
  instructions (callgrind), which unlike seconds do not move with the machine's load;
- loading a 784-256-128-10 network file (235,146 parameters) against libyaml's bare parse
  of the same file (its event stream);
- batch forward, end to end as processes: `nncalc forward NET --inputs in.csv -o out.csv`
  against a script that loads the same YAML with libyaml, reads the CSV with polars, computes
  with NumPy and writes inputs and outputs with polars;
- the engine alone (a 100,000 x 784 float64 batch through 784-256-128-10) against the bare
  chain of matrix products and activations, and PyTorch's where it is installed; and one
  sample through the same network, called many times, against the same bare chain;
- a small CNN, the engine alone: 10,000 28 x 28 images through conv(1→8, 3 x 3) → relu →
  max pool 2 → flatten → dense 10, against PyTorch's conv2d, max_pool2d and linear in
  float64 where it is installed, and a bare NumPy im2col script (the baseline column is
  the faster of the two);
- CNN training, in one process: ``train`` on the textbook CNN (conv-textbook.yaml, one image,
  many steps: the cost of a step's bookkeeping) and on a small MNIST-like CNN (64 28 x 28
  images, conv(1→8, 3 x 3) → relu → max pool 2 → flatten → dense 10 softmax, cross-entropy:
  the cost of its arithmetic), against a plain NumPy loop doing the same steps (im2col
  forward, the windows' winners for max pooling's δ, the kernel's gradient from the same
  windows), keeping every loss. The batch's large products run on every BLAS thread on both
  sides, so with the other core busy either side can stall; OPENBLAS_NUM_THREADS=1 steadies it;
- training, end to end as processes: `nncalc backward` on the classic 2-2-2 network with
  `-n 100000 --format json` against a plain NumPy script doing the same steps (forward,
  half-SSE delta, update), keeping every loss and writing the same JSON document; and,
  where valgrind is installed, both at 5,000 steps in instructions.

Run: python benchmarks/run.py [--quick] [--full] [--cases NAME,...]. --quick runs smaller
cases; --full adds the 784-input network at 1e5 and 1e6 rows (their CSV files take
gigabytes); --cases runs only the cases named (startup, load, batch, engine, one-sample,
conv, conv-training, training).

Processes are measured as a user meets them, with nncalc's modules compiled to bytecode: the
script compiles them first (as a normal install does), since with PYTHONDONTWRITEBYTECODE
set an editable install would otherwise recompile its changed modules on every run.
"""

from __future__ import annotations

import argparse
import compileall
import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

BASELINE_SCRIPT = """
import sys
import numpy as np
import polars as pl
import yaml

network = yaml.load(open(sys.argv[1], encoding="utf-8"), Loader=yaml.CSafeLoader)
frame = pl.read_csv(sys.argv[2])
a = x = frame.to_numpy()
for layer in network["layers"]:
    z = a @ np.asarray(layer["weights"], dtype=np.float64).T + np.asarray(layer.get("biases", 0.0))
    kind = layer.get("activation", network.get("activation", "sigmoid"))
    if kind == "relu":
        a = np.maximum(z, 0.0)
    elif kind == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        a = e / e.sum(axis=1, keepdims=True)
    else:
        a = 1.0 / (1.0 + np.exp(-z))
outputs = pl.DataFrame(np.hstack([x, a]), schema=[*frame.columns, *[f"o{j + 1}" for j in range(a.shape[1])]],
                       orient="row")
outputs.write_csv(sys.argv[3])
"""


TRAIN_SCRIPT = """
import json
import sys

import numpy as np
import yaml

network = yaml.load(open(sys.argv[1], encoding="utf-8"), Loader=yaml.CSafeLoader)
x = np.array([[float(v) for v in sys.argv[2].split(",")]])
t = np.array([[float(v) for v in sys.argv[3].split(",")]])
steps, lr = int(sys.argv[4]), 0.5
weights = [np.array(layer["weights"], dtype=np.float64) for layer in network["layers"]]
biases = [np.broadcast_to(np.array(layer["biases"], dtype=np.float64), len(w)).copy()
          for layer, w in zip(network["layers"], weights)]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def forward(weights, biases):
    a = [x]
    for w, b in zip(weights, biases):
        a.append(sigmoid(a[-1] @ w.T + b))
    return a


losses = []
for _ in range(steps):
    a = forward(weights, biases)
    losses.append(float(np.mean(0.5 * np.sum((t - a[-1]) ** 2, axis=1))))
    delta = (a[-1] - t) * a[-1] * (1.0 - a[-1])
    for k in range(len(weights) - 1, -1, -1):
        grad_w, grad_b = delta.T @ a[k] / len(x), delta.sum(axis=0) / len(x)
        if k > 0:
            delta = (delta @ weights[k]) * a[k] * (1.0 - a[k])
        weights[k], biases[k] = weights[k] - lr * grad_w, biases[k] - lr * grad_b
a = forward(weights, biases)
losses.append(float(np.mean(0.5 * np.sum((t - a[-1]) ** 2, axis=1))))
json.dump({"losses": losses, "weights": [w.tolist() for w in weights], "biases": [b.tolist() for b in biases],
           "output": a[-1].tolist()}, sys.stdout)
"""


def race(*runs, repeat: int) -> list[float]:
    """The fastest of ``repeat`` rounds for each run, taking turns within each round, so a
    machine that speeds up or slows down while measuring affects both sides alike."""
    times = [[] for _ in runs]
    for _ in range(repeat):
        for run, taken in zip(runs, times, strict=True):
            start = time.perf_counter()
            run()
            taken.append(time.perf_counter() - start)
    return [min(taken) for taken in times]


def best(run, repeat: int) -> float:
    """The fastest of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def process(*args: str) -> None:
    done = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr}")


def nncalc_command() -> list[str]:
    script = Path(PYTHON).parent / "nncalc"
    return [str(script)] if script.exists() else [PYTHON, "-m", "nncalc"]


def write_network(path: Path, sizes: list[int], seed: int = 0) -> None:
    """A network file with random weights: relu hidden layers, softmax (or sigmoid) output."""
    rng = np.random.default_rng(seed)
    lines = [f"inputs: {sizes[0]}", "layers:"]
    for k in range(len(sizes) - 1):
        weights = rng.normal(0.0, 1.0 / np.sqrt(sizes[k]), size=(sizes[k + 1], sizes[k]))
        biases = rng.normal(0.0, 0.05, size=sizes[k + 1])
        lines.append("  - weights:")
        lines.extend("      - [" + ", ".join(repr(float(v)) for v in row) + "]" for row in weights)
        lines.append("    biases: [" + ", ".join(repr(float(v)) for v in biases) + "]")
        last = k == len(sizes) - 2
        lines.append("    activation: " + (("softmax" if sizes[-1] > 2 else "sigmoid") if last else "relu"))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_inputs(path: Path, rows: int, names: list[str], seed: int = 1) -> None:
    import polars as pl

    width = len(names)
    rng = np.random.default_rng(seed)
    chunk = max(1, min(rows, 2_000_000 // width))
    with path.open("w", encoding="utf-8") as stream:
        done = 0
        while done < rows:
            block = rng.random((min(chunk, rows - done), width))
            frame = pl.DataFrame(block, schema=names, orient="row")
            stream.write(frame.write_csv(include_header=done == 0))
            done += len(block)


def report(name: str, ours: float, baseline: float, extra: str = "") -> None:
    print(f"{name:<46} {ours:9.3f} s {baseline:9.3f} s {ours / baseline:7.2f}x {extra}", flush=True)


def compile_nncalc() -> None:
    """Compile nncalc's modules to bytecode, as a normal install does, so that no process pays for
    compiling them (with PYTHONDONTWRITEBYTECODE set an editable install compiles at every run)."""
    import nncalc

    compileall.compile_dir(Path(nncalc.__file__).parent, quiet=1)


def startup(repeat: int) -> None:
    command = nncalc_command()
    example = ("forward", "configs/course-chain.yaml", "--input", "0.1")
    bare, forward, helped, table = race(
        lambda: process(PYTHON, "-c", "import numpy, yaml"),
        lambda: process(*command, *example),
        lambda: process(*command, "--help"),
        lambda: process(*command, *example, "-f", "table"),
        repeat=repeat,
    )
    report("start-up: forward on course-chain.yaml", forward, bare)
    report("start-up: --help", helped, bare)
    report("start-up: forward -f table (Rich, for a person)", table, bare)


def instructions(*args: str) -> int:
    """How many instructions a command runs, counted by valgrind's callgrind (the same count
    on every run, whatever else the machine is doing)."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"valgrind failed on {' '.join(args)}:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def startup_instructions() -> None:
    """Start-up again, in instructions rather than seconds, where valgrind is installed."""
    if shutil.which("valgrind") is None:
        print("start-up in instructions: valgrind is not installed, skipped")
        return
    bare = instructions(PYTHON, "-c", "import numpy, yaml")
    ours = instructions(*nncalc_command(), "forward", "configs/course-chain.yaml", "--input", "0.1")
    print(
        f"{'start-up in instructions (callgrind)':<46} {ours / 1e6:9.0f} M {bare / 1e6:9.0f} M {ours / bare:7.2f}x",
        flush=True,
    )


def loading(folder: Path, repeat: int) -> Path:
    import yaml

    from nncalc.loader import load_network

    path = folder / "mnist.yaml"
    write_network(path, [784, 256, 128, 10])
    text = path.read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    bare, ours = race(
        lambda: sum(1 for _ in yaml.parse(text, Loader=loader)), lambda: load_network(path), repeat=repeat
    )
    report(f"load 784-256-128-10 ({path.stat().st_size / 1e6:.1f} MB of YAML)", ours, bare)
    whole = best(lambda: yaml.load(text, Loader=loader), 1)
    report("  the same against yaml.load with CSafeLoader", ours, whole)
    return path


def batch(folder: Path, network: Path, name: str, width: int, rows: int, repeat: int) -> None:
    inputs = folder / f"in-{width}-{rows}.csv"
    if not inputs.exists():
        from nncalc.loader import load_network

        write_inputs(inputs, rows, list(load_network(network).inputs))
    script = folder / "baseline.py"
    script.write_text(BASELINE_SCRIPT, encoding="utf-8")
    out = folder / "out.csv"
    command = nncalc_command()
    ours, bare = race(
        lambda: process(*command, "forward", str(network), "--inputs", str(inputs), "-f", "csv", "-o", str(out)),
        lambda: process(PYTHON, str(script), str(network), str(inputs), str(out)),
        repeat=repeat,
    )
    report(f"batch forward {name}, {rows:,} rows", ours, bare)


def engine_case(rows: int):
    """The 784-256-128-10 network (relu, relu, softmax) as nncalc reads it, its weights and
    biases as bare arrays, ``rows`` random inputs, and the bare chain of matrix products and
    activations a skilled user would write for it."""
    from nncalc.loader import parse_network

    sizes = [784, 256, 128, 10]
    rng = np.random.default_rng(2)
    weights = [rng.normal(0, 0.05, size=(sizes[k + 1], sizes[k])) for k in range(3)]
    biases = [rng.normal(0, 0.05, size=sizes[k + 1]) for k in range(3)]
    text = "inputs: 784\nlayers:\n" + "".join(
        f"  - weights: {w.tolist()}\n    biases: {b.tolist()}\n    activation: {'softmax' if k == 2 else 'relu'}\n"
        for k, (w, b) in enumerate(zip(weights, biases, strict=True))
    )
    network = parse_network(text)
    x = rng.random((rows, 784))

    def bare_chain() -> np.ndarray:
        a = x
        for k, (w, b) in enumerate(zip(weights, biases, strict=True)):
            z = a @ w.T + b
            if k < 2:
                a = np.maximum(z, 0.0)
            else:
                e = np.exp(z - z.max(axis=1, keepdims=True))
                a = e / e.sum(axis=1, keepdims=True)
        return a

    return network, weights, biases, x, bare_chain


def engine(rows: int, repeat: int) -> None:
    from nncalc.engine import forward

    network, weights, biases, x, bare_chain = engine_case(rows)
    ours, bare = race(lambda: forward(network, x), bare_chain, repeat=repeat)
    extra = ""
    try:
        import torch
    except ImportError:
        extra = "(PyTorch not installed)"
    else:
        tx = torch.from_numpy(x)
        tw = [torch.from_numpy(w) for w in weights]
        tb = [torch.from_numpy(b) for b in biases]

        def torch_chain():
            with torch.no_grad():
                a = tx
                for k in range(3):
                    z = a @ tw[k].T + tb[k]
                    a = torch.relu(z) if k < 2 else torch.softmax(z, dim=1)
                return a

        extra = f"PyTorch {best(torch_chain, repeat):.3f} s"
    report(f"engine alone, {rows:,} x 784 through 784-256-128-10", ours, bare, extra)


def one_sample(calls: int, repeat: int) -> None:
    """One sample through 784-256-128-10, ``calls`` times in a row, against the bare chain:
    what a program pays that feeds nncalc's engine one sample at a time."""
    from nncalc.engine import forward

    network, _, _, x, bare_chain = engine_case(1)
    assert np.array_equal(forward(network, x).output, forward(network, np.repeat(x, 1500, axis=0)).output[:1])

    def ours_many() -> None:
        for _ in range(calls):
            forward(network, x)

    def bare_many() -> None:
        for _ in range(calls):
            bare_chain()

    ours, bare = race(ours_many, bare_many, repeat=repeat)
    report(f"engine alone, one sample x {calls:,} calls", ours, bare, f"({ours / calls * 1e6:.0f} us a call)")


TRAINING = ("configs/classic-2-2-2.yaml", "0.05,0.10", "0.01,0.99")


def training(folder: Path, steps: int, repeat: int) -> None:
    """``nncalc backward -n STEPS --format json`` against a plain NumPy script doing the same
    steps, both as processes (start-up and imports included), on the classic 2-2-2 network."""
    script = folder / "train.py"
    script.write_text(TRAIN_SCRIPT, encoding="utf-8")
    network, inputs, targets = TRAINING
    command = [*nncalc_command(), "backward", network, "-i", inputs, "-t", targets, "--format", "json"]
    ours, bare = race(
        lambda: process(*command, "-n", str(steps)),
        lambda: process(PYTHON, str(script), network, inputs, targets, str(steps)),
        repeat=repeat,
    )
    report(f"backward -n {steps:,} (2-2-2) vs a plain NumPy loop", ours, bare)


def training_instructions(folder: Path, steps: int) -> None:
    """The training case in instructions (valgrind runs some fifty times slower, so at fewer
    steps): whole commands at ``steps`` steps, and the steps alone, from the difference
    between ``steps`` and a fifth of them, which leaves start-up out."""
    if shutil.which("valgrind") is None:
        print("training in instructions: valgrind is not installed, skipped")
        return
    script = folder / "train.py"
    script.write_text(TRAIN_SCRIPT, encoding="utf-8")
    network, inputs, targets = TRAINING
    command = [*nncalc_command(), "backward", network, "-i", inputs, "-t", targets, "--format", "json", "-n"]
    baseline = [PYTHON, str(script), network, inputs, targets]
    counts = {n: (instructions(*command, str(n)), instructions(*baseline, str(n))) for n in (steps // 5, steps)}
    ours, bare = counts[steps]
    name = f"backward -n {steps:,} in instructions (callgrind)"
    print(f"{name:<46} {ours / 1e6:9.0f} M {bare / 1e6:9.0f} M {ours / bare:7.2f}x", flush=True)
    few = steps // 5
    ours_step = (ours - counts[few][0]) / (steps - few)
    bare_step = (bare - counts[few][1]) / (steps - few)
    name = "  one step alone, in instructions"
    print(f"{name:<46} {ours_step / 1e3:9.0f} k {bare_step / 1e3:9.0f} k {ours_step / bare_step:7.2f}x", flush=True)


def conv_case(images: int):
    """The CNN as nncalc reads it, its parameters as bare arrays, ``images`` random 28 x 28 images
    (one row of 784 values each) and the bare NumPy im2col forward pass a skilled user would write."""
    from numpy.lib.stride_tricks import sliding_window_view

    from nncalc.loader import parse_network

    rng = np.random.default_rng(3)
    kernels = rng.normal(0, 0.3, size=(8, 1, 3, 3))
    kernel_biases = rng.normal(0, 0.1, size=8)
    dense = rng.normal(0, 0.05, size=(10, 8 * 13 * 13))
    dense_biases = rng.normal(0, 0.05, size=10)
    text = (
        "inputs: {shape: [1, 28, 28]}\nlayers:\n"
        f"  - {{type: conv2d, weights: {kernels.tolist()}, biases: {kernel_biases.tolist()}, activation: relu}}\n"
        "  - {type: maxpool2d, kernel_size: 2}\n"
        "  - {type: flatten}\n"
        f"  - {{weights: {dense.tolist()}, biases: {dense_biases.tolist()}, activation: identity}}\n"
    )
    network = parse_network(text)
    x = rng.random((images, 784))

    def bare_im2col(rows: int | None = None) -> np.ndarray:
        images = x[:rows]
        n = images.shape[0]
        windows = sliding_window_view(images.reshape(n, 1, 28, 28), (3, 3), axis=(2, 3))  # (n, 1, 26, 26, 3, 3)
        columns = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * 26 * 26, 9)
        z = (columns @ kernels.reshape(8, 9).T + kernel_biases).reshape(n, 26, 26, 8).transpose(0, 3, 1, 2)
        a = np.maximum(z, 0.0)
        pooled = a.reshape(n, 8, 13, 2, 13, 2).max(axis=(3, 5))
        return pooled.reshape(n, -1) @ dense.T + dense_biases

    return network, (kernels, kernel_biases, dense, dense_biases), x, bare_im2col


def conv(images: int, repeat: int) -> None:
    from nncalc.engine import forward

    network, parameters, x, bare_im2col = conv_case(images)
    difference = np.max(np.abs(forward(network, x[:500]).output - bare_im2col(500)))
    if difference > 1e-9:
        raise SystemExit(f"the CNN case computes something else than its baseline: {difference}")
    ours, bare = race(lambda: forward(network, x), bare_im2col, repeat=repeat)
    extra = f"NumPy im2col {bare:.3f} s"
    baseline = bare
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        extra += ", PyTorch not installed"
    else:
        tx = torch.from_numpy(x).reshape(-1, 1, 28, 28)
        kernels, kernel_biases, dense, dense_biases = (torch.from_numpy(p) for p in parameters)

        def torch_cnn():
            with torch.no_grad():
                a = torch.relu(F.conv2d(tx, kernels, kernel_biases))
                return F.linear(F.max_pool2d(a, 2).flatten(1), dense, dense_biases)

        taken = best(torch_cnn, repeat)
        extra += f", PyTorch {taken:.3f} s"
        baseline = min(bare, taken)
    report(f"CNN engine, {images:,} 28x28 through conv-pool-dense", ours, baseline, f"({extra})")


def bare_cnn_training(x, t, parameters, shape, pool, pool_stride, lr, steps):
    """Full-batch gradient descent on conv(3 x 3, stride 1, no padding) → relu → max pool → flatten →
    dense softmax with cross-entropy, as a skilled user writes it in NumPy: the input's windows laid
    out once, each max-pooling window's winner (the first largest) kept to send its δ back. Returns
    every loss and the final parameters."""
    from numpy.lib.stride_tricks import sliding_window_view

    kernels, kernel_biases, dense, dense_biases = (p.copy() for p in parameters)
    n, (channels, height, width) = x.shape[0], shape
    out_channels, kh, kw = kernels.shape[0], kernels.shape[2], kernels.shape[3]
    rows, cols = height - kh + 1, width - kw + 1
    prows, pcols = (rows - pool) // pool_stride + 1, (cols - pool) // pool_stride + 1
    windows = sliding_window_view(x.reshape(n, channels, height, width), (kh, kw), axis=(2, 3))
    columns = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * rows * cols, -1)  # the same at every step
    losses = []

    def forward():
        z = (columns @ kernels.reshape(out_channels, -1).T + kernel_biases).reshape(n, rows, cols, out_channels)
        a = np.maximum(z.transpose(0, 3, 1, 2), 0.0)
        cells = sliding_window_view(a, (pool, pool), axis=(2, 3))[:, :, ::pool_stride, ::pool_stride]
        cells = cells.reshape(n, out_channels, prows, pcols, pool * pool)
        winner = cells.argmax(axis=-1)
        flat = np.take_along_axis(cells, winner[..., None], axis=-1).reshape(n, -1)
        scores = flat @ dense.T + dense_biases
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        return z, winner, flat, e / e.sum(axis=1, keepdims=True)

    for _ in range(steps + 1):
        z, winner, flat, out = forward()
        losses.append(float(np.mean(-np.sum(t * np.log(out), axis=1))))
        if len(losses) > steps:
            break
        delta = out - t
        grad_dense, grad_dense_biases = delta.T @ flat / n, delta.sum(axis=0) / n
        back = (delta @ dense).reshape(n, out_channels, prows, pcols)
        upstream = np.zeros((n, out_channels, rows, cols))
        for i in range(pool):
            for j in range(pool):
                view = upstream[:, :, i : i + (prows - 1) * pool_stride + 1 : pool_stride,
                                j : j + (pcols - 1) * pool_stride + 1 : pool_stride]  # fmt: skip
                view += np.where(winner == i * pool + j, back, 0.0)
        delta_conv = upstream * (z.transpose(0, 3, 1, 2) > 0)
        rows_delta = delta_conv.transpose(0, 2, 3, 1).reshape(-1, out_channels)
        grad_kernels = (rows_delta.T @ columns).reshape(kernels.shape) / n
        grad_kernel_biases = rows_delta.sum(axis=0) / n
        kernels -= lr * grad_kernels
        kernel_biases -= lr * grad_kernel_biases
        dense -= lr * grad_dense
        dense_biases -= lr * grad_dense_biases
    return losses, (kernels, kernel_biases, dense, dense_biases)


def conv_training(repeat: int, textbook_steps: int, batch_steps: int) -> None:
    """``train`` on two CNNs against ``bare_cnn_training``, in one process, after checking that both
    compute the same losses and parameters (to rounding: the two sum in different orders)."""
    from nncalc.backprop import train
    from nncalc.loader import load_network, parse_network

    textbook = load_network(ROOT / "configs" / "conv-textbook.yaml")
    image = np.array([[2, 3, 3, 0, 1, 3, 2, 3, 1, 0, 3, 3, 2, 0, 0, 2, 3, 3, 1, 0, 3, 2, 3, 0, 1]], dtype=np.float64)
    conv_layer, output = textbook.layers[0], textbook.layers[3]
    textbook_case = (textbook, image, np.array([[0.0, 1.0]]), (1, 5, 5), 2, 1, 0.01, textbook_steps)
    textbook_parameters = (conv_layer.weights, conv_layer.biases, output.weights, output.biases)

    rng = np.random.default_rng(4)
    kernels, kernel_biases = rng.normal(0, 0.3, size=(8, 1, 3, 3)), rng.normal(0, 0.1, size=8)
    dense, dense_biases = rng.normal(0, 0.05, size=(10, 8 * 13 * 13)), rng.normal(0, 0.05, size=10)
    mnist_like = parse_network(
        "inputs: {shape: [1, 28, 28]}\nlayers:\n"
        f"  - {{type: conv2d, weights: {kernels.tolist()}, biases: {kernel_biases.tolist()}, activation: relu}}\n"
        "  - {type: maxpool2d, kernel_size: 2}\n"
        "  - {type: flatten}\n"
        f"  - {{weights: {dense.tolist()}, biases: {dense_biases.tolist()}, activation: softmax}}\n"
    )
    images = rng.random((64, 784))
    labels = np.eye(10)[rng.integers(0, 10, size=64)]
    batch_case = (mnist_like, images, labels, (1, 28, 28), 2, 2, 0.1, batch_steps)
    batch_parameters = (kernels, kernel_biases, dense, dense_biases)

    for name, (network, x, t, shape, pool, stride, lr, steps), parameters in (
        (f"train textbook CNN, 1 image, {textbook_steps:,} steps", textbook_case, textbook_parameters),
        (f"train CNN, 64 28x28 images, {batch_steps} steps", batch_case, batch_parameters),
    ):
        trained = train(network, x, t, "cross_entropy", lr, steps)
        losses, bare_parameters = bare_cnn_training(x, t, parameters, shape, pool, stride, lr, steps)
        ours_parameters = [
            p for k in (0, 3) for p in (trained.network.layers[k].weights, trained.network.layers[k].biases)
        ]
        difference = max(
            np.max(np.abs(trained.losses - losses)),
            *(np.max(np.abs(a - b)) for a, b in zip(ours_parameters, bare_parameters, strict=True)),
        )
        if difference > 1e-9:
            raise SystemExit(f"the CNN training case computes something else than its baseline: {difference}")
        ours, bare = race(
            functools.partial(train, network, x, t, "cross_entropy", lr, steps),
            functools.partial(bare_cnn_training, x, t, parameters, shape, pool, stride, lr, steps),
            repeat=repeat,
        )
        report(name, ours, bare, "(vs a plain NumPy loop)")


CASES = ("startup", "load", "batch", "engine", "one-sample", "conv", "conv-training", "training")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller cases, fewer repeats")
    parser.add_argument("--full", action="store_true", help="add the 784-input network at 1e5 and 1e6 rows")
    parser.add_argument("--cases", default=",".join(CASES), help=f"which cases, of {', '.join(CASES)}")
    options = parser.parse_args()
    cases = set(options.cases.split(","))
    unknown = cases - set(CASES)
    if unknown:
        parser.error(f"unknown case {sorted(unknown)[0]!r}; the cases are {', '.join(CASES)}")
    repeat = 3 if options.quick else 5
    print(f"{'case':<46} {'nncalc':>11} {'baseline':>11} {'ratio':>8}")
    print(f"(cores: {os.cpu_count()}; Python {sys.version.split()[0]}; NumPy {np.__version__})")
    compile_nncalc()
    if "startup" in cases:
        startup(repeat * 4)
        startup_instructions()
    with tempfile.TemporaryDirectory(prefix="nncalc-bench-") as name:
        folder = Path(name)
        if cases & {"load", "batch"}:
            mnist = loading(folder, repeat)
        if "batch" in cases:
            small = folder / "classic.yaml"
            small.write_text((ROOT / "configs" / "classic-2-2-2.yaml").read_text(encoding="utf-8"), encoding="utf-8")
            for rows in (1_000, 100_000) if options.quick else (1_000, 100_000, 1_000_000):
                batch(folder, small, "2-2-2", 2, rows, repeat)
            for rows in (1_000, 10_000) + ((100_000, 1_000_000) if options.full else ()):
                batch(folder, mnist, "784-256-128-10", 784, rows, 2)
        if "training" in cases:
            training(folder, 20_000 if options.quick else 100_000, repeat)
            training_instructions(folder, 5_000)
    if "engine" in cases:
        engine(10_000 if options.quick else 100_000, repeat)
    if "one-sample" in cases:
        one_sample(1_000, repeat * 2)
    if "conv" in cases:
        conv(10_000, repeat)
    if "conv-training" in cases:
        conv_training(repeat, 5_000 if options.quick else 20_000, 10 if options.quick else 40)


if __name__ == "__main__":
    main()
