#!/usr/bin/env python
"""Data loading and evaluation times for chainrule's ``nn``, and the memory an evaluation
takes (it must not copy the dataset to another dtype).  A benchmark that prints tables,
not a test.

Run from the repository root, with the MNIST files in ``$CHAINRULE_DATA/mnist``::

    CHAINRULE_DATA=../shared/data python benchmarks/bench_data.py           # ~40 s
    CHAINRULE_DATA=../shared/data python benchmarks/bench_data.py --quick   # ~15 s

1. ``load_mnist`` cold (an empty ``XDG_CACHE_HOME``, so the .gz files are decoded and
   checked and the .npy cache written; the .gz files themselves are in the OS page
   cache after the first run) and warm (the .npy cache), each in a fresh subprocess
   that times the call itself; also warm calls in this process.
2. Batch selection for one step (``np.random.choice`` + fancy indexing), which the
   step benchmark in bench_nn.py leaves out.
3. ``TwoLayerNet.accuracy`` on 60,000 and 10,000 images, float32 and float64, at 1 and
   2 BLAS threads, interleaved; PyTorch eager and the book's accuracy as references.
4. Peak memory above the resident size before one evaluation of the 60,000 training
   images: the kernel's high-water mark (VmHWM, reset through /proc/self/clear_refs)
   and tracemalloc's peak for numpy's allocations.  A dtype copy of the training set
   would show as 188 MB (float32) or 376 MB (float64).
"""
import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_nn import (BATCH, HIDDEN, INPUT, OUTPUT, REPO, SETTLE_SECONDS,  # noqa: E402
                      OtherLoad, header, table, threadpool_limits, try_torch, yes_no)

MB = 1e6


def child_load(dtype):
    """In a subprocess: time one load_mnist() call and print it as JSON."""
    t0 = time.perf_counter()
    from nn.mnist import load_mnist
    t1 = time.perf_counter()
    load_mnist(dtype=np.dtype(dtype))
    t2 = time.perf_counter()
    print("BENCH_RESULT " + json.dumps({"import": t1 - t0, "load": t2 - t1}))


def run_child(args, env):
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args], cwd=REPO,
                       env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"child {args} failed:\n{p.stdout}\n{p.stderr}")
    line = [s for s in p.stdout.splitlines() if s.startswith("BENCH_RESULT ")][-1]
    return wall, json.loads(line.split(" ", 1)[1])


def bench_load(repeats):
    from nn.mnist import load_mnist
    runs = {"cold (empty .npy cache), float32": [], "warm (.npy cache), float32": [],
            "warm (.npy cache), float64": []}
    walls = {k: [] for k in runs}
    with tempfile.TemporaryDirectory(prefix="bench_data_") as tmp, OtherLoad() as load:
        for r in range(repeats):
            env = dict(os.environ, XDG_CACHE_HOME=str(Path(tmp) / f"cache{r}"),
                       CHAINRULE_OFFLINE="1")
            for name, dt in (("cold (empty .npy cache), float32", "float32"),
                             ("warm (.npy cache), float32", "float32"),
                             ("warm (.npy cache), float64", "float64")):
                wall, res = run_child(["--child-load", dt], env)
                runs[name].append(res["load"])
                walls[name].append(wall)
        # Warm, in this process (the user's own cache).
        inproc = []
        for _ in range(repeats * 2):
            t0 = time.perf_counter()
            load_mnist()
            inproc.append(time.perf_counter() - t0)
    rows = [[name, f"{1e3 * statistics.median(v):8.0f}", f"{1e3 * min(v):8.0f}",
             f"{statistics.median(walls[name]):6.2f}"] for name, v in runs.items()]
    rows.append(["warm, float32, repeated in one process", f"{1e3 * statistics.median(inproc):8.0f}",
                 f"{1e3 * min(inproc):8.0f}", "-"])
    print(f"\n-- 1. load_mnist() (train 60,000 + test 10,000, normalize, flatten), "
          f"{repeats} run(s) each, fresh subprocess per run --")
    print("   " + table(["case", "median ms", "min ms", "subprocess wall s"], rows)
          .replace("\n", "\n   "))
    print(f"   {load}")


