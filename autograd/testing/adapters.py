"""Every function under test as one problem: a point (a list of float64 arrays, the
"slots"), one run of the rule in the caller's dtype (with its manners checked: no mutation,
no aliasing, dtype and shapes kept), and float64 evaluations at shifted points.

Three adapters: ``Values`` (a function of Values, or a scalar row on floats), ``Arrays``
(a row on arrays, or a pair ``(forward, vjp)``) and ``Layer`` (``forward``/``backward``,
its parameters ``W`` with gradients ``dW`` added to the slots).  Arrays and layers share
everything but ``at``, which runs them at given slot values.
"""
import copy

import numpy as np

from ..engine import Value, grad
from ..ops import Op
from .core import EPS, norm
from .kinks import kink_signature


class Failure(AssertionError):
    """A rule's manners (mutation, aliasing, dtype, shape), found before any number."""


def primary(out):
    """The output that is differentiated: the first of a tuple (softmax_cross_entropy
    returns (loss, y) and its rule reads y)."""
    return out[0] if isinstance(out, tuple) else out


def snapshot(a):
    return np.array(a, copy=True) if isinstance(a, np.ndarray) else copy.deepcopy(a)


def same(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and a.tobytes() == b.tobytes()
    try:
        return bool(np.all(np.asarray(a) == np.asarray(b))) or (a != a and b != b)
    except (TypeError, ValueError):
        return True


def float_array(a):
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def dtype_of(a):
    return np.asarray(a).dtype if np.asarray(a).dtype.kind == "f" else np.dtype(np.float64)


def as_tuple(grads):
    return grads if isinstance(grads, (tuple, list)) else (grads,)


def copy_state(layer, dtype=None):
    """A copy of ``layer`` with new arrays (floats cast to ``dtype`` if given) and its other
    attributes deep-copied (a Generator keeps its state), or shared where they cannot be
    copied (the ``numpy.random`` module, Dropout's default rng)."""
    twin = copy.copy(layer)
    for name, a in vars(layer).items():
        if isinstance(a, np.ndarray):
            a = a.astype(dtype) if dtype is not None and a.dtype.kind == "f" else a.copy()
        else:
            try:
                a = copy.deepcopy(a)
            except (TypeError, copy.Error):
                pass
        setattr(twin, name, a)
    return twin


def hygiene(who, names, inputs, before, g, g_before, out, out_before, grads, keep=()):
    """The rule's manners: nothing mutated, gradients new arrays shaped and typed like
    their inputs.  ``grads`` pairs (name, input, gradient)."""
    for name, a, b in zip(names, inputs, before):
        if not same(a, b):
            raise Failure(f"{who} changed its input {name} in place; a rule must leave the "
                          f"inputs alone (compute into a new array)")
    if not same(g, g_before):
        raise Failure(f"{who} changed the upstream gradient (dout) in place, as the book's "
                      f"Relu.backward does with dout[mask] = 0; use e.g. dout * mask")
    if not same(primary(out), primary(out_before)):
        raise Failure(f"{who}'s backward changed the forward output in place")
    arrays = [a for a in list(inputs) + list(keep) + [primary(out)] if isinstance(a, np.ndarray)]
    for name, x, dx in grads:
        if dx is None:
            continue
        if np.shape(dx) != np.shape(x):
            raise Failure(f"{who}: the gradient for {name} has shape {np.shape(dx)}, but "
                          f"{name} has shape {np.shape(x)}")
        if float_array(np.asarray(x)) and np.asarray(dx).dtype != np.asarray(x).dtype:
            raise Failure(f"{who}: the gradient for {name} is {np.asarray(dx).dtype}, but "
                          f"{name} is {np.asarray(x).dtype}; keep the input's dtype (a float64 "
                          f"constant such as np.ones(shape) or np.float64(...) promotes float32)")
        if isinstance(dx, np.ndarray) and any(np.shares_memory(dx, a) for a in arrays):
            raise Failure(f"{who}: the gradient for {name} shares memory with an input or the "
                          f"output (an alias); return a new array, or the caller's update "
                          f"dx -= ... would change the input too")


def size(v, arrays, out):
    """The size of the terms an array function and its vjp add up, unseen from outside:
    |v| times the largest input, parameter or output (at least 1).  Where a gradient is far
    smaller (softmax's y - t where y ~ t), rounding is all that is left of it."""
    big = max([1.0] + [float(np.max(np.abs(a))) for a in list(arrays) + [out]
                       if float_array(np.asarray(a)) and np.size(a)])
    return norm([v]) * big


def jiggle(x, rng):
    """x with each value moved by one relative epsilon of its dtype, up or down at random:
    how much the rule's result moves then shows how much rounding inside it can move it."""
    if not float_array(x):
        return x
    return x + x * (np.finfo(x.dtype).eps * rng.choice([-1.0, 1.0], x.shape)).astype(x.dtype)


class Values:
    """A function of Values returning one Value; the point is one float per input."""

    kind = "values"

    def __init__(self, f, inputs):
        self.f, self.who = f, None
        self.names = [getattr(x, "label", None) or f"inputs[{i}]" for i, x in enumerate(inputs)]
        self.point = [np.float64(float(x)) for x in inputs]
        self.dtype = np.dtype(np.float64)

    def output(self, xs):
        vals = [Value(float(x), label=name) for x, name in zip(xs, self.names)]
        out = self.f(*vals)
        if not isinstance(out, Value):
            raise TypeError(f"check_grads: the function must return a Value, got "
                            f"{type(out).__name__}; build its result from the input Values")
        return vals, out

    def run(self):
        self.vals, self.out = self.output(self.point)
        return self.out.data

    def backprop(self, v):
        # The sizes of the terms the forward and backward passes add up: their rounding
        # (eps times these) is what cancellation leaves, e.g. in x / relu(x) = 1.
        _, out = self.output(self.point)
        out.backward(float(v))
        nodes = out.topological_order()
        self.forward_size = abs(float(v)) * sum(abs(n.data) for n in nodes)
        self.backward_size = sum(abs(float(n.grad)) for n in nodes)
        return [np.float64(d) for d in grad(self.out, self.vals, grad_output=float(v))]

    def shifted(self, shifts):
        return self.output([x + s for x, s in zip(self.point, shifts)])

    def phi(self, shifts, v):
        _, out = self.shifted(shifts)
        return float(v) * out.data, abs(float(v) * out.data), kink_signature(out)

    def grads64(self, shifts, v):
        vals, out = self.shifted(shifts)
        return [np.float64(d) for d in grad(out, vals, grad_output=float(v))], kink_signature(out)

    def second(self, v, u, w):
        """w . H u for H the Hessian of v * f, by back-propagating through the backward pass
        (create_graph); and its rounding bound, 16 eps times the sizes of that graph's terms."""
        vals, out = self.output(self.point)
        d1 = grad(out, vals, grad_output=float(v), create_graph=True)
        r = sum((d * float(ui) for d, ui in zip(d1, u)), Value(0.0))
        r.backward()
        terms = sum(abs(n.data) + abs(float(n.grad)) for n in r.topological_order())
        return dot_floats(grad(r, vals), w), 16 * EPS * terms

    def text(self, v=1.0):
        """The graph at the point, after back-propagating ``v`` with the rules under test."""
        _, out = self.output(self.point)
        try:
            out.backward(float(v))
        except Exception:  # a broken rule may raise: the graph shows without gradients
            pass
        return out.to_text(max_lines=40)


def dot_floats(a, b):
    return float(sum(float(x) * float(y) for x, y in zip(a, b)))


class ArrayProblem:
    """What arrays and layers share: the numerical side, through ``at(slot values, wide)``
    -> (output, vjp) where vjp(v) gives the slots' gradients (``wide``: in float64)."""

    kind = "arrays"

    def check_output(self, inputs, out):
        floats = {np.asarray(x).dtype for x in inputs}
        if len(floats) == 1 and np.asarray(primary(out)).dtype != next(iter(floats)):
            raise Failure(f"{self.who}: float {next(iter(floats))} input gave a "
                          f"{np.asarray(primary(out)).dtype} output; keep the inputs' dtype")

    def shifted(self, shifts):
        return self.at([x + s for x, s in zip(self.point, shifts)], wide=True)

    def phi(self, shifts, v):
        out, _ = self.shifted(shifts)
        prod = np.asarray(v, np.float64) * np.asarray(primary(out), np.float64)
        return float(np.sum(prod)), float(np.sum(np.abs(prod))), ()

    def grads64(self, shifts, v):
        _, vjp = self.shifted(shifts)
        v = np.asarray(v, np.float64)
        return [np.asarray(g, np.float64) for g in vjp(v if v.ndim else float(v))], ()

    def jiggled(self, rng, v):
        """The rule's gradients, in its dtype, at its slots moved by about one eps each."""
        _, vjp = self.at([jiggle(np.asarray(x), rng) for x in self.native], wide=False)
        return [np.asarray(g, np.float64) for g in vjp(v)]


class Arrays(ArrayProblem):
    """forward(*inputs, **params) -> array (or a tuple, the output first);
    vjp(g, out, *inputs, **params) -> one gradient per input (None: not checked)."""

    def __init__(self, who, forward, vjp, inputs, params, differentiable):
        self.who, self.forward, self.vjp = who, forward, vjp
        self.inputs, self.params = list(inputs), dict(params)
        self.input_names = [f"input {i}" for i in range(len(inputs))]
        self.slots = [i for i, (x, d) in enumerate(zip(inputs, differentiable))
                      if d and float_array(np.asarray(x))]
        if not self.slots:
            raise ValueError(f"check_grads({who}): no input is a float array to differentiate")
        self.names = [self.input_names[i] for i in self.slots]
        self.native = [self.inputs[i] for i in self.slots]
        self.point = [np.asarray(x, np.float64) for x in self.native]
        self.dtype = dtype_of(self.native[0])

    def grads(self, g, out, xs):
        grads = as_tuple(self.vjp(g, out, *xs, **self.params))
        if len(grads) != len(xs):
            raise Failure(f"{self.who}: the vjp returned {len(grads)} gradient(s) for "
                          f"{len(xs)} input(s)")
        return grads

    def at(self, values, wide):
        xs = list(self.inputs)
        for i, x in zip(self.slots, values):
            xs[i] = x
        out = self.forward(*xs, **self.params)
        return out, lambda g: [self.grads(g, out, xs)[i] for i in self.slots]

    def run(self):
        self.before = [snapshot(x) for x in self.inputs]
        self.out = self.forward(*self.inputs, **self.params)
        self.check_output([self.inputs[i] for i in self.slots], self.out)
        return primary(self.out)

    def backprop(self, v):
        g_before, out_before = snapshot(v), snapshot(primary(self.out))
        grads = self.grads(v, self.out, self.inputs)
        hygiene(self.who, self.input_names, self.inputs, self.before, v, g_before, self.out,
                out_before, list(zip(self.input_names, self.inputs, grads)))
        missing = [self.input_names[i] for i in self.slots if grads[i] is None]
        if missing:
            raise Failure(f"{self.who}: no gradient for {', '.join(missing)}")
        self.forward_size = self.backward_size = size(v, self.inputs, primary(self.out))
        return [np.asarray(grads[i], np.float64) for i in self.slots]


class Layer(ArrayProblem):
    """A layer: forward(*inputs, **params) keeps state, backward(dout) returns dx (or a
    tuple, one per input) and leaves each parameter's gradient in ``d<name>``.  Numpy's
    global random state is reset before every forward, so a Dropout mask is the same in all."""

    def __init__(self, layer, inputs, params, wrt):
        self.layer, self.inputs, self.params, self.wrt = layer, list(inputs), dict(params), wrt
        self.who = type(layer).__name__
        self.pristine = copy_state(layer)  # every copy for the numerical side starts from this
        self.rng_state = np.random.get_state()

    def run(self):
        self.before = [snapshot(x) for x in self.inputs]
        np.random.set_state(self.rng_state)
        self.out = self.layer.forward(*self.inputs, **self.params)
        self.rng_after = np.random.get_state()
        self.check_output([x for x in self.inputs if float_array(np.asarray(x))], self.out)
        return primary(self.out)

    def backprop(self, v):
        g_before, out_before = snapshot(v), snapshot(primary(self.out))
        params_before = {n: snapshot(a) for n, a in vars(self.layer).items() if float_array(a)}
        dxs = as_tuple(self.layer.backward(v))
        if len(dxs) != len(self.inputs):
            raise Failure(f"{self.who}.backward returned {len(dxs)} gradient(s) for "
                          f"{len(self.inputs)} input(s)")
        layer = self.layer
        self.param_names = list(self.wrt) if self.wrt is not None else [
            n for n, a in vars(layer).items() if float_array(a)
            and isinstance(getattr(layer, "d" + n, None), np.ndarray)
            and getattr(layer, "d" + n).shape == a.shape]
        for name in self.param_names:
            if not same(getattr(layer, name), params_before.get(name)):
                raise Failure(f"{self.who}.backward changed its parameter {name}")
        keep = [getattr(layer, n) for n in self.param_names]
        pgrads = [getattr(layer, "d" + n) for n in self.param_names]
        names = [f"input {i}" for i in range(len(self.inputs))]
        hygiene(self.who, names, self.inputs, self.before, v, g_before, self.out, out_before,
                list(zip(names, self.inputs, dxs)) + list(zip(self.param_names, keep, pgrads)),
                keep=keep)
        self.slots = [i for i, d in enumerate(dxs)
                      if d is not None and float_array(np.asarray(self.inputs[i]))]
        self.names = [names[i] for i in self.slots] + self.param_names
        if not self.names:
            raise ValueError(f"check_grads({self.who}): nothing to differentiate")
        self.native = [self.inputs[i] for i in self.slots] + keep
        self.point = [np.asarray(a, np.float64) for a in self.native]
        self.dtype = dtype_of(self.native[0])
        self.forward_size = self.backward_size = size(v, self.inputs + keep, primary(self.out))
        return [np.asarray(g, np.float64) for g in [dxs[i] for i in self.slots] + pgrads]

    def at(self, values, wide):
        twin = copy_state(self.pristine, np.float64 if wide else None)
        k = len(self.slots)
        for name, a in zip(self.param_names, values[k:]):
            setattr(twin, name, a)
        xs = list(self.inputs)
        for i, x in zip(self.slots, values):
            xs[i] = x
        np.random.set_state(self.rng_state)
        try:
            out = twin.forward(*xs, **self.params)
        finally:
            np.random.set_state(self.rng_after)

        def vjp(g):
            dxs = as_tuple(twin.backward(g))
            return [dxs[i] for i in self.slots] + [getattr(twin, "d" + n) for n in self.param_names]
        return out, vjp


def problem(f, inputs, params, wrt):
    """The adapter for ``f``; see ``check_grads`` for what ``f`` may be."""
    arrays = any(isinstance(x, np.ndarray) for x in inputs)
    if isinstance(f, Op):
        if not arrays and f.scalar:
            if params:
                raise TypeError(f"check_grads: op {f.name!r} on Values takes no params")
            return Values(f, inputs)
        return Arrays(f"op {f.name!r}", f.forward, f.vjp, inputs, params or {},
                      [r is not None for r in f.backward])
    if isinstance(f, tuple) and len(f) == 2 and all(map(callable, f)):
        return Arrays(getattr(f[0], "__name__", "forward"), f[0], f[1], inputs, params or {},
                      [True] * len(inputs))
    if callable(getattr(f, "forward", None)) and callable(getattr(f, "backward", None)):
        return Layer(f, inputs, params or {}, wrt)
    if callable(f) and not arrays:
        if params:
            raise TypeError("check_grads: a function of Values takes no params")
        return Values(f, inputs)
    raise TypeError(
        "check_grads: give a function of Values (with Value or float inputs), an op of the "
        "table, a pair (forward, vjp) with vjp(g, out, *inputs) -> gradients, or a layer "
        f"with forward and backward; got {f!r:.80} with inputs of types "
        f"{[type(x).__name__ for x in inputs]}")
