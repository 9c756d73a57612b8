"""Convolutional nets (chapters 7 and 8) side by side: chainrule, PyTorch CPU eager, the floor.

    CHAINRULE_DATA=../shared/data .venv/bin/python benchmarks/bench_conv.py [--book /tmp/dlfs]

For SimpleConvNet and DeepConvNet, one training step (forward, backward, Adam lr 0.001) on
the same random MNIST batches of 100, float32, one thread each (BLAS for numpy, intra-op for
PyTorch), timed in CPU time of the timing thread (what other processes on a shared machine
do not stretch), rounds interleaved; the median round counts.  Rows:

- chainrule: the net of ``nn.nets``;
- PyTorch eager: the same architecture with ``torch.nn.functional`` (DeepConvNet's Dropout
  included), ``torch.optim.Adam``;
- the floor: the step's matrix products alone (each convolution's and Affine layer's
  forward product and its backward products for dW and dx, on arrays of the same shapes);
- the book (float64), with ``--book``: a checkout of its repository
  (github.com/oreilly-japan/deep-learning-from-scratch, the folder holding ``common/``,
  ``ch07/``, ``ch08/``), imported at run time; never part of this project.

Then where chainrule's step goes: each layer's forward and backward, in ms per step.
``--quick``: few steps, one round (a smoke run).
"""
import argparse
import os
import sys
import time

from _harness import clean_env, compare, header, median, optional, ratio, table

clean_env()

import numpy as np  # noqa: E402

from nn import load_mnist  # noqa: E402
from nn.layers import Affine, Convolution  # noqa: E402
from nn.nets.deep_conv_net import DeepConvNet  # noqa: E402
from nn.nets.simple_conv_net import SimpleConvNet  # noqa: E402
from nn.training.optimizers import Adam  # noqa: E402

NETS = {"SimpleConvNet": lambda: SimpleConvNet(dtype=np.float32, rng=0),
        "DeepConvNet": lambda: DeepConvNet(dtype=np.float32, rng=0)}


def cycler(batches):
    """A function returning the next (x, t) of ``batches`` at each call, round and round."""
    state = {"i": 0}

    def next_batch():
        state["i"] = (state["i"] + 1) % len(batches)
        return batches[state["i"]]
    return next_batch


def ours(name, batches):
    net, opt, batch = NETS[name](), Adam(lr=0.001), cycler(batches)
    return lambda: opt.update(net.params, net.gradient(*batch()))


def floor(name, batches):
    """The step's matrix products alone, on arrays shaped as the net's layers see them."""
    net = NETS[name]()
    net.gradient(*batches[0])
    rng, products = np.random.default_rng(0), []
    for layer in net.layers.values():
        if isinstance(layer, Convolution):
            fn, c, fh, fw = layer.W.shape
            n, _, oh, ow = layer.out.shape
            w2 = rng.standard_normal((fn, c * fh * fw)).astype(np.float32)
            col = rng.standard_normal((n, c * fh * fw, oh * ow)).astype(np.float32)
            g = rng.standard_normal((n, fn, oh * ow)).astype(np.float32)
            products += [(np.matmul, w2, col), (np.matmul, g, col.transpose(0, 2, 1))]
            if layer.input_grad:
                products.append((np.matmul, w2.T, g))
        elif isinstance(layer, Affine):
            d, m = layer.W.shape
            x = rng.standard_normal((len(batches[0][0]), d)).astype(np.float32)
            g = rng.standard_normal((len(x), m)).astype(np.float32)
            products += [(np.dot, x, layer.W), (np.dot, x.T, g), (np.dot, g, layer.W.T)]
    return lambda: [f(a, b) for f, a, b in products]


