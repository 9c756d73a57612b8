"""The training loop (学習): mini-batch gradient descent with any optimizer, as the book's loops.

One loop for every caller: ``python -m nn.train``, the book's ``Trainer``, chapter 6's
experiments and the hyper-parameter search::

    history = train(network, x_train, t_train, x_test, t_test, iters_num=1200, rng=0)
    history.test_acc_list[-1]
"""
import contextlib
import math
import os
import time
from dataclasses import dataclass, field

import numpy as np

from .optimizers import SGD


@dataclass
class History:
    """What ``train`` recorded, with the book's list names."""

    iter_per_epoch: int
    train_loss_list: list = field(default_factory=list)  # each mini-batch's loss, before its update
    train_acc_list: list = field(default_factory=list)
    test_acc_list: list = field(default_factory=list)
    eval_iters: list = field(default_factory=list)  # updates done when each accuracy was measured
    elapsed: float = 0.0  # seconds in train(), evaluation included
    eval_seconds: float = 0.0  # of which spent measuring accuracy


def train(network, x_train, t_train, x_test=None, t_test=None, *, optimizer=None, lr=0.1,
          iters_num=10000, batch_size=100, rng=None, augment=None, last_eval=True,
          train_acc_size=None, test_acc_size=None, threads=1, eval_threads=2, progress=True,
          bar=None, verbose=True, history=None, on_step=None):
    """Train ``network`` on mini-batches; returns a History.

    Each iteration draws ``batch_size`` training samples at random (with replacement,
    like the book's ``np.random.choice``; ``rng``: a seed or np.random.Generator),
    computes the gradient by back-propagation and calls ``optimizer.update(params,
    grads)`` (default ``SGD(lr)``: ``params[key] -= lr * grad[key]``).  ``augment``: a
    function applied to each mini-batch's inputs before its step (data augmentation).

    Train and test accuracy are measured after the first iteration and then once per epoch
    (train_size / batch_size iterations), as the book's loops and Trainer do, and with
    ``last_eval`` after the last iteration too; ``train_acc_size``, ``test_acc_size``: on only
    the first that many samples of each set.  ``x_test`` None measures no accuracy.

    ``network``: anything with ``params``, ``gradient``, ``accuracy`` and ``lastLayer.loss``
    (every ``nn.nets`` net); data in its dtype, labels one-hot or indices.  ``threads``: BLAS
    threads for the steps (threadpoolctl, if installed; 0 leaves BLAS's default): one, because
    a step's products are small and a second thread makes every step wait for a core when
    another process holds one.  ``eval_threads``: BLAS threads while measuring accuracy, whose
    products are much larger; 0 keeps the steps' setting.  ``progress``: a tqdm bar on stderr
    (if tqdm is installed), or ``bar``: one to share; ``verbose``: print the accuracies.
    ``history``: a History to append to (what was recorded stays there if training raises).
    ``on_step``: called as ``on_step(i, history)`` after iteration ``i`` (0-based) and its
    measurement, so a caller can report each step in its own words (the book's Trainer does).

    Raises FloatingPointError, before updating, if the loss becomes nan or inf, and
    before measuring accuracy (so also after the last update) if a parameter holds nan or
    inf: no result comes from diverged weights.
    """
    rng = np.random.default_rng(rng)
    optimizer = SGD(lr) if optimizer is None else optimizer
    lr = getattr(optimizer, "lr", lr)  # for the error messages
    if len(x_train) == 0:
        raise ValueError("train: x_train is empty: there is nothing to draw mini-batches from")
    ipe = max(len(x_train) // batch_size, 1)
    history = History(ipe) if history is None else history
    draw_batch = batch_drawer(x_train, t_train, batch_size, rng)
    own_bar = progress_bar(iters_num, "training") if progress and bar is None else None
    bar = own_bar if bar is None else bar
    say = (bar.write if bar is not None else print) if verbose else (lambda line: None)
    params, start, shown = network.params, time.perf_counter(), 0
    with blas_threads(threads), contextlib.nullcontext() if own_bar is None else own_bar:
        for i in range(iters_num):
            x_batch, t_batch = draw_batch()
            grads = network.gradient(x_batch if augment is None else augment(x_batch), t_batch)
            loss = float(network.lastLayer.loss)
            if not math.isfinite(loss):
                raise FloatingPointError(diverged(f"the loss became {loss} at", i, iters_num, lr))
            optimizer.update(params, grads)
            history.train_loss_list.append(loss)
            if x_test is not None and (i % ipe == 0 or last_eval and i == iters_num - 1):
                check_finite(params, i, iters_num, lr)
                eval_start = time.perf_counter()
                with blas_threads(eval_threads):
                    train_acc = network.accuracy(x_train[:train_acc_size], t_train[:train_acc_size])
                    test_acc = network.accuracy(x_test[:test_acc_size], t_test[:test_acc_size])
                history.eval_seconds += time.perf_counter() - eval_start
                history.train_acc_list.append(train_acc)
                history.test_acc_list.append(test_acc)
                history.eval_iters.append(i + 1)
                say(f"epoch {(i + 1) / ipe:5.2f} (iter {i + 1:>6}): "
                    f"train acc, test acc | {train_acc:.4f}, {test_acc:.4f}")
            if on_step is not None:
                on_step(i, history)
            if bar is not None and (i % 100 == 99 or i == iters_num - 1):
                bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
                bar.update(i + 1 - shown)
                shown = i + 1
    history.elapsed += time.perf_counter() - start
    return history


def diverged(what, i, iters_num, lr):
    """The message for training that went non-finite at iteration ``i + 1``: the learning
    rate is to blame only once it has been used."""
    if i == 0 and what.startswith("the loss"):  # no update yet: the initial weights gave it
        return (f"{what} iteration 1 of {iters_num}, before any update: the initial weights (or "
                f"the data) give it, not the learning rate; try smaller initial weights "
                f"(weight_init_std)")
    return (f"{what} iteration {i + 1} of {iters_num}: training diverged; try a smaller "
            f"learning rate than {lr:g}")


def check_finite(params, i, iters_num, lr):
    """Raise FloatingPointError naming the first parameter that holds nan or inf."""
    for key, value in params.items():
        finite = np.isfinite(value)
        if not finite.all():
            raise FloatingPointError(diverged(
                f"{key} holds {value.size - np.count_nonzero(finite)} non-finite values (nan or "
                f"inf) after", i, iters_num, lr))


def batch_drawer(x_train, t_train, batch_size, rng):
    """A function that draws a mini-batch, ``(x_batch, t_batch)``: ``batch_size`` samples
    picked at random with replacement, like the book's ``np.random.choice``.

    The images are gathered into one array that every call overwrites, so that no step
    allocates a new batch.
    """
    x_train = np.asarray(x_train)
    x_batch = np.empty((batch_size,) + x_train.shape[1:], x_train.dtype)

    def draw():
        batch_mask = rng.integers(len(x_train), size=batch_size)
        # mode="clip" never clips here (the indices are in range); "raise" would copy the output.
        x_train.take(batch_mask, axis=0, out=x_batch, mode="clip")
        return x_batch, t_train[batch_mask]
    return draw


def progress_bar(total, desc, leave=True):
    """A tqdm bar on stderr, or None if tqdm is not installed (training then shows no bar)."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, unit="it", mininterval=0.2, dynamic_ncols=True,
                leave=leave)


def blas_threads(n):
    """Set BLAS to ``n`` threads (at most the usable CPUs) with threadpoolctl, restoring the
    previous number on exit; no-op if n == 0 or threadpoolctl is not installed."""
    if n == 0:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=min(n, usable_cpus()), user_api="blas")


def usable_cpus():
    """The CPUs this process may run on (its affinity mask where the OS has one)."""
    has_mask = hasattr(os, "sched_getaffinity")
    return len(os.sched_getaffinity(0)) if has_mask else os.cpu_count() or 1
