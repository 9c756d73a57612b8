"""The op table against central differences, in float64: every row, to the second order.

The tests enumerate ``autograd.ops.OPS``: a scalar row without a domain here fails
``test_every_scalar_row_is_tested``, so a new op cannot land untested.  The
references are numpy's own functions and central differences, independent of the
rules under test.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import OPS, Value, declare_op, grad, gradcheck, graph_size, ops

H = 1e-6


def central(f, x, h=H):
    return (f(x + h) - f(x - h)) / (2 * h)


def moderate(lo=-3.0, hi=3.0):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def away_from_zero(lo=0.2, hi=3.0):
    """Floats with |x| in [lo, hi]: away from poles and kinks at 0."""
    return st.tuples(st.floats(lo, hi), st.booleans()).map(lambda p: p[0] if p[1] else -p[0])


def close(a, b, tol=1e-5):
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


# Each scalar row: (the same function written with numpy, a domain for each input).
REFERENCE = {
    "+": (np.add, moderate(), moderate()),
    "-": (np.subtract, moderate(), moderate()),
    "*": (np.multiply, moderate(), moderate()),
    "/": (np.divide, moderate(), away_from_zero()),
    "**": (np.power, st.floats(0.2, 3.0), moderate(-2.5, 2.5)),
    "exp": (np.exp, moderate(),),
    "log": (np.log, st.floats(0.1, 20.0),),
    "tanh": (np.tanh, moderate(),),
    "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), moderate(-6, 6),),
    "relu": (lambda x: np.maximum(x, 0.0), away_from_zero(),),
}
SCALAR = sorted(REFERENCE)


def test_every_scalar_row_is_tested():
    assert sorted(name for name, op in OPS.items() if op.scalar) == SCALAR


def partial(f, args, i):
    """d f / d args[i] by central differences, the other arguments fixed."""
    def along(v):
        moved = list(args)
        moved[i] = v
        return f(*moved)
    return central(along, args[i])


@pytest.mark.parametrize("name", SCALAR)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_first_derivative_on_values(name, data):
    f, *domains = REFERENCE[name]
    args = [data.draw(d) for d in domains]
    g = data.draw(moderate())
    xs = [Value(a) for a in args]
    out = OPS[name](*xs)
    close(out.data, f(*args), 1e-12)
    out.backward(g)
    for i, x in enumerate(xs):
        assert isinstance(x.grad, float)
        close(x.grad, g * partial(f, args, i))


@pytest.mark.parametrize("name", SCALAR)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_rules_on_arrays_keep_shape_and_dtype(name, data):
    f, *domains = REFERENCE[name]
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    dtype = data.draw(st.sampled_from([np.float64, np.float32]))
    args = [data.draw(hnp.arrays(np.float64, shape, elements=d)) for d in domains]
    g = data.draw(hnp.arrays(np.float64, shape, elements=moderate()))
    op = OPS[name]
    typed = [a.astype(dtype) for a in args]
    out = op(*typed)
    grads = op.vjp(g.astype(dtype), out, *typed)
    for i, dx in enumerate(grads):
        assert dx.shape == shape and dx.dtype == dtype, (name, i, dx.dtype)
    # The values, in float64: elementwise, so one perturbation of the whole array is exact.
    for i, dx in enumerate(op.vjp(g, op(*args), *args)):
        close(dx, g * partial(f, args, i))
    for a, before in zip(args, [a.copy() for a in args]):
        np.testing.assert_array_equal(a, before)


@pytest.mark.parametrize("name", SCALAR)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_second_derivatives_against_differences_of_the_first(name, data):
    f, *domains = REFERENCE[name]
    args = [data.draw(d) for d in domains]

    def first(i, *point):
        xs = [Value(a) for a in point]
        return grad(OPS[name](*xs), xs[i])

    xs = [Value(a) for a in args]
    out = OPS[name](*xs)
    for i in range(len(xs)):
        d1 = grad(out, xs[i], create_graph=True)
        assert isinstance(d1, Value)
        second = grad(d1, xs)
        for j in range(len(xs)):
            expected = partial(lambda *p: first(i, *p), args, j)
            close(second[j], expected, 1e-4)


def test_relu_second_derivative_is_zero_and_constants_give_zero_not_none():
    x = Value(1.5)
    assert grad(grad(x.relu(), x, create_graph=True), x) == 0.0
    d1 = grad(3 * x, x, create_graph=True)
    assert d1.data == 3.0 and grad(d1, x) == 0.0
    assert grad(Value(2.0) * 5, x) == 0.0  # x is not in the graph at all


def test_derivatives_of_any_order_stay_small():
    # DeZero's n-th derivative of tanh depends on these many function nodes (its own code).
    dezero = [4, 9, 21, 51, 129, 339, 921, 2571]
    x = Value(0.5)
    y = x.tanh()
    sizes = []
    for _ in dezero:
        y = grad(y, x, create_graph=True)
        sizes.append(graph_size(y))
    assert all(ours <= theirs for ours, theirs in zip(sizes, dezero)), sizes
    assert sizes[-1] <= 0.45 * dezero[-1], sizes
    # The values: tanh'' = -2 t (1 - t^2) and tanh''' = (1 - t^2)(6 t^2 - 2), t = tanh x.
    t = math.tanh(0.5)
    x2 = grad(grad(x.tanh(), x, create_graph=True), x, create_graph=True)
    close(x2.data, -2 * t * (1 - t * t), 1e-12)
    close(grad(x2, x), (1 - t * t) * (6 * t * t - 2), 1e-12)


def test_newton_reaches_the_minimum_of_a_quartic_fast():
    x = Value(2.0)
    for step in range(1, 11):
        y = x ** 4 - 2 * x ** 2
        d1 = grad(y, x, create_graph=True)
        d2 = grad(d1, x)
        x = Value(x.data - d1.data / d2)
        if abs(x.data - 1.0) < 1e-10:
            break
    assert step < 10 and abs(x.data - 1.0) < 1e-10


def test_backward_with_create_graph_leaves_values_in_grad():
    x = Value(0.3)
    y = x * x * x
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value)
    close(x.grad.data, 3 * 0.3 ** 2, 1e-12)
    close(grad(x.grad, x), 6 * 0.3, 1e-12)


# -- an op declared outside the library ----------------------------------------------------

def test_a_user_declares_an_op_once_and_gets_values_arrays_drawing_and_second_derivatives():
    softplus = declare_op(
        "softplus_test", symbol="softplus", register=False,
        forward=lambda x: ops.log(1 + ops.exp(x)),
        backward=(lambda g, out, x: g * ops.sigmoid(x),))
    x = Value(0.7, label="x")
    y = softplus(x)
    assert y.op == "softplus_test" and y.parents == (x,)
    close(y.data, math.log1p(math.exp(0.7)), 1e-12)
    assert "softplus" in y.to_dot() and "softplus_test(x)" in y.to_text()
    arr = np.array([-1.0, 0.0, 2.0])
    close(softplus(arr), np.log1p(np.exp(arr)), 1e-12)
    assert gradcheck(lambda x: softplus(x) * x, [Value(0.4)]).ok
    s = 1 / (1 + math.exp(-0.7))
    d2 = grad(grad(softplus(x), x, create_graph=True), x)
    close(d2, s * (1 - s), 1e-12)


def test_a_wrong_declaration_names_the_op_and_what_was_expected():
    with pytest.raises(ValueError, match=r"'twice'.*2 input.*2 function"):
        declare_op("twice", forward=lambda x, y: x * y, backward=(lambda g, out, x, y: g,),
                   register=False)
    with pytest.raises(ValueError, match=r"already declared"):
        declare_op("*", forward=lambda x, y: x * y,
                   backward=(lambda g, out, x, y: g, lambda g, out, x, y: g))
    pair = declare_op("pair_grad", forward=lambda x: 2 * x, register=False,
                      backward=(lambda g, out, x: (g, g),))
    x = Value(1.0)
    with pytest.raises(TypeError, match=r"'pair_grad'.*backward\[0\] returned tuple"):
        pair(x).backward()
    assert x.grad == 0.0
    flat = declare_op("flat_grad", forward=lambda x: 2 * x, register=False,
                      backward=(lambda g, out, x: g.ravel(),))
    with pytest.raises(ValueError, match=r"'flat_grad'.*shape \(4,\).*shape \(2, 2\)"):
        flat.vjp(np.ones((2, 2)), None, np.ones((2, 2)))


# -- the array rows of chapter 5 ------------------------------------------------------------

def numerical_array_grad(f, a):
    """d f / d a for a scalar function f of the array a (perturbs a copy)."""
    out = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        b = a.copy()
        b[i] += H
        up = f(b)
        b[i] -= 2 * H
        out[i] = (up - f(b)) / (2 * H)
    return out


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_affine_row(data):
    n, d, m = (data.draw(st.integers(1, 4)) for _ in range(3))
    x, W, b, g = (data.draw(hnp.arrays(np.float64, s, elements=moderate(-2, 2)))
                  for s in ((n, d), (d, m), (m,), (n, m)))

    def loss(x, W, b):  # L = sum(g * Y), so dL/dY = g
        return float(np.sum(g * (x @ W + b)))

    close(ops.affine(x, W, b), x @ W + b, 1e-12)
    dx, dW, db = ops.affine.vjp(g, None, x, W, b)
    close(dx, numerical_array_grad(lambda v: loss(v, W, b), x))
    close(dW, numerical_array_grad(lambda v: loss(x, v, b), W))
    close(db, numerical_array_grad(lambda v: loss(x, W, v), b))
    no_dx, dW2, db2 = ops.affine.vjp(g, None, x, W, b, needs=(False, True, True))
    assert no_dx is None
    np.testing.assert_array_equal(dW2, dW)
    np.testing.assert_array_equal(db2, db)


def softmax_ce(x, t_index):
    shifted = x - x.max(axis=1, keepdims=True)
    log_y = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_y[np.arange(len(x)), t_index].mean())


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_softmax_cross_entropy_row(data):
    n, c = data.draw(st.integers(1, 5)), data.draw(st.integers(2, 6))
    x = data.draw(hnp.arrays(np.float64, (n, c), elements=moderate(-8, 8)))
    t = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)), np.intp)
    x_before, t_before = x.copy(), t.copy()
    expected = numerical_array_grad(lambda v: softmax_ce(v, t), x)
    sce = ops.softmax_cross_entropy
    out = sce(x, t=t)
    close(out[0], softmax_ce(x, t), 1e-12)
    close(sce.vjp(1.0, out, x, t=t)[0], expected)
    one_hot = np.eye(c)[t]
    close(sce.vjp(2.0, sce(x, t=one_hot), x, t=one_hot)[0], 2 * expected)
    np.testing.assert_array_equal(x, x_before)  # the caller's arrays are untouched
    np.testing.assert_array_equal(t, t_before)


def test_relu_derivative_at_zero_is_zero():
    assert ops.relu.backward[0](5.0, 0.0, 0.0) == 0.0
    np.testing.assert_array_equal(
        ops.relu.vjp(np.ones(3), np.array([0.0, 0.0, 1.0]), np.array([-1.0, 0.0, 1.0]))[0],
        [0.0, 0.0, 1.0])


def test_div_rule_does_not_overflow_for_large_denominator():
    dx, dy = ops.div.vjp(1.0, 1.0, 1e200, 1e200)
    assert math.isfinite(dx) and math.isfinite(dy)
    np.testing.assert_allclose(dy, -1e-200, rtol=1e-12)