def bench_batch_select(x32, x64, t, rounds):
    rng = np.random.default_rng(0)
    n = len(x32)
    cases = {"float32 images": x32, "float64 images": x64}
    res = {k: [] for k in cases}
    for _ in range(rounds):
        for name, x in cases.items():
            t0 = time.perf_counter_ns()
            for _ in range(100):
                mask = rng.choice(n, BATCH)
                x[mask], t[mask]
            res[name].append((time.perf_counter_ns() - t0) / 100 / 1e3)
    rows = [[name, f"{statistics.median(v):6.1f}", f"{min(v):6.1f}"] for name, v in res.items()]
    print(f"\n-- 2. Batch selection per step: np.random.choice(60000, {BATCH}) + x[mask], "
          f"t[mask] (part of a training loop, not of the step in bench_nn.py) --")
    print("   " + table(["images", "median us", "min us"], rows).replace("\n", "\n   "))


def book_accuracy(params, x, t):
    """The book's TwoLayerNet.accuracy as written: predict on all of x at once."""
    a1 = np.dot(x, params["W1"]) + params["b1"]
    h = np.maximum(a1, 0)
    y = np.dot(h, params["W2"]) + params["b2"]
    return np.sum(np.argmax(y, axis=1) == t) / float(x.shape[0])


