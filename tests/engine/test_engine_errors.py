"""The scalar engine under stress: failing rules, pow at 0, overflow, odd operands, deep
copies, threads."""
import copy
import math
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, declare_op, grad, ops


def test_backward_is_all_or_nothing_when_a_rule_raises():
    def fail_on_negative(g, out, x):
        if x < 0:
            raise ArithmeticError("this rule refuses negative inputs")
        return g * 2.0

    double = declare_op("double_or_fail", forward=lambda x: 2 * x, register=False,
                        backward=(fail_on_negative,))
    a, b = Value(1.0, label="a"), Value(-1.0, label="b")
    # a's contribution is added before b's rule raises (a * 3 is visited first).
    y = double(b) + a * 3.0
    a.grad, b.grad = 0.5, 0.25
    with pytest.raises(ArithmeticError, match="refuses negative") as info:
        y.backward()
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "'double_or_fail'" in notes and "no gradient was changed" in notes
    assert (a.grad, b.grad) == (0.5, 0.25)  # nothing was added
    b.data = 1.0  # a retry after fixing the cause counts everything exactly once
    y.backward()
    assert (a.grad, b.grad) == (3.5, 2.25)


def test_pow_at_zero_follows_one_policy():
    x = Value(0.0)
    (x ** 0).backward()  # x**0 is the constant 1: derivative 0, as PyTorch gives
    assert x.grad == 0.0
    y = x ** 0.5
    assert y.data == 0.0
    with pytest.raises(ZeroDivisionError, match=r"pow: 0\.0 to the negative power -0\.5") as info:
        y.backward()  # the derivative 0.5 / sqrt(0) is infinite: a named error, not inf
    assert "'**'" in "\n".join(info.value.__notes__)
    assert x.grad == 0.0
    with pytest.raises(ZeroDivisionError, match="negative power"):
        Value(0.0) ** -1


def test_overflow_is_a_named_error_for_every_op():
    with pytest.raises(OverflowError, match=r"pow: 10\.0 \*\* 400\.0 overflows"):
        Value(10.0) ** 400
    with pytest.raises(OverflowError, match=r"op '\*' of \(1e\+200, 1e\+200\) gives inf"):
        Value(1e200) * Value(1e200)
    with pytest.raises(OverflowError, match=r"op '\+'"):
        Value(1.7e308) + 1.7e308
    with pytest.raises(OverflowError, match=r"exp\(1000\.0\) overflows"):
        Value(1000.0).exp()
    x = Value(1e-300)
    y = x ** -1  # 1e300 is fine forward; its derivative -1e600 is not
    with pytest.raises(OverflowError, match="overflows"):
        y.backward()
    assert x.grad == 0.0


def test_nan_is_refused_not_passed_on():
    with pytest.raises(ValueError, match=r"op 'relu' of \(nan\) gives nan"):
        Value(float("nan")).relu()
    with pytest.raises(ValueError, match=r"op '\*'"):
        Value(float("inf")) * 0.0


def test_numpy_numbers_work_on_either_side():
    x = Value(2.0)
    for number in (np.array(3.0), np.float64(3.0), np.float32(3.0), np.int64(3), np.bool_(True)):
        expected = float(number)
        left, right = x + number, number + x
        assert isinstance(left, Value) and isinstance(right, Value), type(number)
        assert left.data == right.data == 2.0 + expected
        assert (number * x).data == (x * number).data == 2.0 * expected
    assert (Value(True) + np.bool_(True)).data == 2.0
    with pytest.raises(TypeError, match=r"real number.*ndarray"):
        x + np.array([1.0, 2.0])
    with pytest.raises(TypeError, match=r"real number.*ndarray"):
        np.array([1.0, 2.0]) + x


@pytest.mark.slow
def test_a_deep_graph_copies_without_recursion_and_refuses_pickle():
    x = Value(1.0, label="x")
    y = x
    for _ in range(100_000):
        y = y * 1.0000001
    twin = copy.deepcopy(y)
    assert twin is not y and twin.data == y.data and len(twin.topological_order()) == \
        len(y.topological_order())
    twin.backward()
    assert x.grad == 0.0  # the copy has its own leaves
    # What pickle calls first: refusing here refuses pickling, without the test itself
    # using pickle.
    with pytest.raises(TypeError, match="cannot be pickled.*deepcopy"):
        y.__reduce_ex__(4)


def test_copy_copy_is_a_shallow_copy():
    x, w = Value(1.5, label="x"), Value(-2.0)
    y = (x * w).tanh()
    y.label = "y"
    y.backward()
    twin = copy.copy(y)
    assert twin is not y and (twin.data, twin.grad, twin.label, twin.op) == (
        y.data, y.grad, "y", "tanh")
    assert twin.parents[0] is y.parents[0]  # the graph below is shared, not copied
    x.grad = 0.0
    twin.backward()  # back-propagates through the shared graph
    assert x.grad == pytest.approx(-2.0 * (1 - math.tanh(-3.0) ** 2), rel=1e-12)
    twin.label, twin.data = "twin", 0.0
    assert (y.label, y.data) == ("y", math.tanh(-3.0))
    leaf = copy.copy(x)
    assert leaf.parents == () and leaf.data == 1.5 and not leaf.is_constant


