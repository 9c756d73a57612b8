"""SCRATCH (until autograd/ops.py lands on main): chapter 6's op rows, in the op-table form.

Moved verbatim into autograd/ops.py (its "chapter 6" section) once that exists; this file
then goes.  ``_declare`` mimics autograd.ops.declare_op for array rows only.
"""
import numpy as np


class _Row:
    def __init__(self, name, forward, backward, symbol=None):
        self.name, self.forward, self.backward, self.symbol = name, forward, backward, symbol or name

    def __call__(self, *inputs, **params):
        return self.forward(*inputs, **params)

    def vjp(self, g, out, *inputs, needs=None, **params):
        return tuple(None if f is None or (needs is not None and not needs[i])
                     else f(g, out, *inputs, **params) for i, f in enumerate(self.backward))


def _declare(name, *, forward, backward, symbol=None, **_):
    return _Row(name, forward, backward, symbol)


# ---------------------------------------------------------------- chapter 6 rows

def _bn_shape(x, axes):
    """The shape a per-feature array (gamma, mean, ...) takes to broadcast against ``x``."""
    return tuple(1 if i in axes else n for i, n in enumerate(x.shape))


def batchnorm_stats(x, axes=(0,)):
    """Per-feature (mean, var) of ``x`` over ``axes`` (biased var, as the book), kept broadcastable."""
    mean = x.mean(axis=axes, keepdims=True)
    xc = x - mean
    return mean, np.mean(xc * xc, axis=axes, keepdims=True)


def _bn_xhat(x, axes, eps, stats):
    """xhat = (x - mean) / std and std = sqrt(var + eps), from ``stats`` = (mean, var) or from x."""
    mean, var = batchnorm_stats(x, axes) if stats is None else stats
    shape = _bn_shape(x, axes)
    std = np.sqrt(np.reshape(var, shape) + eps)
    xhat = x - np.reshape(mean, shape)
    xhat /= std
    return xhat, std


def _bn_forward(x, gamma, beta, *, axes=(0,), eps=1e-6, stats=None, train=True):
    xhat, _ = _bn_xhat(x, axes, eps, stats)
    shape = _bn_shape(x, axes)
    xhat *= gamma.reshape(shape)
    xhat += beta.reshape(shape)
    return xhat


def _bn_dx(g, out, x, gamma, beta, *, axes=(0,), eps=1e-6, stats=None, train=True):
    # m values per feature, mu and var their mean and biased variance, xhat = (x - mu) / std.
    # y = gamma xhat + beta, so dL/dxhat = g gamma.  In training mode mu and var are functions
    # of every x of the feature; with dmu/dx_i = 1/m and dvar/dx_i = 2 (x_i - mu) / m, the
    # chain rule over the three paths (direct, through var, through mu) sums to
    #     dx = (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) / std.
    # In inference mode (train=False) mu and var are constants: dx = dxhat / std.
    xhat, std = _bn_xhat(x, axes, eps, stats)
    dxhat = g * gamma.reshape(_bn_shape(x, axes))
    if not train:
        return dxhat / std
    dx = dxhat - dxhat.mean(axis=axes, keepdims=True)
    xhat *= np.mean(dxhat * xhat, axis=axes, keepdims=True)
    dx -= xhat
    dx /= std
    return dx


def _bn_dgamma(g, out, x, gamma, beta, *, axes=(0,), eps=1e-6, stats=None, train=True):
    xhat, _ = _bn_xhat(x, axes, eps, stats)
    xhat *= g
    return np.sum(xhat, axis=axes).reshape(gamma.shape)


def _bn_dbeta(g, out, x, gamma, beta, *, axes=(0,), eps=1e-6, stats=None, train=True):
    return np.sum(g, axis=axes).reshape(beta.shape)


# Batch Normalization: y = gamma (x - mean) / sqrt(var + eps) + beta per feature, the
# statistics taken over ``axes`` (axes (0,) for (N, D); (0, 2, 3) per channel for
# (N, C, H, W)).  gamma, beta: one value per feature, any shape holding them ((D,), (C,)).
# ``stats`` = (mean, var), broadcastable or per-feature: the batch's, computed by the layer
# once and passed to forward and backward (else computed from x), or the running averages
# with ``train=False``, where they are constants and no gradient flows through them.
batchnorm = _declare(
    "batchnorm", symbol="BatchNorm",
    forward=_bn_forward,
    backward=(_bn_dx, _bn_dgamma, _bn_dbeta),
)


def _dropout_forward(x, mask, *, scale=1.0):
    y = x * scale if mask is None else x * mask
    if mask is not None and scale != 1.0:
        y *= scale
    return y


def _dropout_dx(g, out, x, mask, *, scale=1.0):
    return _dropout_forward(g, mask, scale=scale)  # linear in x: the same map applied to g


dropout = _declare("dropout", symbol="Dropout", forward=_dropout_forward,
                   backward=(_dropout_dx, None))


l2_penalty = _declare(
    "l2_penalty", symbol="L2",
    forward=lambda W, *, lam: 0.5 * lam * np.sum(W * W),
    backward=(lambda g, out, W, *, lam: (g * lam) * W,),
)
