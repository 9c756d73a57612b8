"""Winograd F(2x2, 3x3) against im2col for DeepConvNet's 3x3 convolutions (issue 20).

    .venv/bin/python benchmarks/bench_winograd.py [--rounds 5]

Winograd's minimal filtering (Lavin and Gray, 2015) computes each 2x2 block of outputs
from a 4x4 tile of the input with 16 multiplications per channel pair instead of 36:

    Y = A^T [ sum over c of (G g G^T) * (B^T d B) ] A

(``*`` elementwise; d a 4x4 input tile, g a 3x3 filter).  Over a batch this is 16 matrix
products (FN, C) @ (C, tiles), 2.25x fewer multiplications than im2col's product, plus
the transforms B^T d B of every input tile and A^T m A of every output tile.  The
prototype below writes each transform as its additions on whole arrays (numpy has no
way to fuse them), and checks itself against the op table's ``conv2d`` in float64.

It is a measurement, not a fast path: the table's rows compare the forward pass of each
of DeepConvNet's layers (batch 100, float32, one thread, CPU time of this thread, rounds
interleaved) and split Winograd's time into its stages, to show where it goes.
"""
import argparse
import time

from _harness import clean_env, compare, header, median, set_threads, table

clean_env()

import numpy as np  # noqa: E402

from autograd import ops  # noqa: E402

B_T = ((1, 0, -1, 0), (0, 1, 1, 0), (0, -1, 1, 0), (0, 1, 0, -1))  # input tile transform
A_T = ((1, 1, 1, 0), (0, 1, -1, -1))  # output tile transform
G = ((1, 0, 0), (0.5, 0.5, 0.5), (0.5, -0.5, 0.5), (0, 0, 1))  # filter transform

# DeepConvNet's convolutions after the first (one input channel gives nothing to sum over):
# (C, FN, H = W, pad), batch 100.
LAYERS = {"Conv2": (16, 16, 28, 1), "Conv3": (16, 32, 14, 1), "Conv4": (32, 32, 14, 2),
          "Conv5": (32, 64, 8, 1), "Conv6": (64, 64, 8, 1)}


def combine(parts, coefs, out):
    """out = sum of coef * part, coefs in {-1, 0, 1}: one pass over ``out`` per nonzero coef."""
    terms = [(part, coef) for part, coef in zip(parts, coefs) if coef]
    first, sign = terms[0]
    if sign == 1:
        np.copyto(out, first)
    else:
        np.negative(first, out=out)
    for part, coef in terms[1:]:
        (np.add if coef == 1 else np.subtract)(out, part, out=out)


def winograd(x, W, b, pad, clock=None):
    """conv2d(x, W, b, stride=1, pad) for 3x3 filters: (N, C, H, W) -> (N, FN, OH, OW).

    ``clock``: a dict that collects each stage's CPU seconds.
    """
    stages, start = {}, time.thread_time()

    def stage(name):
        nonlocal start
        now = time.thread_time()
        stages[name] = now - start
        start = now

    n, c, h, w = x.shape
    fn = W.shape[0]
    oh, ow = h + 2 * pad - 2, w + 2 * pad - 2
    th, tw = (oh + 1) // 2, (ow + 1) // 2  # tiles down and across; odd sizes get a spare row
    padded = np.zeros((n, c, 2 * th + 2, 2 * tw + 2), x.dtype)
    padded[:, :, pad:pad + h, pad:pad + w] = x
    tile = [[padded[:, :, i:i + 2 * th:2, j:j + 2 * tw:2] for j in range(4)] for i in range(4)]
    rows = np.empty((4, 4, n, c, th, tw), x.dtype)  # B^T d
    for a in range(4):
        for j in range(4):
            combine([tile[i][j] for i in range(4)], B_T[a], rows[a, j])
    V = np.empty((4, 4, c, n, th, tw), x.dtype)  # B^T d B, laid out for the products
    for a in range(4):
        for e in range(4):
            combine([rows[a, j] for j in range(4)], B_T[e], V[a, e].transpose(1, 0, 2, 3))
    stage("input transform")
    g = np.asarray(G, x.dtype)
    U = np.einsum("ai,fcij,ej->aefc", g, W, g).reshape(16, fn, c)  # G w G^T
    M = np.matmul(U, V.reshape(16, c, n * th * tw)).reshape(4, 4, fn, n, th, tw)
    stage("products")
    half = np.empty((2, 4, fn, n, th, tw), x.dtype)  # A^T m
    for a in range(2):
        for j in range(4):
            combine([M[i, j] for i in range(4)], A_T[a], half[a, j])
    out = np.empty((n, fn, th, 2, tw, 2), x.dtype)  # A^T m A, each tile's 2x2 outputs
    for a in range(2):
        for e in range(2):
            combine([half[a, j] for j in range(4)], A_T[e], out[:, :, :, a, :, e].transpose(1, 0, 2, 3))
    out = out.reshape(n, fn, 2 * th, 2 * tw)[:, :, :oh, :ow] + b[:, None, None]
    stage("output transform")
    if clock is not None:
        for name, seconds in stages.items():
            clock[name] = clock.get(name, 0.0) + seconds
    return out


def measure(name, c, fn, size, pad, rounds, rng):
    """One layer's rows: (im2col against Winograd, Winograd's stages beside im2col's product)."""
    x = rng.standard_normal((100, c, size, size))
    W = rng.standard_normal((fn, c, 3, 3)) * np.sqrt(2 / (9 * c))
    b = rng.standard_normal(fn)
    error = np.abs(winograd(x, W, b, pad) - ops.conv2d.forward(x, W, b, pad=pad)).max()
    if error > 1e-10:
        raise SystemExit(f"error: {name}: Winograd differs from conv2d by {error:.1e} in float64")
    x, W, b = (a.astype(np.float32) for a in (x, W, b))
    W2, columns = W.reshape(fn, -1), ops.columns(x, 3, 3, 1, pad)
    times = compare({"im2col": (1, lambda: ops.conv2d.forward(x, W, b, pad=pad)),
                     "Winograd": (1, lambda: winograd(x, W, b, pad)),
                     "product": (1, lambda: np.matmul(W2, columns))},
                    rounds, 3, clock=time.thread_time)
    im2col, fast = median(times["im2col"]), median(times["Winograd"])
    clock = {}
    for _ in range(rounds):
        winograd(x, W, b, pad, clock)
    return ([name, f"{im2col * 1e3:.1f}", f"{fast * 1e3:.1f}", f"{fast / im2col:.2f}x",
             f"{error:.0e}"],
            [name, f"{median(times['product']) * 1e3:.1f}"]
            + [f"{seconds / rounds * 1e3:.1f}" for seconds in clock.values()])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    args = parser.parse_args()
    set_threads(1)
    header("Winograd F(2x2, 3x3) against im2col (DeepConvNet's convolutions, forward)")
    rng = np.random.default_rng(0)
    rows = [measure(name, *shape, args.rounds, rng) for name, shape in LAYERS.items()]
    table(["layer", "im2col ms", "Winograd ms", "Winograd / im2col", "float64 error"],
          [row for row, _ in rows])
    table(["layer", "im2col's product ms", "Winograd: input transform ms", "products ms",
           "output transform ms"], [split for _, split in rows])


if __name__ == "__main__":
    main()
