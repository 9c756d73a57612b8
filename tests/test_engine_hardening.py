"""The scalar engine under stress: failing rules, pow at 0, overflow, odd operands, deep
copies, threads."""
import copy
import math
import threading

import numpy as np
import pytest

from autograd import Value, declare_op, grad


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
    # What pickle and copy.copy call first: refusing here refuses pickling, without the
    # test itself using pickle.
    with pytest.raises(TypeError, match="cannot be pickled.*deepcopy"):
        y.__reduce_ex__(4)


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
