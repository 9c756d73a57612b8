#!/usr/bin/env python
"""chainrule's ``nn`` against PyTorch CPU eager and the GEMM floor: one training step, and
the full default training run (``python -m nn.train``).  A benchmark that prints tables,
not a test.

Run from the repository root, with the MNIST files in ``$CHAINRULE_DATA/mnist``::

    CHAINRULE_DATA=../shared/data python benchmarks/bench_nn.py           # all of it, ~2.5 min idle
    CHAINRULE_DATA=../shared/data python benchmarks/bench_nn.py --quick   # smoke run, ~30 s

PyTorch is in the optional ``bench`` extra (``pip install -e ".[bench]"``); without it
the PyTorch rows are skipped with a note.  Everything compared is measured in the same
run, interleaved (A, B, C, A, B, C, ...), after a warm-up, because this machine drifts
10-25% over half an hour and other processes come and go.

A *step* is forward + backward + the SGD update (the book's loop
``params[k] -= lr * grad[k]``) on a batch of 100 images that is already sliced out:
batch selection belongs to a training loop but not to a step.  Every implementation
cycles through the same pre-drawn batches.  The full run (section 3) includes batch
selection, evaluation and everything else.  Section 4 times the step again while other
processes keep the cores busy: why ``nn.train`` uses one BLAS thread by default.
"""
import argparse
import datetime
import gc
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as `python benchmarks/bench_nn.py` without installing
    sys.path.insert(0, str(REPO))

# The data beside the clone, as CI and the README use it, unless the caller says otherwise.
if not os.environ.get("CHAINRULE_DATA") and (REPO.parent / "shared" / "data" / "mnist").is_dir():
    os.environ["CHAINRULE_DATA"] = str(REPO.parent / "shared" / "data")

INPUT, HIDDEN, OUTPUT, BATCH, LR = 784, 50, 10, 100, 0.1
KEYS = ("W1", "b1", "W2", "b2")

# Targets from the issue.
TARGET_STEP_VS_TORCH = 0.6
TARGET_STEP_VS_FLOOR = 1.5
TARGET_RUN_VS_TORCH = 0.45
TARGET_RUN_SECONDS = 5.0
TARGET_TEST_ACC = 0.965


# ----------------------------------------------------------------------------- environment

def try_torch():
    """(torch, None), or (None, why not) when the `bench` extra is not installed."""
    try:
        import torch
        return torch, None
    except ImportError as err:
        return None, (f"PyTorch not installed ({err}); PyTorch rows skipped. "
                      f"Install the bench extra: pip install -e \".[bench]\"")


def threadpool_limits(n):
    """threadpoolctl's limit on numpy's BLAS, or a do-nothing context if threadpoolctl is missing."""
    try:
        from threadpoolctl import threadpool_limits as limits
    except ImportError:
        import contextlib
        print(f"note: threadpoolctl missing, BLAS threads NOT limited to {n}")
        return contextlib.nullcontext()
    return limits(limits=n, user_api="blas")


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def header(title):
    """Date, machine, versions and BLAS libraries, as printed lines."""
    torch, _ = try_torch()
    lines = [f"== {title} ==",
             f"date: {datetime.datetime.now().isoformat(timespec='seconds')}   "
             f"machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()} "
             f"{platform.release()}   load average: "
             + " ".join(f"{x:.2f}" for x in os.getloadavg()),
             f"python {platform.python_version()}, numpy {np.__version__}, torch "
             + (torch.__version__ if torch else "not installed")]
    try:
        from threadpoolctl import threadpool_info
        for lib in threadpool_info():
            lines.append(f"threadpool: {lib['user_api']} {lib['internal_api']} "
                         f"{lib.get('version') or ''} {lib.get('architecture') or ''} "
                         f"threads={lib['num_threads']} ({Path(lib['filepath']).name})")
        lines += openblas_note(threadpool_info())
    except ImportError:
        lines.append("threadpool: threadpoolctl not installed")
    if torch:
        blas = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
        lines.append(f"torch: BLAS {blas.group(1) if blas else '?'}, "
                     f"CPU capability {torch.backends.cpu.get_cpu_capability()}, "
                     f"intra-op threads {torch.get_num_threads()}")
    return "\n".join(lines)


