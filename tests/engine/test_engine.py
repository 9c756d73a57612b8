"""The scalar engine: the book's numbers to the last digit, graph mechanics, errors."""
import gc
import math
import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
from autograd import AddLayer, MulLayer, Node, Value, no_grad
from book_graphs import apple_orange_graph
from autograd.testing import check_grads


# -- the book's examples, exactly (==, not approx: these are the figures readers compare) --

def test_apple_example_exact():
    apple, apple_num, tax = Value(100, label="apple"), Value(2, label="apple_num"), Value(1.1, label="tax")
    price = apple * apple_num * tax
    assert price.data == 220.00000000000003
    price.backward()
    assert (apple.grad, apple_num.grad, tax.grad) == (2.2, 110.00000000000001, 200.0)


def test_apple_orange_example_exact():
    price, leaves = apple_orange_graph()
    assert price.data == 715.0000000000001
    price.backward()
    assert tuple(v.grad for v in leaves) == (2.2, 110.00000000000001, 3.3000000000000003, 165.0, 650.0)


def test_upstream_gradient_dprice_2_doubles_every_gradient():
    price, leaves = apple_orange_graph()
    price.backward()
    once = [v.grad for v in leaves]
    price2, leaves2 = apple_orange_graph()
    price2.backward(2)
    assert [v.grad for v in leaves2] == [2 * g for g in once]


def test_book_layers_run_unchanged():
    # The book's buy_apple_orange.py, after `from autograd import MulLayer, AddLayer`.
    apple, apple_num, orange, orange_num, tax = 100, 2, 150, 3, 1.1
    mul_apple_layer, mul_orange_layer = MulLayer(), MulLayer()
    add_apple_orange_layer, mul_tax_layer = AddLayer(), MulLayer()
    apple_price = mul_apple_layer.forward(apple, apple_num)
    orange_price = mul_orange_layer.forward(orange, orange_num)
    all_price = add_apple_orange_layer.forward(apple_price, orange_price)
    price = mul_tax_layer.forward(all_price, tax)
    dprice = 1
    dall_price, dtax = mul_tax_layer.backward(dprice)
    dapple_price, dorange_price = add_apple_orange_layer.backward(dall_price)
    dorange, dorange_num = mul_orange_layer.backward(dorange_price)
    dapple, dapple_num = mul_apple_layer.backward(dapple_price)
    assert price == 715.0000000000001
    assert (dapple_num, dapple, dorange, dorange_num, dtax) == (
        110.00000000000001, 2.2, 3.3000000000000003, 165.0, 650)


@given(shape=st.sampled_from([(3,), (2, 3), (2, 1, 3)]), y=st.floats(-3, 3), seed=st.integers(0, 99))
def test_mul_layer_with_an_array_and_a_number_gives_each_input_its_own_gradient(shape, y, seed):
    # layer_naive.py's MulLayer with an array x and a number y (numpy broadcasts y): dx has
    # x's shape, dy is the number dL/dy = sum(dout * x), checked by central differences.
    rng = np.random.default_rng(seed)
    x, dout = rng.standard_normal(shape), rng.standard_normal(shape)
    layer = MulLayer()
    np.testing.assert_array_equal(layer.forward(x, y), x * y)
    dx, dy = layer.backward(dout)
    np.testing.assert_array_equal(dx, dout * y)
    assert np.shape(dy) == () and math.isclose(dy, (dout * x).sum(), rel_tol=1e-12, abs_tol=1e-12)
    h = 1e-6
    numeric = ((dout * x * (y + h)).sum() - (dout * x * (y - h)).sum()) / (2 * h)
    assert math.isclose(dy, numeric, rel_tol=1e-6, abs_tol=1e-6)
    # a row against a column: each gradient summed back over the axis it was broadcast along
    layer = MulLayer()
    row, col = rng.standard_normal(3), rng.standard_normal((2, 1))
    g = rng.standard_normal((2, 3))
    layer.forward(row, col)
    drow, dcol = layer.backward(g)
    np.testing.assert_allclose(drow, (g * col).sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(dcol, (g * row).sum(axis=1, keepdims=True), rtol=1e-12)


def test_mul_layer_backward_before_forward_is_a_clear_error():
    with pytest.raises(RuntimeError, match="forward"):
        MulLayer().backward(1.0)


def test_node_is_value():
    assert Node is Value


# -- graph mechanics --

def test_fan_out_accumulates():
    for x0 in (-2.0, 0.5, 3.0):
        x = Value(x0)
        (x * x + x).backward()
        assert x.grad == 2 * x0 + 1


def test_repeated_backward_adds_the_same_amount_and_zero_grad_resets():
    x, y = Value(1.5), Value(-0.5)
    z = (x * y).tanh() * x + y.exp()
    z.backward()
    first = (x.grad, y.grad)
    z.backward()
    assert (x.grad, y.grad) == (2 * first[0], 2 * first[1])
    z.backward()
    assert (x.grad, y.grad) == (3 * first[0], 3 * first[1])
    z.zero_grad()
    assert (x.grad, y.grad) == (0.0, 0.0)
    z.backward()
    assert (x.grad, y.grad) == first


def test_backward_on_a_leaf():
    x = Value(3.0)
    x.backward()
    assert x.grad == 1.0


def test_no_grad_records_nothing_and_restores():
    x = Value(2.0)
    with no_grad():
        y = x * 3 + 1
        assert not autograd.is_grad_enabled()
    assert autograd.is_grad_enabled()
    assert y.parents == () and y.op == "" and y.data == 7.0
    z = x * 3
    assert len(z.parents) == 2


def test_no_grad_is_per_thread():
    seen = {}
    inside, release = threading.Event(), threading.Event()

    def other():
        with no_grad():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=other)
    t.start()
    inside.wait(5)
    seen["main"] = len((Value(1.0) * 2).parents)
    release.set()
    t.join()
    assert seen["main"] == 2


