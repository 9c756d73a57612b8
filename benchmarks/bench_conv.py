"""SimpleConvNet training (chapter 7) side by side: chainrule, PyTorch CPU eager, the book.

    CHAINRULE_DATA=../shared/data .venv/bin/python benchmarks/bench_conv.py --book /tmp/dlfs

Each contender runs the same loop on the same random MNIST batches of 100 (forward,
backward, Adam lr 0.001), with the same number of threads (BLAS for numpy, intra-op for
PyTorch; default 1, as ``python -m nn.train``).  ``--steps`` steps are timed, rounds
alternate between contenders, the best round counts, and the time is scaled to one epoch
(600 steps).  Then the evaluation of the 10,000 test images: time and the peak of the
memory numpy allocates on the way (tracemalloc), against the size of the whole test set's
im2col matrix.

The book's code is imported at run time from a checkout of its repository
(github.com/oreilly-japan/deep-learning-from-scratch; ``--book`` is the folder holding
``common/`` and ``ch07/``); it is never part of this project.  It computes in float64.

The script re-runs itself without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (if the
environment sets them, numpy's BLAS uses slower kernels) and prints the BLAS kernel.
"""
import argparse
import os
import sys
import time
import tracemalloc

import numpy as np

_FORCED = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if any(v in os.environ for v in _FORCED):  # this process only: tests and CI keep them
    env = {k: v for k, v in os.environ.items() if k not in _FORCED}
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from nn import load_mnist  # noqa: E402
from nn.training.optimizers import Adam  # noqa: E402
from nn.nets.simple_conv_net import SimpleConvNet  # noqa: E402

STEPS_PER_EPOCH = 600


def ours(dtype, xs, ts):
    net, opt = SimpleConvNet(dtype=dtype, rng=0), Adam(lr=0.001)
    xs = [x.astype(dtype) for x in xs]

    def step(i):
        opt.update(net.params, net.gradient(xs[i], ts[i]))
    return step


def book(book_dir, xs, ts):
    sys.path.insert(0, book_dir)
    from ch07.simple_convnet import SimpleConvNet as BookNet
    from common.optimizer import Adam as BookAdam
    np.random.seed(0)
    net, opt = BookNet(), BookAdam(lr=0.001)

    def step(i):
        opt.update(net.params, net.gradient(xs[i], ts[i]))
    return step


def torch_eager(xs, ts):
    import torch
    import torch.nn.functional as F
    g = torch.Generator().manual_seed(0)
    W1 = (0.01 * torch.randn(30, 1, 5, 5, generator=g)).requires_grad_()
    W2 = (0.01 * torch.randn(4320, 100, generator=g)).requires_grad_()
    W3 = (0.01 * torch.randn(100, 10, generator=g)).requires_grad_()
    b1, b2, b3 = (torch.zeros(n, requires_grad=True) for n in (30, 100, 10))
    opt = torch.optim.Adam([W1, b1, W2, b2, W3, b3], lr=0.001, eps=1e-7)
    xs = [torch.from_numpy(x) for x in xs]
    ts = [torch.from_numpy(t.astype(np.int64)) for t in ts]

    def step(i):
        h = F.max_pool2d(F.relu(F.conv2d(xs[i], W1, b1)), 2, 2)
        h = F.relu(h.reshape(len(h), -1) @ W2 + b2)
        loss = F.cross_entropy(h @ W3 + b3, ts[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def time_rounds(contenders, steps, rounds):
    """Best wall-clock and best CPU seconds per step of each contender, rounds interleaved.

    CPU time (this process's, all threads) is the steadier of the two on a shared machine:
    it leaves out the time spent waiting for a core.
    """
    wall = dict.fromkeys(contenders, float("inf"))
    cpu = dict.fromkeys(contenders, float("inf"))
    for name, step in contenders.items():
        step(0)  # warm-up: first-call allocations, lazy imports
    for _ in range(rounds):
        for name, step in contenders.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            for i in range(steps):
                step(i)
            cpu[name] = min(cpu[name], (time.process_time() - start_cpu) / steps)
            wall[name] = min(wall[name], (time.perf_counter() - start) / steps)
    return wall, cpu


def evaluation(x_test, t_test, batch_size):
    net = SimpleConvNet(dtype=np.float32, rng=0)
    tracemalloc.start()
    start = time.perf_counter()
    net.accuracy(x_test, t_test, batch_size=batch_size)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--book", default=os.environ.get("DLFS_BOOK"),
                        help="checkout of the book's repository (holds common/ and ch07/)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=60, help="steps per round (default 60)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    (x_train, t_train), (x_test, t_test) = load_mnist(flatten=False, dtype=np.float32)
    rng = np.random.default_rng(0)
    masks = [rng.integers(len(x_train), size=100) for _ in range(args.steps)]
    xs, ts = [x_train[m] for m in masks], [t_train[m].astype(np.intp) for m in masks]

    blas = [f"{i['internal_api']} {i['version']} ({i.get('architecture')})"
            for i in threadpool_info() if i["user_api"] == "blas"]
    print(f"numpy {np.__version__}, BLAS {', '.join(blas)}; {args.threads} thread(s); "
          f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}")
    contenders = {"chainrule float32": ours(np.float32, xs, ts),
                  "chainrule float64": ours(np.float64, xs, ts)}
    try:
        import torch
        torch.set_num_threads(args.threads)
        print(f"torch {torch.__version__}, {torch.get_num_threads()} intra-op thread(s)")
        contenders["PyTorch eager float32"] = torch_eager(xs, ts)
    except ImportError:
        print("note: PyTorch is not installed (the bench extra): no PyTorch row")
    if args.book:
        contenders["the book (float64)"] = book(args.book, xs, ts)
    else:
        print("note: no --book checkout given: no row for the book's code")

    with threadpool_limits(limits=args.threads, user_api="blas"):
        timings = time_rounds(contenders, args.steps, args.rounds)
    print(f"\nSimpleConvNet training, batch 100, Adam; best of {args.rounds} rounds of "
          f"{args.steps} steps, scaled to an epoch of {STEPS_PER_EPOCH} steps")
    for title, best in zip(("wall-clock", "CPU time"), timings):
        torch_time = best.get("PyTorch eager float32")
        book_time = best.get("the book (float64)")
        print(f"{title:24} {'ms/step':>8} {'s/epoch':>8} {'/ PyTorch':>10} {'/ book':>8}")
        for name, seconds in best.items():
            vs_torch = f"{seconds / torch_time:.2f}x" if torch_time else "-"
            vs_book = f"{seconds / book_time:.2f}x" if book_time else "-"
            print(f"{name:24} {seconds * 1e3:8.2f} {seconds * STEPS_PER_EPOCH:8.2f} "
                  f"{vs_torch:>10} {vs_book:>8}")

    print("\nevaluation of the 10,000 test images (float32, accuracy in batches)")
    whole = len(x_test) * 25 * 24 * 24 * 4
    with threadpool_limits(limits=args.threads, user_api="blas"):
        for batch_size in (100, 1000):
            seconds, peak = evaluation(x_test, t_test, batch_size)
            print(f"batch {batch_size:5}: {seconds:.2f} s, peak numpy memory {peak / 2**20:6.1f} MB "
                  f"(the whole test set's im2col alone would be {whole / 2**20:.0f} MB)")


if __name__ == "__main__":
    main()
