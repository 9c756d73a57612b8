"""The op table, every row through ``autograd.testing.rule_test``: first and second
derivatives against central differences in float64, the scalar engine against the array
path, float32 and float64, no mutation, no aliasing, at kinks a subgradient.

The tests enumerate ``autograd.ops.OPS``: a row missing here fails
``test_every_row_is_tested``, so a new op cannot land untested.  The forward values are
checked against numpy's own functions, independent of the rows.
"""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import OPS, Value, declare_op, grad, gradcheck, graph_size, ops
from autograd.testing import (arrays_for, check_grads, class_labels, close, float_arrays,
                              rule_test)


def targets(xs):
    """Strategy of params {"t": class indices or one-hot rows} for scores xs[0] (N, C)."""
    n, c = xs[0].shape
    return st.one_of(class_labels(n, c), class_labels(n, c, one_hot=True)).map(
        lambda t: {"t": t})


# The array rows: the shapes of their inputs (one tuple per draw) and their settings.
ARRAY_ROWS = {
    "affine": dict(shapes=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)).map(
        lambda s: ((s[0], s[1]), (s[1], s[2]), (s[2],)))),
    "softmax_cross_entropy": dict(
        shapes=st.tuples(st.integers(1, 5), st.integers(2, 6)).map(lambda s: (s,)),
        params=targets),
}


@st.composite
def images(draw, min_side=1):
    """Shapes ((N, C, H, W),) of small image batches."""
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    return ((n, c, draw(st.integers(min_side, 5)), draw(st.integers(min_side, 5))),)


@st.composite
def windows(draw, x, names=("filter_h", "filter_w"), stride=(1, 2)):
    """Window settings that fit the image x (N, C, H, W): a window of at most H x W, a
    padding of at most half the window (so every window holds a pixel), a stride."""
    fh, fw = draw(st.integers(1, x.shape[2])), draw(st.integers(1, x.shape[3]))
    return {names[0]: fh, names[1]: fw, "stride": draw(st.integers(*stride)),
            "pad": draw(st.integers(0, min(fh, fw) // 2))}


@st.composite
def convolutions(draw):
    """Shapes of x (N, C, H, W), W (FN, C, FH, FW) and b (FN,), with FH <= H, FW <= W."""
    ((n, c, h, w),) = draw(images())
    fn = draw(st.integers(1, 3))
    return ((n, c, h, w), (fn, c, draw(st.integers(1, h)), draw(st.integers(1, w))), (fn,))


@st.composite
def distinct_images(draw):
    """Image batches whose values differ pairwise by at least 0.25 (a shuffled grid): a tie
    in a pooling window is a kink, and a near-tie a kink nearer than any step can see."""
    (shape,) = draw(images())
    order = draw(st.permutations(range(int(np.prod(shape)))))
    return ((np.array(order, np.float64) - len(order) / 2) * 0.25).reshape(shape),


ARRAY_ROWS.update({
    "im2col": dict(shapes=images(), params=lambda xs: windows(xs[0])),
    "conv2d": dict(shapes=convolutions(), params=st.fixed_dictionaries(
        {"stride": st.integers(1, 2), "pad": st.integers(0, 1)})),
    "max_pool": dict(inputs=distinct_images(), params=lambda xs: windows(
        xs[0], names=("pool_h", "pool_w"))),
})


def batch_inputs():
    """(x,) of shape (N, D) or (N, C, H, W) whose every feature has a spread over the batch:
    sample n is shifted by 10 n.  Batch Norm divides by each feature's standard deviation;
    for values that hardly differ its float32 rounding grows beyond any fixed tolerance."""
    shapes = st.one_of(st.tuples(st.integers(2, 4), st.integers(1, 3)),
                       st.tuples(st.integers(2, 3), st.integers(1, 2), st.integers(1, 3),
                                 st.integers(1, 3)))
    return shapes.flatmap(lambda shape: float_arrays(shape)).map(
        lambda x: (x + 10.0 * np.arange(len(x)).reshape((-1,) + (1,) * (x.ndim - 1)),))


def batch_settings(xs):
    """axes (0,) for (N, D), (0, 2, 3) per channel for (N, C, H, W); half the time running
    statistics (test mode): a mean and a variance >= 0.5 per feature."""
    x = xs[0]
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    features = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
    running = st.tuples(float_arrays(features), float_arrays(features, bound=2.0).map(
        lambda v: np.abs(v) + 0.5))
    return st.one_of(st.just({"axes": axes}),
                     running.map(lambda r: {"axes": axes, "running": r}))


def scale_shift_shapes():
    return st.one_of(
        st.tuples(st.integers(1, 4), st.integers(1, 3)).map(lambda s: (s, s[1:], s[1:])),
        st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 3)).map(
            lambda s: ((s[0], s[1], s[2], 2), (s[1],), (s[1],))))


def dropout_inputs():
    """(x, mask): the mask 0/1, data (no gradient)."""
    return hnp.array_shapes(min_dims=1, max_dims=3, max_side=4).flatmap(lambda shape: st.tuples(
        float_arrays(shape), hnp.arrays(np.bool_, shape).map(lambda m: m.astype(np.float64))))


ARRAY_ROWS.update({
    "batchnorm": dict(inputs=batch_inputs(), params=batch_settings),
    "scale_shift": dict(shapes=scale_shift_shapes(), params=lambda xs: st.just(
        {"axes": (0,) if xs[0].ndim == 2 else (0, 2, 3)})),
    "dropout": dict(inputs=dropout_inputs(),
                    params=st.fixed_dictionaries({"scale": st.sampled_from([1.0, 2.0, 0.7])})),
    "l2_penalty": dict(shapes=hnp.array_shapes(min_dims=1, max_dims=2, max_side=4).map(
        lambda s: (s,)), params=st.fixed_dictionaries({"lam": st.floats(0.01, 2.0)})),
})
SCALAR = sorted(name for name, op in OPS.items() if op.scalar)

# Each scalar row written with numpy, for its forward values.
REFERENCE = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "**": np.power,
             "exp": np.exp, "log": np.log, "tanh": np.tanh,
             "sigmoid": lambda x: 1 / (1 + np.exp(-x)), "relu": lambda x: np.maximum(x, 0.0)}


