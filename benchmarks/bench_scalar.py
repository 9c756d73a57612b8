"""chainrule's scalar engine side by side with micrograd, in one run, on the same graphs.

    python benchmarks/bench_scalar.py [--quick]

Three tables, each with chainrule / micrograd ratios against the targets:

1. chain: n ops in a line (y = y * 1.0001, y = y + 0.0001, alternately), build and
   backward timed separately; 10^6 ops for chainrule only.  micrograd's recursive
   topological sort needs ``sys.setrecursionlimit`` for these chains: the table
   says where, and how long a chain it survives at Python's default limit.
2. the MLP demo of micrograd's demo.ipynb: MLP 2-16-16-1 on 100 moons points,
   SVM max-margin loss + 1e-4 L2, zero_grad, backward, SGD with lr = 1 - 0.9 k/100.
   The model below is written once and runs on either Value class, from the same
   initial weights, so both libraries build the same graph and compute the same
   loss (the table prints both).  The forward+loss graph is also the "wide graph".
3. bytes per node, with tracemalloc, while building the chain and the MLP graph.

Timing: time.perf_counter, medians of several repeats.  The garbage collector runs
as it normally would (enabled, default thresholds), for both libraries; the "gc"
columns give the share of the time spent inside collections (gc.callbacks), and
one more ratio leaves that time out.  A gc.collect() before each chain repeat
(untimed) starts both from a clean heap, and the two libraries take turns.
"""
import argparse
import gc
import math
import os
import platform
import random
import statistics
import sys
import time
import tracemalloc

import numpy as np

from autograd import Value as CRValue

try:
    from importlib.metadata import version as _dist_version

    from micrograd.engine import Value as MGValue
    MICROGRAD = _dist_version("micrograd")
except ImportError:
    MGValue, MICROGRAD = None, None

TARGET_CHAIN = 0.5   # build + backward, chain and wide graph
TARGET_STEP = 0.34   # one step of the MLP demo
TARGET_MEMORY = 0.5  # bytes per node

# -- time spent in the garbage collector --------------------------------------

_gc = {"total": 0.0, "start": 0.0}


def _gc_callback(phase, info):
    if phase == "start":
        _gc["start"] = time.perf_counter()
    else:
        _gc["total"] += time.perf_counter() - _gc["start"]


gc.callbacks.append(_gc_callback)


def gc_seconds():
    return _gc["total"]


# -- the graphs, written once for either Value class ------------------------------

