"""The scalar engine: a Value is one node of a computational graph (計算グラフ).

Every operation on Values makes a new Value that remembers its inputs (``parents``)
and the op's name.  ``backward()`` then visits the graph from the output back to
the inputs in reverse topological order and applies the chain rule (連鎖律):
each node multiplies the gradient it received by its local derivative, taken
from ``autograd.rules``, and adds the result to its parents' ``grad``.

Memory: a node holds its (at most two) parents and a short op name, never a
closure, so a graph has no reference cycles and is freed as soon as nothing
refers to it.  The parents sit in two slots rather than in a tuple: one object
per node instead of two for Python's garbage collector to track and walk, which
is most of the cost of building a big graph (benchmarks/bench_scalar.py).
"""
import math
import numbers
import threading
from contextlib import contextmanager

from . import rules


class _GradMode(threading.local):
    enabled = True  # the class default every thread sees until it enters no_grad()


_grad_mode = _GradMode()  # per thread; a plain attribute read, no exception on the hot path


def is_grad_enabled():
    """False inside ``no_grad()`` on this thread."""
    return _grad_mode.enabled


@contextmanager
def no_grad():
    """Context manager (or decorator): operations inside record no graph.

    Results are plain leaf Values: no parents, nothing kept alive.  The switch is
    per thread, so one thread evaluating a model does not disturb another training it.
    """
    previous = _grad_mode.enabled
    _grad_mode.enabled = False
    try:
        yield
    finally:
        _grad_mode.enabled = previous


def _as_float(x, what="Value"):
    if type(x) is int:  # the common case first: isinstance against an ABC is slow
        return float(x)
    if isinstance(x, numbers.Real):
        return float(x)
    # A numpy 0-d array or size-1 array is not numbers.Real; naming it helps.
    raise TypeError(
        f"{what} needs a real number (int or float), got {type(x).__name__}: {x!r:.60}")


# op name -> how backward feeds that op's rule in autograd.rules (filled in beside
# each op in Value below).  The formulas themselves live only in autograd.rules.
_LOCAL_GRADS = {}

_new = object.__new__  # a bare Value for _result to fill in, without __init__'s checks


