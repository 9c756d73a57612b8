"""The scalar engine as an oracle for chapter 6's layers: BatchNormalization and Dropout
built element by element out of ``autograd.Value``s must give the vectorised layers'
output and gradients (float64, ~1e-10).

The Value version of Batch Norm spells out the book's computational graph (fig. 6-17):
mean, centred values, variance, sqrt(var + eps) as (var + eps) ** 0.5, division, scale
and shift, with the chain rule doing the rest: no BN backward formula is involved, so
agreement with the op table's ``batchnorm`` row is not a tautology.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import Value
from autograd.testing import close
from nn.layers import BatchNormalization, Dropout

EPS = 1e-6


def as_values(a):
    return np.vectorize(Value, otypes=[object])(a)


def grads(values):
    return np.vectorize(lambda v: v.grad, otypes=[float])(values)


def value_batchnorm(x, gamma, beta, groups):
    """x: an array of Values; groups: for each feature, the index arrays of its values."""
    out = np.empty(x.shape, dtype=object)
    for f, idx in enumerate(groups):
        vals = list(x[idx])
        m = len(vals)
        mu = sum(vals[1:], vals[0]) / m
        xc = [v - mu for v in vals]
        var = sum((c * c for c in xc[1:]), xc[0] * xc[0]) / m
        std = (var + EPS) ** 0.5
        ys = [gamma[f] * (c / std) + beta[f] for c in xc]
        for pos, y in zip(zip(*idx), ys):
            out[pos] = y
    return out


def feature_groups(shape, per_pixel):
    """Index arrays selecting each feature's values: per column, per pixel, or per channel."""
    n = shape[0]
    if len(shape) == 2 or per_pixel:
        return [(np.arange(n),) + tuple(np.full(n, p) for p in pos)
                for pos in np.ndindex(*shape[1:])]
    index = np.indices(shape)
    return [tuple(i[:, c].ravel() for i in index) for c in range(shape[1])]


@pytest.mark.parametrize("shape, per_pixel", [((3, 2), False), ((2, 2, 2, 2), False),
                                              ((2, 2, 1, 2), True)])
@settings(max_examples=10)
@given(data=st.data())
def test_batchnorm_matches_the_scalar_engine(shape, per_pixel, data):
    elements = st.floats(-2, 2, allow_nan=False)
    x = data.draw(hnp.arrays(np.float64, shape, elements=elements))
    x += np.arange(shape[0]).reshape((-1,) + (1,) * (len(shape) - 1))  # spread in every feature
    features = int(np.prod(shape[1:])) if per_pixel or len(shape) == 2 else shape[1]
    gamma = data.draw(hnp.arrays(np.float64, features, elements=elements))
    beta = data.draw(hnp.arrays(np.float64, features, elements=elements))
    G = data.draw(hnp.arrays(np.float64, shape, elements=elements))

    layer = BatchNormalization(gamma, beta, per_pixel=per_pixel)
    y = layer.forward(x)
    dx = layer.backward(G)

    vx, vgamma, vbeta = as_values(x), as_values(gamma), as_values(beta)
    vy = value_batchnorm(vx, vgamma, vbeta, feature_groups(shape, per_pixel))
    loss = sum((v * g for v, g in zip(vy.ravel()[1:], G.ravel()[1:])), vy.ravel()[0] * G.ravel()[0])
    loss.backward()

    close(y, np.vectorize(lambda v: v.data, otypes=[float])(vy), 1e-9, atol=1e-10)
    close(dx, grads(vx), 1e-9, atol=1e-10)
    close(layer.dgamma, grads(vgamma), 1e-9, atol=1e-10)
    close(layer.dbeta, grads(vbeta), 1e-9, atol=1e-10)


@pytest.mark.parametrize("inverted", [True, False])
@settings(max_examples=10)
@given(data=st.data(), seed=st.integers(0, 1000))
def test_dropout_matches_the_scalar_engine(inverted, data, seed):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-2, 2, allow_nan=False)))
    G = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-2, 2, allow_nan=False)))
    for train in (True, False):
        layer = Dropout(0.4, inverted=inverted, rng=seed)
        y = layer.forward(x, train_flg=train)
        dx = layer.backward(G)
        # the book's description: keep where the mask is True (scaled by 1/(1-p) if inverted),
        # and at test time scale by (1-p) in the book's form
        vx = as_values(x)
        if train:
            scale = 1 / 0.6 if inverted else 1.0
            vy = [v * (scale if keep else 0.0) for v, keep in zip(vx.ravel(), layer.mask.ravel())]
        else:
            vy = [v * (1.0 if inverted else 0.6) for v in vx.ravel()]
        loss = sum((v * g for v, g in zip(vy, G.ravel())), Value(0.0))
        loss.backward()
        close(y.ravel(), [v.data for v in vy], 1e-9, atol=1e-10)
        close(dx, grads(vx), 1e-9, atol=1e-10)
