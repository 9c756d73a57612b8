"""What a compiled kernel would give issue 20: ReLU and 2x2 max pooling as one numba kernel.

    CHAINRULE_DATA=../shared/data .venv/bin/python benchmarks/bench_fused_pool.py   # needs numba

chainrule's numpy layers stop at the memory-bound passes (BENCHMARKS.md, chapter 8): ReLU
and pooling each read and write the convolution's whole output, forward and backward.  A
compiled kernel can do both in one pass: forward, each 2x2 window's first maximum (kept if
positive) and its position; backward, the gradient written to that position, zeros
elsewhere.  That equals ReLU followed by pooling (the first maximum of relu(x) is x's when
positive, and a window of non-positive values passes nothing back).

A measurement, not a fast path: numba is not a dependency of chainrule.  Each ReLU followed
by a pooling layer is swapped for the kernel in a copy of the net (its gradients are checked
against the numpy layers'), and the training step (forward, backward, Adam, batch 100,
float32, one thread, CPU time of this thread) is timed side by side with chainrule's numpy
layers, the floor (the step's matrix products alone) and PyTorch eager, rounds interleaved.
"""
import argparse
import time

from _harness import clean_env, compare, header, median, optional, ratio, table

clean_env()

import numpy as np  # noqa: E402
from bench_conv import NETS, cycler, floor, torch_step  # noqa: E402

from nn import load_mnist  # noqa: E402
from nn.layers import Pooling, Relu  # noqa: E402
from nn.training.optimizers import Adam  # noqa: E402

NONE = 4  # the position code of a window whose maximum is not positive: it passes nothing


def kernels(numba):
    @numba.njit
    def forward(x, out, where):
        n, c, h, w = x.shape
        for a in range(n):
            for b in range(c):
                for i in range(h // 2):
                    for j in range(w // 2):
                        best, k = x[a, b, 2 * i, 2 * j], 0
                        for p in range(1, 4):
                            v = x[a, b, 2 * i + p // 2, 2 * j + p % 2]
                            if v > best:
                                best, k = v, p
                        out[a, b, i, j] = best if best > 0 else 0
                        where[a, b, i, j] = k if best > 0 else NONE

    @numba.njit
    def backward(g, where, dx):
        n, c, oh, ow = g.shape
        for a in range(n):
            for b in range(c):
                for i in range(oh):
                    for j in range(ow):
                        for p in range(4):
                            dx[a, b, 2 * i + p // 2, 2 * j + p % 2] = (
                                g[a, b, i, j] if where[a, b, i, j] == p else 0)
    return forward, backward


class Passthrough:
    """Takes the ReLU's place: the fused layer after it does the ReLU."""

    def forward(self, x):
        return x

    def backward(self, dout):
        return dout


class FusedReluPool:
    def __init__(self, forward, backward):
        self.kernels = forward, backward

    def forward(self, x):
        n, c, h, w = x.shape
        self.shape = x.shape
        out = np.empty((n, c, h // 2, w // 2), x.dtype)
        self.where = np.empty(out.shape, np.uint8)
        self.kernels[0](x, out, self.where)
        return out

    def backward(self, dout):
        dx = np.empty(self.shape, dout.dtype)
        self.kernels[1](np.ascontiguousarray(dout), self.where, dx)
        return dx


def fused(net, forward, backward):
    """``net`` with each Relu followed by a 2x2 Pooling replaced by the kernel."""
    keys = list(net.layers)
    for relu, pool in zip(keys, keys[1:]):
        if isinstance(net.layers[relu], Relu) and isinstance(net.layers[pool], Pooling):
            net.layers[relu], net.layers[pool] = Passthrough(), FusedReluPool(forward, backward)
    return net


def step(net, batches):
    opt, batch = Adam(lr=0.001), cycler(batches)
    return lambda: opt.update(net.params, net.gradient(*batch()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10, help="steps per round (default 10)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    numba, torch = optional("numba"), optional("torch")
    if numba is None:
        raise SystemExit("error: this measurement needs numba (pip install numba)")
    forward, backward = kernels(numba)
    header("ReLU + 2x2 max pooling as one compiled kernel: a float32 training step, one thread")
    (x_train, t_train), _ = load_mnist(flatten=False, dtype=np.float32)
    rng = np.random.default_rng(0)
    batches = [(x_train[m], t_train[m].astype(np.intp))
               for m in (rng.integers(len(x_train), size=100) for _ in range(8))]
    for name, make in NETS.items():
        numpy_net, fused_net = make(), fused(make(), forward, backward)
        # Both nets draw their weights and Dropout masks from the same seed.
        expected, got = numpy_net.gradient(*batches[0]), fused_net.gradient(*batches[0])
        for key in expected:
            np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-6,
                                       err_msg=f"{name} {key}: the kernel differs")
        configs = {"chainrule (numpy)": (1, step(make(), batches)),
                   "chainrule + numba ReLU/pool": (1, step(fused(make(), forward, backward),
                                                           batches)),
                   "floor": (1, floor(name, batches))}
        if torch is not None:
            configs["PyTorch eager"] = (1, torch_step(name, batches, torch))
        times = compare(configs, args.rounds, args.steps, clock=time.thread_time)
        print(f"## {name}: ms per step (CPU time, median of {args.rounds} rounds of "
              f"{args.steps} steps)\n")
        table(["", "ms/step", "numpy / this", "numba / this"],
              [[key, f"{median(t) * 1e3:.1f}", f"{ratio(times, 'chainrule (numpy)', key):.2f}x",
                f"{ratio(times, 'chainrule + numba ReLU/pool', key):.2f}x"]
               for key, t in times.items()])


if __name__ == "__main__":
    main()
