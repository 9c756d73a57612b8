"""The element-by-element table (数値微分): each input Value nudged by +-h in turn, its
derivative a ``central_difference`` beside back-propagation's (the book's way)."""
import math

from ..engine import Value, grad, no_grad
from .adapters import returns_value
from .core import CheckResult, GradcheckError, central_difference


def numerical_grad(f, inputs, h=1e-6):
    """Central-difference gradient of ``f(*inputs)`` with respect to each input Value: a
    list of floats.  Each input's ``data`` is nudged by +-h in turn and restored; nothing
    is recorded (``no_grad``)."""
    inputs, grads = list(inputs), []
    with no_grad():
        for x in inputs:
            x0 = x.data

            def f_of(t, x=x):
                x.data = t
                return returns_value(f(*inputs), "the function under test").data
            try:
                grads.append(central_difference(f_of, x0, h))
            finally:
                x.data = x0
    return grads


def gradcheck(f, inputs, h=1e-6, atol=1e-5, rtol=1e-3, raise_exception=False):
    """Compare back-propagated gradients of ``f(*inputs)`` with ``numerical_grad``.

    ``inputs`` is a list of Values.  An input passes when |backprop - numerical| <= atol
    + rtol * |numerical| (``numpy.isclose``'s test); a nan or infinite gradient on either
    side fails.  The inputs' ``.grad`` and ``.data`` are left as they were.  Returns a
    ``CheckResult`` with one row per input (truthy when every input passes; ``print`` it
    for a table); with ``raise_exception=True`` a failure raises ``GradcheckError``
    naming the worst input.
    """
    __tracebackhide__ = True
    if isinstance(inputs, Value) or not hasattr(inputs, "__iter__"):
        raise TypeError(f"gradcheck: inputs must be a list of Values, e.g. gradcheck(f, [x]) "
                        f"or gradcheck(f, [x, y]); got a {type(inputs).__name__}")
    inputs = list(inputs)
    if not inputs:
        raise ValueError("gradcheck: give at least one input Value, e.g. gradcheck(f, [x])")
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"gradcheck: inputs[{i}] is a {type(x).__name__}, not a Value; "
                            f"wrap it as Value({x!r})")
    backprop = grad(returns_value(f(*inputs), "the function under test"), inputs)
    result, worst = CheckResult(checked=len(inputs)), None
    for i, (x, a, n) in enumerate(zip(inputs, backprop, numerical_grad(f, inputs, h))):
        abs_err = rel_err = excess = math.inf  # nan is neither better nor worse: the worst
        if math.isfinite(a) and math.isfinite(n):
            abs_err = abs(a - n)
            rel_err = abs_err / abs(n) if n != 0 else (0.0 if a == 0 else math.inf)
            allowed = atol + rtol * abs(n)
            excess = abs_err / allowed if allowed else (0.0 if abs_err == 0 else math.inf)
        result.rows.append((x.label or f"inputs[{i}]", a, n, abs_err, rel_err))
        if worst is None or excess > result.worst:
            worst, result.worst, result.worst_input = result.rows[-1], excess, result.rows[-1][0]
    if raise_exception and not result:
        why = (f"abs err {worst[3]:.3e} > atol {atol} + rtol {rtol} * |numerical|"
               if math.isfinite(worst[3]) else "a gradient that is not a finite number")
        raise GradcheckError(f"gradcheck failed for {worst[0]}: backprop {worst[1]!r}, numerical "
                             f"{worst[2]!r} ({why})\n{result}")
    return result
