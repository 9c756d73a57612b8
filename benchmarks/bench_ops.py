"""The op table's two promises, measured: small derivative graphs, and no slower first order.

    python benchmarks/bench_ops.py [--quick]

1. Op nodes the n-th derivative of tanh depends on (forward ones included), chainrule
   against DeZero 0.0.13 (``pip install dezero==0.0.13 matplotlib``; it still uses
   ``np.int``, gone in numpy 2, so the alias is put back before importing it).  Without
   DeZero the table shows the figures its own code gives: 4, 9, 21, 51, 129, 339, 921, 2571.
2. The scalar engine before and after the op table, side by side in one run: the engine
   of commit ``BEFORE`` (read from git into a temporary package) and this checkout's, on
   the same graphs as bench_scalar.py (a chain of ops, the MLP demo step, bytes per node).
   Target: every row within 10% of before.
3. The nn training step (TwoLayerNet 784-50-10, float32, batch 100, one BLAS thread) at
   BEFORE, at OP_TABLE (the op table landed, nothing else changed) and in this checkout
   (with the later input checks), each in its own process on its own checkout (unpacked
   with ``git archive``), in turns: the op table must not have slowed it down.
"""
import argparse
import gc
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _harness as h

h.clean_env()
import numpy as np  # noqa: E402

from autograd import Value, grad, graph_size  # noqa: E402
from bench_scalar import bytes_per_node, chain, chain_step, demo_loss, mlp, moons  # noqa: E402

HERE = Path(__file__).resolve().parent

BEFORE = "bc48653"  # the last commit before the op table
OP_TABLE = "58ff823"  # the op table in nn's layers, before any other change to nn
DEZERO_FIGURES = [4, 9, 21, 51, 129, 339, 921, 2571]


def tanh_derivative_sizes(orders):
    x = Value(0.5)
    y = x.tanh()
    sizes = []
    for _ in range(orders):
        y = grad(y, x, create_graph=True)
        sizes.append(graph_size(y))
    return sizes


def dezero_sizes(orders):
    """DeZero's counts from DeZero itself, or None when it is not installed."""
    try:
        np.int = int  # removed in numpy 2; dezero 0.0.13 still refers to it
        import dezero
        import dezero.functions as F
    except ImportError:
        return None

    def functions_behind(v):
        seen, stack = set(), [v.creator]
        while stack:
            f = stack.pop()
            if f is not None and id(f) not in seen:
                seen.add(id(f))
                stack.extend(i.creator for i in f.inputs)
        return len(seen)

    x = dezero.Variable(np.array(0.5))
    F.tanh(x).backward(create_graph=True)
    sizes = []
    for _ in range(orders):
        gx = x.grad
        sizes.append(functions_behind(gx))
        x.cleargrad()
        gx.backward(create_graph=True)
    return sizes


def engine_before(tmp):
    """The autograd package of commit BEFORE, importable as ``autograd_before``."""
    package = Path(tmp) / "autograd_before"
    package.mkdir()
    listing = subprocess.run(["git", "-C", str(HERE.parent), "ls-tree", "-r", "--name-only", BEFORE,
                              "autograd"], check=True, capture_output=True, text=True).stdout
    for name in listing.split():
        source = subprocess.run(["git", "-C", str(HERE.parent), "show", f"{BEFORE}:{name}"],
                                check=True, capture_output=True, text=True).stdout
        (package / Path(name).name).write_text(source)
    sys.path.insert(0, tmp)
    return importlib.import_module("autograd_before").Value


def demo_step(Value, X, y):
    loss, _ = demo_loss(Value, mlp(Value), X, y)
    loss.backward()


NN_STEP = """
import time, statistics, numpy as np
from threadpoolctl import threadpool_limits
from nn import TwoLayerNet
rng = np.random.default_rng(0)
x = rng.random((60000 // 60, 784), dtype=np.float32)
t = rng.integers(0, 10, len(x))
net = TwoLayerNet(784, 50, 10, dtype=np.float32, rng=0)
times = []
with threadpool_limits(1, "blas"):
    for i in range(600):
        idx = rng.integers(0, len(x), 100)
        t0 = time.perf_counter()
        grads = net.gradient(x[idx], t[idx])
        for k in ("W1", "b1", "W2", "b2"):
            net.params[k] -= 0.1 * grads[k]
        times.append(time.perf_counter() - t0)
print(statistics.median(times[100:]))
"""


