"""The book's functions (common/functions.py): sigmoid, relu, softmax, cross_entropy_error.

All of them work on numpy arrays of any float dtype and keep it (a float32 input
gives a float32 result).  They are numerically stable: softmax and log_softmax
subtract each row's maximum before ``exp`` (no overflow at logits of 1000), and
sigmoid only ever takes ``exp`` of a non-positive number.

Scores and probabilities are laid out as the book does: one sample per row, (N, C) for a batch
of N samples and C classes, or (C,) for a single sample. Targets ``t`` are either one-hot rows
of the same shape, or class indices of shape (N,) or (N, 1) (a scalar for a single sample).
"""
import numpy as np

from autograd import ops
from autograd.ops import mean_nll


def as_floats(x):
    """``x`` as an array of floats: float arrays as they are, anything else as float64."""
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def sigmoid(x):
    """y = 1 / (1 + exp(-x)), elementwise; any shape (the op table's ``sigmoid`` row).

    Written with exp(-|x|) so no exp overflows: for x >= 0 it is 1 / (1 + e),
    for x < 0 it is e / (1 + e), with e = exp(-|x|) in (0, 1].
    """
    return ops.sigmoid.forward(as_floats(x))


def relu(x):
    """y = max(0, x), elementwise; any shape (the op table's ``relu`` row; nan stays nan)."""
    return ops.relu.forward(np.asarray(x))


def log_softmax(x, who="log_softmax"):
    """log(softmax(x)) along the last axis: x - max - log(sum(exp(x - max))).

    ``x``: scores (C,) or (N, C), any number of leading axes, C >= 1.  Exact where the
    naive log(softmax(x)) would give log(0) = -inf.
    """
    x = as_floats(x)
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"{who}: scores must have shape (C,) or (N, C) with C >= 1 classes "
                         f"on the last axis; got shape {x.shape}")
    z = x - np.max(x, axis=-1, keepdims=True)
    z -= np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return z


def softmax(x):
    """y_k = exp(x_k) / sum_j exp(x_j) along the last axis (the book's ソフトマックス関数).

    Computed as exp(log_softmax(x)): no overflow, rows sum to 1.
    """
    y = log_softmax(x, "softmax")
    return np.exp(y, out=y)


def cross_entropy_error(y, t):
    """Mean over the batch of -sum_k t_k log y_k (交差エントロピー誤差), from probabilities y.

    ``y``: probabilities, (N, C) or (C,).  ``t``: one-hot rows like ``y``, or class indices
    (N,) (a scalar for one sample).  Probabilities below the smallest normal float (0 included)
    are raised to it, so log never sees 0; nothing else is changed (the book's ``+ 1e-7``
    shifts every value).  For training, prefer ``SoftmaxWithLoss``, which works from the scores
    via ``log_softmax`` and needs no such guard.
    """
    y, t = batch_targets(y, t, "cross_entropy_error")
    tiny = np.finfo(y.dtype).tiny
    return mean_nll(np.log(np.maximum(y, tiny)), t)


def batch_targets(x, t, who):
    """Check scores ``x`` against targets ``t`` and return both as a batch.

    Returns ``(x2, t2)``: ``x2`` is ``x`` as (N, C) (a view, no copy); ``t2`` is
    (N,) class indices as ``np.intp`` (given as (N,), or as the book's (N, 1)), or (N, C)
    one-hot rows in ``x``'s dtype.
    Raises ValueError naming ``who`` and the shapes, or the bad label and the range,
    for an empty batch, and for one-hot rows that do not sum to 1 (nan and inf included).
    """
    x = as_floats(x)
    t = np.asarray(t)
    if x.ndim not in (1, 2) or x.shape[-1] == 0:
        raise ValueError(f"{who}: scores must have shape (N, C) for a batch or (C,) for one "
                         f"sample, with C >= 1 classes; got shape {x.shape}")
    classes = x.shape[-1]
    if x.ndim == 2 and x.shape[0] == 0:
        raise ValueError(f"{who}: empty batch (scores of shape {x.shape}): the mean loss over 0 "
                         f"samples is undefined; give at least one sample")
    if t.shape == x.shape:  # one-hot rows
        if t.dtype.kind not in "biuf":
            raise ValueError(f"{who}: one-hot targets must be numbers, got dtype {t.dtype}")
        t = t.reshape(-1, classes).astype(x.dtype, copy=False)
        # The gradient y - t assumes every row of t sums to 1.  Written as "not <=" so that a
        # row holding nan or inf (whose sum is nan or inf) is refused too.
        sums = t.sum(axis=1)
        bad = np.flatnonzero(~(np.abs(sums - 1) <= np.sqrt(np.finfo(x.dtype).eps)))
        if bad.size:
            raise ValueError(
                f"{who}: one-hot target row {bad[0]} sums to {sums[bad[0]]}, not 1; give one-hot "
                f"rows (or probabilities) of shape {x.shape}, or class indices of shape "
                f"{x.shape[:-1]}")
    elif t.shape in (x.shape[:-1], x.shape[:-1] + (1,)):  # class indices, (N,) or (N, 1)
        if t.dtype.kind not in "iu":
            raise ValueError(f"{who}: class indices must be integers, got dtype {t.dtype}; "
                             f"convert them with t.astype(int)")
        t = t.reshape(-1)
        if t.size and (t.max() >= classes or (t.dtype.kind == "i" and t.min() < 0)):
            bad = t[(t < 0) | (t >= classes)][0]
            raise ValueError(f"{who}: label {bad} is outside the range [0, {classes}) "
                             f"of the {classes} classes (scores of shape {x.shape})")
        # As intp, numpy's index type: other integer types (load_mnist's uint8 labels)
        # would be converted again at every fancy index, in the loss and in the gradient.
        t = t.astype(np.intp, copy=False)
    else:
        raise ValueError(
            f"{who}: targets of shape {t.shape} do not fit scores of shape {x.shape}: give "
            f"one-hot rows of shape {x.shape} or class indices of shape {x.shape[:-1]}")
    return x.reshape(-1, classes), t