def test_every_row_is_tested():
    assert sorted(REFERENCE) == SCALAR
    assert sorted(name for name, op in OPS.items() if not op.scalar) == sorted(ARRAY_ROWS)


@pytest.mark.parametrize("name", SCALAR)
def test_scalar_row(name):
    rule_test(OPS[name], max_examples=100)()


@pytest.mark.parametrize("name", sorted(ARRAY_ROWS))
def test_array_row(name):
    rule_test(OPS[name], max_examples=60, **ARRAY_ROWS[name])()


@pytest.mark.parametrize("name", SCALAR)
@given(data=st.data())
def test_forward_matches_numpy_on_values_and_arrays(name, data):
    op = OPS[name]
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4))
    xs = [data.draw(arrays_for(op, i, shape)) for i in range(op.arity)]
    close(op(*xs), REFERENCE[name](*xs))
    values = op(*[Value(float(x.flat[0])) for x in xs])
    close(values.data, REFERENCE[name](*[x.flat[0] for x in xs]))


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
    for step in range(1, 11):  # noqa: B007 (read after the loop)
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
    rule_test(softplus, max_examples=20)()  # first and second derivatives, arrays, dtypes
    s = 1 / (1 + math.exp(-0.7))
    d2 = grad(grad(softplus(x), x, create_graph=True), x)
    close(d2, s * (1 - s), 1e-12)


def test_a_wrong_declaration_names_the_op_and_what_was_expected():
    with pytest.raises(ValueError, match=r"'twice'.*2 input.*2 function"):
        declare_op("twice", forward=lambda x, y: x * y, backward=(lambda g, out, x, y: g,),
                   register=False)
    with pytest.raises(ValueError, match=r"'\*' is a library op; choose another name"):
        declare_op("*", forward=lambda x, y: x * y,
                   backward=(lambda g, out, x, y: g, lambda g, out, x, y: g))
    pair = declare_op("pair_grad", forward=lambda x: 2 * x, register=False,
                      backward=(lambda g, out, x: (g, g),))
    x = Value(1.0)
    with pytest.raises(TypeError, match=r"'pair_grad'.*backward\[0\].*returned tuple"):
        pair(x).backward()
    assert x.grad == 0.0
    flat = declare_op("flat_grad", forward=lambda x: 2 * x, register=False,
                      backward=(lambda g, out, x: g.ravel(),))
    with pytest.raises(ValueError, match=r"'flat_grad'.*shape \(4,\).*shape \(2, 2\)"):
        flat.vjp(np.ones((2, 2)), None, np.ones((2, 2)))