AVX512_FLAGS = {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"}


def cpu_flags():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def openblas_note(info):
    """A warning when OpenBLAS runs its AVX2 (Haswell) kernels on a CPU that has AVX-512:
    OpenBLAS does not recognise every newer CPU (e.g. AMD family 26) and falls back."""
    archs = [lib.get("architecture") for lib in info if lib.get("internal_api") == "openblas"]
    forced = os.environ.get("OPENBLAS_CORETYPE")
    notes = [f"note: OPENBLAS_CORETYPE={forced} is set in the environment"] if forced else []
    if "Haswell" in archs and AVX512_FLAGS <= cpu_flags():
        notes.append("note: this CPU has AVX-512 but OpenBLAS runs its Haswell (AVX2) kernels"
                     + ("" if not forced else " because of OPENBLAS_CORETYPE") + "; its AVX-512 "
                     "(SkylakeX) kernels make the two big GEMMs ~35% faster here (lower floor)")
    return notes


def load_data():
    from nn.mnist import load_mnist
    return load_mnist()  # float32 images (N, 784), uint8 labels


def table(headers, rows, aligns=None):
    """A plain-text table; numbers already formatted as strings."""
    cols = list(zip(*([headers] + rows))) if rows else [[h] for h in headers]
    widths = [max(len(str(c)) for c in col) for col in cols]
    aligns = aligns or ["<"] + [">"] * (len(headers) - 1)
    fmt = "  ".join(f"{{:{a}{w}}}" for a, w in zip(aligns, widths))
    out = [fmt.format(*headers), "  ".join("-" * w for w in widths)]
    out += [fmt.format(*map(str, r)) for r in rows]
    return "\n".join(out)


def yes_no(ok):
    return "MET" if ok else "MISSED"


class OtherLoad:
    """How busy the *other* processes kept the CPUs while a section ran: busy time from
    /proc/stat minus this process's and its children's CPU time, divided by wall time.
    With 2 cores, 1.0 means another process used a whole core."""

    @staticmethod
    def _busy():
        try:
            f = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except (OSError, ValueError):
            return None
        idle = f[3] + (f[4] if len(f) > 4 else 0)
        return (sum(f[:8]) - idle) / os.sysconf("SC_CLK_TCK")

    def __enter__(self):
        self.t0, self.b0, self.o0 = time.perf_counter(), self._busy(), sum(os.times()[:4])
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.t0
        b1 = self._busy()
        self.cores = (None if b1 is None or self.b0 is None else
                      max(0.0, (b1 - self.b0 - (sum(os.times()[:4]) - self.o0)) / self.wall))
        return False

    def __str__(self):
        if self.cores is None:
            return "other processes' CPU use: unknown"
        return (f"other processes kept {self.cores:.2f} of {os.cpu_count()} cores busy on "
                f"average during this section ({self.wall:.1f} s)"
                + ("  <- contended: trust paired ratios and minima more than medians"
                   if self.cores > 0.25 else ""))


# ----------------------------------------------------------------------------- the book's code

class BookNet:
    """Chapter 5's TwoLayerNet and common/layers.py as the book writes them (reference rows).

    Labels one-hot, as the book's train_neuralnet.py loads them.  ``dtype`` is the
    weights' dtype: float64 as written (``np.random.randn``), fed float32 images that
    numpy promotes to float64 at every product.
    """

    def __init__(self, dtype, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {"W1": (0.01 * rng.standard_normal((INPUT, HIDDEN))).astype(dtype),
                       "b1": np.zeros(HIDDEN, dtype), "W2": (0.01 * rng.standard_normal(
                           (HIDDEN, OUTPUT))).astype(dtype), "b2": np.zeros(OUTPUT, dtype)}

    def gradient(self, x, t):
        p = self.params
        # Affine1.forward, Relu.forward, Affine2.forward
        a1 = np.dot(x, p["W1"]) + p["b1"]
        mask = a1 <= 0
        h = a1.copy()
        h[mask] = 0
        a2 = np.dot(h, p["W2"]) + p["b2"]
        # SoftmaxWithLoss.forward: softmax, cross_entropy_error (one-hot -> argmax)
        z = a2 - np.max(a2, axis=-1, keepdims=True)
        y = np.exp(z) / np.sum(np.exp(z), axis=-1, keepdims=True)
        n = y.shape[0]
        ti = t.argmax(axis=1)
        self.last_loss = -np.sum(np.log(y[np.arange(n), ti] + 1e-7)) / n
        # backward
        dout = (y - t) / n
        g = {"W2": np.dot(h.T, dout), "b2": np.sum(dout, axis=0)}
        dh = np.dot(dout, p["W2"].T)
        dh[mask] = 0
        g["W1"], g["b1"] = np.dot(x.T, dh), np.sum(dh, axis=0)
        np.dot(dh, p["W1"].T)  # the book's Affine1.backward also returns dx, unused
        return g


# ----------------------------------------------------------------------------- steps

def make_batches(x_train, t_train, count, seed):
    rng = np.random.default_rng(seed)
    idx = [rng.choice(len(x_train), BATCH) for _ in range(count)]
    xb32 = [np.ascontiguousarray(x_train[i]) for i in idx]
    return {"x32": xb32, "x64": [a.astype(np.float64) for a in xb32],
            "t": [t_train[i] for i in idx],  # uint8 class indices, as load_mnist gives them
            "onehot32": [np.eye(OUTPUT, dtype=np.float32)[t_train[i]] for i in idx],
            "onehot64": [np.eye(OUTPUT, dtype=np.float64)[t_train[i]] for i in idx]}


def make_nn_step(dtype, xs, ts, seed):
    from nn.two_layer_net import TwoLayerNet
    net = TwoLayerNet(INPUT, HIDDEN, OUTPUT, dtype=dtype, rng=seed)

    def step(k):
        grad = net.gradient(xs[k], ts[k])
        for key in KEYS:
            net.params[key] -= LR * grad[key]
    return step


def make_book_step(dtype, xs, ts, seed):
    net = BookNet(dtype, seed)

    def step(k):
        grad = net.gradient(xs[k], ts[k])
        for key in KEYS:
            net.params[key] -= LR * grad[key]
    return step


def make_torch_step(torch, dtype, xs, ts, seed):
    import torch.nn.functional as F
    rng = np.random.default_rng(seed)
    W1 = torch.tensor(0.01 * rng.standard_normal((INPUT, HIDDEN)), dtype=dtype, requires_grad=True)
    W2 = torch.tensor(0.01 * rng.standard_normal((HIDDEN, OUTPUT)), dtype=dtype, requires_grad=True)
    b1 = torch.zeros(HIDDEN, dtype=dtype, requires_grad=True)
    b2 = torch.zeros(OUTPUT, dtype=dtype, requires_grad=True)
    params = (W1, b1, W2, b2)
    txs = [torch.from_numpy(a) for a in xs]
    tts = [torch.from_numpy(a.astype(np.int64)) for a in ts]

    def step(k):
        logits = torch.relu(txs[k] @ W1 + b1) @ W2 + b2
        loss = F.cross_entropy(logits, tts[k])
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
                p.grad = None
    return step


def make_gemm_floor(dtype, xs, seed):
    """The five GEMMs of a step, same shapes, outputs preallocated: the floor.  The input
    batch cycles through the same pre-sliced batches ``xs`` as the steps (a new batch
    is not in cache: ~10% of the two big GEMMs); the other operands are fixed."""
    rng = np.random.default_rng(seed)
    r = lambda *s: rng.standard_normal(s).astype(dtype)  # noqa: E731
    W1, W2, d = r(INPUT, HIDDEN), r(HIDDEN, OUTPUT), r(BATCH, OUTPUT)
    h, dh = r(BATCH, HIDDEN), r(BATCH, HIDDEN)
    a1, a2, dW2, dW1 = (np.empty(s, dtype) for s in
                        ((BATCH, HIDDEN), (BATCH, OUTPUT), (HIDDEN, OUTPUT), (INPUT, HIDDEN)))
    mm = np.matmul

    def step(k):
        x = xs[k]
        mm(x, W1, out=a1)      # forward 100x784 @ 784x50
        mm(h, W2, out=a2)      # forward 100x50 @ 50x10
        mm(h.T, d, out=dW2)    # dW2 = h.T @ d, 50x100 @ 100x10
        mm(d, W2.T, out=dh)    # dh = d @ W2.T, 100x10 @ 10x50
        mm(x.T, dh, out=dW1)   # dW1 = x.T @ dh, 784x100 @ 100x50
    return step


# Idle BLAS/OpenMP worker threads keep spinning for a while after a call (OpenBLAS up to
# 2^28 cycles, ~0.1 s; libgomp ~ms).  With 2 threads on 2 cores, numpy's spinning worker
# steals a core from PyTorch's next block and the other way round, which no real training
# loop (one library) suffers: measured here, it doubled either side's median.  So when
# the library changes between blocks, sleep this long first (only with more than 1 thread).
SETTLE_SECONDS = 0.15


def rotated(configs, r):
    """``configs`` for round ``r``: libraries in their given order (one switch each way per
    round), and within each library its configs rotated by ``r``, so that no config always
    runs first, on the batches and caches the previous round's last config left behind."""
    order = []
    for lib in dict.fromkeys(lib for _, _, lib in configs):
        group = [c for c in configs if c[2] == lib]
        k = r % len(group)
        order += group[k:] + group[:k]
    return order


def interleaved(configs, nbatches, rounds, block, warm, settle=0.0):
    """Run ``block`` timed calls of each config per round, configs interleaved, ``warm``
    untimed calls before each block.  ``configs``: (name, fn, library); when the library
    changes from one block to the next, sleep ``settle`` seconds first, so that the other
    library's idle threads have stopped spinning.  Returns {name: [us per call, one per
    block]}."""
    times = {name: [] for name, _, _ in configs}
    pos = {name: 0 for name, _, _ in configs}
    clock = time.perf_counter_ns
    last_lib = None
    for r in range(rounds):
        for name, fn, lib in rotated(configs, r):
            if settle and last_lib is not None and lib != last_lib:
                time.sleep(settle)
            last_lib = lib
            k = pos[name]
            for _ in range(warm):
                fn(k % nbatches)
                k += 1
            t0 = clock()
            for _ in range(block):
                fn(k % nbatches)
                k += 1
            times[name].append((clock() - t0) / block / 1e3)
            pos[name] = k
    return times


def bench_steps(batches, threads_list, rounds, block, warm, torch):
    configs_meta = []  # (name, kind, dtype, factory)
    b = batches
    configs_meta += [
        ("nn float32", "nn", "f32", lambda: make_nn_step(np.float32, b["x32"], b["t"], 1)),
        ("nn float64", "nn", "f64", lambda: make_nn_step(np.float64, b["x64"], b["t"], 1)),
        ("nn float64 net, float32 images", "nn", "f64",
         lambda: make_nn_step(np.float64, b["x32"], b["t"], 1)),
        ("book ch05, all float32", "book", "f32",
         lambda: make_book_step(np.float32, b["x32"], b["onehot32"], 1)),
        ("book ch05 as written (f32 images x f64 weights)", "book", "f64",
         lambda: make_book_step(np.float64, b["x32"], b["onehot64"], 1)),
    ]
    if torch:
        configs_meta += [
            ("PyTorch eager float32", "torch", "f32",
             lambda: make_torch_step(torch, torch.float32, b["x32"], b["t"], 1)),
            ("PyTorch eager float64", "torch", "f64",
             lambda: make_torch_step(torch, torch.float64, b["x64"], b["t"], 1)),
        ]
    configs_meta += [
        ("GEMM floor float32 (5 GEMMs)", "floor", "f32", lambda: make_gemm_floor(np.float32, b["x32"], 1)),
        ("GEMM floor float64 (5 GEMMs)", "floor", "f64", lambda: make_gemm_floor(np.float64, b["x64"], 1)),
    ]
    nb = len(b["x32"])
    results, loads = {}, {}
    for n in threads_list:
        with threadpool_limits(n), OtherLoad() as loads[n]:
            if torch:
                torch.set_num_threads(n)
            # numpy configurations first, then PyTorch's: one library switch each way per round
            configs = sorted(((name, factory(), "torch" if kind == "torch" else "numpy")
                              for name, kind, _, factory in configs_meta),
                             key=lambda c: c[2] == "torch")
            gc.collect()
            results[n] = interleaved(configs, nb, rounds, block, warm,
                                     SETTLE_SECONDS if n > 1 else 0.0)
    return configs_meta, results, loads


def paired(a, b):
    """Median over rounds of a[i] / b[i]: blocks measured one after the other in the same
    round saw the same machine, so this ratio resists drift and competing processes."""
    return statistics.median(x / y for x, y in zip(a, b))


def print_steps(configs_meta, results, loads, torch_note, rounds, block):
    print(f"\n-- 1. One training step (forward + backward + SGD update), 784-{HIDDEN}-{OUTPUT}, "
          f"batch {BATCH}, pre-sliced batches (batch selection not included) --")
    print(f"   us per step: median and min over {rounds} interleaved rounds, one block of "
          f"{block} steps per implementation per round. Ratios vs PyTorch eager and vs the "
          f"GEMM floor of the same dtype and thread count are paired: the median over rounds "
          f"of (this block / the reference's block in the same round). Targets use them. "
          f"With 2 threads, {SETTLE_SECONDS} s pause whenever the library changes (numpy <-> "
          f"torch), so neither runs against the other's spinning idle threads.")
    if torch_note:
        print(f"   {torch_note}")
    tname = {"f32": "PyTorch eager float32", "f64": "PyTorch eager float64"}
    fname = {"f32": "GEMM floor float32 (5 GEMMs)", "f64": "GEMM floor float64 (5 GEMMs)"}
    summary = {}
    for n, times in results.items():
        rows = []
        for name, kind, dt, _ in configs_meta:
            m = statistics.median(times[name])
            rt = paired(times[name], times[tname[dt]]) if tname[dt] in times else None
            rf = paired(times[name], times[fname[dt]])
            target = ""
            if name == "nn float32":
                ok_t = rt is not None and rt <= TARGET_STEP_VS_TORCH
                ok_f = rf <= TARGET_STEP_VS_FLOOR
                target = (f"<={TARGET_STEP_VS_TORCH}x torch: "
                          f"{yes_no(ok_t) if rt is not None else 'n/a'}; "
                          f"<={TARGET_STEP_VS_FLOOR}x floor: {yes_no(ok_f)}")
                summary[n] = (m, rt, rf, ok_t, ok_f)
            rows.append([name, f"{m:8.1f}", f"{min(times[name]):8.1f}",
                         f"{rt:.2f}x" if rt is not None else "-", f"{rf:.2f}x", target])
        print(f"\n   {n} thread{'s' if n > 1 else ''} (numpy BLAS via threadpoolctl, "
              f"torch.set_num_threads({n})); {loads[n]}")
        print("   " + table(["implementation", "median us", "min us", "vs torch", "vs floor",
                             "target (nn float32 only)"], rows,
                            ["<", ">", ">", ">", ">", "<"]).replace("\n", "\n   "))
    return summary


# ----------------------------------------------------------------------------- step breakdown

def bench_breakdown(batches, threads, rounds, block):
    """Where an nn float32 step's time goes: each layer's forward/backward and the update,
    timed one by one, next to the GEMMs they contain, timed alone on the same batch in
    the same iteration (same machine state)."""
    from nn.two_layer_net import TwoLayerNet
    net = TwoLayerNet(INPUT, HIDDEN, OUTPUT, dtype=np.float32, rng=1)
    L = net.layers
    a1, r1, a2, last = L["Affine1"], L["Relu1"], L["Affine2"], net.lastLayer
    xs, ts = batches["x32"], batches["t"]
    nb = len(xs)
    pieces = ["Affine1.forward", "Relu1.forward", "Affine2.forward", "SoftmaxWithLoss.forward",
              "SoftmaxWithLoss.backward", "Affine2.backward", "Relu1.backward",
              "Affine1.backward", "SGD update (4 params)", "whole step (gradient() + update)"]
    rng = np.random.default_rng(2)
    r = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    W1, W2, D, H = r(INPUT, HIDDEN), r(HIDDEN, OUTPUT), r(BATCH, OUTPUT), r(BATCH, HIDDEN)
    gemms = {"x@W1": lambda X: X @ W1, "h@W2": lambda X: H @ W2, "h.T@d": lambda X: H.T @ D,
             "d@W2.T": lambda X: D @ W2.T, "x.T@dh": lambda X: X.T @ H}
    acc = {p: [] for p in pieces}
    gt = {g: [] for g in gemms}
    clock = time.perf_counter_ns
    k = 0
    with threadpool_limits(threads), OtherLoad() as load:
        for _ in range(rounds):
            sums = dict.fromkeys(pieces, 0)
            gsums = dict.fromkeys(gemms, 0)
            for _ in range(block):
                x, t = xs[k % nb], ts[k % nb]
                k += 1
                c0 = clock(); h = a1.forward(x)
                c1 = clock(); h = r1.forward(h)
                c2 = clock(); s = a2.forward(h)
                c3 = clock(); last.forward(s, t)
                c4 = clock(); d = last.backward(1)
                c5 = clock(); d = a2.backward(d)
                c6 = clock(); d = r1.backward(d)
                c7 = clock(); a1.backward(d)
                c8 = clock()
                grad = {"W1": a1.dW, "b1": a1.db, "W2": a2.dW, "b2": a2.db}
                c9 = clock()
                for key in KEYS:
                    net.params[key] -= LR * grad[key]
                c10 = clock()
                # the real thing, untouched, on the next batch
                x, t = xs[k % nb], ts[k % nb]
                k += 1
                c11 = clock()
                g = net.gradient(x, t)
                for key in KEYS:
                    net.params[key] -= LR * g[key]
                c12 = clock()
                for p, dt in zip(pieces, (c1 - c0, c2 - c1, c3 - c2, c4 - c3, c5 - c4, c6 - c5,
                                          c7 - c6, c8 - c7, c10 - c9, c12 - c11)):
                    sums[p] += dt
                # the GEMMs alone, on a batch that is not in cache either
                x = xs[k % nb]
                k += 1
                for name, fn in gemms.items():
                    t0 = clock()
                    fn(x)
                    gsums[name] += clock() - t0
            for p in pieces:
                acc[p].append(sums[p] / block / 1e3)
            for name in gemms:
                gt[name].append(gsums[name] / block / 1e3)
    med = {p: statistics.median(v) for p, v in acc.items()}
    gmed = {g: statistics.median(v) for g, v in gt.items()}
    contains = {"Affine1.forward": "x@W1", "Affine2.forward": "h@W2",
                "Affine2.backward": "h.T@d + d@W2.T", "Affine1.backward": "x.T@dh"}
    gsum = {"Affine1.forward": gmed["x@W1"], "Affine2.forward": gmed["h@W2"],
            "Affine2.backward": gmed["h.T@d"] + gmed["d@W2.T"], "Affine1.backward": gmed["x.T@dh"]}
    whole = med["whole step (gradient() + update)"]
    parts = sum(med[p] for p in pieces[:-1])
    rows = []
    for p in pieces:
        gs = gsum.get(p)
        rows.append([p, f"{med[p]:7.1f}", f"{100 * med[p] / whole:5.1f}%",
                     contains.get(p, "-"), f"{gs:6.1f}" if gs is not None else "-",
                     f"{med[p] - gs:6.1f}" if gs is not None else f"{med[p]:6.1f}"])
    print(f"\n-- 2. Where an nn float32 step goes ({threads} thread{'s' if threads > 1 else ''}; "
          f"median us over {rounds} blocks of {block} steps; each piece timed separately, so "
          f"the pieces add up to {parts:.1f} us vs {whole:.1f} us for the whole step) --")
    print(f"   {load}")
    print("   " + table(["piece", "us", "of step", "GEMMs inside", "GEMM us", "non-GEMM us"],
                        rows, ["<", ">", ">", "<", ">", ">"]).replace("\n", "\n   "))
    total_g = sum(gmed.values())
    print(f"   the five GEMMs alone: {total_g:.1f} us ("
          + ", ".join(f"{g} {v:.1f}" for g, v in gmed.items()) + f"); everything else: "
          f"{whole - total_g:.1f} us = {100 * (whole - total_g) / whole:.0f}% of the step")
    return med, gmed


# ----------------------------------------------------------------------------- shared machine

BUSY_LOOP = "while True: pass"


def bench_shared(batches, x_eval, t_eval, rounds, block):
    """The thread policy when the machine is shared: nn float32 steps and one accuracy() on
    ``x_eval`` at 1 and 2 BLAS threads, while 0, 1 or all-cores other processes each keep
    a core busy (a Python busy loop).  Per-step mean, median and 99th percentile: a
    collapse shows in the mean and the tail, not always in the median."""
    from nn.two_layer_net import TwoLayerNet
    xs, ts = batches["x32"], batches["t"]
    net = TwoLayerNet(INPUT, HIDDEN, OUTPUT, dtype=np.float32, rng=1)
    clock = time.perf_counter_ns
    k = 0
    rows = []
    for busy in sorted({0, 1, os.cpu_count() or 1}):
        procs = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(busy)]
        try:
            time.sleep(0.3)  # let them get going
            steps, evals = {1: [], 2: []}, {1: [], 2: []}
            for r in range(rounds):
                for n in (1, 2) if r % 2 == 0 else (2, 1):
                    with threadpool_limits(n):
                        for _ in range(block):
                            x, t = xs[k % len(xs)], ts[k % len(xs)]
                            k += 1
                            t0 = clock()
                            grad = net.gradient(x, t)
                            for key in KEYS:
                                net.params[key] -= LR * grad[key]
                            steps[n].append((clock() - t0) / 1e3)
                        t0 = clock()
                        net.accuracy(x_eval, t_eval)
                        evals[n].append((clock() - t0) / 1e6)
        finally:
            for proc in procs:
                proc.kill()
                proc.wait()
        for n in (1, 2):
            st = np.array(steps[n])
            rows.append([busy, n, f"{st.mean():.0f}", f"{np.median(st):.0f}",
                         f"{np.percentile(st, 99):.0f}",
                         f"{st.mean() / np.mean(steps[1]):.2f}x",
                         f"{statistics.median(evals[n]):.1f}"])
    print(f"\n-- 4. The thread policy on a shared machine: nn float32 at 1 and 2 BLAS threads "
          f"while other processes each keep a core busy ({rounds} rounds of {block} steps and "
          f"one accuracy() on {len(x_eval):,} images per thread count, alternating) --")
    print("   " + table(["busy processes", "threads", "step mean us", "median us", "p99 us",
                         "mean vs 1 thread", f"accuracy() {len(x_eval) // 1000}k ms (median)"],
                        rows).replace("\n", "\n   "))


# ----------------------------------------------------------------------------- full run

def torch_train(iters, batch_size, lr, hidden, seed, threads, eval_threads=None,
                weight_init_std=0.01):
    """nn.train's loop in PyTorch eager float32: the same data (load_mnist, shared with
    torch.from_numpy), the same initial weights and mini-batches for the same seed (one
    numpy Generator draws W1, W2, then the batch indices, as nn.train does), the loss
    read and checked every iteration, train and test accuracy on all 70,000 images at
    i % 600 == 0 and after the last iteration, in chunks of 10,000.  ``threads``: torch
    threads (None: its default); ``eval_threads``: threads while evaluating, as nn.train's
    --eval-threads (None: the same as for the steps).  Prints one JSON line;
    ``loop`` excludes interpreter start, imports and data loading, like nn.train's
    training + accuracy times."""
    t_start = time.perf_counter()
    import torch
    import torch.nn.functional as F
    if threads:
        torch.set_num_threads(threads)
    (x_train, t_train), (x_test, t_test) = load_data()
    X, T = torch.from_numpy(x_train), torch.from_numpy(t_train.astype(np.int64))
    Xt, Tt = torch.from_numpy(x_test), torch.from_numpy(t_test.astype(np.int64))
    rng = np.random.default_rng(seed)
    W1 = torch.from_numpy((weight_init_std * rng.standard_normal((INPUT, hidden)))
                          .astype(np.float32)).requires_grad_()
    b1 = torch.zeros(hidden, requires_grad=True)
    W2 = torch.from_numpy((weight_init_std * rng.standard_normal((hidden, OUTPUT)))
                          .astype(np.float32)).requires_grad_()
    b2 = torch.zeros(OUTPUT, requires_grad=True)
    params = (W1, b1, W2, b2)

    def accuracy(x, t, chunk=10000):
        correct = 0
        with torch.no_grad():
            for s in range(0, len(x), chunk):
                scores = torch.relu(x[s:s + chunk] @ W1 + b1) @ W2 + b2
                correct += int((scores.argmax(dim=1) == t[s:s + chunk]).sum())
        return correct / len(x)

    train_size = len(X)
    iter_per_epoch = max(train_size // batch_size, 1)
    losses, evals, eval_seconds = [], [], 0.0
    t0 = time.perf_counter()
    for i in range(iters):
        idx = torch.from_numpy(rng.integers(train_size, size=batch_size))
        x, t = X[idx], T[idx]
        loss = F.cross_entropy(torch.relu(x @ W1 + b1) @ W2 + b2, t)
        loss.backward()
        value = loss.item()
        if not math.isfinite(value):
            raise FloatingPointError(f"loss {value} at iteration {i + 1}")
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None
        losses.append(value)
        if i % iter_per_epoch == 0 or i == iters - 1:
            e0 = time.perf_counter()
            step_threads = torch.get_num_threads()
            if eval_threads:
                torch.set_num_threads(eval_threads)
            evals.append((accuracy(X, T), accuracy(Xt, Tt)))
            torch.set_num_threads(step_threads)
            eval_seconds += time.perf_counter() - e0
    loop = time.perf_counter() - t0
    print("BENCH_RESULT " + json.dumps({
        "loop": loop, "eval": eval_seconds, "evaluations": len(evals),
        "total": time.perf_counter() - t_start, "train_acc": evals[-1][0],
        "test_acc": evals[-1][1], "threads": torch.get_num_threads()}))


def _num(pattern, out):
    m = re.search(pattern, out)
    return float(m.group(1)) if m else None


def parse_result(out):
    """{loop, eval, total, train_acc, test_acc, evaluations} from a BENCH_RESULT line, or from
    nn.train's closing lines ("final: train acc X, test acc Y" and "elapsed T s: ...
    training A s ..., accuracy B s"); fields it cannot find are left out."""
    m = re.search(r"BENCH_RESULT (\{.*\})", out)
    if m:
        return json.loads(m.group(1))
    res = {}
    m = re.search(r"final: train acc ([\d.]+), test acc ([\d.]+)", out)
    if m:
        res["train_acc"], res["test_acc"] = float(m.group(1)), float(m.group(2))
    total = _num(r"elapsed ([\d.]+) s", out)
    training = _num(r"training ([\d.]+) s", out)
    acc = _num(r"accuracy ([\d.]+) s", out)
    if total is not None:
        res["total"] = total
    if training is not None and acc is not None:
        res["loop"], res["eval"] = training + acc, acc
    res["evaluations"] = len(re.findall(r"^epoch .*\(iter", out, re.M))
    return res


def run_timed(cmd, env):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    out = p.stdout + "\n" + p.stderr
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{out[-3000:]}")
    res = parse_result(out)
    if "loop" not in res or "test_acc" not in res:
        raise RuntimeError(f"no result found in the output of {' '.join(cmd)}:\n{out[-3000:]}")
    res["wall"] = wall
    return res


def bench_full(repeats, iters, threads, torch):
    """Interleaved subprocess runs: nn.train (and, for reference, nn.train with all cores),
    then the PyTorch loop with nn.train's threads (per step and for evaluation) and with
    PyTorch's own default; the same seed for all of them in each repeat.  The first entry
    is the one the targets judge."""
    env = dict(os.environ)
    env.setdefault("CHAINRULE_OFFLINE", "1")
    me = str(Path(__file__).resolve())
    cpus = os.cpu_count()
    nn_threads = threads or 1  # nn.train's default --threads is 1
    nn_eval = min(2, cpus)  # and its --eval-threads 2, capped at the CPUs
    base = [sys.executable, "-m", "nn.train"] + (["--iters", str(iters)] if iters != 10000 else [])
    cmds = {"nn (python -m nn.train)": base + (["--threads", str(threads)] if threads else [])}
    if nn_threads != cpus:
        cmds[f"nn, --threads {cpus} (reference)"] = base + ["--threads", str(cpus)]
    if torch:
        cmds[f"PyTorch eager, nn.train's threads ({nn_threads} per step, {nn_eval} to evaluate)"] = [
            sys.executable, me, "--torch-train", "--iters", str(iters),
            "--torch-threads", str(nn_threads), "--torch-eval-threads", str(nn_eval)]
        if nn_threads != cpus:
            cmds[f"PyTorch eager, {cpus} threads (its default)"] = [
                sys.executable, me, "--torch-train", "--iters", str(iters)]
    load_data()  # warm the page cache and the .npy cache (not timed)
    runs = {name: [] for name in cmds}
    with OtherLoad() as load:
        for r in range(repeats):
            for name, cmd in cmds.items():
                runs[name].append(run_timed(cmd + ["--seed", str(r)], env))
    return cmds, runs, load


def print_full(cmds, runs, load, label, torch_note):
    names = list(cmds)
    nrep = len(runs[names[0]])
    print(f"\n-- 3. Full training run{label}; {nrep} run(s) of each, interleaved, each in its "
          f"own subprocess, --seed r for repeat r (same weights and batches for all) --")
    for name, cmd in cmds.items():
        print(f"   {name}: {' '.join(Path(c).name if i == 0 else c for i, c in enumerate(cmd))}"
              " --seed r")
    print("   loop s = training + evaluations as each measures itself (no interpreter start, "
          "imports, data loading); wall s = the whole subprocess. Accuracy: last repeat "
          "(median over repeats in brackets for test).")
    print("   nn / this: paired, the median over repeats of nn's time / this run's time in the "
          "same repeat.")
    print(f"   {load}")
    if torch_note:
        print(f"   {torch_note}")
    med = {n: {k: statistics.median(r[k] for r in runs[n]) for k in ("loop", "eval", "wall")}
           for n in names}
    nn_runs = runs[names[0]]
    for n in names:
        med[n]["paired_loop"] = paired([r["loop"] for r in nn_runs], [r["loop"] for r in runs[n]])
        med[n]["paired_wall"] = paired([r["wall"] for r in nn_runs], [r["wall"] for r in runs[n]])
    for n in names:
        med[n]["test_acc"] = statistics.median(r["test_acc"] for r in runs[n])
        med[n]["train_acc"] = statistics.median(r["train_acc"] for r in runs[n])
    rows = []
    for n in names:
        m, r = med[n], runs[n]
        rows.append([n, f"{m['loop']:.2f}", f"{min(x['loop'] for x in r):.2f}",
                     f"{m['eval']:.2f}", f"{r[-1].get('evaluations', '?')}",
                     f"{m['wall']:.2f}", f"{r[-1]['train_acc']:.4f}",
                     f"{r[-1]['test_acc']:.4f} ({m['test_acc']:.4f})",
                     f"{m['paired_loop']:.2f}x", f"{m['paired_wall']:.2f}x"])
    print("   " + table(["run", "loop s", "loop min", "of which eval s", "evals", "wall s",
                         "train acc", "test acc", "nn / this, loop", "nn / this, wall"], rows)
          .replace("\n", "\n   "))
    return med


# ----------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fast smoke run: fewer rounds, "
                    "1,200-iteration training runs (not the default 10,000), one repeat")
    ap.add_argument("--threads", default="1,2", help="thread counts for the step table")
    ap.add_argument("--rounds", type=int, help="interleaved rounds per config (default 60; quick 8)")
    ap.add_argument("--skip-step", action="store_true", help="skip sections 1 and 2")
    ap.add_argument("--skip-full", action="store_true", help="skip section 3")
    ap.add_argument("--skip-shared", action="store_true", help="skip section 4")
    ap.add_argument("--full-repeats", type=int, help="training runs of each (default 3; quick 1)")
    ap.add_argument("--full-threads", type=int, default=None,
                    help="give --threads N to nn.train (default: its own default, 1) and N "
                         "threads per step to the PyTorch run that mirrors it")
    # Internal: the PyTorch training loop, run in a subprocess.
    ap.add_argument("--torch-train", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--iters", type=int, default=10000, help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--torch-threads", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--torch-eval-threads", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.torch_train:
        torch_train(args.iters, BATCH, LR, HIDDEN, args.seed, args.torch_threads,
                    args.torch_eval_threads)
        return

    torch, torch_note = try_torch()
    rounds = args.rounds or (8 if args.quick else 60)
    block, warm = (10, 3) if args.quick else (20, 5)
    threads_list = [int(s) for s in args.threads.split(",")]
    (x_train, t_train), _ = load_data()
    print(header("chainrule benchmarks/bench_nn.py" + (" --quick" if args.quick else "")))
    summary, full = {}, None
    if not args.skip_step:
        batches = make_batches(x_train, t_train, 200, seed=0)
        meta, results, loads = bench_steps(batches, threads_list, rounds, block, warm, torch)
        summary = print_steps(meta, results, loads, torch_note, rounds, block)
        for n in threads_list:
            bench_breakdown(batches, n, max(rounds // 2, 4), block)
    if not args.skip_full:
        iters = 1200 if args.quick else 10000
        repeats = args.full_repeats or (1 if args.quick else 3)
        label = (f" ({iters} iterations: QUICK, not the default run)" if args.quick else
                 " (nn.train defaults: 10,000 iterations, batch 100, lr 0.1, float32, 18 evaluations, "
                 f"{args.full_threads or 1} BLAS thread(s) per step, 2 to evaluate)")
        cmds, runs, load = bench_full(repeats, iters, args.full_threads, torch)
        full = print_full(cmds, runs, load, label, torch_note)

    if not args.skip_shared:
        batches = make_batches(x_train, t_train, 200, seed=1)
        bench_shared(batches, x_train[:10000], t_train[:10000], 4 if args.quick else 10,
                     100 if args.quick else 200)

    print("\n-- 5. Targets (nn float32) --")
    rows = []
    for n, (m, rt, rf, ok_t, ok_f) in summary.items():
        rows.append([f"step, {n} thread(s): <= {TARGET_STEP_VS_TORCH}x PyTorch eager",
                     f"{rt:.2f}x ({m:.0f} us)" if rt is not None else "n/a (no torch)",
                     yes_no(ok_t) if rt is not None else "n/a"])
        rows.append([f"step, {n} thread(s): <= {TARGET_STEP_VS_FLOOR}x GEMM floor",
                     f"{rf:.2f}x", yes_no(ok_f)])
    if full:
        names = list(full)
        nn_m = full[names[0]]
        note = " (quick: not the default run)" if args.quick else ""
        for name in names[1:]:
            if not name.startswith("PyTorch"):
                continue
            r = full[name]["paired_loop"]
            rows.append([f"full run: <= {TARGET_RUN_VS_TORCH}x {name} (loop)", f"{r:.2f}x",
                         yes_no(r <= TARGET_RUN_VS_TORCH) + note])
        rows.append([f"full run: < {TARGET_RUN_SECONDS:.0f} s (loop; wall {nn_m['wall']:.2f} s)",
                     f"{nn_m['loop']:.2f} s", yes_no(nn_m["loop"] < TARGET_RUN_SECONDS) + note])
        rows.append([f"full run: test accuracy >= {TARGET_TEST_ACC} (median)",
                     f"{nn_m['test_acc']:.4f}", yes_no(nn_m["test_acc"] >= TARGET_TEST_ACC) + note])
    print("   " + table(["target", "measured", "status"], rows, ["<", ">", "<"])
          .replace("\n", "\n   "))
    print("   evaluation without a dataset copy: see benchmarks/bench_data.py")
    print(f"   load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
