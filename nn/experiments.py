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
import os
import sys
from dataclasses import dataclass, field

import numpy as np

from . import cli
from .nets.multi_layer_net import MultiLayerNetExtend
from .training.loop import blas_threads, progress_bar, train
from .training.optimizers import get_optimizer
from .training.trainer import Trainer


@dataclass
class Outcome:
    """What an experiment found: the book's claim, whether it held here, and the numbers."""

    name: str
    claim: str
    holds: bool
    details: str
    data: dict = field(default_factory=dict)


# ---------------------------------------------------------------- shared pieces

def _bar(total, desc, progress):
    return progress_bar(total, desc, leave=False) if progress else None


def _close(bar):
    if bar is not None:
        bar.close()


def _mnist(train_size=None, test_size=None, data_dir=None):
    """MNIST in float32 with index labels, cut to the first ``train_size`` / ``test_size``."""
    from .data.mnist import load_mnist

    # Raw uint8, and only the images used are converted (as nn.gradcheck does).
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=False, data_dir=data_dir)
    return (x_train[:train_size].astype(np.float32) / 255, t_train[:train_size].astype(np.intp),
            x_test[:test_size].astype(np.float32) / 255, t_test[:test_size].astype(np.intp))


def smooth(values, window=20):
    """Running mean over ``window`` points (the book smooths its loss curves the same way)."""
    values = np.asarray(values, dtype=np.float64)
    window = max(1, min(window, len(values)))
    return np.convolve(values, np.ones(window) / window, mode="valid")


def _threads():
    """One BLAS thread: these products are small (see nn.training.loop)."""
    return blas_threads(1)


def race(nets, optimizers, x, t, iters, seed, desc, progress):
    """Train each of ``nets`` with its optimizer on the same mini-batches of 128 (the same
    ``seed``), as the book's comparison scripts do; each net's loss per iteration."""
    bar = _bar(iters * len(nets), desc, progress)
    try:
        return {k: train(net, x, t, optimizer=optimizers[k], iters_num=iters, batch_size=128,
                         rng=seed, progress=False, bar=bar, verbose=False).train_loss_list
                for k, net in nets.items()}
    finally:
        _close(bar)


# ---------------------------------------------------------------- fig. 6-9: optimizers