def test_no_grad_as_decorator():
    @no_grad()
    def f(x):
        return x * x

    assert f(Value(3.0)).parents == ()


@pytest.mark.slow
def test_million_node_chain():
    x = Value(1.0, label="x")
    y = x
    for _ in range(1_000_000):
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0
    assert len(y.topological_order()) == 2_000_001  # each step adds the node and its constant


def test_graph_has_no_reference_cycles():
    gc.collect()
    gc.disable()
    try:
        x = Value(0.3)
        y = x
        for _ in range(1000):
            y = (y * 1.01 + 0.1).tanh().exp().log()
        y.backward()
        del x, y
        assert gc.collect() == 0  # everything was freed by reference counting already
    finally:
        gc.enable()


def test_repr_and_float():
    v = Value(2, label="apple_num")
    assert repr(v) == "Value(data=2.0, grad=0.0, label='apple_num')"
    assert float(v * 3) == 6.0
    assert "op='*'" in repr(v * 3)
    x, w = Value(2.0), Value(3.0)
    (x * w).backward(create_graph=True)  # x.grad is w and w.grad is x: a cycle of grads
    assert repr(w) == "Value(data=3.0, grad=2.0)" and repr(x) == "Value(data=2.0, grad=3.0)"


# -- every op against central differences, on hypothesis-drawn inputs --

def check(f, *xs):
    """Back-propagation of f at xs against differences in float64 (autograd.testing), to
    the second order; the point may not sit on a kink (nothing left out)."""
    result = check_grads(f, *xs, order=2, directions=2)
    assert result.left_out == 0, result


moderate = st.floats(-3.0, 3.0)
positive = st.floats(0.1, 5.0)
nonzero = st.floats(0.2, 3.0) | st.floats(-3.0, -0.2)


@given(x=moderate, y=moderate)
def test_add_sub_mul_neg(x, y):
    check(lambda a, b: a + b, x, y)
    check(lambda a, b: a - b, x, y)
    check(lambda a, b: a * b, x, y)
    check(lambda a, b: -a * b + 2.5 - a, x, y)
    check(lambda a, b: 3 - a + b * 2, x, y)


@given(x=moderate, y=nonzero)
def test_div(x, y):
    check(lambda a, b: a / b, x, y)
    check(lambda b: 1 / b, y)


@given(x=positive, y=moderate, c=st.sampled_from([2, 3, -1, 0.5, -1.5]))
def test_pow(x, y, c):
    check(lambda a, b: a ** b, x, y)
    check(lambda a: a ** c, x)
    check(lambda b: 2.0 ** b, y)


@given(x=moderate, p=positive)
def test_unary_ops(x, p):
    check(lambda a: a.exp(), x)
    check(lambda a: a.log(), p)
    check(lambda a: a.tanh(), x)
    check(lambda a: a.sigmoid(), x)
    if abs(x) > 0.01:  # ten steps of the check from the kink
        check(lambda a: a.relu(), x)
    check(lambda a: (a * a).tanh() * a.sigmoid() + (a.exp() + 1).log(), x)


def test_relu_gradient_at_zero_is_zero():
    x = Value(0.0)
    x.relu().backward()
    assert x.grad == 0.0


def test_sigmoid_and_tanh_saturate_without_overflow():
    assert Value(1000).sigmoid().data == 1.0
    assert Value(-1000).sigmoid().data == 0.0
    assert Value(1000).tanh().data == 1.0
    assert Value(-1000).tanh().data == -1.0
    x = Value(-1000)
    x.sigmoid().backward()
    assert x.grad == 0.0


# -- errors, not nan --

@pytest.mark.parametrize("bad", ["3", None, [1.0], 1 + 2j])
def test_value_of_non_number_names_the_type(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)


def test_log_of_non_positive():
    for x in (0.0, -2.0):
        with pytest.raises(ValueError, match=r"log.*" + re_num(x)):
            Value(x).log()


def re_num(x):
    return repr(x).replace(".", r"\.").replace("-", r"\-")


def test_division_by_zero_names_the_op():
    with pytest.raises(ZeroDivisionError, match="division by zero: 1.0 / 0.0"):
        Value(1.0) / 0
    with pytest.raises(ZeroDivisionError, match="division"):
        2 / Value(0.0)


def test_negative_base_fractional_power():
    with pytest.raises(ValueError, match=r"negative base -8\.0.*0\.5"):
        Value(-8.0) ** 0.5
    assert (Value(-2.0) ** 3).data == -8.0
    with pytest.raises(ValueError, match="base > 0"):
        Value(-2.0) ** Value(2.0)
    with pytest.raises(ZeroDivisionError, match="negative power"):
        Value(0.0) ** -1


def test_exp_overflow_is_named():
    with pytest.raises(OverflowError, match=r"exp\(1000\.0\)"):
        Value(1000).exp()


def test_backward_grad_must_be_a_number():
    with pytest.raises(TypeError, match="backward"):
        Value(1.0).backward("1")
