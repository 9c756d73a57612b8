"""The scalar engine: a Value is one node of a computational graph (計算グラフ).

Every operation on Values makes a new Value that remembers its inputs (``parents``)
and the op's name.  ``backward()`` then visits the graph from the output back to
the inputs in reverse topological order and applies the chain rule (連鎖律):
each node multiplies the gradient it received by its local derivative, taken
from ``autograd.rules``, and adds the result to its parents' ``grad``.

Memory: a node holds its parents and a short op name, never a closure, so a
graph has no reference cycles and is freed as soon as nothing refers to it.
"""
import math
import numbers
import threading
from contextlib import contextmanager

from . import rules

_grad_mode = threading.local()


def is_grad_enabled():
    """False inside ``no_grad()`` on this thread."""
    return getattr(_grad_mode, "enabled", True)


@contextmanager
def no_grad():
    """Context manager (or decorator): operations inside record no graph.

    Results are plain leaf Values: no parents, nothing kept alive.  The switch is
    per thread, so one thread evaluating a model does not disturb another training it.
    """
    previous = is_grad_enabled()
    _grad_mode.enabled = False
    try:
        yield
    finally:
        _grad_mode.enabled = previous


def _as_float(x, what="Value"):
    if isinstance(x, numbers.Real):
        return float(x)
    # A numpy 0-d array or size-1 array is not numbers.Real; naming it helps.
    raise TypeError(
        f"{what} needs a real number (int or float), got {type(x).__name__}: {x!r:.60}")


