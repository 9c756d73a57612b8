"""The book's layer objects (乗算レイヤ / 加算レイヤ), on the op table's rules.

Chapter 5's code runs unchanged after ``from autograd import MulLayer, AddLayer``::

    mul_apple_layer = MulLayer()
    apple_price = mul_apple_layer.forward(apple, apple_num)
    dapple, dapple_num = mul_apple_layer.backward(dapple_price)

They work on floats and on numpy arrays of one shape.
"""
from .ops import add, mul


class MulLayer:
    """out = x * y; keeps x and y for backward, as the book's MulLayer does."""

    def __init__(self):
        self.x = None
        self.y = None

    def forward(self, x, y):
        self.x, self.y = x, y
        return mul.forward(x, y)

    def backward(self, dout):
        """Returns (dx, dy) = (dout * y, dout * x)."""
        if self.x is None:
            raise RuntimeError("MulLayer.backward called before forward: run forward(x, y) first")
        return mul.vjp(dout, None, self.x, self.y)  # the rules do not read out


class AddLayer:
    """out = x + y; needs nothing for backward."""

    def forward(self, x, y):
        return add.forward(x, y)

    def backward(self, dout):
        """Returns (dx, dy) = (dout, dout)."""
        # The rules read only dout; inputs of add have dout's shape, so it stands in for them.
        return add.vjp(dout, None, dout, dout)
