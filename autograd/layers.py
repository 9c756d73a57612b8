"""The book's layer objects (乗算レイヤ / 加算レイヤ), on the op table's rules.

Chapter 5's code runs unchanged after ``from autograd import MulLayer, AddLayer``::

    mul_apple_layer = MulLayer()
    apple_price = mul_apple_layer.forward(apple, apple_num)
    dapple, dapple_num = mul_apple_layer.backward(dapple_price)

They work on floats, on numpy arrays (and on Values).  Anything else, None or a string
included, is refused with a TypeError naming the layer: ``"ab" * 2`` would be "abab", and a
None gradient would pass through AddLayer unnoticed.
"""
import numbers

import numpy as np

from .engine import Value
from .ops import add, mul


def _number(value, who):
    """``value`` if it is a real number, a numpy array of them, or a Value; else TypeError."""
    if isinstance(value, (numbers.Real, Value)) and not isinstance(value, (bool, np.bool_)):
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        return value
    raise TypeError(f"{who}: expected a number or a numpy array of numbers, got "
                    f"{type(value).__name__}: {value!r:.60}")


class MulLayer:
    """out = x * y; keeps x and y for backward, as the book's MulLayer does."""

    def __init__(self):
        self.x = None
        self.y = None

    def forward(self, x, y):
        self.x, self.y = _number(x, "MulLayer.forward: x"), _number(y, "MulLayer.forward: y")
        return mul.forward(x, y)

    def backward(self, dout):
        """Returns (dx, dy) = (dout * y, dout * x), each summed to its input's shape over the axes
        numpy broadcast it along: dL/dy = sum(dout * x) for a number y (the book's: dout * x)."""
        if self.x is None:
            raise RuntimeError("MulLayer.backward called before forward: run forward(x, y) first")
        dout = _number(dout, "MulLayer.backward: dout")
        return tuple(_summed_to(rule(dout, None, self.x, self.y), v)  # the rules do not read out
                     for rule, v in zip(mul.backward, (self.x, self.y)))


def _summed_to(grad, like):
    """``grad`` summed over the axes numpy broadcast ``like`` along: shaped like ``like``."""
    lead = np.ndim(grad) - np.ndim(like)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(np.shape(like)) if n == 1)
    return np.sum(grad, axis=axes).reshape(np.shape(like)) if axes else grad


class AddLayer:
    """out = x + y; needs nothing for backward."""

    def forward(self, x, y):
        return add.forward(_number(x, "AddLayer.forward: x"), _number(y, "AddLayer.forward: y"))

    def backward(self, dout):
        """Returns (dx, dy) = (dout, dout); dout stands in for the inputs (the same shape)."""
        dout = _number(dout, "AddLayer.backward: dout")
        return add.vjp(dout, None, dout, dout)