def test_threads_back_propagating_through_a_shared_node_get_exact_totals():
    a, b = Value(1.5), Value(-0.5)
    shared = (a * b).tanh()
    y1, y2 = shared * 2.0, shared * 3.0
    for _ in range(50):
        shared = shared + 0.0  # a longer chain, so threads would interleave mid-pass
    rounds = 200

    def work(y):
        for _ in range(rounds):
            y.backward()

    threads = [threading.Thread(target=work, args=(y,)) for y in (y1, y2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    d_shared = 1 - math.tanh(-0.75) ** 2
    assert a.grad == pytest.approx(rounds * 5.0 * d_shared * -0.5, rel=1e-12)
    assert b.grad == pytest.approx(rounds * 5.0 * d_shared * 1.5, rel=1e-12)


def test_grad_leaves_every_grad_as_it_was():
    x, w = Value(0.3), Value(2.0)
    y = (x * w).sigmoid()
    y.backward()
    before = [(n, n.grad) for n in y.topological_order()]
    dx, dw = grad(y, [x, w])
    assert [(n, n.grad) for n in y.topological_order()] == before
    assert (dx, dw) == (x.grad, w.grad)


def test_plain_numbers_are_constants_with_no_gradient():
    x = Value(3.0)
    y = x * 2 + 1
    y.backward()
    two = y.parents[0].parents[1]
    assert two.is_constant and two.grad == 0.0 and x.grad == 2.0
    assert not x.is_constant


# -- one finite-only policy: a gradient that is not one finite number is a named error ----

BAD_NUMBERS = st.sampled_from([math.inf, -math.inf, math.nan])


@settings(max_examples=20)
@given(bad=BAD_NUMBERS, at=st.floats(-3, 3))
def test_a_user_rule_returning_inf_or_nan_is_refused_by_name_and_changes_nothing(bad, at):
    rule = declare_op("returns_bad", forward=lambda x: 2 * x, register=False,
                      backward=(lambda g, out, x: bad * g,))
    x, w = Value(at, label="x"), Value(0.5)
    x.grad, w.grad = 0.25, 0.75
    y = rule(x) * w
    kind = ValueError if math.isnan(bad) else OverflowError
    with pytest.raises(kind, match=r"'returns_bad'.*backward\[0\].*not a finite number") as info:
        y.backward()
    assert "no gradient was changed" in "\n".join(info.value.__notes__)
    assert (x.grad, w.grad) == (0.25, 0.75)
    with pytest.raises(kind, match="'returns_bad'"):
        grad(y, x)
    with pytest.raises(kind, match="'returns_bad'"):
        grad(y, x, create_graph=True)


def test_the_librarys_own_rules_are_held_to_the_same_policy():
    x = Value(1e-310)
    y = x.log()  # -713.8: finite; its derivative 1/x is not
    with pytest.raises(OverflowError, match=r"op 'log': backward\[0\] at \(1e-310\).*gives inf"):
        y.backward()
    assert x.grad == 0.0
    x = Value(0.007)
    y = (x * 1e5).exp()  # exp(700) is finite, 1e5 exp(700) is not
    with pytest.raises(OverflowError, match=r"op '\*'.*gives inf"):
        y.backward()
    with pytest.raises(OverflowError, match=r"op '\*'.*gives inf"):
        grad(y, x)
    assert x.grad == 0.0
    x = Value(0.0)
    with pytest.raises(ValueError, match="upstream gradient.*inf"):
        (x * x).backward(math.inf)  # inf * 0 would be nan
    with pytest.raises(ValueError, match="upstream gradient.*nan"):
        grad(x * x, x, grad_output=math.nan)
    assert x.grad == 0.0


def test_gradients_that_overflow_only_when_added_up_are_refused():
    x = Value(1e-10)
    y = x * 1e308 + x * 1e308  # finite, and so is each rule's result; their sum at x is not
    with pytest.raises(OverflowError, match=r"sum of the gradients reaching Value\(data=1e-10"):
        y.backward()
    assert x.grad == 0.0


def test_a_rule_on_floats_only_is_refused_when_differentiated_again():
    # math.exp takes the number out of the Value: the second derivative would silently be 0.
    math_exp = declare_op("math_exp", forward=math.exp, register=False,
                          backward=(lambda g, out, x: g * math.exp(x),))
    x = Value(0.7)
    assert grad(math_exp(x), x) == pytest.approx(math.exp(0.7), rel=1e-12)  # first order: fine
    with pytest.raises(TypeError, match=r"not differentiable again.*ops\.exp\(x\)") as info:
        grad(grad(math_exp(x), x, create_graph=True), x)
    assert "'math_exp'" in "\n".join(info.value.__notes__)
    with pytest.raises(TypeError, match="not differentiable again"):
        grad(grad(math_exp(x * 2.0), x, create_graph=True), x)  # deeper: g is a Value there
    # written as the message says, it differentiates to any order
    fixed = declare_op("ops_exp", forward=math.exp, register=False,
                       backward=(lambda g, out, x: g * ops.exp(x),))
    d2 = grad(grad(fixed(x), x, create_graph=True), x)
    assert d2 == pytest.approx(math.exp(0.7), rel=1e-12)


def test_grad_and_numpy_say_what_to_pass():
    c = Value(3.0) * Value(2.0)
    with pytest.raises(TypeError, match="grad: inputs is float.*a Value or a list of Values"):
        grad(c, 3.0)
    v = Value(0.5)
    with pytest.raises(TypeError, match=r"numpy's exp does not take a Value.*v\.exp\(\)"):
        np.exp(v)
    with pytest.raises(TypeError, match=r"numpy's tanh.*ops\.exp\(v\)"):
        np.tanh(v)
    # numpy numbers on the left of an operator still work, and == still compares identity
    assert (np.float64(2.0) * v).data == 1.0 and (np.float32(1.0) / v).data == 2.0
    assert (np.float64(2.0) ** v).op == "**" and (np.int64(1) - v).data == 0.5
    assert (v == np.float64(0.5)) is False and v != np.float64(0.5)
    assert v not in [np.float64(0.5)]
