"""Chapter 6's figures by a command (学習に関するテクニック): each runs, plots and checks itself.

    python -m nn.experiments optimizers   [--plot fig6-9.png]     # fig. 6-9
    python -m nn.experiments weight_init  [--plot fig6-15.png]    # fig. 6-15
    python -m nn.experiments activations  [--plot fig6-10.png]    # figs. 6-10 .. 6-14
    python -m nn.experiments batchnorm    [--plot fig6-19.png]    # figs. 6-18, 6-19
    python -m nn.experiments weight_decay [--plot fig6-21.png]    # figs. 6-20, 6-21
    python -m nn.experiments dropout      [--plot fig6-23.png]    # fig. 6-23
    python -m nn.experiments hyperparam   [--plot fig6-24.png]    # fig. 6-24 (see nn.hyperparam)

Defaults are the book's settings; ``--quick`` is a reduced run of seconds (what the tests
run).  Each experiment states the book's qualitative result, checks it on the numbers it
got, prints the verdict and exits 1 if the result was not reproduced.

Importable: ``run(name, quick=True, seed=0)`` returns an Outcome (claim, holds, details,
data), ``plot(outcome, path)`` draws it.
"""
import math
import sys

import numpy as np

from . import cli
from .cli import Outcome, mnist_subset, progress_bar_closed, save_figure, train_accuracies
from .hyperparam import plot_search, search_outcome
from .layers.functions import relu, sigmoid
from .nets.multi_layer_net import MultiLayerNetExtend, weight_scale
from .training.loop import train
from .training.optimizers import get_optimizer
from .util import smooth_curve

# ---------------------------------------------------------------- shared pieces

def race(nets, optimizers, x, t, iters, seed, desc, progress):
    """Train each of ``nets`` with its optimizer on the same mini-batches of 128 (the same
    ``seed``), as the book's comparison scripts do; each net's loss per iteration."""
    with progress_bar_closed(iters * len(nets), desc, progress) as bar:
        return {k: train(net, x, t, optimizer=optimizers[k], iters_num=iters, batch_size=128,
                         rng=seed, progress=False, bar=bar, verbose=False).train_loss_list
                for k, net in nets.items()}