def nn_step_seconds(checkout):
    """The median training step of the nn package in ``checkout``, in a fresh process."""
    out = subprocess.run([sys.executable, "-c", NN_STEP], cwd=checkout, check=True,
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": checkout})
    return float(out.stdout)


def timed(fn):
    gc.collect()
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 5 if args.quick else 15
    h.header("The op table: graph sizes, and speed before and after (benchmarks/bench_ops.py)")

    ours = tanh_derivative_sizes(8)
    theirs = dezero_sizes(8)
    source = "measured, dezero 0.0.13" if theirs else "DeZero's own figures"
    theirs = theirs or DEZERO_FIGURES
    print(f"Op nodes behind the n-th derivative of tanh (DeZero: {source})\n")
    print("| order | chainrule | DeZero | ratio |")
    print("|---:|---:|---:|---:|")
    for n, (a, b) in enumerate(zip(ours, theirs), 1):
        print(f"| {n} | {a:,} | {b:,} | {a / b:.2f}x |")
    verdict = "met" if ours[-1] <= 0.45 * theirs[-1] and all(
        a <= b for a, b in zip(ours, theirs)) else "NOT met"
    print(f"\ntarget: at most DeZero's at every order, at most 0.45x at order 8: {verdict}\n")

    with tempfile.TemporaryDirectory() as tmp:
        Before = engine_before(tmp)
        X, labels = moons()
        work = {
            "chain of 100,000 ops, build + backward": lambda V: chain_step(V, 100_000),
            "MLP demo (2-16-16-1, 100 points), loss + backward": lambda V: demo_step(V, X, labels),
        }
        print(f"Scalar engine before ({BEFORE}) and after the op table, medians of {repeats} "
              f"runs taken in turns, ms\n")
        print("| graph | before | after | after / before |")
        print("|---|---:|---:|---:|")
        worst = 0.0
        for what, fn in work.items():
            runs = {"before": [], "after": []}
            for _ in range(repeats):
                runs["before"].append(timed(lambda fn=fn: fn(Before)))
                runs["after"].append(timed(lambda fn=fn: fn(Value)))
            b, a = (statistics.median(runs[k]) * 1e3 for k in ("before", "after"))
            worst = max(worst, a / b)
            print(f"| {what} | {b:,.1f} | {a:,.1f} | {a / b:.2f}x |")
        for name, V in (("before", Before), ("after", Value)):
            per_node = bytes_per_node(lambda V=V: chain(V, 100_000)[1])
            print(f"| bytes per node, {name} (chain of 100,000 ops) | | {per_node:.0f} | |")
        print(f"\ntarget: after / before at most 1.10 on every row: "
              f"{'met' if worst <= 1.10 else 'NOT met'} (worst {worst:.2f}x)\n")

        checkouts = {}
        for name, rev in (("before", BEFORE), ("op table", OP_TABLE)):
            folder = Path(tmp) / rev
            folder.mkdir()
            archive = subprocess.run(["git", "-C", str(HERE.parent), "archive", rev],
                                     check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
            checkouts[f"{name} ({rev})"] = str(folder)
        checkouts["this checkout"] = str(HERE.parent)
        runs = {name: [] for name in checkouts}
        for _ in range(3 if args.quick else 7):
            for name, folder in checkouts.items():
                runs[name].append(nn_step_seconds(folder))
        first = statistics.median(next(iter(runs.values())))
        print("nn training step (TwoLayerNet 784-50-10, float32, batch 100, 1 BLAS thread), "
              "median us over processes taken in turns\n")
        print("| code | step, us | / before |\n|---|---:|---:|")
        for name, times in runs.items():
            print(f"| {name} | {statistics.median(times) * 1e6:.0f} | "
                  f"{statistics.median(times) / first:.2f}x |")


if __name__ == "__main__":
    main()
