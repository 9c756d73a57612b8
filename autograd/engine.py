"""The scalar engine: a Value is one node of a computational graph (計算グラフ).

Every operation on Values makes a new Value that remembers its inputs (``parents``)
and its row of the op table (``autograd.ops``).  ``backward()`` then visits the graph
from the output back to the inputs in reverse topological order and applies the
chain rule (連鎖律): each node hands the gradient it received to its row's backward
rules, and adds what they return to its parents' ``grad``.

The engine knows no derivative: it only walks the graph and calls the table.  Run
with ``create_graph=True``, it hands the rules Values instead of floats, so the
backward pass is itself recorded and can be differentiated again (see ``grad``).

Memory: a node holds its row and its (at most two) parents in two slots, never a
closure or a tuple: a graph has no reference cycles, so it is freed as soon as nothing
refers to it, and it is one object per node for the garbage collector to track and walk.
"""
import numbers
import threading
from contextlib import contextmanager

import numpy as np

from . import draw as drawing
from . import explore as explorer
from . import ops as _ops

# What a new node records, per thread: True, its parents and op (the default); False,
# nothing (inside no_grad()); or, while a backward pass builds a graph of its own, a dict
# through which nodes are simplified and shared (_derivative_node).


class _GradMode(threading.local):
    mode = True  # the class default every thread sees until it changes its own


_grad_mode = _GradMode()  # a plain attribute read on the hot path


def is_grad_enabled():
    """False inside ``no_grad()`` on this thread."""
    return _grad_mode.mode is not False


@contextmanager
def no_grad():
    """Context manager (or decorator): operations inside record no graph.

    Results are plain leaf Values: no parents, nothing kept alive.  The switch is
    per thread, so one thread evaluating a model does not disturb another training it.
    """
    previous, _grad_mode.mode = _grad_mode.mode, False
    try:
        yield
    finally:
        _grad_mode.mode = previous


# backward() and grad() of all threads take turns: two of them on graphs that share
# a node would otherwise both reset and add to that node's grad.
_backward_lock = threading.RLock()


def _as_float(x, what="Value"):
    if type(x) is int or type(x) is float:  # the common cases first: ABC checks are slow
        return float(x)
    if isinstance(x, (numbers.Real, np.bool_)) or (
            isinstance(x, np.ndarray) and x.ndim == 0 and x.dtype.kind in "biuf"):
        return float(x)  # numpy scalars and 0-d arrays, on either side of an operator
    raise TypeError(f"{what} needs a real number (int, float or a 0-d numpy number), got "
                    f"{type(x).__name__}: {x!r:.60}")


_new = object.__new__  # a bare Value for _node to fill in, without __init__'s checks

# The plain numbers of an expression (the 2 of ``x * 2``) become constant leaves: they
# get no gradient, and a backward pass that builds a graph folds them away.
_CONSTANT = object()


# Value's operators and functions: each computes its result with the row's forward (read once
# here) and records it with _node, a Python call less per node than going through apply_op.
def _operators(op):
    """Value's two methods for the two-input row ``op``: x op other, and other op x."""
    forward = op.on_floats

    def method(self, other):
        if not isinstance(other, Value):
            other = _constant(other)
        return _node(op, forward(self.data, other.data), self, other)

    def reflected(self, other):
        return _binary(op, _constant(other), self)

    return method, reflected


def _function(op):
    """Value's method for the one-input row ``op`` (x.exp())."""
    forward = op.on_floats

    def method(self):
        return _node(op, forward(self.data), self, None)

    return method