def make_evals(data, torch):
    from nn.two_layer_net import TwoLayerNet
    (x32, t), (xt32, tt), x64, xt64 = data
    net32 = TwoLayerNet(INPUT, HIDDEN, OUTPUT, dtype=np.float32, rng=1)
    net64 = TwoLayerNet(INPUT, HIDDEN, OUTPUT, dtype=np.float64, rng=1)
    book64 = {k: v.astype(np.float64) for k, v in net64.params.items()}
    evals = [  # (name, net dtype, (train fn, test fn))
        ("nn float32 net, float32 images", "float32",
         (lambda: net32.accuracy(x32, t), lambda: net32.accuracy(xt32, tt))),
        ("nn float64 net, float64 images", "float64",
         (lambda: net64.accuracy(x64, t), lambda: net64.accuracy(xt64, tt))),
        ("nn float64 net, float32 images", "float64",
         (lambda: net64.accuracy(x32, t), lambda: net64.accuracy(xt32, tt))),
        ("book as written (f32 images x f64 weights)", "float64",
         (lambda: book_accuracy(book64, x32, t), lambda: book_accuracy(book64, xt32, tt))),
    ]
    if torch:
        p = {k: torch.from_numpy(v) for k, v in net32.params.items()}
        X, T = torch.from_numpy(x32), torch.from_numpy(t.astype(np.int64))
        Xt, Tt = torch.from_numpy(xt32), torch.from_numpy(tt.astype(np.int64))

        def tacc(x, y, chunk=10000):
            c = 0
            with torch.no_grad():
                for s in range(0, len(x), chunk):
                    sc = torch.relu(x[s:s + chunk] @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
                    c += int((sc.argmax(dim=1) == y[s:s + chunk]).sum())
            return c / len(x)
        evals.append(("PyTorch eager float32 (no_grad, chunks of 10,000)", "float32",
                      (lambda: tacc(X, T), lambda: tacc(Xt, Tt))))
    return evals


def bench_eval(evals, threads_list, rounds, torch):
    results, loads = {}, {}
    for n in threads_list:
        with threadpool_limits(n), OtherLoad() as loads[n]:
            if torch:
                torch.set_num_threads(n)
            times = {(name, split): [] for name, _, _ in evals for split in (0, 1)}
            for name, _, fns in evals:  # warm-up
                fns[0]()
                fns[1]()
            gc.collect()
            last_lib = None
            for _ in range(rounds):
                for name, _, fns in evals:
                    lib = "torch" if name.startswith("PyTorch") else "numpy"
                    if n > 1 and last_lib is not None and lib != last_lib:
                        time.sleep(SETTLE_SECONDS)  # let the other library's threads stop spinning
                    last_lib = lib
                    for split in (0, 1):
                        t0 = time.perf_counter()
                        fns[split]()
                        times[(name, split)].append(time.perf_counter() - t0)
            results[n] = times
    print(f"\n-- 3. Evaluation: accuracy() on all images, median / min ms over {rounds} "
          f"interleaved rounds (with 2 threads, a {SETTLE_SECONDS} s pause when the library "
          f"changes, as in bench_nn.py) --")
    heads = ["evaluation"]
    for n in threads_list:
        heads += [f"60k ms {n}t", "min", f"10k ms {n}t", "min"]
    rows = []
    for name, _, _ in evals:
        row = [name]
        for n in threads_list:
            for split in (0, 1):
                v = results[n][(name, split)]
                row += [f"{1e3 * statistics.median(v):7.1f}", f"{1e3 * min(v):7.1f}"]
        rows.append(row)
    print("   " + table(heads, rows).replace("\n", "\n   "))
    for n in threads_list:
        print(f"   {n} thread(s): {loads[n]}")
    per_run = {n: 18 * (statistics.median(results[n][(evals[0][0], 0)])
                        + statistics.median(results[n][(evals[0][0], 1)])) for n in threads_list}
    print(f"   a default nn.train run evaluates 18 times (every 600 iterations from the first, "
          f"and after the last; with --eval-threads 2 by default): nn float32 evaluation takes "
          + ", ".join(f"{t:.2f} s at {n} thread(s)" for n, t in per_run.items()))


def vm(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return None


def malloc_trim():
    """Give freed heap memory back to the OS, so that VmRSS is what is really in use."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def reset_hwm():
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def bench_memory(evals, data):
    (x32, _), _, x64, _ = data
    sizes = {"float32": x32.nbytes, "float64": x64.nbytes}
    rows = []
    for name, dt, fns in evals:
        gc.collect()
        # tracemalloc: numpy's own allocations (not torch's).
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        fns[0]()
        tm_peak = tracemalloc.get_traced_memory()[1] - before
        tracemalloc.stop()
        gc.collect()
        malloc_trim()
        # Kernel high-water mark: every allocation, torch's included.
        rss0 = vm("VmRSS")
        ok = reset_hwm()
        fns[0]()
        hwm = (vm("VmHWM") - rss0) if ok and rss0 is not None else None
        extra = max(tm_peak, hwm or 0) if "PyTorch" not in name else (hwm or 0)
        copy_size = sizes[dt]
        copies = extra >= 0.5 * copy_size
        rows.append([name, f"{tm_peak / MB:7.1f}" if "PyTorch" not in name else "n/a",
                     f"{hwm / MB:7.1f}" if hwm is not None else "n/a",
                     f"{copy_size / MB:5.0f}",
                     ("YES: copies the dataset" if copies else "no") +
                     ("" if "book" in name else f" -> {yes_no(not copies)}")])
    print("\n-- 4. Peak memory above the resident size during one accuracy() on the 60,000 "
          "training images (float32 images are 188 MB, float64 376 MB) --")
    print("   " + table(["evaluation", "tracemalloc MB", "VmHWM MB", "dtype copy MB",
                         "dataset copied? (target: no)"], rows,
                        ["<", ">", ">", ">", "<"]).replace("\n", "\n   "))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fast smoke run")
    ap.add_argument("--threads", default="1,2", help="BLAS thread counts (1,2)")
    ap.add_argument("--child-load", metavar="DTYPE", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_load:
        child_load(args.child_load)
        return
    if not os.environ.get("CHAINRULE_DATA") and (REPO.parent / "shared" / "data" / "mnist").is_dir():
        os.environ["CHAINRULE_DATA"] = str(REPO.parent / "shared" / "data")
    torch, torch_note = try_torch()
    from nn.mnist import load_mnist
    (x32, t), (xt32, tt) = load_mnist()
    data = ((x32, t), (xt32, tt), x32.astype(np.float64), xt32.astype(np.float64))
    print(header("chainrule benchmarks/bench_data.py" + (" --quick" if args.quick else "")))
    if torch_note:
        print(torch_note)
    bench_load(1 if args.quick else 3)
    bench_batch_select(data[0][0], data[2], t, 5 if args.quick else 30)
    evals = make_evals(data, torch)
    bench_eval(evals, [int(s) for s in args.threads.split(",")], 2 if args.quick else 7, torch)
    bench_memory(evals, data)


if __name__ == "__main__":
    main()
