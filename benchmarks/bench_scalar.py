"""chainrule's scalar engine (``autograd.Value``) beside micrograd, in one run, on the same
graphs: chains of operations (build + backward), one step of micrograd's MLP demo (2-16-16-1
on 100 points, SVM loss), bytes per graph node.  The garbage collector runs as usual.

    python benchmarks/bench_scalar.py [--quick]
"""
import functools
import gc
import math
import random
import sys
import tracemalloc

import _harness as h

h.clean_env()
from autograd import Value  # noqa: E402

micrograd = h.optional("micrograd.engine")
ENGINES = {"chainrule": Value}
if micrograd:
    ENGINES = {"micrograd": sys.modules["micrograd.engine"].Value, **ENGINES}


def chain(V, n):
    """n operations in a line, alternately * 1.0001 and + 0.0001; returns (leaf, output)."""
    x = y = V(0.5)
    for _ in range(n // 2):
        y = y * 1.0001 + 0.0001
    return x, y


def chain_step(V, n):
    x, y = chain(V, n)
    y.backward()
    assert math.isclose(x.grad, 1.0001 ** (n // 2))


def moons(n=100, seed=0):
    """sklearn's make_moons(n, noise=0.1) without sklearn; labels -1 / +1."""
    rng, half = random.Random(seed), n // 2
    angles = [math.pi * i / (half - 1) for i in range(half)]
    points = [(math.cos(a), math.sin(a)) for a in angles]
    points += [(1 - math.cos(a), 0.5 - math.sin(a)) for a in angles]
    return [(a + rng.gauss(0, 0.1), b + rng.gauss(0, 0.1)) for a, b in points], [-1] * half + [1] * half


def mlp(V, sizes=(2, 16, 16, 1), seed=1337):
    """micrograd.nn.MLP's weights as lists of Values: uniform(-1, 1), biases 0."""
    rng = random.Random(seed)
    return [[([V(rng.uniform(-1, 1)) for _ in range(nin)], V(0.0)) for _ in range(nout)]
            for nin, nout in zip(sizes, sizes[1:])]


def demo_loss(V, layers, X, y):
    """micrograd demo.ipynb's loss: mean SVM max-margin loss + 1e-4 * L2 of the weights."""
    scores = []
    for point in X:
        out = [V(a) for a in point]
        for i, layer in enumerate(layers):
            out = [sum((w * o for w, o in zip(ws, out)), b) for ws, b in layer]
            out = [o.relu() for o in out] if i < len(layers) - 1 else out
        scores.append(out[0])
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
    params = [p for layer in layers for ws, b in layer for p in ws + [b]]
    return sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in params), params


def demo_step(V, layers, X, y, last):
    loss, params = demo_loss(V, layers, X, y)
    for p in params:
        p.grad = 0.0
    loss.backward()
    for p in params:
        p.data -= 0.5 * p.grad
    last[V] = loss.data


def bytes_per_node(build):
    """Bytes allocated and still held per node while ``build()`` makes a graph."""
    gc.collect()
    tracemalloc.start()
    root = build()
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    seen, stack = {id(root)}, [root]
    while stack:
        node = stack.pop()
        for parent in getattr(node, "_prev", None) or getattr(node, "parents", ()):
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return held / len(seen)


def main():
    quick = "--quick" in sys.argv
    h.header("Scalar engine vs micrograd (benchmarks/bench_scalar.py"
             + (" --quick)" if quick else ")"))
    sys.setrecursionlimit(250_000)  # micrograd's backward recurses once per node (chainrule's does not)
    X, y = moons()
    timed, last = [], {}
    for n, rounds, calls in ((1_000, 11, 10), (10_000, 7, 1), (100_000, 3, 1)):
        configs = {name: (1, lambda V=V, n=n: chain_step(V, n)) for name, V in ENGINES.items()}
        timed.append((f"chain of {n:,} ops, build + backward", 0.5,
                      h.compare(configs, 3 if quick else rounds, calls)))
    configs = {name: (1, functools.partial(demo_step, V, mlp(V), X, y, last))  # one net per engine
               for name, V in ENGINES.items()}
    timed.append(("MLP demo, one step", 0.34, h.compare(configs, 2 if quick else 5, 1)))
    rows = []
    for what, target, times in timed:
        ratio = h.ratio(times, "chainrule", "micrograd") if micrograd else None
        rows.append([what, *(f"{1e3 * h.median(times[name]):,.1f}" for name in ENGINES),
                     *h.versus(ratio, target)])
    print("Median ms; the ratio is the median of same-round ratios.\n")
    h.table(["graph", *ENGINES, "chainrule / micrograd", "target"], rows)
    print("Loss after the last step (the same graphs give the same loss): "
          + ", ".join(f"{name} {last[V]:.6f}" for name, V in ENGINES.items()) + "\n")

    rows = []
    for what, build in (("chain of 10,000 ops", lambda V: chain(V, 10_000)[1]),
                        ("MLP demo loss graph", lambda V: demo_loss(V, mlp(V), X, y)[0])):
        held = {name: bytes_per_node(lambda build=build, V=V: build(V)) for name, V in ENGINES.items()}
        ratio = held["chainrule"] / held["micrograd"] if micrograd else None
        rows.append([what, *(f"{b:.0f}" for b in held.values()), *h.versus(ratio, 0.5)])
    h.table(["bytes per node", *ENGINES, "chainrule / micrograd", "target"], rows)


if __name__ == "__main__":
    main()