def chain(Value, n):
    """n ops in a line, starting from the leaf x; returns (x, y)."""
    x = Value(0.5)
    y = x
    for _ in range(n // 2):
        y = y * 1.0001
        y = y + 0.0001
    return x, y


def count_nodes(root):
    """Nodes reachable from root, iteratively (works with both Value classes)."""
    def parents(v):
        return v.parents if hasattr(v, "parents") else v._prev
    seen, stack = {id(root)}, [root]
    while stack:
        for p in parents(stack.pop()):
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return len(seen)


def make_moons(n=100, noise=0.1, seed=0):
    """sklearn.datasets.make_moons(n, noise) without sklearn; labels -1 / +1."""
    rng = random.Random(seed)
    n_out = n // 2
    n_in = n - n_out
    X = [(math.cos(math.pi * i / (n_out - 1)), math.sin(math.pi * i / (n_out - 1)))
         for i in range(n_out)]
    X += [(1 - math.cos(math.pi * i / (n_in - 1)), 0.5 - math.sin(math.pi * i / (n_in - 1)))
          for i in range(n_in)]
    X = [(a + rng.gauss(0, noise), b + rng.gauss(0, noise)) for a, b in X]
    y = [-1] * n_out + [1] * n_in
    return X, y


def initial_weights(sizes=(2, 16, 16, 1), seed=1337):
    """[(weights, bias) per neuron] per layer, as floats: micrograd's uniform(-1, 1), b = 0."""
    rng = random.Random(seed)
    return [[([rng.uniform(-1, 1) for _ in range(nin)], 0.0) for _ in range(nout)]
            for nin, nout in zip(sizes, sizes[1:])]


class MLP:
    """micrograd.nn.MLP (ReLU hidden layers, linear output) for any Value class."""

    def __init__(self, Value, weights):
        self.Value = Value
        self.layers = [[([Value(w) for w in ws], Value(b)) for ws, b in layer]
                       for layer in weights]

    def neuron(self, ws, b, x, relu):
        act = sum((wi * xi for wi, xi in zip(ws, x)), b)  # micrograd's Neuron.__call__
        return act.relu() if relu else act

    def __call__(self, x):
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            x = [self.neuron(ws, b, x, relu=i != last) for ws, b in layer]
        return x[0]

    def parameters(self):
        return [p for layer in self.layers for ws, b in layer for p in ws + [b]]


def demo_loss(model, X, y):
    """micrograd demo.ipynb's loss(): SVM max-margin loss + L2 regularization."""
    Value = model.Value
    inputs = [[Value(a), Value(b)] for a, b in X]
    scores = [model(x) for x in inputs]
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    accuracy = sum((yi > 0) == (si.data > 0) for yi, si in zip(y, scores)) / len(y)
    return data_loss + reg_loss, accuracy


def demo_steps(model, X, y, steps):
    """Run the demo's training loop; per step (build, backward, update, gc) seconds."""
    params = model.parameters()
    rows = []
    for k in range(steps):
        g0 = gc_seconds()
        t0 = time.perf_counter()
        loss, acc = demo_loss(model, X, y)
        t1 = time.perf_counter()
        for p in params:          # model.zero_grad()
            p.grad = 0.0
        loss.backward()
        t2 = time.perf_counter()
        lr = 1.0 - 0.9 * k / 100
        for p in params:
            p.data -= lr * p.grad
        t3 = time.perf_counter()
        rows.append((t1 - t0, t2 - t1, t3 - t2, gc_seconds() - g0))
        last = (loss.data, acc)
    return rows, last


# -- measurements -------------------------------------------------------------------

def time_chain(libraries, n, repeats):
    """{name: medians over repeats of (build, backward, del, time in gc)} for a chain of n ops.

    The libraries take turns within each repeat, so both see the same machine load.
    """
    runs = {name: [] for name in libraries}
    for _ in range(repeats):
        for name, Value in libraries.items():
            gc.collect()
            g0 = gc_seconds()
            t0 = time.perf_counter()
            x, y = chain(Value, n)
            t1 = time.perf_counter()
            y.backward()
            t2 = time.perf_counter()
            g1 = gc_seconds()
            assert abs(x.grad - 1.0001 ** (n // 2)) < 1e-9 * x.grad, x.grad
            del x
            t3 = time.perf_counter()
            del y  # chainrule frees its graph here, by reference counting
            t4 = time.perf_counter()
            runs[name].append((t1 - t0, t2 - t1, t4 - t3, g1 - g0))
    return {name: [statistics.median(col) for col in zip(*rows)] for name, rows in runs.items()}


def micrograd_default_limit_max_chain():
    """Longest chain (even number of ops, to ~10) micrograd's backward survives at the
    default recursion limit; found by bisection on short chains."""
    def ok(n):
        try:
            chain(MGValue, n)[1].backward()
            return True
        except RecursionError:
            return False
    lo, hi = 2, 4000  # ok(lo), not ok(hi)
    if ok(hi):
        return None
    while hi - lo > 10:
        mid = (lo + hi) // 2 // 2 * 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def bytes_per_node(build):
    """(nodes, bytes allocated and still held per node) while build() makes a graph."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    root = build()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    nodes = count_nodes(root)
    return nodes, (after - before) / nodes


# -- printing ---------------------------------------------------------------------

def ms(seconds):
    return f"{seconds * 1e3:,.1f}"


SUMMARY = []  # (what, ratio, target) for every ratio checked against a target


def ratio(ours, theirs, target, what=None):
    """("0.42x", "≤0.50x met") for ours / theirs; recorded in SUMMARY when ``what`` is given."""
    if theirs is None:
        return "", ""
    r = ours / theirs
    if what:
        SUMMARY.append((what, r, target))
    return f"{r:.2f}x", f"≤{target:.2f}x {'met' if r <= target else 'NOT met'}"


def table(header, rows):
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, shorter chains")
    args = parser.parse_args()
    quick = args.quick

    print("# chainrule scalar engine vs micrograd")
    print(f"Python {platform.python_version()} ({platform.python_implementation()}), "
          f"numpy {np.__version__}, {os.cpu_count()} CPUs, {platform.machine()} {platform.system()}; "
          f"micrograd {MICROGRAD or 'NOT INSTALLED (pip install micrograd==0.1.0): its rows are skipped'}")
    print(f"gc enabled={gc.isenabled()}, thresholds={gc.get_threshold()}, "
          f"default recursion limit={sys.getrecursionlimit()}; "
          f"{'--quick' if quick else 'full'} run; times are medians\n")
    default_limit = sys.getrecursionlimit()

    # 1. chains
    lengths = [1_000, 10_000, 100_000] + ([] if quick else [1_000_000])
    micrograd_max = 10_000 if quick else 100_000  # longer chains: chainrule only
    repeats = {1_000: 21, 10_000: 7, 100_000: 3, 1_000_000: 3}
    if quick:
        repeats = {1_000: 7, 10_000: 3, 100_000: 3}
    print("## 1. Chain of n ops: build + backward (ms)\n")
    if MGValue is not None:
        survives = micrograd_default_limit_max_chain()
        print(f"micrograd at the default recursion limit ({default_limit}): the longest chain "
              f"whose backward works is ~{survives} ops; longer ones raise RecursionError.  "
              "Its rows below run with the limit raised as shown.  chainrule never "
              "raises the limit.\n")
    rows = []
    for n in lengths:
        libraries = {"chainrule": CRValue}
        if MGValue is not None and n <= micrograd_max:
            libraries["micrograd"] = MGValue
            limit = max(default_limit, 2 * n + 1000)
            sys.setrecursionlimit(limit)
        try:
            result = time_chain(libraries, n, repeats[n])
        finally:
            sys.setrecursionlimit(default_limit)
        cr, mg = result["chainrule"], result.get("micrograd")
        if mg:
            rows.append([f"{n:,}", "micrograd", ms(mg[0]), ms(mg[1]), ms(mg[0] + mg[1]),
                         f"{mg[3] / (mg[0] + mg[1]):.0%}", ms(mg[2]),
                         f"recursion limit raised to {limit:,}", "", "", ""])
        r, verdict = ratio(cr[0] + cr[1], mg[0] + mg[1] if mg else None, TARGET_CHAIN,
                           f"chain of {n:,} ops, build + backward")
        r_nogc = ratio(cr[0] + cr[1] - cr[3], mg[0] + mg[1] - mg[3], 1)[0] if mg else ""
        note = "chainrule only" if mg is None and MGValue is not None else ""
        rows.append([f"{n:,}", "chainrule", ms(cr[0]), ms(cr[1]), ms(cr[0] + cr[1]),
                     f"{cr[3] / (cr[0] + cr[1]):.0%}", ms(cr[2]), note, r, verdict, r_nogc])
    table(["ops", "library", "build", "backward", "build+bwd", "gc share", "del", "note",
           "chainrule/micrograd", "target", "same, gc time excluded"], rows)
    print("\"del\": dropping the last reference to the graph.  chainrule's graph has no\n"
          "reference cycles, so it is freed right there; micrograd's (a closure per node)\n"
          "waits for the garbage collector: here the untimed gc.collect() between repeats.\n")

    # 2. the MLP demo
    steps = 5 if quick else 20
    X, y = make_moons()
    weights = initial_weights()
    print(f"## 2. micrograd's MLP demo: MLP 2-16-16-1, 100 points, {steps} steps (ms per step)\n")
    variants = {"chainrule": CRValue}
    if MGValue is not None:
        variants = {"micrograd": MGValue, "chainrule": CRValue}
    results = {}
    for name, Value in variants.items():
        gc.collect()
        per_step, (loss, acc) = demo_steps(MLP(Value, weights), X, y, steps)
        med = [statistics.median(col) for col in zip(*per_step)]
        totals = [sum(r[:3]) for r in per_step]
        gcshare = sum(r[3] for r in per_step) / sum(totals)
        results[name] = (med, statistics.median(totals), totals[0], gcshare, loss, acc)
    mg = results.get("micrograd")
    rows = []
    for name, (med, total, first, gcshare, loss, acc) in results.items():
        cells = [name, ms(med[0]), ms(med[1]), ms(med[2]), ms(total), ms(first), f"{gcshare:.0%}",
                 f"{loss:.6f}", f"{acc:.0%}"]
        if mg is None or name == "micrograd":
            cells += ["", "", "", "", ""]
        else:
            cells += list(ratio(med[0] + med[1], mg[0][0] + mg[0][1], TARGET_CHAIN,
                                "wide graph (MLP demo forward + loss), build + backward"))
            cells += list(ratio(total, mg[1], TARGET_STEP, "MLP demo, one training step"))
            cells += [ratio(total * (1 - gcshare), mg[1] * (1 - mg[3]), 1)[0]]
        rows.append(cells)
    table(["library", "build (fwd+loss)", "backward", "update", "step", "first step",
           "gc share", f"loss after {steps}", "accuracy", "wide graph: build+bwd ratio", "target",
           "step ratio", "target", "step ratio, gc time excluded"], rows)
    print("Same initial weights and data for both: equal losses show the graphs compute the same.\n"
          "Medians over the steps; micrograd's later steps are slower than its first, as the\n"
          "cyclic garbage of earlier steps' graphs piles up between full collections.\n")

    # 3. memory
    print("## 3. Memory: bytes allocated and held per node while building (tracemalloc)\n")
    n_mem = 10_000
    builds = {
        f"chain, {n_mem:,} ops": lambda V: lambda: chain(V, n_mem)[1],
        "MLP demo loss graph": lambda V: lambda: demo_loss(MLP(V, weights), X, y)[0],
    }
    rows = []
    for graph, make in builds.items():
        mg_bytes = None
        if MGValue is not None:
            nodes, mg_bytes = bytes_per_node(make(MGValue))
            rows.append([graph, "micrograd", f"{nodes:,}", f"{mg_bytes:.0f}", "", ""])
        nodes, cr_bytes = bytes_per_node(make(CRValue))
        rows.append([graph, "chainrule", f"{nodes:,}", f"{cr_bytes:.0f}",
                     *ratio(cr_bytes, mg_bytes, TARGET_MEMORY, f"bytes per node, {graph}")])
    table(["graph", "library", "nodes", "bytes/node", "chainrule/micrograd", "target"], rows)
    print("Both graphs are built entirely inside the trace (the MLP's parameters too), so\n"
          "bytes/node = everything the graph holds (nodes, their floats, parent links,\n"
          "closures) / nodes reachable from the output.\n")

    print("## Targets (chainrule / micrograd, same run)\n")
    if not SUMMARY:
        print("micrograd is not installed: no ratios (pip install micrograd==0.1.0).")
    for what, r, target in SUMMARY:
        print(f"- {what}: {r:.2f}x, target ≤{target:.2f}x: {'met' if r <= target else 'NOT MET'}")
    print("- recursion: chainrule ran every chain above (to "
          f"{lengths[-1]:,} ops) at the default recursion limit of {default_limit}"
          + (f"; micrograd needs a higher limit beyond ~{survives} ops" if MGValue else ""))


if __name__ == "__main__":
    main()
