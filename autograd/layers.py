"""The book's layer objects (乗算レイヤ / 加算レイヤ), on the shared backward rules.

Chapter 5's code runs unchanged after ``from autograd import MulLayer, AddLayer``::

    mul_apple_layer = MulLayer()
    apple_price = mul_apple_layer.forward(apple, apple_num)
    dapple, dapple_num = mul_apple_layer.backward(dapple_price)

They work on floats and on numpy arrays of one shape.
"""
from . import rules


class MulLayer:
    """out = x * y; keeps x and y for backward, as the book's MulLayer does."""

    def __init__(self):
        self.x = None
        self.y = None

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, dout):
        """Returns (dx, dy) = (dout * y, dout * x)."""
        if self.x is None:
            raise RuntimeError("MulLayer.backward called before forward: run forward(x, y) first")
        return rules.mul_backward(dout, self.x, self.y)


class AddLayer:
    """out = x + y; needs nothing for backward."""

    def forward(self, x, y):
        return x + y

    def backward(self, dout):
        """Returns (dx, dy) = (dout, dout)."""
        return rules.add_backward(dout)