class Value:
    """A float in a computational graph, with the gradient back-propagation leaves in it.

    ``data``   the number computed on the forward pass
    ``grad``   d(output)/d(this node) after ``output.backward()``; 0.0 before (a Value
               after ``backward(create_graph=True)``)
    ``label``  an optional name, shown by ``repr`` and in drawings
    """

    __slots__ = ("data", "grad", "label", "_op", "_x", "_y")  # _op: an ops.Op, _CONSTANT or None

    def __init__(self, data, label=None):
        self.data = data if type(data) is float else _as_float(data)
        self.grad = 0.0
        self.label = label
        self._op = self._x = self._y = None

    @property
    def parents(self):
        """The Values this one was computed from: () for a leaf, (x,) or (x, y)."""
        if self._y is not None:
            return (self._x, self._y)
        return () if self._x is None else (self._x,)

    @property
    def op(self):
        """The name of the op that made this node, '' for a leaf or a constant."""
        return self._op.name if self._x is not None else ""

    @property
    def row(self):
        """The op table row (``autograd.ops.Op``) that made this node; None for a leaf."""
        return self._op if self._x is not None else None

    @property
    def is_constant(self):
        """True for a plain number of an expression (the 2 of ``x * 2``): it gets no grad."""
        return self._op is _CONSTANT

    def __repr__(self):
        label = f", label={self.label!r}" if self.label else ""
        op = f", op={self.op!r}" if self._x is not None else ""
        return f"Value(data={self.data!r}, grad={getattr(self.grad, 'data', self.grad)!r}{label}{op})"

    def __float__(self):
        if type(_grad_mode.mode) is dict and self._op is not _CONSTANT:  # in a rule on Values
            raise TypeError("a rule on Values took a plain number out of one (math.exp(x)): "
                            "not differentiable again; write it with operators and ops rows "
                            "(ops.exp(x)), and branch on x.data")
        return self.data

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # numpy hands over its operators with a Value on the right (np.float64(2) * x: x's
        # reflected operator; ==: identity, as for any object); anything else is refused.
        name = ufunc.__name__
        if name in ("equal", "not_equal"):
            return (inputs[0] is inputs[1]) is (name == "equal")
        if method == "__call__" and len(inputs) == 2 and inputs[1] is self and name in _REFLECTED:
            return getattr(self, _REFLECTED[name])(inputs[0])
        raise TypeError(f"numpy's {name} does not take a Value: use its methods and operators "
                        f"(v.exp(), v.log(), v ** 2) or the rows of autograd.ops (ops.exp(v))")

    @staticmethod
    def apply_op(op, *inputs, **params):
        """Record ``op`` (a row of autograd.ops) on one or two inputs, numbers as constants:
        what calling a row does when an input is a Value (the op table knows no Value)."""
        if not isinstance(op, _ops.Op) or not op.scalar or params:
            raise TypeError(f"{op!r} takes no Values (rows declared with scalar=True do, with "
                            f"no keyword settings: got {sorted(params)})")
        values = [_constant(x) for x in inputs]
        try:
            data = op.forward(*(v.data for v in values))
            if type(data) is not float:
                data = _as_float(data, f"op {op.name!r}'s forward result")
        except (ArithmeticError, ValueError, TypeError) as error:
            if op.name not in str(error):
                error.add_note(f"in op {op.name!r} at {', '.join(repr(v.data) for v in values)}")
            raise
        return _node(op, data, values[0], values[1] if len(values) == 2 else None)

    # -- building the graph: each operator is a row of autograd.ops, a shortcut of apply_op --

    __add__, __radd__ = _operators(_ops.add)
    __sub__, __rsub__ = _operators(_ops.sub)
    __mul__, __rmul__ = _operators(_ops.mul)
    __truediv__, __rtruediv__ = _operators(_ops.div)
    exp = _function(_ops.exp)
    log = _function(_ops.log)
    tanh = _function(_ops.tanh)
    sigmoid = _function(_ops.sigmoid)
    relu = _function(_ops.relu)

    def __neg__(self):
        return _binary(_ops.mul, self, _constant(-1.0))

    def __pow__(self, exponent):
        if isinstance(exponent, Value) and exponent._op is not _CONSTANT and self.data <= 0.0:
            raise ValueError(
                f"pow: base {self.data!r} ** a Value exponent needs a base > 0, since "
                "d(x**y)/dy = x**y * ln(x); use a plain number as exponent instead")
        return _binary(_ops.pow_, self, _constant(exponent))

    def __rpow__(self, base):
        return _constant(base) ** self

    # -- back-propagation --

    def topological_order(self, leaves=True):
        """Every node this one depends on, each after all of its parents; self last.
        ``leaves=False`` keeps only the nodes made by an op (what backward visits), leaving
        out inputs and constants."""
        return _order(self, leaves)

    def backward(self, grad=1.0, create_graph=False):
        """Back-propagate ``grad`` (= dL/dself, 1.0 by default) to every node below.

        Leaves *accumulate* their gradient across calls, as in PyTorch; clear them with
        ``zero_grad()``.  Intermediate nodes are recomputed from zero on every call, so a
        second call adds exactly the same amount to each leaf again.  Constants (the plain
        numbers of an expression) get none.

        ``create_graph=True`` records the backward pass itself: every ``grad`` is then a
        Value that can be differentiated again.  For derivatives of derivatives,
        ``autograd.grad`` is usually handier (it leaves ``.grad`` alone).

        All or nothing: if a rule raises, or a gradient would not be one finite number (inf,
        nan: a named error, as on the forward pass), no leaf's gradient has changed.
        """
        if not (create_graph and isinstance(grad, Value)):
            grad = _as_float(grad, "backward's grad")
        with _backward_lock:
            leaves = []
            ops = _order(self, False, leaves)
            saved = [(node, node.grad) for node in (*leaves, self)]
            try:
                _chain_rule(self, grad, ops, create_graph, leaves)
            except BaseException as error:
                for node, g in saved:
                    node.grad = g
                for node in ops:
                    node.grad = 0.0
                if isinstance(error, Exception):
                    error.add_note("backward() stopped; no gradient was changed by this call")
                raise

    def zero_grad(self):
        """Set ``grad`` to 0.0 on this node and every node it was computed from."""
        for node in self.topological_order():
            node.grad = 0.0

    # -- copies: iterative, as everything else here, so deep graphs copy too --

    def __copy__(self):
        """A shallow copy: a new node with this one's data, grad, label, op and parents."""
        twin = _new(Value)
        twin.data, twin.grad, twin.label = self.data, self.grad, self.label
        twin._op, twin._x, twin._y = self._op, self._x, self._y
        return twin

    def __deepcopy__(self, memo):
        for node in self.topological_order():
            if id(node) not in memo:
                twin = node.__copy__()
                twin._x, twin._y = (None if p is None else memo[id(p)] for p in (node._x, node._y))
                memo[id(node)] = twin
        return memo[id(self)]

    def __reduce_ex__(self, protocol):
        raise TypeError("a Value graph cannot be pickled (pickle runs code on load); save the "
                        "numbers you need, e.g. [v.data for v in params], with json or numpy, "
                        "or use copy.deepcopy for a copy in memory")

    # -- seeing the graph: the functions of autograd.draw and autograd.explore, this Value as
    # their ``root`` (docs/engine.md shows what each gives) --

    to_dot = drawing.to_dot
    to_text = drawing.to_text
    draw = drawing.draw
    save_svg = drawing.save_svg
    show = drawing.show
    explore = explorer.explore
    to_html = explorer.to_html