def torch_step(name, batches, torch):
    F = torch.nn.functional
    g = torch.Generator().manual_seed(0)
    params = []

    def param(std, *shape):
        p = (std * torch.randn(*shape, generator=g)).requires_grad_()
        params.append(p)
        return p
    if name == "SimpleConvNet":
        W1, b1 = param(0.01, 30, 1, 5, 5), param(0, 30)
        W2, b2, W3, b3 = param(0.01, 4320, 100), param(0, 100), param(0.01, 100, 10), param(0, 10)

        def forward(x):
            h = F.max_pool2d(F.relu(F.conv2d(x, W1, b1)), 2, 2)
            return F.relu(h.reshape(len(h), -1) @ W2 + b2) @ W3 + b3
    else:
        convs, c = [], 1
        for fn, pad in ((16, 1), (16, 1), (32, 1), (32, 2), (64, 1), (64, 1)):
            convs.append((param((2 / (c * 9)) ** 0.5, fn, c, 3, 3), param(0, fn), pad))
            c = fn
        W7, b7, W8, b8 = param((2 / 1024) ** 0.5, 1024, 50), param(0, 50), \
            param((2 / 50) ** 0.5, 50, 10), param(0, 10)

        def forward(x):
            for i, (W, b, pad) in enumerate(convs):
                x = F.relu(F.conv2d(x, W, b, padding=pad))
                if i % 2:
                    x = F.max_pool2d(x, 2, 2)
            x = F.dropout(F.relu(x.reshape(len(x), -1) @ W7 + b7), 0.5)
            return F.dropout(x @ W8 + b8, 0.5)
    opt = torch.optim.Adam(params, lr=0.001, eps=1e-7)
    batch = cycler([(torch.from_numpy(x), torch.from_numpy(t.astype(np.int64)))
                    for x, t in batches])

    def step():
        x, t = batch()
        loss = F.cross_entropy(forward(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def book_step(name, batches, book_dir):
    sys.path.insert(0, book_dir)
    from common.optimizer import Adam as BookAdam
    if name == "SimpleConvNet":
        from ch07.simple_convnet import SimpleConvNet as BookNet
    else:
        from ch08.deep_convnet import DeepConvNet as BookNet
    np.random.seed(0)
    net, opt, batch = BookNet(), BookAdam(lr=0.001), cycler(batches)
    return lambda: opt.update(net.params, net.gradient(*batch()))


def layer_profile(name, batches, steps):
    """{layer name: (forward ms, backward ms)} per step, CPU time of this thread."""
    net, batch = NETS[name](), cycler(batches)
    times = {key: [0.0, 0.0] for key in [*net.layers, "SoftmaxWithLoss"]}
    layers = [*net.layers.items(), ("SoftmaxWithLoss", net.lastLayer)]
    for step in range(steps + 1):  # the first is a warm-up
        x, t = batch()
        for key, layer in layers:
            start = time.thread_time()
            if key == "SoftmaxWithLoss":
                x = layer.forward(x, t)
            elif key.startswith("Dropout"):
                x = layer.forward(x, True)
            else:
                x = layer.forward(x)
            times[key][0] += (time.thread_time() - start) * (step > 0)
        dout = 1
        for key, layer in reversed(layers):
            start = time.thread_time()
            dout = layer.backward(dout)
            times[key][1] += (time.thread_time() - start) * (step > 0)
    return {key: (f * 1e3 / steps, b * 1e3 / steps) for key, (f, b) in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--book", default=os.environ.get("DLFS_BOOK"),
                        help="checkout of the book's repository (holds common/, ch07/, ch08/)")
    parser.add_argument("--steps", type=int, default=20, help="steps per round (default 20)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="3 steps, 1 round")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.rounds = 3, 1

    torch = optional("torch")
    header("Convolutional nets: a float32 training step, batch 100, one thread")
    (x_train, t_train), _ = load_mnist(flatten=False, dtype=np.float32)
    rng = np.random.default_rng(0)
    masks = [rng.integers(len(x_train), size=100) for _ in range(max(args.steps, 8))]
    batches = [(x_train[m], t_train[m].astype(np.intp)) for m in masks]

    for name in NETS:
        configs = {"chainrule": (1, ours(name, batches)), "floor": (1, floor(name, batches))}
        if torch is not None:
            configs["PyTorch eager"] = (1, torch_step(name, batches, torch))
        if args.book:
            batches64 = [(x.astype(np.float64), t) for x, t in batches]
            configs["the book (float64)"] = (1, book_step(name, batches64, args.book))
        times = compare(configs, args.rounds, args.steps, clock=time.thread_time)
        print(f"## {name}: ms per step (CPU time, median of {args.rounds} rounds of "
              f"{args.steps} steps)\n")
        table(["", "ms/step", "chainrule / this"],
              [[key, f"{median(t) * 1e3:.1f}", f"{ratio(times, 'chainrule', key):.2f}x"]
               for key, t in times.items()])

    for name in NETS:
        profile = layer_profile(name, batches, args.steps)
        print(f"## {name}: where chainrule's step goes (ms per step)\n")
        rows = [[key, f"{f:.2f}", f"{b:.2f}"] for key, (f, b) in profile.items()]
        rows.append(["total", f"{sum(f for f, _ in profile.values()):.1f}",
                     f"{sum(b for _, b in profile.values()):.1f}"])
        table(["layer", "forward", "backward"], rows)


if __name__ == "__main__":
    main()
