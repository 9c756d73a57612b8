"""Training by back-propagation (誤差逆伝播法を使った学習): the book's ch05/train_neuralnet.py.

    python -m nn.train                      # the book's run: 784-50-10, 10,000 iterations
    python -m nn.train --seed 0 --plot curves.png --save weights.npz
    python -m nn.train --net convnet        # chapter 7's SimpleConvNet, Adam, 20 epochs
    python -m nn.train --net deep           # chapter 8's DeepConvNet, Adam, 20 epochs

The loop is ``nn.training.loop.train`` (also importable from here, as ``nn.train.train``).
"""
import contextlib
import functools
import json
import os
import sys
import time

import numpy as np

from . import cli
from .data import mnist
from .data.augment import augment as move_and_turn
from .data.files import atomic_write
from .filters import plot_filters
from .nets.deep_conv_net import DeepConvNet
from .nets.simple_conv_net import SimpleConvNet
from .nets.two_layer_net import TwoLayerNet
from .training.loop import blas_threads, train
from .training.optimizers import Adam


def plot_history(history, path):
    """Save the book's figure: accuracy per epoch (train, test), beside the loss per iteration
    (matplotlib, the ``train`` extra; no pyplot, so no display needed)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    ax_loss.plot(np.arange(1, len(history.train_loss_list) + 1), history.train_loss_list, lw=0.5)
    ax_loss.set(xlabel="iteration", ylabel="loss", title="mini-batch loss")
    epochs = np.asarray(history.eval_iters) / history.iter_per_epoch
    ax_acc.plot(epochs, history.train_acc_list, marker="o", markersize=3, label="train acc")
    ax_acc.plot(epochs, history.test_acc_list, marker="s", markersize=3, linestyle="--",
                label="test acc")
    ax_acc.set(xlabel="epochs", ylabel="accuracy", ylim=(0, 1.0), title="accuracy")
    ax_acc.legend(loc="lower right")
    cli.save_figure(fig, path)


def predictions(network, x, batch_size=100):
    """The network's class for each of ``x``'s images, computed ``batch_size`` at a time."""
    return np.concatenate([network.predict(x[i:i + batch_size]).argmax(axis=1)
                           for i in range(0, len(x), batch_size)])


def plot_misclassified(x, t, predicted, path=None, count=20):
    """The first ``count`` images of ``x`` whose ``predicted`` class is not their label ``t``
    (indices), each titled "label -> prediction" (the book's misclassified_mnist.py): a
    matplotlib Figure, saved to ``path`` if given."""
    from matplotlib.figure import Figure

    wrong = np.flatnonzero(predicted != t)[:count]
    fig = Figure(figsize=(8, 7), layout="constrained")
    fig.suptitle(f"{np.count_nonzero(predicted != t)} of {len(t)} test images misclassified; "
                 f"the first {len(wrong)}, label -> prediction")
    for ax, i in zip(fig.subplots(4, 5).flat, wrong):
        ax.imshow(x[i].reshape(28, 28), cmap="gray_r", interpolation="nearest")
        ax.set_title(f"{t[i]} -> {predicted[i]}", fontsize=10)
    for ax in fig.axes:
        ax.set_axis_off()
    return cli.save_figure(fig, path)


def dtype_accuracies(build, params, x, t):
    """Test accuracy with the weights ``params`` and the images ``x`` in float64, float32 and
    float16 (the book's half_float_network.py): {dtype name: accuracy}.  ``build(dtype)``
    makes the network."""
    accuracies = {}
    for name in ("float64", "float32", "float16"):
        network = build(np.dtype(name))
        network.set_params(params)
        accuracies[name] = network.accuracy(x.astype(name), t)
    return accuracies


def _build(args, input_shape, dtype, rng):
    """The ``--net`` network for inputs of ``input_shape``, its optimizer (None: SGD) and a
    title naming both."""
    hidden = args.hidden_size
    if args.net == "twolayer":
        network = TwoLayerNet(input_shape[0], hidden, 10, args.weight_init_std, dtype=dtype,
                              rng=rng)
        return network, None, f"TwoLayerNet({input_shape[0]}, {hidden}, 10), SGD"
    if args.net == "convnet":
        network = SimpleConvNet(input_dim=input_shape, hidden_size=hidden,
                                weight_init_std=args.weight_init_std, dtype=dtype, rng=rng)
        title = (f"SimpleConvNet(conv 30x5x5 - relu - pool 2x2 - affine {hidden} - relu - "
                 f"affine 10)")
    else:
        network = DeepConvNet(input_dim=input_shape, hidden_size=hidden, dtype=dtype, rng=rng)
        title = (f"DeepConvNet(6 conv 3x3 16-16-32-32-64-64 with relu, pool 2x2 after every "
                 f"second - affine {hidden} - relu - dropout - affine 10 - dropout)")
    return network, Adam(lr=args.lr), f"{title}, Adam"


# The defaults of each network of the command line (the book's settings).
NETS = {
    "twolayer": {"hidden_size": 50, "lr": 0.1, "iters": 10000, "eval_threads": 2},
    "convnet": {"hidden_size": 100, "lr": 0.001, "epochs": 20, "eval_threads": 1},
    "deep": {"hidden_size": 50, "lr": 0.001, "epochs": 20, "eval_threads": 1,
             "train_acc_size": 1000},
}


def _parser():
    parser = cli.ArgumentParser(
        prog="python -m nn.train",
        description="Train one of the book's networks (--net) on MNIST by back-propagation, "
                    "printing train and test accuracy once per epoch.")
    parser.add_argument("--net", choices=sorted(NETS), default="twolayer",
                        help="twolayer: chapter 5's TwoLayerNet (784-50-10, ReLU, softmax "
                             "cross-entropy), SGD lr 0.1, 10,000 iterations; convnet: chapter 7's "
                             "SimpleConvNet (conv 30x5x5 - relu - pool - affine 100 - relu - "
                             "affine 10), Adam lr 0.001, 20 epochs, as ch07/train_convnet.py; "
                             "deep: chapter 8's DeepConvNet, Adam lr 0.001, 20 epochs, as "
                             "ch08/train_deepnet.py (default: %(default)s)")
    parser.add_argument("--hidden-size", type=int, default=None,
                        help="hidden units (default: 50 for twolayer and deep, 100 for convnet)")
    parser.add_argument("--batch-size", type=int, default=100,
                        help="mini-batch size (default: %(default)s)")
    parser.add_argument("--lr", "--learning-rate", dest="lr", type=float, default=None,
                        help="learning rate (default: 0.1 for twolayer's SGD, 0.001 for "
                             "convnet's and deep's Adam)")
    parser.add_argument("--iters", type=int, default=None,
                        help="iterations (mini-batches) (default: 10000 for twolayer, "
                             "--epochs worth for convnet and deep)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs of training-set-size / batch-size iterations, instead of "
                             "--iters (default: 20 for convnet and deep)")
    parser.add_argument("--weight-init-std", type=float, default=0.01,
                        help="standard deviation of the initial weights (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed for the initial weights and the mini-batches (default: a "
                             "random one, printed, so the run can be repeated)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                        help="float32 is this script's default because it is the speed path "
                             "(half the bytes to move per product); the library's default is "
                             "float64, as in the book (TwoLayerNet(..., dtype=np.float64))")
    cli.add_data_dir(parser)
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads for the training steps (needs threadpoolctl, else "
                             "ignored); 0 leaves BLAS's own default. Default 1: a step's "
                             "products are small, and with more threads every step waits for "
                             "a core whenever another process holds one")
    parser.add_argument("--eval-threads", type=int, default=None,
                        help="BLAS threads while measuring accuracy; 0 keeps the steps' "
                             "setting; at most the number of CPUs (default: 2 for twolayer, "
                             "whose accuracy products are much larger than a step's; 1 for "
                             "convnet, whose are per-image and small)")
    parser.add_argument("--train-acc-size", type=int, default=None,
                        help="measure train accuracy on the first N training images only "
                             "(default: 1000 for deep, as the book's train_deepnet.py; all "
                             "for the others)")
    parser.add_argument("--augment", action="store_true",
                        help="images (not flattened, so not twolayer): move each training image "
                             "by up to 2 pixels and turn it by up to 10 degrees, drawn anew for "
                             "every mini-batch (the book's data augmentation)")
    parser.add_argument("--plot", metavar="FILE.png", default=None,
                        help="save loss and accuracy curves (needs matplotlib: the train extra)")
    parser.add_argument("--save", metavar="FILE.npz", default=None,
                        help="save the trained weights (W1, b1, W2, b2, ...) to an .npz file")
    parser.add_argument("--filters", metavar="FILE.png", default=None,
                        help="convnet: save the first layer's filters before and after "
                             "training (the book's figure 7-24; needs matplotlib)")
    parser.add_argument("--load", metavar="FILE.npz", default=None,
                        help="no training: load weights saved by --save and evaluate them "
                             "(with --misclassified, --float16)")
    parser.add_argument("--misclassified", metavar="FILE.png", default=None,
                        help="save the first 20 misclassified test images with label and "
                             "prediction (the book's misclassified_mnist.py; needs matplotlib)")
    parser.add_argument("--float16", action="store_true",
                        help="deep: test accuracy with weights and images in float64, float32 "
                             "and float16 side by side (the book's half_float_network.py); "
                             "float16 is slow, numpy's float16 products not using BLAS")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--json", metavar="FILE.json", default=None,
                        help="also write the settings, accuracies and timings as JSON to this "
                             "file; '-' writes them to stdout (the usual lines then go to stderr)")
    return parser


def _check(parser, args):
    """Fill in the net's defaults, and refuse now whatever would fail later: every option, and
    every output that could not be written after training."""
    if args.iters is not None and args.epochs is not None:
        parser.error("give --iters or --epochs, not both")
    length_given = args.iters is not None or args.epochs is not None
    for key, value in NETS[args.net].items():
        if getattr(args, key) is None and not (key in ("iters", "epochs") and length_given):
            setattr(args, key, value)
    for option in ("--hidden-size", "--batch-size", "--iters", "--epochs", "--train-acc-size"):
        cli.check_int(parser, option, getattr(args, option[2:].replace("-", "_")), 1)
    cli.check_int(parser, "--threads", args.threads, 0)
    cli.check_int(parser, "--eval-threads", args.eval_threads, 0)
    cli.check_positive(parser, "--lr", args.lr)
    cli.check_positive(parser, "--weight-init-std", args.weight_init_std)
    args.seed = cli.seed_or_random(parser, args.seed)
    if args.plot:
        cli.check_figure(parser, "--plot", args.plot)
    if args.save:
        cli.check_output(parser, "--save", args.save, suffix=".npz")
    if args.json and args.json != "-":
        cli.check_output(parser, "--json", args.json, suffix=".json")
    if args.load:
        used = [o for o, v in (("--save", args.save), ("--plot", args.plot), ("--json", args.json),
                               ("--filters", args.filters), ("--augment", args.augment)) if v]
        if used:
            parser.error(f"--load evaluates saved weights without training; {used[0]} needs a "
                         f"training run")
        if not os.path.isfile(args.load):
            parser.error(f"--load {args.load}: no such file")
    if args.misclassified:
        cli.check_figure(parser, "--misclassified", args.misclassified, suffix=".png")
    if args.float16 and args.net != "deep":
        parser.error("--float16 checks the deep net in float16: use it with --net deep")
    if args.augment and args.net == "twolayer":
        parser.error("--augment moves and turns images: use it with --net convnet or deep")
    if args.filters and args.net != "convnet":
        parser.error("--filters shows convolution filters: use it with --net convnet")
    if args.filters:
        cli.check_figure(parser, "--filters", args.filters, suffix=".png")


def main(argv=None):
    """``python -m nn.train``; returns the exit status.

    With ``--json -`` stdout carries the JSON summary alone; the usual lines go to stderr.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    _check(parser, args)
    stdout = sys.stdout
    with contextlib.redirect_stdout(sys.stderr if args.json == "-" else stdout):
        return _run(args, stdout)


def _write_summary(path, stdout, args, history, load_seconds):
    """Write the run's settings, accuracies and timings as JSON to ``path`` ('-': ``stdout``)."""
    summary = {
        **{k: v for k, v in vars(args).items() if k not in ("seed", "json")}, "seed": args.seed,
        "train_acc": history.train_acc_list[-1], "test_acc": history.test_acc_list[-1],
        "load_seconds": load_seconds, "train_seconds": history.elapsed - history.eval_seconds,
        "eval_seconds": history.eval_seconds, "elapsed": history.elapsed,
        "eval_iters": history.eval_iters, "train_acc_list": history.train_acc_list,
        "test_acc_list": history.test_acc_list}
    text = json.dumps(summary, indent=1) + "\n"
    if path == "-":
        stdout.write(text)
    else:
        with atomic_write(path) as f:
            f.write(text.encode())


def _run(args, stdout):
    rng = np.random.default_rng(args.seed)
    dtype = np.dtype(args.dtype)
    start = time.perf_counter()
    try:
        (x_train, t_train), (x_test, t_test) = mnist.load_mnist(
            normalize=True, dtype=dtype, flatten=args.net == "twolayer", data_dir=args.data_dir)
    except (OSError, ValueError) as err:  # missing, unreadable or corrupt files: the message says which
        return cli.error(err)
    load_seconds = time.perf_counter() - start
    if args.epochs is not None:
        args.iters = args.epochs * max(len(x_train) // args.batch_size, 1)
    try:
        network, optimizer, title = _build(args, x_train.shape[1:], dtype, rng)
    except MemoryError:
        return cli.error(f"not enough memory for a network with --hidden-size {args.hidden_size}")
    first_filters = network.params["W1"].copy() if args.filters else None
    if args.load:
        try:
            network.load_params(args.load)
        except (OSError, ValueError) as err:
            return cli.error(f"--load {args.load}: not weights of this network ({err})")
        print(f"{title}: weights loaded from {args.load}")
        return _evaluate(args, network, x_test, t_test, rng)
    augment = functools.partial(move_and_turn, rng=rng) if args.augment else None
    print(f"{title}, {dtype}, seed {args.seed}, {args.iters} iterations of {args.batch_size}, "
          f"lr {args.lr:g}")
    try:
        history = train(network, x_train, t_train, x_test, t_test, iters_num=args.iters,
                        batch_size=args.batch_size, lr=args.lr,
                        rng=rng, threads=args.threads, eval_threads=args.eval_threads,
                        progress=not args.no_progress, optimizer=optimizer,
                        train_acc_size=args.train_acc_size, augment=augment)
    except FloatingPointError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except MemoryError:
        return cli.error(f"not enough memory for batches of --batch-size {args.batch_size}; "
                         f"use a smaller one")
    if args.save:
        network.save_params(args.save)
        print(f"weights saved to {args.save}")
    if args.plot:
        plot_history(history, args.plot)
        print(f"curves saved to {args.plot}")
    if args.filters:
        plot_filters(args.filters, before=first_filters, after=network.params["W1"])
        print(f"first-layer filters saved to {args.filters}")
    training = history.elapsed - history.eval_seconds
    print(f"final: train acc {history.train_acc_list[-1]:.4f}, test acc {history.test_acc_list[-1]:.4f}")
    print(f"elapsed {time.perf_counter() - start:.2f} s: loading data {load_seconds:.2f} s, "
          f"training {training:.2f} s ({args.iters / training:,.0f} it/s), "
          f"accuracy {history.eval_seconds:.2f} s")
    if args.json:
        _write_summary(args.json, stdout, args, history, load_seconds)
    return _evaluate(args, network, x_test, t_test, rng, accuracy=False)


def _evaluate(args, network, x_test, t_test, rng, accuracy=True):
    """--load's test accuracy, --misclassified and --float16: chapter 8's looks at a trained net."""
    with blas_threads(args.eval_threads):
        predicted = predictions(network, x_test) if accuracy or args.misclassified else None
        if accuracy:
            print(f"test acc {np.mean(predicted == t_test):.4f}")
        if args.misclassified:
            plot_misclassified(x_test, t_test, predicted, args.misclassified)
            print(f"misclassified test images saved to {args.misclassified}")
        if args.float16:
            accuracies = dtype_accuracies(
                lambda dtype: _build(args, x_test.shape[1:], dtype, rng)[0], network.params,
                x_test, t_test)
            for name, acc in accuracies.items():
                print(f"{name:>8}: test acc {acc:.4f}")
    return 0


if __name__ == "__main__":
    cli.run(main)