class Value:
    """A float in a computational graph, with the gradient back-propagation leaves in it.

    ``data``   the number computed on the forward pass
    ``grad``   d(output)/d(this node) after ``output.backward()``; 0.0 before
    ``label``  an optional name, shown by ``repr`` and in drawings
    ``parents`` the Values this one was computed from: (), (x,) or (x, y)
    ``op``     the name of the operation that made it ('' for a leaf)
    """

    __slots__ = ("data", "grad", "label", "op", "_x", "_y")  # _x, _y: the parents, or None

    def __init__(self, data, label=None):
        self.data = data if type(data) is float else _as_float(data)
        self.grad = 0.0
        self.label = label
        self.op = ""
        self._x = self._y = None

    @property
    def parents(self):
        """The Values this one was computed from: () for a leaf, (x,) or (x, y)."""
        if self._y is not None:
            return (self._x, self._y)
        return () if self._x is None else (self._x,)

    def __repr__(self):
        label = f", label={self.label!r}" if self.label else ""
        op = f", op={self.op!r}" if self.op else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label}{op})"

    def __float__(self):
        return self.data

    # -- building the graph --
    # Each op computes its result's data and records its parents and name.  Beside it,
    # _LOCAL_GRADS[name] says how backward calls that op's rule in autograd.rules:
    # (upstream grad g, each parent's data, the node's own data) -> a gradient per parent.

    def _result(self, data, x, y, op):
        """The op's output node, with parents x and y (None for a unary op)."""
        out = _new(Value)
        out.data, out.grad, out.label = data, 0.0, None
        if _grad_mode.enabled:
            out.op, out._x, out._y = op, x, y
        else:
            out.op, out._x, out._y = "", None, None
        return out

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return self._result(self.data + other.data, self, other, "+")

    _LOCAL_GRADS["+"] = lambda g, x, y, out: rules.add_backward(g)

    def __radd__(self, other):
        return Value(other) + self

    def __sub__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return self._result(self.data - other.data, self, other, "-")

    _LOCAL_GRADS["-"] = lambda g, x, y, out: rules.sub_backward(g)

    def __rsub__(self, other):
        return Value(other) - self

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return self._result(self.data * other.data, self, other, "*")

    _LOCAL_GRADS["*"] = lambda g, x, y, out: rules.mul_backward(g, x, y)

    def __rmul__(self, other):
        return Value(other) * self

    def __neg__(self):
        return self * -1.0

    def __truediv__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        if other.data == 0.0:
            raise ZeroDivisionError(f"division by zero: {self.data!r} / {other.data!r}")
        return self._result(self.data / other.data, self, other, "/")

    _LOCAL_GRADS["/"] = lambda g, x, y, out: rules.div_backward(g, x, y)

    def __rtruediv__(self, other):
        return Value(other) / self

    def __pow__(self, exponent):
        x = self.data
        if isinstance(exponent, Value):
            if x <= 0.0:
                raise ValueError(
                    f"pow: base {x!r} ** a Value exponent needs a base > 0, since "
                    "d(x**y)/dy = x**y * ln(x); use a plain number as exponent instead")
            return self._result(x ** exponent.data, self, exponent, "**")
        y = _as_float(exponent, "pow's exponent")
        if x < 0.0 and not y.is_integer():
            raise ValueError(f"pow: negative base {x!r} to the fractional power {y!r} "
                             "is not a real number")
        if x == 0.0 and y < 0.0:
            raise ZeroDivisionError(f"pow: 0.0 to the negative power {y!r}")
        # The exponent is kept as a constant leaf so backward can read it.
        return self._result(x ** y, self, Value(y), "**c")

    _LOCAL_GRADS["**"] = rules.pow_backward  # already (g, x, y, out)
    _LOCAL_GRADS["**c"] = lambda g, x, y, out: (rules.pow_const_backward(g, x, y), 0.0)

    def __rpow__(self, base):
        return Value(base) ** self

    def exp(self):
        try:
            data = math.exp(self.data)
        except OverflowError:
            raise OverflowError(f"exp({self.data!r}) overflows a float (limit ~709.78)") from None
        return self._result(data, self, None, "exp")

    _LOCAL_GRADS["exp"] = lambda g, x, out: rules.exp_backward(g, out)

    def log(self):
        if self.data <= 0.0:
            raise ValueError(f"log: input must be > 0, got {self.data!r}")
        return self._result(math.log(self.data), self, None, "log")

    _LOCAL_GRADS["log"] = lambda g, x, out: rules.log_backward(g, x)

    def tanh(self):
        return self._result(math.tanh(self.data), self, None, "tanh")

    _LOCAL_GRADS["tanh"] = lambda g, x, out: rules.tanh_backward(g, out)

    def sigmoid(self):
        x = self.data
        # Two forms so exp never overflows: exp(-x) for x >= 0, exp(x) otherwise.
        if x >= 0.0:
            y = 1.0 / (1.0 + math.exp(-x))
        else:
            e = math.exp(x)
            y = e / (1.0 + e)
        return self._result(y, self, None, "sigmoid")

    _LOCAL_GRADS["sigmoid"] = lambda g, x, out: rules.sigmoid_backward(g, out)

    def relu(self):
        return self._result(self.data if self.data > 0.0 else 0.0, self, None, "relu")

    _LOCAL_GRADS["relu"] = lambda g, x, out: rules.relu_backward(g, x)

    # -- back-propagation --

    def topological_order(self, leaves=True):
        """Every node this one depends on, each after all of its parents; self last.

        ``leaves=False`` keeps only the nodes made by an op, the ones with parents
        (what backward visits), leaving out inputs and constants.

        Depth-first with an explicit stack instead of recursion, so a chain of a
        million nodes needs no deep Python stack.  Each node is expanded once: it goes
        back on the stack under a ``None`` marker and its parents go on top (second
        parent first, so the first comes off first, as in a recursive walk); when the
        marker comes up again, all its parents are in ``order``, so the node follows.
        """
        order, visited = [], set()
        stack = [self] if leaves or self._x is not None else []
        while stack:
            node = stack.pop()
            if node is None:
                order.append(stack.pop())
            elif node not in visited:
                visited.add(node)
                stack.append(node)
                stack.append(None)
                for p in (node._y, node._x):  # p._x is None for a leaf
                    if p is not None and (leaves or p._x is not None) and p not in visited:
                        stack.append(p)
        return order

    def backward(self, grad=1.0):
        """Back-propagate ``grad`` (= dL/dself, 1.0 by default) to every node below.

        Leaves *accumulate* their gradient across calls, as in PyTorch; clear them
        with ``zero_grad()``.  Intermediate nodes are recomputed from zero on every
        call, so a second call adds exactly the same amount to each leaf again.
        Only op nodes are visited: a leaf has nothing to pass on, it just receives.
        """
        grad = _as_float(grad, "backward's grad")
        ops = self.topological_order(leaves=False)
        for node in ops:
            node.grad = 0.0
        self.grad += grad
        local_grads = _LOCAL_GRADS
        for node in reversed(ops):  # outputs first: a node's grad is complete when reached
            x, y = node._x, node._y
            if y is None:
                x.grad += local_grads[node.op](node.grad, x.data, node.data)
            else:
                dx, dy = local_grads[node.op](node.grad, x.data, y.data, node.data)
                x.grad += dx
                y.grad += dy

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
        """The picture in Jupyter (with the viz extra), else the text view printed."""
        from .draw import show
        return show(self, **options)

    def explore(self, **options):
        """Step through forward and backward in Jupyter; options in ``autograd.explore``."""
        from .explore import explore
        return explore(self, **options)

    def to_html(self, path, **options):
        """Write the step-by-step explorer to ``path`` as one offline HTML file."""
        from .explore import to_html
        return to_html(self, path, **options)


Node = Value