class Value:
    """A float in a computational graph, with the gradient back-propagation leaves in it.

    ``data``   the number computed on the forward pass
    ``grad``   d(output)/d(this node) after ``output.backward()``; 0.0 before
    ``label``  an optional name, shown by ``repr`` and in drawings
    ``parents`` the Values this one was computed from (empty for a leaf)
    ``op``     the name of the operation that made it ('' for a leaf)
    """

    __slots__ = ("data", "grad", "label", "parents", "op")

    def __init__(self, data, label=None):
        self.data = data if type(data) is float else _as_float(data)
        self.grad = 0.0
        self.label = label
        self.parents = ()
        self.op = ""

    def __repr__(self):
        label = f", label={self.label!r}" if self.label else ""
        op = f", op={self.op!r}" if self.op else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label}{op})"

    def __float__(self):
        return self.data

    # -- building the graph: each op's forward; its derivative is in _LOCAL_GRADS --

    def _result(self, data, parents, op):
        out = Value.__new__(Value)
        out.data, out.grad, out.label = data, 0.0, None
        if getattr(_grad_mode, "enabled", True):
            out.parents, out.op = parents, op
        else:
            out.parents, out.op = (), ""
        return out

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return self._result(self.data + other.data, (self, other), "+")

    def __radd__(self, other):
        return Value(other) + self

    def __sub__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return self._result(self.data - other.data, (self, other), "-")

    def __rsub__(self, other):
        return Value(other) - self

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return self._result(self.data * other.data, (self, other), "*")

    def __rmul__(self, other):
        return Value(other) * self

    def __neg__(self):
        return self * -1.0

    def __truediv__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        if other.data == 0.0:
            raise ZeroDivisionError(f"division by zero: {self.data!r} / {other.data!r}")
        return self._result(self.data / other.data, (self, other), "/")

    def __rtruediv__(self, other):
        return Value(other) / self

    def __pow__(self, exponent):
        x = self.data
        if isinstance(exponent, Value):
            if x <= 0.0:
                raise ValueError(
                    f"pow: base {x!r} ** a Value exponent needs a base > 0, since "
                    "d(x**y)/dy = x**y * ln(x); use a plain number as exponent instead")
            return self._result(x ** exponent.data, (self, exponent), "**")
        y = _as_float(exponent, "pow's exponent")
        if x < 0.0 and not y.is_integer():
            raise ValueError(f"pow: negative base {x!r} to the fractional power {y!r} "
                             "is not a real number")
        if x == 0.0 and y < 0.0:
            raise ZeroDivisionError(f"pow: 0.0 to the negative power {y!r}")
        # The exponent is kept as a constant leaf so backward can read it.
        return self._result(x ** y, (self, Value(y)), "**c")

    def __rpow__(self, base):
        return Value(base) ** self

    def exp(self):
        try:
            data = math.exp(self.data)
        except OverflowError:
            raise OverflowError(f"exp({self.data!r}) overflows a float (limit ~709.78)") from None
        return self._result(data, (self,), "exp")

    def log(self):
        if self.data <= 0.0:
            raise ValueError(f"log: input must be > 0, got {self.data!r}")
        return self._result(math.log(self.data), (self,), "log")

    def tanh(self):
        return self._result(math.tanh(self.data), (self,), "tanh")

    def sigmoid(self):
        x = self.data
        # Two forms so exp never overflows: exp(-x) for x >= 0, exp(x) otherwise.
        if x >= 0.0:
            y = 1.0 / (1.0 + math.exp(-x))
        else:
            e = math.exp(x)
            y = e / (1.0 + e)
        return self._result(y, (self,), "sigmoid")

    def relu(self):
        return self._result(self.data if self.data > 0.0 else 0.0, (self,), "relu")

    # -- back-propagation --

    def topological_order(self):
        """Every node this one depends on, each after all of its parents; self last.

        Depth-first, driven by an explicit stack rather than recursion, so a chain
        of a million nodes needs no deep Python stack.
        """
        order, seen = [], {id(self)}
        stack = [(self, iter(self.parents))]
        while stack:
            node, parents = stack[-1]
            for p in parents:
                if id(p) not in seen:
                    seen.add(id(p))
                    stack.append((p, iter(p.parents)))
                    break
            else:
                stack.pop()
                order.append(node)
        return order

    def backward(self, grad=1.0):
        """Back-propagate ``grad`` (= dL/dself, 1.0 by default) to every node below.

        Leaves *accumulate* their gradient across calls, as in PyTorch; clear them
        with ``zero_grad()``.  Intermediate nodes are recomputed from zero on every
        call, so a second call adds exactly the same amount to each leaf again.
        """
        grad = _as_float(grad, "backward's grad")
        order = self.topological_order()
        for node in order:
            if node.parents:
                node.grad = 0.0
        self.grad += grad
        for node in reversed(order):
            parents = node.parents
            if not parents:
                continue
            local = _LOCAL_GRADS[node.op]
            if len(parents) == 2:
                a, b = parents
                da, db = local(node.grad, a.data, b.data, node.data)
                a.grad += da
                b.grad += db
            else:
                a = parents[0]
                a.grad += local(node.grad, a.data, node.data)

    def zero_grad(self):
        """Set ``grad`` to 0.0 on this node and every node it was computed from."""
        for node in self.topological_order():
            node.grad = 0.0

    # -- seeing the graph (autograd.draw) --

    def to_dot(self, **options):
        """Graphviz DOT text drawn like the book's figures; options in ``autograd.draw.to_dot``."""
        from .draw import to_dot
        return to_dot(self, **options)

    def to_text(self, **options):
        """The graph as lines of text, for when Graphviz is not installed."""
        from .draw import to_text
        return to_text(self, **options)

    def draw(self, **options):
        """A ``graphviz.Source`` of the graph (shows itself in Jupyter); needs the viz extra."""
        from .draw import draw
        return draw(self, **options)

    def show(self, **options):
        """The picture if Graphviz is installed, else the text view printed."""
        from .draw import show
        return show(self, **options)


def _pow_const(g, x, y, out):
    return rules.pow_const_backward(g, x, y), 0.0


# How each op's node feeds its rule: (upstream grad, parents' data..., own output)
# -> the gradient for each parent.  The formulas themselves live in autograd.rules.
_LOCAL_GRADS = {
    "+": lambda g, x, y, out: rules.add_backward(g),
    "-": lambda g, x, y, out: rules.sub_backward(g),
    "*": lambda g, x, y, out: rules.mul_backward(g, x, y),
    "/": lambda g, x, y, out: rules.div_backward(g, x, y),
    "**": rules.pow_backward,
    "**c": _pow_const,
    "exp": lambda g, x, out: rules.exp_backward(g, out),
    "log": lambda g, x, out: rules.log_backward(g, x),
    "tanh": lambda g, x, out: rules.tanh_backward(g, out),
    "sigmoid": lambda g, x, out: rules.sigmoid_backward(g, out),
    "relu": lambda g, x, out: rules.relu_backward(g, x),
}

Node = Value
