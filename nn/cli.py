"""What the commands (``python -m nn.train``, ``nn.gradcheck``, ``nn.experiments``, the search
in ``nn.hyperparam``) share: errors, option checks, progress bars, BLAS threads, MNIST subsets,
figures.

A mistake in the command or its data is one line on stderr, ``error: ...``, and exit
status 2, never a traceback; Ctrl-C is one line too, ``interrupted``, and status 130
(128 + SIGINT, as shells report it).
"""
import argparse
import contextlib
import math
import os
import sys
from dataclasses import dataclass, field

import numpy as np

from .data import files, mnist
from .training import loop
from .training.loop import blas_threads  # noqa: F401  (the commands take it from here)
from .training.trainer import Trainer

USAGE_ERROR = 2
INTERRUPTED = 130


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, but its errors are one line: ``error: MESSAGE (see --help)``."""

    def error(self, message):
        self.exit(USAGE_ERROR, f"error: {message} (see {self.prog} --help)\n")


def error(message):
    """Print ``error: message`` on stderr and return the usage-error status, for ``return error(...)``."""
    print(f"error: {message}", file=sys.stderr)
    return USAGE_ERROR


def run(main):
    """``sys.exit(main())``, with Ctrl-C reported in one line instead of a traceback."""
    try:
        status = main()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        status = INTERRUPTED
    sys.exit(status)


def add_data_dir(parser):
    """The ``--data-dir`` option every command that reads MNIST takes."""
    parser.add_argument("--data-dir", default=None,
                        help="folder with the MNIST files, or the folder above its mnist/ "
                             "(default: $CHAINRULE_DATA or its mnist/, then the per-user cache)")


def check_int(parser, option, value, low, high=None):
    """Refuse (parser.error) ``value`` outside [low, high]; None (not given) passes."""
    if value is not None and (value < low or (high is not None and value > high)):
        bound = f">= {low}" if high is None else f"in {low}..{high}"
        parser.error(f"{option} must be {bound}, got {value}")


def check_positive(parser, option, value, zero_ok=False):
    """Refuse (parser.error) a float ``value`` that is nan, infinite, negative, or 0 unless ``zero_ok``."""
    if not (math.isfinite(value) and (value >= 0 if zero_ok else value > 0)):
        parser.error(f"{option} must be a finite number {'>= 0' if zero_ok else '> 0'}, got {value}")


def seed_or_random(parser, seed):
    """``seed`` checked to be in 0..2**32-1, or, if None, a random one (which the command
    prints, so that its run can be repeated)."""
    check_int(parser, "--seed", seed, 0, 2**32 - 1)
    return seed if seed is not None else int(np.random.SeedSequence().entropy % 2**32)


@dataclass
class Outcome:
    """What an experiment found: the book's claim, whether it held here, and the numbers."""

    name: str
    claim: str
    holds: bool
    details: str
    data: dict = field(default_factory=dict)


def progress_bar(total, desc, progress=True):
    """The training loop's tqdm bar, cleared when done (a command shows several in turn), or
    None without ``progress`` or without tqdm."""
    return loop.progress_bar(total, desc, leave=False) if progress else None


def progress_bar_closed(total, desc, progress=True):
    """``with progress_bar_closed(...) as bar``: ``progress_bar`` (a tqdm bar, which closes when
    the block ends, or None)."""
    bar = progress_bar(total, desc, progress)
    return contextlib.nullcontext() if bar is None else bar


def train_accuracies(net, data, epochs, seed, lr=0.01, bar=None):
    """Train ``net`` on data = (x, t, x_test, t_test) as the book's chapter-6 scripts do
    (Trainer: SGD, batches of 100, one BLAS thread): its (train, test) accuracy lists, one
    per epoch until it diverged, if it did (as a large initial weight scale or learning rate
    can make it)."""
    trainer = Trainer(net, *data, epochs=epochs, mini_batch_size=100, optimizer="SGD",
                      optimizer_param={"lr": lr}, verbose=False, rng=seed, bar=bar)
    with contextlib.suppress(FloatingPointError), np.errstate(over="ignore", invalid="ignore"):
        trainer.train()  # a diverged run keeps the accuracies it reached
    return trainer.train_acc_list, trainer.test_acc_list


def mnist_subset(train_size=None, test_size=None, data_dir=None):
    """MNIST as (x_train, t_train, x_test, t_test): float32 images in [0, 1] of shape (N, 784)
    and index labels, cut to the first ``train_size`` / ``test_size`` (None: all)."""
    # Raw uint8, and only the images used are converted.
    (x_train, t_train), (x_test, t_test) = mnist.load_mnist(normalize=False, data_dir=data_dir)
    return (x_train[:train_size].astype(np.float32) / 255, t_train[:train_size].astype(np.intp),
            x_test[:test_size].astype(np.float32) / 255, t_test[:test_size].astype(np.intp))


def save_figure(fig, path, **savefig_kwargs):
    """Write ``fig`` to ``path`` atomically (never a half-written file), in the format of its
    suffix (None: nothing); ``savefig_kwargs`` (``dpi=`` ...) go to ``fig.savefig``.  Returns
    ``fig``."""
    if path is not None:
        with files.atomic_write(path, ".tmp") as f:
            fig.savefig(f, format=os.path.splitext(os.fspath(path))[1].lstrip(".").lower(),
                        **savefig_kwargs)
    return fig


def check_output(parser, option, path, suffix=None):
    """Refuse, before training, an output path that could not be written after it."""
    directory = os.path.dirname(os.path.abspath(path))
    if suffix and not path.endswith(suffix):
        parser.error(f"{option} {path}: the file name must end with {suffix}")
    if not os.path.isdir(directory):
        parser.error(f"{option} {path}: the folder {directory} does not exist")
    try:  # create and remove a file beside it: a read-only folder fails now, not after the run
        files.probe_writable(path, ".tmp")
    except OSError as err:
        parser.error(f"{option} {path}: cannot write there ({err.strerror or err})")


def check_figure(parser, option, path, suffix=None):
    """``check_output`` for a figure, and refuse it if matplotlib is missing or cannot write
    the file type of ``path``'s suffix."""
    try:
        import matplotlib.figure
    except ImportError:
        parser.error(f"{option} needs matplotlib, which is not installed; install the train "
                     f"extra from the project folder: pip install -e '.[train]'")
    check_output(parser, option, path, suffix)
    formats = matplotlib.figure.Figure().canvas.get_supported_filetypes()
    if os.path.splitext(path)[1].lstrip(".").lower() not in formats:
        parser.error(f"{option} {path}: matplotlib cannot write this file type; use one "
                     f"of {', '.join('.' + f for f in sorted(formats))}")
