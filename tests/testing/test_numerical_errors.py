"""Numerical checks that refuse to pass silently: non-finite differences in gradcheck, steps a dtype cannot take, non-finite points."""
import numpy as np
import pytest

import autograd.testing.table
from autograd import GradcheckError, Value, gradcheck
from nn.gradient import numerical_gradient


@pytest.mark.parametrize("numerical", [float("nan"), float("inf"), float("-inf")])
def test_gradcheck_fails_on_a_non_finite_numerical_gradient(numerical, monkeypatch):
    # Any function whose central difference overflows or is undefined gives these values.
    monkeypatch.setattr(autograd.testing.table, "numerical_grad", lambda f, inputs, h: [numerical, 3.0])
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    result = gradcheck(lambda a, b: a * b, [a, b])
    assert not result and result.worst_input == "a"
    assert result.max_abs_error == float("inf")
    assert "FAILED (worst: a)" in str(result)
    with pytest.raises(GradcheckError, match=r"gradcheck failed for a: .* not a finite number"):
        gradcheck(lambda a, b: a * b, [a, b], raise_exception=True)
    # The reported bug: inside all(map(...)) the bare StopIteration read as "all passed".
    with pytest.raises(GradcheckError):
        all(map(lambda x: gradcheck(lambda x: x * x, [x], raise_exception=True), [Value(1.0)]))


def test_gradcheck_reports_the_worst_of_two_inputs_with_one_label(monkeypatch):
    monkeypatch.setattr(autograd.testing.table, "numerical_grad", lambda f, inputs, h: [3.0, 9.0])
    a, b = Value(2.0, label="w"), Value(3.0, label="w")
    with pytest.raises(GradcheckError, match=r"backprop 2\.0, numerical 9\.0"):
        gradcheck(lambda a, b: a * b, [a, b], raise_exception=True)


def test_numerical_gradient_refuses_a_step_the_dtype_cannot_take():
    x = np.ones(3, dtype=np.float16)  # 1 + 1e-4 rounds to 1 in float16: every derivative was 0
    with pytest.raises(ValueError, match=r"x\[0\] = 1\.0 in float16 cannot be moved by h=0\.0001"):
        numerical_gradient(lambda v: float(np.sum(v.astype(np.float64) ** 2)), x)
    np.testing.assert_array_equal(x, 1)  # restored
    big = np.array([1000.0], dtype=np.float32)  # steps of 6.1e-5 there: 1e-4 is not one
    with pytest.raises(ValueError, match=r"float32 cannot be moved"):
        numerical_gradient(lambda v: float(v[0]), big)
    # float32 near 1 moves by h to within 0.1%: allowed, and close to the truth.
    grad = numerical_gradient(lambda v: float(np.sum(v.astype(np.float64) ** 2)),
                              np.array([0.5, 1.0], dtype=np.float32))
    np.testing.assert_allclose(grad, [1.0, 2.0], rtol=2e-3)


def test_numerical_gradient_refuses_a_non_finite_point():
    with pytest.raises(ValueError, match=r"x\[1\] is nan"):
        numerical_gradient(lambda v: float(np.sum(v)), np.array([1.0, np.nan]))
