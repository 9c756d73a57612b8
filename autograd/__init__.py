"""chainrule's scalar autograd engine: computational graphs of Values, back-propagation
by the chain rule, the book's MulLayer/AddLayer, and numerical gradient checks
(``autograd.testing``: property tests for any derivative, yours included).

    >>> from autograd import Value
    >>> apple, num, tax = Value(100, label="apple"), Value(2, label="apple_num"), Value(1.1, label="tax")
    >>> price = apple * num * tax
    >>> price.backward()
    >>> apple.grad, num.grad, tax.grad
    (2.2, 110.00000000000001, 200.0)
"""
__chainrule__ = True  # marks chainrule's autograd: HIPS autograd on PyPI has the same import name
from .clash import warn_if_shadowed

warn_if_shadowed(__file__)
from . import ops
from .engine import Node, Value, grad, graph_size, is_grad_enabled, no_grad
from .ops import OPS, declare_op
from .layers import AddLayer, MulLayer
from .testing import GradcheckError, central_difference, gradcheck, numerical_grad

__all__ = ["Value", "Node", "no_grad", "is_grad_enabled", "MulLayer", "AddLayer",
           "central_difference", "numerical_grad", "gradcheck", "GradcheckError", "ops", "OPS",
           "declare_op", "grad", "graph_size"]
