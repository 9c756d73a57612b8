"""Numerical gradient (数値微分) of a scalar function of an array, as in the book.

Slow (two evaluations of ``f`` per element) but simple enough to trust: the gradient check
compares back-propagation against it.  Use float64 arrays: in float32 the perturbed values
are rounded and the quotient loses most digits.
"""
import math

import numpy as np

from autograd.testing import central_difference


def numerical_gradient(f, x, h=1e-4):
    """Central-difference gradient of ``f`` at the array ``x``: df/dx, shaped like ``x``.

    ``f(x)`` must return a number.  Like the book, each element of ``x`` in turn is set to
    x_i + h and x_i - h *in place* (so ``f`` may ignore its argument and read ``x`` through a
    layer that holds it), and is then restored to its exact original value, even if ``f``
    raises.  Each element's derivative is ``autograd.testing.central_difference``:
    (f(x+h) - f(x-h)) / 2h.

    x's dtype must hold x_i +- h to within 1% of h, else the quotient would be wrong (in
    float16, x_i + 1e-4 is x_i itself near 1, and every derivative came out 0): ValueError
    naming the element, its value and the dtype.
    """
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"numerical_gradient: x must be a numpy array of floats (it is changed "
                        f"in place and restored), got {type(x).__name__} of dtype "
                        f"{getattr(x, 'dtype', None)}; convert it with np.asarray(x, float)")
    grad = np.zeros_like(x)
    idx = ()

    def f_at(value):
        x[idx] = value
        step = float(x[idx]) - float(original)  # the step x's dtype could actually take
        if not abs(abs(step) - h) <= 0.01 * h:
            raise ValueError(
                f"numerical_gradient: x{list(idx)} = {float(original)!r} in {x.dtype} cannot be "
                f"moved by h={h:g} (it moves by {abs(step):.3g}), so the central difference "
                f"would be wrong; use float64 (x.astype(np.float64)) or a larger h")
        return f(x)

    for idx in np.ndindex(x.shape):
        original = x[idx]  # a numpy scalar of x's dtype: restores the bits exactly
        if not math.isfinite(original):
            raise ValueError(f"numerical_gradient: x{list(idx)} is {float(original)}; a derivative "
                             f"needs a finite point")
        try:
            grad[idx] = central_difference(f_at, float(original), h)
        finally:
            x[idx] = original
    return grad
