"""Gradient check (勾配確認): back-propagation against numerical differentiation.

``python -m nn.gradcheck`` does what the book's gradient_check.py does: a fresh
TwoLayerNet(784, 50, 10), the first 3 MNIST training images, and for each
parameter the mean absolute difference between ``network.gradient`` and
central differences, once with one-hot labels and once with class indices.

One refinement: ReLU has a kink at 0, and max pooling (chapter 7) one wherever the two
largest values of a window are within h.  If perturbing a coordinate by +-h crosses a
kink, the central difference averages two slopes and is wrong there, while
back-propagation is right; with the book's check that happens for some random seeds
(notebook 04 shows one).  ``gradient_check`` therefore leaves out such coordinates, and
reports how many it left out.
"""
from typing import NamedTuple

import numpy as np

from . import cli
from .data import mnist
from .gradient import numerical_gradient
from .layers import Relu
from .layers.conv import Pooling
from .nets.two_layer_net import TwoLayerNet

TOLERANCE = 1e-8


class ParamCheck(NamedTuple):
    """One parameter's result: mean |backprop - numerical| over the coordinates compared."""

    mean_abs_diff: float  # nan if every coordinate was excluded
    excluded: int  # coordinates left out: the perturbation crossed a ReLU kink
    size: int


def relu_masks(network):
    """Where each ReLU layer's input was > 0 in the last forward pass (a list of bool arrays),
    and which element of each window each Pooling layer picked (its ``arg_max``)."""
    return [layer.out > 0 if isinstance(layer, Relu) else layer.arg_max
            for layer in network.layers.values() if isinstance(layer, (Relu, Pooling))]


def gradient_check(network, x, t, h=1e-4):
    """Compare ``network.gradient(x, t)`` with central differences of ``network.loss(x, t)``.

    ``network`` needs ``params``, ``layers``, ``loss`` and ``gradient``, as
    TwoLayerNet has; use float64.  Returns {name: ParamCheck} in ``params``
    order.  A coordinate is excluded when the forward pass at +h or at -h has other
    ``relu_masks`` (ReLU masks, pooling maxima) than the unperturbed pass.
    """
    backprop = {k: g.copy() for k, g in network.gradient(x, t).items()}
    network.loss(x, t)
    base = relu_masks(network)
    results = {}
    for name, param in network.params.items():
        crossed = []  # one flag per loss evaluation: +h then -h for each coordinate

        def loss_at(_, crossed=crossed):  # this coordinate set's flags
            loss = network.loss(x, t)
            crossed.append(any((m != b).any() for m, b in zip(relu_masks(network), base)))
            return loss

        numerical = numerical_gradient(loss_at, param, h)
        excluded = np.reshape(crossed, (param.size, 2)).any(axis=1).reshape(param.shape)
        diffs = np.abs(backprop[name] - numerical)[~excluded]
        mean = float(diffs.mean()) if diffs.size else float("nan")
        results[name] = ParamCheck(mean, int(excluded.sum()), param.size)
    return results


def passed(results, tol=TOLERANCE):
    """True if every parameter's mean difference is <= tol (an all-excluded one fails)."""
    return all(r.mean_abs_diff <= tol for r in results.values())


def format_results(results, title, tol=TOLERANCE):
    """The book's "W1:2.6e-13" lines, with a verdict and the coordinates left out."""
    lines = [title]
    for name, r in results.items():
        verdict = "ok" if r.mean_abs_diff <= tol else f"EXCEEDS {tol:g}"
        line = f"  {name}:{r.mean_abs_diff:.3e}  {verdict}"
        if r.excluded:
            line += f"  ({r.excluded} of {r.size} coordinates left out: kink crossed)"
        lines.append(line)
    return "\n".join(lines)


def book_network(hidden_size, seed):
    """``np.random.seed(seed); TwoLayerNet(784, hidden_size, 10)``, as the book and notebook 04
    build it (numpy's legacy generator), without touching the global generator."""
    return TwoLayerNet(784, hidden_size, 10, rng=np.random.RandomState(seed))


def book_batch(x_train, t_train, samples):
    """The first ``samples`` images as ``load_mnist(normalize=True)`` gives them (float32 / 255),
    then float64, and their labels as indices; from load_mnist's raw uint8 arrays."""
    x = np.divide(x_train[:samples], 255, dtype=np.float32).astype(np.float64)
    return x.reshape(samples, -1), t_train[:samples].astype(np.intp)


def main(argv=None):
    parser = cli.ArgumentParser(
        prog="python -m nn.gradcheck",
        description="The book's gradient check: mean |backprop - numerical| per parameter of a "
                    "fresh TwoLayerNet on the first MNIST training samples, with one-hot and "
                    "with index labels, in float64.  Exit status 1 if any parameter exceeds "
                    "the tolerance.")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed for the initial weights (default: a random one, printed)")
    parser.add_argument("--samples", type=int, default=3, help="training samples used (default 3)")
    parser.add_argument("--hidden-size", type=int, default=50, help="hidden units (default 50)")
    parser.add_argument("--h", type=float, default=1e-4,
                        help="step of the central differences (default 1e-4, the book's)")
    parser.add_argument("--tol", type=float, default=TOLERANCE,
                        help=f"largest mean difference accepted (default {TOLERANCE:g})")
    cli.add_data_dir(parser)
    args = parser.parse_args(argv)
    cli.check_int(parser, "--samples", args.samples, 1)
    cli.check_int(parser, "--hidden-size", args.hidden_size, 1)
    seed = cli.seed_or_random(parser, args.seed)
    cli.check_positive(parser, "--h", args.h)
    cli.check_positive(parser, "--tol", args.tol, zero_ok=True)
    try:
        # Raw uint8: only the samples used are normalised (book_batch).
        (x_train, t_train), _ = mnist.load_mnist(normalize=False, data_dir=args.data_dir)
    except (OSError, ValueError) as err:  # missing, unreadable or corrupt files: the message says which
        return cli.error(err)
    if args.samples > len(x_train):
        return cli.error(f"--samples {args.samples}: the MNIST training set has {len(x_train)} "
                         f"samples; use at most that")
    x, labels = book_batch(x_train, t_train, args.samples)
    try:
        network = book_network(args.hidden_size, seed)
    except MemoryError:
        return cli.error(f"not enough memory for a network with --hidden-size {args.hidden_size}")
    print(f"gradient check: TwoLayerNet(784, {args.hidden_size}, 10), seed {seed}, "
          f"{args.samples} MNIST samples, float64, h={args.h:g}, tolerance {args.tol:g}")
    ok, left_out = True, 0
    for title, t in (("one-hot labels", np.eye(10)[labels]), ("index labels", labels)):
        results = gradient_check(network, x, t, args.h)
        print(format_results(results, title, args.tol))
        ok = ok and passed(results, args.tol)
        left_out += sum(r.excluded for r in results.values())
    verdict = (f"all parameters within {args.tol:g}" if ok
               else f"FAILED: some parameter exceeds {args.tol:g}")
    print(f"{verdict} ({left_out} coordinates left out where a ReLU kink was crossed)")
    return 0 if ok else 1


if __name__ == "__main__":
    cli.run(main)