def _loss_race(runs, iters, train_size, seed, desc, progress, data_dir):
    """``race`` of 784-100x4-10 ReLU nets, one per ``runs`` entry {label: (weight_init_std,
    optimizer)}: (each one's mean loss over the last 10% of ``iters``, details, data)."""
    x, t, _, _ = mnist_subset(train_size, 0, data_dir)
    nets = {k: MultiLayerNetExtend(784, [100] * 4, 10, weight_init_std=std, dtype=np.float32,
                                   rng=seed) for k, (std, _) in runs.items()}
    losses = race(nets, {k: opt for k, (_, opt) in runs.items()}, x, t, iters, seed, desc,
                  progress)
    final = {k: float(np.mean(v[-iters // 10:])) for k, v in losses.items()}
    details = ", ".join(f"{k} {v:.3f}" for k, v in final.items())
    return (final, f"mean loss over the last 10% of {iters} iterations: {details}",
            {"losses": losses, "iters": iters})


# ---------------------------------------------------------------- figs. 6-9, 6-15: losses

def optimizers(*, quick=False, seed=0, progress=True, data_dir=None, names=None):
    """The book's optimizer_compare_mnist.py: 784-100x4-10 ReLU nets (He init), batch 128,
    2000 iterations; each optimizer of ``names`` (default SGD, Momentum, AdaGrad, Adam) at
    the book's learning rate (Adam 0.001, the others 0.01), all on the same batches."""
    names = names or ["SGD", "Momentum", "AdaGrad", "Adam"]
    runs = {n: ("he", get_optimizer(n, lr=0.001 if n.lower() == "adam" else 0.01)) for n in names}
    final, details, data = _loss_race(runs, 300 if quick else 2000, 10000 if quick else None,
                                      seed, "optimizers", progress, data_dir)
    holds = "SGD" in final and all(final["SGD"] > v for n, v in final.items() if n != "SGD")
    return Outcome("optimizers", "SGD learns slowest: after the run its loss is the highest; "
                   "Momentum, AdaGrad and Adam are all below it (fig. 6-9)", holds, details, data)


def weight_init(*, quick=False, seed=0, progress=True, data_dir=None):
    """The book's weight_init_compare.py: 784-100x4-10 ReLU nets, SGD lr 0.01, batch 128,
    2000 iterations, initial weights of std 0.01, Xavier and He."""
    runs = {k: (std, get_optimizer("SGD", lr=0.01))
            for k, std in (("std=0.01", 0.01), ("Xavier", "xavier"), ("He", "he"))}
    final, details, data = _loss_race(runs, 400 if quick else 2000, 10000 if quick else None,
                                      seed, "weight init", progress, data_dir)
    holds = (final["std=0.01"] > 2.2 and final["Xavier"] < 2.0 and final["He"] < 2.0
             and final["He"] < final["Xavier"])
    return Outcome("weight_init", "with std 0.01 the net does not learn (loss stays near "
                   "ln 10 = 2.30); Xavier and He learn, He fastest (fig. 6-15)", holds,
                   details, data)


# ---------------------------------------------------------------- figs. 6-10 .. 6-14: histograms

def activation_values(activation, weight_init_std, *, samples=1000, nodes=100, layers=5, seed=0):
    """The book's weight_init_activation_histogram.py: standard normal input (samples, nodes)
    through ``layers`` fully connected layers (no bias) of ``nodes`` units; the activations
    of every layer, a list of arrays."""
    f = {"sigmoid": sigmoid, "relu": relu, "tanh": np.tanh}[activation]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((samples, nodes))
    out = []
    for _ in range(layers):
        W = rng.standard_normal((nodes, nodes)) * weight_scale(weight_init_std, nodes)
        x = f(x @ W)
        out.append(x)
    return out


ACTIVATION_RUNS = [  # (label, activation, weight_init_std): figs. 6-10, 6-11, 6-13, 6-14
    ("sigmoid, std 1", "sigmoid", 1.0),
    ("sigmoid, std 0.01", "sigmoid", 0.01),
    ("sigmoid, Xavier", "sigmoid", "xavier"),
    ("ReLU, std 0.01", "relu", 0.01),
    ("ReLU, Xavier", "relu", "xavier"),
    ("ReLU, He", "relu", "he"),
]


def activations(*, quick=False, seed=0, progress=True, data_dir=None):
    """Histograms of each layer's activations for each initialisation (no training)."""
    runs = {label: activation_values(act, std, samples=200 if quick else 1000, seed=seed)
            for label, act, std in ACTIVATION_RUNS}
    saturated = float(np.mean([np.mean((a < 0.1) | (a > 0.9)) for a in runs["sigmoid, std 1"]]))
    spread = {k: [float(a.std()) for a in v] for k, v in runs.items()}
    checks = [
        # std 1: the outputs pile up at 0 and 1, where the gradient vanishes (fig. 6-10)
        saturated > 0.5,
        # std 0.01: all near 0.5, every neuron says the same thing (fig. 6-11)
        max(spread["sigmoid, std 0.01"]) < 0.05,
        # Xavier: spread out in every layer (fig. 6-13)
        min(spread["sigmoid, Xavier"]) > 0.05,
        # ReLU: std 0.01 shrinks to ~0, Xavier shrinks layer by layer, He keeps the spread
        spread["ReLU, std 0.01"][-1] < 1e-4,
        spread["ReLU, Xavier"][-1] < 0.5 * spread["ReLU, Xavier"][0],
        0.5 < spread["ReLU, He"][-1] / spread["ReLU, He"][0] < 2.0,
    ]
    details = "; ".join(f"{k}: std per layer " + " ".join(f"{s:.3g}" for s in v)
                        for k, v in spread.items())
    details += f"; sigmoid std 1: {saturated:.0%} of values below 0.1 or above 0.9"
    return Outcome("activations", "sigmoid with std 1 saturates at 0 and 1, with std 0.01 "
                   "collapses to 0.5, with Xavier stays spread; with ReLU, std 0.01 collapses "
                   "to 0, Xavier shrinks layer by layer and He keeps the spread "
                   "(figs. 6-10, 6-11, 6-13, 6-14)", all(checks), details,
                   {"runs": runs, "checks": checks})


# ---------------------------------------------------------------- figs. 6-18/6-19: Batch Norm

def batchnorm(*, quick=False, seed=0, progress=True, data_dir=None):
    """The book's batch_norm_test.py: 1000 training images, 784-100x5-10 ReLU nets, SGD lr
    0.01, batch 100, 20 epochs, with and without Batch Norm, for 16 initial weight scales
    from 1 down to 1e-4; training accuracy per epoch."""
    train_size, epochs, n_scales = (500, 8, 4) if quick else (1000, 20, 16)
    scales = [float(s) for s in np.logspace(0, -4, n_scales)]
    x, t, _, _ = mnist_subset(train_size, 0, data_dir)
    curves = {}
    iters = epochs * (train_size // 100) * 2 * len(scales)  # Trainer's batches of 100
    with progress_bar_closed(iters, "batch norm", progress) as bar:
        for scale in scales:
            for use_bn in (True, False):
                net = MultiLayerNetExtend(784, [100] * 5, 10, weight_init_std=scale,
                                          use_batchnorm=use_bn, dtype=np.float32, rng=seed)
                acc = train_accuracies(net, (x, t, x, t), epochs, seed, bar=bar)[0]
                curves[(scale, use_bn)] = acc + [np.nan] * (epochs - len(acc))  # nan: diverged
    final = {s: (curves[(s, True)][-1], curves[(s, False)][-1]) for s in scales}
    wins = sum(1 for bn, plain in final.values() if not bn < plain)  # nan (diverged) loses

    def shown(acc, net):
        return f"{acc:.2f}" if np.isfinite(acc) else f"nan ({net} diverged)"
    holds = wins >= math.ceil(0.75 * len(scales))
    details = ", ".join(f"{s:.2g}: {shown(bn, 'the Batch Norm net')} vs "
                        f"{shown(plain, 'the plain net')}" for s, (bn, plain) in final.items())
    return Outcome("batchnorm", "with Batch Norm the net learns faster and at almost every "
                   "initial weight scale; without it, learning stalls at most scales "
                   "(figs. 6-18, 6-19): here Batch Norm's final training accuracy must be at "
                   "least the plain net's at >= 3/4 of the scales", holds,
                   f"final training accuracy with vs without Batch Norm per weight scale "
                   f"({wins}/{len(scales)} at least as good): {details}",
                   {"curves": curves, "scales": scales, "epochs": epochs})


# ---------------------------------------------------------------- figs. 6-20/6-21, 6-23

def _overfit(name, variants, epochs, quick, seed, progress, data_dir):
    """300 training images, 784-100x6-10 ReLU nets, one per ``variants`` entry {label:
    MultiLayerNetExtend keywords}, SGD lr 0.01, batch 100: the book's overfit_weight_decay.py
    / overfit_dropout.py; {label: (train accuracies, test accuracies)}, one per epoch."""
    x, t, xt, tt = mnist_subset(300, 2000 if quick else None, data_dir)
    curves = {}
    with progress_bar_closed(epochs * 3 * len(variants), name, progress) as bar:
        for label, kwargs in variants.items():
            net = MultiLayerNetExtend(784, [100] * 6, 10, dtype=np.float32, rng=seed, **kwargs)
            curves[label] = train_accuracies(net, (x, t, xt, tt), epochs, seed, bar=bar)
    return curves


def _gap(accs, last=5):
    train, test = (np.mean(a[-last:]) for a in accs)
    return float(train), float(test), float(train - test)


def weight_decay(*, quick=False, seed=0, progress=True, data_dir=None):
    """The book's overfit_weight_decay.py: 201 epochs without and with lambda = 0.1."""
    epochs = 60 if quick else 201
    curves = _overfit("weight decay", {"no weight decay": {},
                                       "weight decay 0.1": {"weight_decay_lambda": 0.1}},
                      epochs, quick, seed, progress, data_dir)
    plain, decayed = (_gap(c) for c in curves.values())
    holds = decayed[2] < plain[2] and plain[0] - plain[1] > 0.15
    return Outcome("weight_decay", "on 300 training images the plain net overfits (train "
                   "accuracy far above test); weight decay lambda = 0.1 narrows that gap "
                   "(figs. 6-20, 6-21)", holds,
                   f"mean of the last 5 epochs (of {epochs}): no decay train {plain[0]:.3f} "
                   f"test {plain[1]:.3f} gap {plain[2]:.3f}; lambda 0.1 train {decayed[0]:.3f} "
                   f"test {decayed[1]:.3f} gap {decayed[2]:.3f}", {"curves": curves})


def dropout(*, quick=False, seed=0, progress=True, data_dir=None):
    """The book's overfit_dropout.py: 301 epochs without Dropout and with ratio 0.2, in the
    book's form and inverted."""
    epochs = 100 if quick else 301  # the book's form learns slowly (see below)
    ratio = {"use_dropout": True, "dropout_ration": 0.2}
    curves = _overfit("dropout", {"no dropout": {},
                                  "dropout 0.2, the book's form": {**ratio,
                                                                   "inverted_dropout": False},
                                  "dropout 0.2, inverted": ratio},
                      epochs, quick, seed, progress, data_dir)
    plain, book, inverted = (_gap(c) for c in curves.values())
    holds = book[2] < plain[2] - 0.05 and book[1] >= 0.2
    shown = [" / ".join(f"{v:.3f}" for v in gap) for gap in (plain, book, inverted)]
    return Outcome("dropout", "Dropout (ratio 0.2, the book's form) narrows the gap between "
                   "train and test accuracy of the overfitting net by 0.05 or more, while it "
                   "still learns (test accuracy >= 0.2, twice chance) (fig. 6-23)", holds,
                   f"mean of the last 5 epochs (of {epochs}), train / test / gap: no dropout "
                   f"{shown[0]}; the book's form {shown[1]}; inverted {shown[2]} (not checked: "
                   f"inverted Dropout keeps the activations' scale while training, where the "
                   f"book's form shrinks them by 1 - ratio at every layer, so it learns, and "
                   f"overfits, about as fast as no Dropout)", {"curves": curves})


def hyperparam(*, quick=False, seed=0, progress=True, data_dir=None, **search_kwargs):
    """The book's hyperparameter_optimization.py through Optuna: see nn.hyperparam."""
    return search_outcome(quick=quick, seed=seed, progress=progress, data_dir=data_dir,
                          **search_kwargs)


EXPERIMENTS = {"optimizers": optimizers, "weight_init": weight_init, "activations": activations,
               "batchnorm": batchnorm, "weight_decay": weight_decay, "dropout": dropout,
               "hyperparam": hyperparam}


def run(name, **kwargs):
    """Run the experiment ``name`` (see EXPERIMENTS); returns its Outcome."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose one of {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name](**kwargs)


# ---------------------------------------------------------------- plots like the book's

def plot(outcome, path=None):
    """Save ``outcome``'s figure to ``path`` (matplotlib, no display needed); return the figure
    (without a path, e.g. to show it in a notebook)."""
    from matplotlib.figure import Figure

    name, data = outcome.name, outcome.data
    if name in ("optimizers", "weight_init"):
        fig = Figure(figsize=(6, 4.5), layout="constrained")
        ax = fig.subplots()
        for marker, (label, losses) in zip("osD^vx", data["losses"].items()):
            y = smooth_curve(losses)
            ax.plot(np.arange(len(y)), y, marker=marker, markevery=max(len(y) // 10, 1),
                    label=label)
        ax.set(xlabel="iterations", ylabel="loss", ylim=(0, 2.5))
        ax.legend()
    elif name == "activations":
        runs = data["runs"]
        fig = Figure(figsize=(12, 2.0 * len(runs)), layout="constrained")
        axes = fig.subplots(len(runs), 5, squeeze=False)
        for row, (label, acts) in zip(axes, runs.items()):
            # One x range per row, as in the book, so ReLU's shrinking shows; for ReLU the
            # bar of exact zeros (half the values) is cut, as the book cuts it.
            sigmoid = label.startswith("sigmoid")
            top = 1.0 if sigmoid else max(float(a.max()) for a in acts)
            for i, (ax, a) in enumerate(zip(row, acts)):
                ax.hist(a.ravel(), 30, range=(0, top))
                if not sigmoid:
                    ax.set_ylim(0, 0.15 * a.size)
                ax.set_title(f"{label}: {i + 1}-layer", fontsize=8)
                ax.tick_params(labelsize=6)
                if i:
                    ax.set_yticks([])
    elif name == "batchnorm":
        scales = data["scales"]
        cols = math.ceil(math.sqrt(len(scales)))
        rows = math.ceil(len(scales) / cols)
        fig = Figure(figsize=(3 * cols, 2.4 * rows), layout="constrained")
        axes = np.ravel(fig.subplots(rows, cols, squeeze=False))
        for ax, scale in zip(axes, scales):
            epochs = np.arange(data["epochs"])
            ax.plot(epochs, data["curves"][(scale, True)], label="Batch Normalization")
            ax.plot(epochs, data["curves"][(scale, False)], linestyle="--",
                    label="Normal(without BatchNorm)")
            ax.set_title(f"W:{scale:.3g}", fontsize=9)
            ax.set_ylim(0, 1.0)
        axes[0].legend(fontsize=7)
        for ax in axes[len(scales):]:
            ax.set_axis_off()
    elif name in ("weight_decay", "dropout"):
        curves = data["curves"]
        fig = Figure(figsize=(5 * len(curves), 4), layout="constrained")
        for ax, (label, (train, test)) in zip(fig.subplots(1, len(curves)), curves.items()):
            ax.plot(np.arange(len(train)), train, marker="o", markevery=10, label="train")
            ax.plot(np.arange(len(test)), test, marker="s", markevery=10, label="test")
            ax.set(xlabel="epochs", ylabel="accuracy", ylim=(0, 1.0), title=label)
            ax.legend(loc="lower right")
    elif name == "hyperparam":
        return plot_search(data, path)
    else:
        raise ValueError(f"no plot for {name!r}")
    return save_figure(fig, path)


# ---------------------------------------------------------------- command line

SEARCH_OPTIONS = ("trials", "epochs", "jobs", "storage", "study", "sampler")


def _parser():
    parser = cli.ArgumentParser(
        prog="python -m nn.experiments",
        description="Chapter 6's experiments: run one, check the book's qualitative result on "
                    "the numbers, optionally save its figure. Exit status 1 if the result was "
                    "not reproduced.")
    parser.add_argument("name", choices=list(EXPERIMENTS), metavar="NAME",
                        help="one of: " + ", ".join(EXPERIMENTS))
    parser.add_argument("--plot", metavar="FILE.png", default=None, help="save the figure here")
    parser.add_argument("--quick", action="store_true",
                        help="a reduced run of seconds instead of the book's settings")
    parser.add_argument("--seed", type=int, default=0, help="seed (default: %(default)s)")
    cli.add_data_dir(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    hp = parser.add_argument_group("hyperparam only (see nn.hyperparam)")
    hp.add_argument("--trials", type=int, default=None, help="trials to run (default: 100; 12 "
                    "with --quick)")
    hp.add_argument("--epochs", type=int, default=None, help="epochs per trial (default: 50; "
                    "30 with --quick)")
    hp.add_argument("--jobs", type=int, default=1, help="worker processes on this machine")
    hp.add_argument("--storage", default=None, help="Optuna storage: a file path (default "
                    "hyperparam.journal, resumed if it exists) or a database URL such as "
                    "postgresql://user@host/db shared by many machines")
    hp.add_argument("--study", default=None, help="study name (default: chapter6-<sampler>)")
    hp.add_argument("--sampler", choices=["random", "tpe"], default="random",
                    help="random: the book's random search (default); tpe: Optuna's TPE")
    return parser


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    if args.plot:
        cli.check_figure(parser, "--plot", args.plot)
    kwargs = dict(quick=args.quick, seed=args.seed, progress=not args.no_progress,
                  data_dir=args.data_dir)
    if args.name == "hyperparam":
        for option in ("--trials", "--jobs", "--epochs"):
            cli.check_int(parser, option, getattr(args, option[2:]), 1)
        kwargs.update(trials=args.trials, jobs=args.jobs, storage=args.storage,
                      study_name=args.study, sampler=args.sampler, epochs=args.epochs)
    elif any(getattr(args, k) != parser.get_default(k) for k in SEARCH_OPTIONS):
        parser.error("--trials, --epochs, --jobs, --storage, --study and --sampler belong to "
                     "the hyperparam experiment")
    try:
        outcome = run(args.name, **kwargs)
    except (FileNotFoundError, ValueError, RuntimeError) as err:
        return cli.error(err)
    except KeyboardInterrupt:
        if args.name == "hyperparam":  # say that nothing finished is lost
            print("interrupted: finished trials are kept; run the same command to resume",
                  file=sys.stderr)
            return cli.INTERRUPTED
        raise
    print(f"{outcome.name}: {outcome.details}")
    print(f"book's result: {outcome.claim}")
    print(f"reproduced: {'yes' if outcome.holds else 'NO'}")
    if args.plot:
        plot(outcome, args.plot)
        print(f"figure saved to {args.plot}")
    return 0 if outcome.holds else 1


if __name__ == "__main__":
    cli.run(main)
