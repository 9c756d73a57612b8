"""Every rule in autograd.rules against central differences, in float64, on floats and arrays.

The forward functions here are numpy's own, independent of the code under test.
Elementwise rules are checked with one perturbation of the whole array at a time,
which is exact for elementwise functions: d out_i / d x_j = 0 for i != j.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import rules

H = 1e-6


def central(f, x):
    return (f(x + H) - f(x - H)) / (2 * H)


def moderate(lo=-5.0, hi=5.0):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def away_from_zero(lo=0.05, hi=5.0):
    """Floats with |x| in [lo, hi]: away from poles and kinks at 0."""
    return st.tuples(st.floats(lo, hi), st.booleans()).map(lambda p: p[0] if p[1] else -p[0])


def arrays(elements):
    return hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                      elements=elements)


def close(a, b, tol=1e-6):
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


# Unary elementwise rules: (forward, rule in terms of (dout, x, out), domain)
UNARY = {
    "exp": (np.exp, lambda d, x, y: rules.exp_backward(d, y), moderate()),
    "log": (np.log, lambda d, x, y: rules.log_backward(d, x), st.floats(0.05, 50.0)),
    "tanh": (np.tanh, lambda d, x, y: rules.tanh_backward(d, y), moderate()),
    "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), lambda d, x, y: rules.sigmoid_backward(d, y),
                moderate(-10, 10)),
    "relu": (lambda x: np.maximum(x, 0.0), lambda d, x, y: rules.relu_backward(d, x),
             away_from_zero()),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_unary_rule_on_floats(name, data):
    f, rule, domain = UNARY[name]
    x = data.draw(domain)
    dout = data.draw(moderate(-3, 3))
    got = rule(dout, x, float(f(x)))
    assert isinstance(got, float)
    close(got, dout * central(f, x))


@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_unary_rule_on_arrays(name, data):
    f, rule, domain = UNARY[name]
    x = data.draw(arrays(domain))
    dout = data.draw(hnp.arrays(np.float64, x.shape, elements=moderate(-3, 3)))
    got = rule(dout, x, f(x))
    assert got.shape == x.shape and got.dtype == np.float64
    close(got, dout * central(f, x))


# Binary elementwise rules: (forward, rule in terms of (dout, x, y, out), x domain, y domain)
BINARY = {
    "add": (np.add, lambda d, x, y, z: rules.add_backward(d), moderate(), moderate()),
    "sub": (np.subtract, lambda d, x, y, z: rules.sub_backward(d), moderate(), moderate()),
    "mul": (np.multiply, lambda d, x, y, z: rules.mul_backward(d, x, y), moderate(), moderate()),
    "div": (np.divide, lambda d, x, y, z: rules.div_backward(d, x, y), moderate(),
            away_from_zero(0.2, 5.0)),
    "pow": (np.power, rules.pow_backward, st.floats(0.1, 4.0), moderate(-3, 3)),
}


def check_binary(name, x, y, dout):
    f, rule, _, _ = BINARY[name]
    dx, dy = rule(dout, x, y, f(x, y))
    close(dx, dout * central(lambda v: f(v, y), x))
    close(dy, dout * central(lambda v: f(x, v), y))
    return dx, dy


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_binary_rule_on_floats(name, data):
    _, _, xs, ys = BINARY[name]
    x, y, dout = data.draw(xs), data.draw(ys), data.draw(moderate(-3, 3))
    dx, dy = check_binary(name, x, y, dout)
    assert isinstance(dx, float) and isinstance(dy, float)


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_binary_rule_on_arrays(name, data):
    _, _, xs, ys = BINARY[name]
    x = data.draw(arrays(xs))
    y = data.draw(hnp.arrays(np.float64, x.shape, elements=ys))
    dout = data.draw(hnp.arrays(np.float64, x.shape, elements=moderate(-3, 3)))
    dx, dy = check_binary(name, x, y, dout)
    assert np.shape(dx) == x.shape and np.shape(dy) == x.shape


@settings(max_examples=60, deadline=None)
@given(x=st.floats(-3.0, 3.0).filter(lambda v: abs(v) > 0.05),
       c=st.sampled_from([-2.0, -1.0, 2.0, 3.0, 0.5]), dout=moderate(-3, 3))
def test_pow_const_rule(x, c, dout):
    if not float(c).is_integer():
        x = abs(x)
    got = rules.pow_const_backward(dout, x, c)
    close(got, dout * central(lambda v: v ** c, x))


def numerical_array_grad(f, a):
    """d f / d a for a scalar function f of the array a (perturbs a copy)."""
    grad = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        b = a.copy()
        b[i] += H
        up = f(b)
        b[i] -= 2 * H
        grad[i] = (up - f(b)) / (2 * H)
    return grad


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_affine_rule(data):
    n, d, m = (data.draw(st.integers(1, 4)) for _ in range(3))
    x = data.draw(hnp.arrays(np.float64, (n, d), elements=moderate(-2, 2)))
    W = data.draw(hnp.arrays(np.float64, (d, m), elements=moderate(-2, 2)))
    b = data.draw(hnp.arrays(np.float64, (m,), elements=moderate(-2, 2)))
    dout = data.draw(hnp.arrays(np.float64, (n, m), elements=moderate(-2, 2)))

    def loss(x, W, b):  # L = sum(dout * Y), so dL/dY = dout
        return float(np.sum(dout * (x @ W + b)))

    dx, dW, db = rules.affine_backward(dout, x, W)
    close(dx, numerical_array_grad(lambda v: loss(v, W, b), x))
    close(dW, numerical_array_grad(lambda v: loss(x, v, b), W))
    close(db, numerical_array_grad(lambda v: loss(x, W, v), b))
    assert dx.shape == x.shape and dW.shape == W.shape and db.shape == b.shape

    no_dx, dW2, db2 = rules.affine_backward(dout, x, W, input_grad=False)
    assert no_dx is None
    np.testing.assert_array_equal(dW2, dW)
    np.testing.assert_array_equal(db2, db)


def softmax_ce(x, t_index):
    shifted = x - x.max(axis=1, keepdims=True)
    log_y = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_y[np.arange(len(x)), t_index].mean())


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_softmax_cross_entropy_rule(data):
    n, c = data.draw(st.integers(1, 5)), data.draw(st.integers(2, 6))
    x = data.draw(hnp.arrays(np.float64, (n, c), elements=moderate(-8, 8)))
    t = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    y = np.exp(x - x.max(axis=1, keepdims=True))
    y /= y.sum(axis=1, keepdims=True)
    y_before, t_before = y.copy(), t.copy()
    expected = numerical_array_grad(lambda v: softmax_ce(v, t), x)

    close(rules.softmax_cross_entropy_backward(y, t), expected)
    one_hot = np.eye(c)[t]
    close(rules.softmax_cross_entropy_backward(y, one_hot), expected)
    np.testing.assert_array_equal(y, y_before)  # the caller's arrays are untouched
    np.testing.assert_array_equal(t, t_before)


def test_relu_derivative_at_zero_is_zero():
    assert rules.relu_backward(5.0, 0.0) == 0.0
    np.testing.assert_array_equal(rules.relu_backward(np.ones(3), np.array([-1.0, 0.0, 1.0])),
                                  [0.0, 0.0, 1.0])


def test_div_rule_does_not_overflow_for_large_denominator():
    dx, dy = rules.div_backward(1.0, 1e200, 1e200)
    assert math.isfinite(dx) and math.isfinite(dy)
    np.testing.assert_allclose(dy, -1e-200, rtol=1e-12)