Node = Value
_REFLECTED = {"add": "__radd__", "subtract": "__rsub__", "multiply": "__rmul__",  # numpy's names
              "power": "__rpow__", "divide": "__rtruediv__", "true_divide": "__rtruediv__"}


def _constant(x):
    """A plain number (or a Value, returned as it is) as a constant leaf."""
    if isinstance(x, Value):
        return x
    c = _new(Value)
    c.data = x if type(x) is float else _as_float(x, "an operand")
    c.grad, c.label, c._op, c._x, c._y = 0.0, None, _CONSTANT, None, None
    return c


def _binary(op, x, y):
    return _node(op, op.on_floats(x.data, y.data), x, y)


def _node(op, data, x, y):
    """The op's output node, with parents x and y (None for a unary op)."""
    if data - data:  # inf - inf and nan - nan are nan (true), a finite x - x is 0.0 (false)
        _not_finite(f"op {op.name!r} of ({x.data!r}{'' if y is None else f', {y.data!r}'})", data)
    mode = _grad_mode.mode
    if mode is True:
        out = _new(Value)
        # Three names at a time: Python swaps up to three values on its stack, while a
        # longer unpacking builds a tuple first.
        out.data, out.grad, out.label = data, 0.0, None
        out._op, out._x, out._y = op, x, y
        return out
    if mode is False:
        return Value(data)
    return _derivative_node(op, data, x, y, mode)


def _not_finite(what, number):
    kind = OverflowError if number == number else ValueError
    raise kind(f"{what} gives {number!r}, not a finite number"
               + (": the result overflows a float" if kind is OverflowError else ""))


