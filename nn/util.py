"""The two helpers of the book's common/util.py that its chapter 6 scripts import
(``from common.util import smooth_curve`` becomes ``from nn.util import smooth_curve``);
its ``im2col`` and ``col2im`` are ``nn.im2col`` and ``nn.col2im``."""
import numpy as np

WINDOW = 11  # the book's window: each point is a weighted mean of it and five either side


def smooth_curve(x):
    """A loss curve smoothed as the book's figures are (fig. 6-9): each point the mean of
    the ``WINDOW`` points around it, weighted by a Kaiser window (beta 2), the curve
    mirrored at both ends as the book mirrors it.  Returns float64 values, as many as ``x``."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or len(x) < WINDOW:
        raise ValueError(f"smooth_curve: needs a 1-d curve of at least {WINDOW} points, got "
                         f"shape {x.shape}")
    weights = np.kaiser(WINDOW, 2)
    # Left: x[WINDOW-1], ..., x[1]; right: x[-1], ..., x[-(WINDOW-1)] (the book's ends).
    padded = np.concatenate([x[WINDOW - 1:0:-1], x, x[:-WINDOW:-1]])
    smooth = np.convolve(padded, weights / weights.sum(), mode="valid")
    return smooth[WINDOW // 2:WINDOW // 2 + len(x)]


def shuffle_dataset(x, t, rng=None):
    """``(x, t)`` with their samples (first axis) in one random order: new arrays, the
    inputs untouched.  ``rng``: a ``np.random.Generator`` or ``RandomState``; None draws from
    numpy's global generator, as the book does."""
    x, t = np.asarray(x), np.asarray(t)
    if x.ndim == 0 or t.ndim == 0 or len(x) != len(t):
        raise ValueError(f"shuffle_dataset: x (shape {x.shape}) and t (shape {t.shape}) must "
                         f"have one label per sample, along the first axis")
    order = (np.random if rng is None else rng).permutation(len(x))
    return x[order], t[order]
