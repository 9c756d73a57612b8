"""Numerical differentiation (数値微分) and the gradient check built on it.

Back-propagation is checked against central differences,
    f'(x) ~ (f(x + h) - f(x - h)) / 2h,
whose error shrinks like h**2 (the forward difference's only like h).
"""
import math
from dataclasses import dataclass, field

from .engine import Value, no_grad


def central_difference(f, x, h=1e-6):
    """Slope of the scalar function ``f`` at the float ``x``: (f(x+h) - f(x-h)) / 2h.

    ``nn.gradient.numerical_gradient`` calls this once per array element.
    """
    if not h > 0:
        raise ValueError(f"central_difference: step h must be > 0, got {h!r}")
    return (float(f(x + h)) - float(f(x - h))) / (2.0 * h)


def _call(f, inputs):
    out = f(*inputs)
    if not isinstance(out, Value):
        raise TypeError(
            f"the function under test must return a Value, got {type(out).__name__}; "
            "build its result from the input Values")
    return out


def numerical_grad(f, inputs, h=1e-6):
    """Central-difference gradient of ``f(*inputs)`` with respect to each input Value.

    ``f`` takes the Values in ``inputs`` and returns one Value.  Each input is nudged
    by +-h in turn (and restored); nothing is recorded (runs under ``no_grad``).
    Returns a list of floats, one per input.
    """
    inputs = list(inputs)
    grads = []
    with no_grad():
        for x in inputs:
            x0 = x.data

            def f_of(t, x=x):
                x.data = t
                return _call(f, inputs).data

            try:
                grads.append(central_difference(f_of, x0, h))
            finally:
                x.data = x0
    return grads


@dataclass
class GradcheckResult:
    """What ``gradcheck`` found: one row per input, and the worst errors over all."""

    ok: bool
    max_abs_error: float
    max_rel_error: float
    worst_input: str
    rows: list = field(default_factory=list)  # (name, backprop, numerical, abs_err, rel_err)

    def __bool__(self):
        return self.ok

    def __str__(self):
        lines = [f"{'input':<12} {'backprop':>22} {'numerical':>22} {'abs err':>10} {'rel err':>10}"]
        for name, a, n, ae, re in self.rows:
            lines.append(f"{name:<12} {a!r:>22} {n!r:>22} {ae:>10.2e} {re:>10.2e}")
        verdict = "ok" if self.ok else f"FAILED (worst: {self.worst_input})"
        lines.append(f"max abs error {self.max_abs_error:.2e}, max rel error "
                     f"{self.max_rel_error:.2e}: {verdict}")
        return "\n".join(lines)


class GradcheckError(AssertionError):
    """Back-propagation and central differences disagree beyond the tolerance."""


def gradcheck(f, inputs, h=1e-6, atol=1e-5, rtol=1e-3, raise_exception=False):
    """Compare back-propagated gradients of ``f(*inputs)`` with central differences.

    An input passes when |backprop - numerical| <= atol + rtol * |numerical|
    (the test of ``numpy.isclose``); a nan or infinite gradient on either side
    fails (its errors count as inf).  The inputs' ``.grad`` and ``.data`` are left
    as they were.  Returns a ``GradcheckResult`` (truthy when every input passes;
    ``print`` it for a table); with ``raise_exception=True`` a failure raises
    ``GradcheckError`` naming the worst input.
    """
    inputs = list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"gradcheck: inputs[{i}] is a {type(x).__name__}, not a Value; "
                            f"wrap it as Value({x!r})")
    saved = [x.grad for x in inputs]
    try:
        for x in inputs:
            x.grad = 0.0
        _call(f, inputs).backward()
        backprop = [x.grad for x in inputs]
    finally:
        for x, g in zip(inputs, saved):
            x.grad = g
    numerical = numerical_grad(f, inputs, h)

    rows, ok, worst, worst_excess = [], True, None, -math.inf
    for i, (x, a, n) in enumerate(zip(inputs, backprop, numerical)):
        name = x.label or f"inputs[{i}]"
        if math.isfinite(a) and math.isfinite(n):
            abs_err = abs(a - n)
            rel_err = abs_err / abs(n) if n != 0 else (0.0 if a == 0 else math.inf)
            excess = abs_err - (atol + rtol * abs(n))
        else:  # nan compares as neither better nor worse: count it as the worst possible
            abs_err = rel_err = excess = math.inf
        ok = ok and excess <= 0
        rows.append((name, a, n, abs_err, rel_err))
        if worst is None or excess > worst_excess:
            worst, worst_excess = rows[-1], excess
    result = GradcheckResult(ok, max((r[3] for r in rows), default=0.0),
                             max((r[4] for r in rows), default=0.0),
                             worst[0] if worst else "", rows)
    if raise_exception and not ok:
        row = worst
        why = (f"abs err {row[3]:.3e} > atol {atol} + rtol {rtol} * |numerical|"
               if math.isfinite(row[3]) else "a gradient that is not a finite number")
        raise GradcheckError(f"gradcheck failed for {row[0]}: backprop {row[1]!r}, numerical "
                             f"{row[2]!r} ({why})\n{result}")
    return result