def optimizers(*, quick=False, seed=0, progress=True, data_dir=None, names=None):
    """The book's optimizer_compare_mnist.py: 784-100x4-10 ReLU nets (He init), batch 128,
    2000 iterations; each optimizer at the book's learning rate, all on the same batches."""
    iters, hidden, train_size = (300, [100] * 4, 10000) if quick else (2000, [100] * 4, None)
    settings = {"SGD": {"lr": 0.01}, "Momentum": {"lr": 0.01}, "AdaGrad": {"lr": 0.01},
                "Adam": {"lr": 0.001}, "Nesterov": {"lr": 0.01}, "RMSprop": {"lr": 0.01}}
    names = names or ["SGD", "Momentum", "AdaGrad", "Adam"]
    x, t, _, _ = _mnist(train_size, 0, data_dir)
    nets = {n: MultiLayerNetExtend(784, hidden, 10, weight_init_std="he", dtype=np.float32,
                                   rng=seed) for n in names}
    opts = {n: get_optimizer(n, **settings[n]) for n in names}
    losses = race(nets, opts, x, t, iters, seed, "optimizers", progress)
    final = {n: float(np.mean(losses[n][-iters // 10:])) for n in names}
    others = [n for n in names if n != "SGD"]
    holds = "SGD" in final and all(final["SGD"] > final[n] for n in others)
    details = ", ".join(f"{n} {final[n]:.3f}" for n in names)
    return Outcome("optimizers", "SGD learns slowest: after the run its loss is the highest; "
                   "Momentum, AdaGrad and Adam are all below it (fig. 6-9)", holds,
                   f"mean loss over the last 10% of {iters} iterations: {details}",
                   {"losses": losses, "iters": iters})


# ---------------------------------------------------------------- fig. 6-15: initial weights

def weight_init(*, quick=False, seed=0, progress=True, data_dir=None):
    """The book's weight_init_compare.py: 784-100x4-10 ReLU nets, SGD lr 0.01, batch 128,
    2000 iterations, initial weights of std 0.01, Xavier and He."""
    iters, train_size = (400, 10000) if quick else (2000, None)
    inits = {"std=0.01": 0.01, "Xavier": "xavier", "He": "he"}
    x, t, _, _ = _mnist(train_size, 0, data_dir)
    nets = {k: MultiLayerNetExtend(784, [100] * 4, 10, weight_init_std=v, dtype=np.float32,
                                   rng=seed) for k, v in inits.items()}
    opts = {k: get_optimizer("SGD", lr=0.01) for k in inits}
    losses = race(nets, opts, x, t, iters, seed, "weight init", progress)
    final = {k: float(np.mean(losses[k][-iters // 10:])) for k in inits}
    holds = (final["std=0.01"] > 2.2 and final["Xavier"] < 2.0 and final["He"] < 2.0
             and final["He"] < final["Xavier"])
    details = ", ".join(f"{k} {v:.3f}" for k, v in final.items())
    return Outcome("weight_init", "with std 0.01 the net does not learn (loss stays near "
                   "ln 10 = 2.30); Xavier and He learn, He fastest (fig. 6-15)", holds,
                   f"mean loss over the last 10% of {iters} iterations: {details}",
                   {"losses": losses, "iters": iters})


# ---------------------------------------------------------------- figs. 6-10 .. 6-14: histograms

def activation_values(activation, weight_init_std, *, samples=1000, nodes=100, layers=5, seed=0):
    """The book's weight_init_activation_histogram.py: standard normal input (samples, nodes)
    through ``layers`` fully connected layers (no bias) of ``nodes`` units; the activations
    of every layer, a list of arrays."""
    from .layers.functions import relu, sigmoid
    from .nets.multi_layer_net import weight_scale

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
    samples = 200 if quick else 1000
    runs = {label: activation_values(act, std, samples=samples, seed=seed)
            for label, act, std in ACTIVATION_RUNS}
    sat = {k: float(np.mean([np.mean((a < 0.1) | (a > 0.9)) for a in runs[k]]))
           for k in ("sigmoid, std 1",)}
    spread = {k: [float(a.std()) for a in v] for k, v in runs.items()}
    checks = [
        # std 1: the outputs pile up at 0 and 1, where the gradient vanishes (fig. 6-10)
        sat["sigmoid, std 1"] > 0.5,
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
    details += f"; sigmoid std 1: {sat['sigmoid, std 1']:.0%} of values below 0.1 or above 0.9"
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
    if quick:
        train_size, epochs, scales = 500, 8, np.logspace(0, -4, 4)
    else:
        train_size, epochs, scales = 1000, 20, np.logspace(0, -4, 16)
    x, t, _, _ = _mnist(train_size, 0, data_dir)
    curves = {}
    iters = epochs * max(train_size // 100, 1)
    bar = _bar(iters * 2 * len(scales), "batch norm", progress)
    try:
        for scale in scales:
            for use_bn in (True, False):
                net = MultiLayerNetExtend(784, [100] * 5, 10, weight_init_std=float(scale),
                                          use_batchnorm=use_bn, dtype=np.float32, rng=seed)
                trainer = Trainer(net, x, t, x, t, epochs=epochs, mini_batch_size=100,
                                  optimizer="SGD", optimizer_param={"lr": 0.01},
                                  verbose=False, rng=seed, bar=bar)
                try:
                    with np.errstate(over="ignore", invalid="ignore"):
                        trainer.train()
                except FloatingPointError:  # a scale of 1 without BN can blow up: nan from there
                    pass
                acc = trainer.train_acc_list
                curves[(float(scale), use_bn)] = acc + [np.nan] * (epochs - len(acc))
    finally:
        _close(bar)
    final = {s: (curves[(float(s), True)][-1], curves[(float(s), False)][-1]) for s in scales}
    wins = sum(1 for bn, plain in final.values() if not bn < plain)  # nan (diverged) loses

    def shown(acc, net):
        return f"{acc:.2f}" if np.isfinite(acc) else f"nan ({net} diverged)"
    holds = wins >= int(np.ceil(0.75 * len(scales)))
    details = ", ".join(f"{s:.2g}: {shown(bn, 'the Batch Norm net')} vs "
                        f"{shown(plain, 'the plain net')}" for s, (bn, plain) in final.items())
    return Outcome("batchnorm", "with Batch Norm the net learns faster and at almost every "
                   "initial weight scale; without it, learning stalls at most scales "
                   "(figs. 6-18, 6-19): here Batch Norm's final training accuracy must be at "
                   "least the plain net's at >= 3/4 of the scales", holds,
                   f"final training accuracy with vs without Batch Norm per weight scale "
                   f"({wins}/{len(scales)} at least as good): {details}",
                   {"curves": curves, "scales": [float(s) for s in scales], "epochs": epochs})


# ---------------------------------------------------------------- figs. 6-20/6-21, 6-23

def _overfit(name, *, quick, seed, progress, data_dir, variants, quick_epochs=60):
    """300 training images, 784-100x6-10 ReLU nets, SGD lr 0.01, batch 100: the book's
    overfit_weight_decay.py / overfit_dropout.py; train and test accuracy per epoch."""
    epochs = variants.pop("epochs")
    epochs, test_size = (quick_epochs, 2000) if quick else (epochs, None)
    x, t, xt, tt = _mnist(300, test_size, data_dir)
    result = {}
    bar = _bar(epochs * 3 * len(variants), name, progress)
    try:
        for label, kwargs in variants.items():
            net = MultiLayerNetExtend(784, [100] * 6, 10, dtype=np.float32, rng=seed, **kwargs)
            trainer = Trainer(net, x, t, xt, tt, epochs=epochs, mini_batch_size=100,
                              optimizer="SGD", optimizer_param={"lr": 0.01}, verbose=False,
                              rng=seed, bar=bar)
            trainer.train()
            result[label] = (trainer.train_acc_list, trainer.test_acc_list)
    finally:
        _close(bar)
    return result, epochs


def _gap(accs, last=5):
    train, test = (np.mean(a[-last:]) for a in accs)
    return float(train), float(test), float(train - test)


def weight_decay(*, quick=False, seed=0, progress=True, data_dir=None):
    """The book's overfit_weight_decay.py: 201 epochs without and with lambda = 0.1."""
    variants = {"no weight decay": {}, "weight decay 0.1": {"weight_decay_lambda": 0.1},
                "epochs": 201}
    result, epochs = _overfit("weight decay", quick=quick, seed=seed, progress=progress,
                              data_dir=data_dir, variants=variants)
    plain, decayed = _gap(result["no weight decay"]), _gap(result["weight decay 0.1"])
    holds = decayed[2] < plain[2] and plain[0] - plain[1] > 0.15
    return Outcome("weight_decay", "on 300 training images the plain net overfits (train "
                   "accuracy far above test); weight decay lambda = 0.1 narrows that gap "
                   "(figs. 6-20, 6-21)", holds,
                   f"mean of the last 5 epochs (of {epochs}): no decay train {plain[0]:.3f} "
                   f"test {plain[1]:.3f} gap {plain[2]:.3f}; lambda 0.1 train {decayed[0]:.3f} "
                   f"test {decayed[1]:.3f} gap {decayed[2]:.3f}", {"curves": result})


def dropout(*, quick=False, seed=0, progress=True, data_dir=None):
    """The book's overfit_dropout.py: 301 epochs without Dropout and with ratio 0.2, in the
    book's form and inverted."""
    variants = {"no dropout": {},
                "dropout 0.2, the book's form": {"use_dropout": True, "dropout_ration": 0.2,
                                                 "inverted_dropout": False},
                "dropout 0.2, inverted": {"use_dropout": True, "dropout_ration": 0.2},
                "epochs": 301}
    # The book's form learns slowly (see below): the reduced run needs 100 epochs.
    result, epochs = _overfit("dropout", quick=quick, seed=seed, progress=progress,
                              data_dir=data_dir, variants=variants, quick_epochs=100)
    plain = _gap(result["no dropout"])
    book = _gap(result["dropout 0.2, the book's form"])
    inverted = _gap(result["dropout 0.2, inverted"])
    holds = book[2] < plain[2] - 0.05 and book[1] >= 0.2
    return Outcome("dropout", "Dropout (ratio 0.2, the book's form) narrows the gap between "
                   "train and test accuracy of the overfitting net by 0.05 or more, while it "
                   "still learns (test accuracy >= 0.2, twice chance) (fig. 6-23)", holds,
                   f"mean of the last 5 epochs (of {epochs}), train / test / gap: no dropout "
                   f"{plain[0]:.3f} / {plain[1]:.3f} / {plain[2]:.3f}; the book's form "
                   f"{book[0]:.3f} / {book[1]:.3f} / {book[2]:.3f}; inverted {inverted[0]:.3f} / "
                   f"{inverted[1]:.3f} / {inverted[2]:.3f} (not checked: inverted Dropout keeps "
                   f"the activations' scale while training, where the book's form shrinks them "
                   f"by 1 - ratio at every layer, so it learns, and overfits, about as fast as "
                   f"no Dropout)", {"curves": result})


def hyperparam(*, quick=False, seed=0, progress=True, data_dir=None, **search_kwargs):
    """The book's hyperparameter_optimization.py through Optuna: see nn.hyperparam."""
    from .hyperparam import search_outcome

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
        markers = iter("osD^vx")
        for label, losses in data["losses"].items():
            y = smooth(losses)
            ax.plot(np.arange(len(y)), y, marker=next(markers), markevery=max(len(y) // 10, 1),
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
        cols = int(np.ceil(np.sqrt(len(scales))))
        rows = int(np.ceil(len(scales) / cols))
        fig = Figure(figsize=(3 * cols, 2.4 * rows), layout="constrained")
        axes = np.ravel(fig.subplots(rows, cols, squeeze=False))
        for ax, scale in zip(axes, scales):
            epochs = np.arange(data["epochs"])
            ax.plot(epochs, data["curves"][(scale, True)], label="Batch Normalization")
            ax.plot(epochs, data["curves"][(scale, False)], linestyle="--", label="Normal(without BatchNorm)")
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
        from .hyperparam import plot_search

        return plot_search(data, path)
    else:
        raise ValueError(f"no plot for {name!r}")
    if path is not None:
        save_figure(fig, path)
    return fig


def save_figure(fig, path):
    """Write ``fig`` to ``path`` atomically (never a half-written file), in the format of its suffix."""
    from .data.files import atomic_write

    with atomic_write(path, ".tmp") as f:
        fig.savefig(f, format=os.path.splitext(os.fspath(path))[1].lstrip(".").lower())


# ---------------------------------------------------------------- command line

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
    parser.add_argument("--data-dir", default=None,
                        help="folder with the MNIST files (default: $CHAINRULE_DATA/mnist, "
                             "then the per-user cache)")
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
        from .train import _check_output

        _check_output(parser, "--plot", args.plot)
        from matplotlib.figure import Figure

        formats = Figure().canvas.get_supported_filetypes()
        if os.path.splitext(args.plot)[1].lstrip(".").lower() not in formats:
            parser.error(f"--plot {args.plot}: matplotlib cannot write this file type; use one "
                         f"of {', '.join('.' + f for f in sorted(formats))}")
    kwargs = dict(quick=args.quick, seed=args.seed, progress=not args.no_progress,
                  data_dir=args.data_dir)
    if args.name == "hyperparam":
        if args.trials is not None:
            cli.check_int(parser, "--trials", args.trials, 1)
        cli.check_int(parser, "--jobs", args.jobs, 1)
        if args.epochs is not None:
            cli.check_int(parser, "--epochs", args.epochs, 1)
        kwargs.update(trials=args.trials, jobs=args.jobs, storage=args.storage,
                      study_name=args.study, sampler=args.sampler, epochs=args.epochs)
    elif (args.trials is not None or args.jobs != 1 or args.storage or args.study
          or args.epochs is not None or args.sampler != "random"):
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