def _share_key(op, x, y):
    """What makes two nodes the same: the op, and its inputs by identity (constants by
    value); for an op that commutes (x + y, x * y) the order of the inputs does not count."""
    kx = ("c", x.data) if x._op is _CONSTANT else id(x)
    if y is None:
        return (op.name, kx)
    ky = ("c", y.data) if y._op is _CONSTANT else id(y)
    return (op.name, frozenset((kx, ky))) if op.commutes else (op.name, kx, ky)


def _derivative_node(op, data, x, y, shared):
    """A node built while back-propagating with create_graph=True, kept small.

    Derivative graphs grow fast (each order differentiates the last).  Two things keep them
    in check: what needs no graph is folded (an op on constants is a constant; an op with its
    row's ``identity`` on the right, or on either side if it ``commutes``, is the other
    input: x * 1, x + 0, x - 0, x / 1; its ``absorbing`` number on either side is that
    number: x * 0 is 0), and a node that already exists (the same op on the same inputs, in
    the graph being differentiated or built earlier in this pass) is used again.
    """
    x_const = x._op is _CONSTANT
    y_const = y is None or y._op is _CONSTANT
    if x_const and y_const:
        return _constant(data)
    if y is not None:
        a, b = x.data if x_const else None, y.data if y_const else None
        zero, unit = op.absorbing, op.identity
        if zero is not None and zero in (a, b):
            return _constant(zero)
        if unit is not None and (b == unit or op.commutes and a == unit):
            return x if b == unit else y
    key = _share_key(op, x, y)
    if key not in shared:
        out = _new(Value)
        out.data, out.grad, out.label, out._op, out._x, out._y = data, 0.0, None, op, x, y
        shared[key] = out
    return shared[key]


def _order(root, leaves, leaf_list=None):
    """Every node ``root`` depends on, each after its parents; leaves too if ``leaves``.

    Depth-first with an explicit stack instead of recursion, so a chain of a million nodes
    needs no deep Python stack.  Each node is expanded once: it goes back on the stack under
    a ``None`` marker and its parents go on top (second parent first, so the first comes off
    first, as in a recursive walk); when the marker comes up again, all its parents are in
    ``order``, so the node follows.  Skipped leaves are appended to ``leaf_list`` when one is
    given, once each (constants, which get no gradient, are not: a chain of ``x * 2`` would
    otherwise list one per node).
    """
    order, visited = [], set()
    stack = [root] if leaves or root._x is not None else []
    while stack:
        node = stack.pop()
        if node is None:
            order.append(stack.pop())
        elif node not in visited:
            visited.add(node)
            stack.append(node)
            stack.append(None)
            for p in (node._y, node._x):
                if p is None:
                    continue
                if p._x is not None or leaves:
                    if p not in visited:
                        stack.append(p)
                elif leaf_list is not None and p._op is not _CONSTANT and p not in visited:
                    visited.add(p)
                    leaf_list.append(p)
    return order


def _chain_rule(root, grad, ops, graph, results):
    """Add d(root)/d(node) * grad to every node's ``grad``; ``ops`` is root's op nodes in
    topological order.  With ``graph`` (create_graph) the rules get Values and build a graph,
    each result checked; on floats the ``results`` (nodes) are checked once at the end."""
    if not isinstance(grad, Value) and grad - grad:
        raise ValueError(f"the upstream gradient {grad!r} is not finite")
    for node in ops:
        node.grad = 0.0
    root.grad += grad
    previous = _grad_mode.mode
    if graph:  # the nodes of the graph being differentiated can be shared
        _grad_mode.mode = {_share_key(n._op, n._x, n._y): n for n in ops}
    try:
        constant = _CONSTANT
        if graph:  # the rules get the Values themselves, record what they compute, and are checked
            for node in reversed(ops):
                x, y, g = node._x, node._y, node.grad
                if x._op is not constant:
                    x.grad += _gradient(node, 0, g)
                if y is not None and y._op is not constant:
                    y.grad += _gradient(node, 1, g)
        else:  # floats: the same walk, without building anything (checked at the end)
            for node in reversed(ops):  # outputs first: a node's grad is complete when reached
                x, y, rules, g = node._x, node._y, node._op.backward, node.grad
                if y is not None:
                    out, xd, yd = node.data, x.data, y.data
                    if x._op is not constant:
                        x.grad += rules[0](g, out, xd, yd)
                    if y._op is not constant:
                        y.grad += rules[1](g, out, xd, yd)
                elif x._op is not constant:
                    x.grad += rules[0](g, node.data, x.data)
    except Exception as error:
        if isinstance(error, TypeError) and not graph:
            _blame([node])  # a rule returned something that is not a number: say which
        error.add_note(f"while back-propagating through op {node.op!r} at "
                       f"{', '.join(repr(p.data) for p in node.parents)} (upstream grad {g!r})")
        raise
    finally:
        _grad_mode.mode = previous
    if not graph:
        _check_gradients(results, ops)