def test_declaring_a_name_again_replaces_the_row_and_warns_only_across_modules():
    # A notebook cell run twice declares the same op twice, from the same module (__main__).
    def cell(factor, module):
        code = ("declare_op('rerun_cell', forward=lambda x: factor * x, "
                "backward=(lambda g, out, x: factor * g,))")
        return eval(code, {"__name__": module, "declare_op": declare_op, "factor": factor})

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the same module again: no warning
            first = cell(2.0, "__main__")
            second = cell(3.0, "__main__")
        assert OPS["rerun_cell"] is second is not first
        x = Value(1.0)
        OPS["rerun_cell"](x).backward()
        assert x.grad == 3.0
        with pytest.warns(UserWarning, match="'rerun_cell' of __main__ replaced by the one of "
                                             "someone_else"):
            third = cell(4.0, "someone_else")
        assert OPS["rerun_cell"] is third
    finally:
        OPS.pop("rerun_cell", None)


# -- the array rows of chapter 5: what rule_test does not cover ---------------------------

def test_affine_skips_the_gradients_nobody_needs():
    rng = np.random.default_rng(0)
    x, W, b, g = (rng.standard_normal(s) for s in ((3, 4), (4, 2), (2,), (3, 2)))
    dx, dW, db = ops.affine.vjp(g, None, x, W, b)
    no_dx, dW2, db2 = ops.affine.vjp(g, None, x, W, b, needs=(False, True, True))
    assert no_dx is None
    np.testing.assert_array_equal(dW2, dW)
    np.testing.assert_array_equal(db2, db)


def test_softmax_cross_entropy_against_its_definition():
    x = np.array([[0.3, -1.2, 2.0], [5.0, 5.0, -3.0]])
    t = np.array([2, 0], np.intp)
    loss, y = ops.softmax_cross_entropy(x, t=t)
    expected = -np.mean([x[n, t[n]] - math.log(np.exp(x[n]).sum()) for n in range(2)])
    close(loss, expected)
    close(y, np.exp(x) / np.exp(x).sum(axis=1, keepdims=True))
    check_grads(ops.softmax_cross_entropy, x, params={"t": np.eye(3)[t]}, upstream=2.0)


def test_relu_derivative_at_zero_is_zero():
    assert ops.relu.backward[0](5.0, 0.0, 0.0) == 0.0
    np.testing.assert_array_equal(
        ops.relu.vjp(np.ones(3), np.array([0.0, 0.0, 1.0]), np.array([-1.0, 0.0, 1.0]))[0],
        [0.0, 0.0, 1.0])


def test_div_rule_does_not_overflow_for_large_denominator():
    dx, dy = ops.div.vjp(1.0, 1.0, 1e200, 1e200)
    assert math.isfinite(dx) and math.isfinite(dy)
    np.testing.assert_allclose(dy, -1e-200, rtol=1e-12)


def test_an_ops_declared_algebra_keeps_its_derivative_graphs_small():
    # The same multiplication declared twice outside the library, with and without its
    # algebra: only the row that says it commutes, with identity 1 and absorbing 0, folds.
    def times(**algebra):
        row = []  # the rules multiply with the op itself, so its algebra meets its own nodes
        row.append(declare_op("times", forward=lambda x, y: x * y, register=False, symbol="×",
                              backward=(lambda g, out, x, y: row[0](g, y),
                                        lambda g, out, x, y: row[0](g, x)), **algebra))
        return row[0]

    plain, algebraic = times(), times(commutes=True, identity=1.0, absorbing=0.0)
    sizes = []
    for op in (plain, algebraic):
        x = Value(1.5)
        y = op(x, op(x, x))  # x**3
        d2 = grad(grad(y, x, create_graph=True), x, create_graph=True)
        close(d2.data, 6 * 1.5, 1e-12)
        sizes.append(graph_size(d2))
    assert sizes[1] < sizes[0], sizes
    c = Value(2.0, label="c")
    assert "×3" in algebraic(3.0, c).to_dot() and "3×" in plain(3.0, c).to_dot()
