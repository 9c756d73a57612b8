"""The element-by-element gradcheck table, central differences and numerical_grad on Values."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import GradcheckError, Value, central_difference, declare_op, gradcheck, numerical_grad


def test_central_difference_matches_known_slopes():
    assert central_difference(lambda x: 3 * x + 1, 2.0) == pytest.approx(3.0, rel=1e-9)
    assert central_difference(lambda x: x ** 3, 2.0, h=1e-4) == pytest.approx(12.0, rel=1e-7)
    with pytest.raises(ValueError, match="h must be > 0"):
        central_difference(lambda x: x, 1.0, h=0)


@given(x=st.floats(0.2, 3.0), y=st.floats(-2.0, 2.0))
def test_gradcheck_passes_for_correct_backprop(x, y):
    a, b = Value(x, label="a"), Value(y, label="b")
    a.grad, b.grad = 7.0, -1.0
    result = gradcheck(lambda a, b: (a * b).tanh() + a.log() * b.sigmoid() - b / a, [a, b])
    assert result.ok and bool(result)
    assert result.max_abs_error < 1e-6
    assert (a.data, b.data, a.grad, b.grad) == (x, y, 7.0, -1.0)  # inputs left as they were


def test_gradcheck_catches_a_wrong_rule():
    # A multiplication declared outside the library with a broken rule: dz/dx = x, not y.
    bad_mul = declare_op("bad_mul", forward=lambda x, y: x * y, register=False,
                         backward=(lambda g, out, x, y: g * x, lambda g, out, x, y: g * x))
    a, b = Value(2.0, label="a"), Value(5.0, label="b")
    result = gradcheck(lambda a, b: bad_mul(a, b), [a, b])
    assert not result.ok and result.worst_input == "a"
    assert "FAILED" in str(result)
    with pytest.raises(GradcheckError, match=r"gradcheck failed for a: backprop 2\.0, numerical 5\.0"):
        gradcheck(lambda a, b: bad_mul(a, b), [a, b], raise_exception=True)


def test_gradcheck_names_unlabelled_inputs_by_position_and_rejects_non_values():
    with pytest.raises(TypeError, match=r"inputs\[1\] is a float"):
        gradcheck(lambda a, b: a * b, [Value(1.0), 2.0])
    with pytest.raises(TypeError, match="must return a Value"):
        gradcheck(lambda a: 3.0, [Value(1.0)])
    assert gradcheck(lambda a: a * a, [Value(1.0)]).rows[0][0] == "inputs[0]"


def test_numerical_grad_restores_inputs():
    a = Value(1.5)
    (g,) = numerical_grad(lambda a: a * a * a, [a])
    assert g == pytest.approx(3 * 1.5 ** 2, rel=1e-8)
    assert a.data == 1.5