def _gradient(node, i, g):
    """dL/d(parent i) by the rule of ``node``'s op, checked: one finite number, or a Value
    on a pass that builds a graph (there the rules get the Values themselves)."""
    op, graph = node._op, type(_grad_mode.mode) is dict
    args = (node, *node.parents)
    grad = op.backward[i](g, *(args if graph else [v.data for v in args]))
    if graph and isinstance(grad, Value):
        return grad
    where = (f"op {op.name!r}: backward[{i}] at ({', '.join(repr(p.data) for p in node.parents)}"
             f") with upstream grad {getattr(g, 'data', g)!r}")
    try:
        grad = grad if type(grad) is float else _as_float(grad)
    except TypeError:
        raise TypeError(f"{where} returned {type(grad).__name__} {grad!r:.60}; a rule must "
                        f"return one number, the gradient for input {i}") from None
    if grad - grad:
        _not_finite(where, grad)
    return grad


def _blame(ops):
    """Run the rules of ``ops`` again, outputs first, each checked (the first wrong one raises)."""
    for node in reversed(ops):
        for i, parent in enumerate(node.parents):
            if parent._op is not _CONSTANT:
                _gradient(node, i, node.grad)


def _check_gradients(nodes, ops):
    """After a float pass each of ``nodes`` must hold one finite float (one check, not per rule)."""
    for node in nodes:
        g = node.grad
        if type(g) is not float:  # a numpy number from a user's rule, or no number (nan)
            node.grad = g = float(g) if isinstance(g, numbers.Real) else float("nan")
        if g - g:
            _blame(ops)  # raises unless each rule returned one finite number
            _not_finite(f"the sum of the gradients reaching {node!r}", g)


def grad(output, inputs, grad_output=1.0, create_graph=False):
    """d(output)/d(input) for each of ``inputs``, leaving every ``.grad`` as it was.

    ``inputs`` is a Value or a list of Values; the result is one gradient or a list.
    An input the output does not depend on gets 0, never None.  With
    ``create_graph=True`` the gradients are Values recorded as a graph, so they can
    be differentiated again: ``grad(grad(y, x, create_graph=True), x)`` is y''.
    """
    single = isinstance(inputs, Value) or not hasattr(inputs, "__iter__")
    inputs = [inputs] if single else list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"grad: {'inputs' if single else f'inputs[{i}]'} is "
                            f"{type(x).__name__}, not a Value: pass a Value or a list of Values")
    if not isinstance(output, Value):
        raise TypeError(f"grad: output is {type(output).__name__}, not a Value")
    if not (create_graph and isinstance(grad_output, Value)):
        grad_output = _as_float(grad_output, "grad's grad_output")
    with _backward_lock:
        order = output.topological_order()
        saved = [(node, node.grad) for node in (*order, *inputs)]
        try:
            for node, _ in saved:  # an input the output does not depend on keeps this 0
                node.grad = 0.0
            ops = [n for n in order if n._x is not None]
            _chain_rule(output, grad_output, ops, create_graph, order)
            result = [0.0 if x._op is _CONSTANT else x.grad for x in inputs]
        finally:
            for node, g in saved:
                node.grad = g
    if create_graph:
        result = [_constant(r) for r in result]  # a Value stays as it is
    return result[0] if single else result


def graph_size(root):
    """The number of op nodes ``root`` depends on (itself included; leaves and constants not)."""
    return len(_order(root, False))
