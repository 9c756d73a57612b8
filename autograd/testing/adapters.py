"""Every function under test as one problem on a flat float64 vector ``x``, its
differentiable inputs (the "slots") raveled, as HIPS autograd does.  ``backprop`` runs the
rule once in the caller's dtype and checks its manners; ``along`` gives the numerical
side v . f or the rule's v . J . a along a line through ``x``."""
import contextlib
import copy

import numpy as np

from ..engine import Value, grad
from ..ops import Op
from .core import EPS, GradcheckError, LeftOut, norm, smooth_derivative
from .kinks import kink_signature


class Failure(GradcheckError):
    """A rule's manners (mutation, aliasing, dtype, shape), found before any number."""

    def __str__(self):
        return f"check_grads: {self.args[0]}"


def primary(out):
    """The output differentiated: the first of a tuple (softmax_cross_entropy's (loss, y))."""
    return out[0] if isinstance(out, tuple) else out


def float_array(a):
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def returns_value(out, who):
    if not isinstance(out, Value):
        raise TypeError(f"{who} must return a Value, got {type(out).__name__}; build its "
                        f"result from the input Values")
    return out


class Problem:
    """The flat view; a kind defines ``at(slot arrays)`` -> (output, vjp, kink
    signature) and ``backprop(upstream, rng)``, which sets ``v`` (upstream, else random)
    and the sizes of the terms the rule adds up (eps times these: what cancellation leaves)."""

    def start(self, native, names, dtype):
        self.native, self.names, self.dtype = native, names, np.dtype(dtype)
        self.shapes = [np.shape(a) for a in native]
        self.x = self.flat(native)

    def flat(self, arrays):
        return np.concatenate([np.ravel(np.asarray(a, np.float64)) for a in arrays])

    def split(self, x):
        ends = np.cumsum([int(np.prod(s)) for s in self.shapes])
        return [p.reshape(s) for p, s in zip(np.split(x, ends[:-1]), self.shapes)]

    def upstream(self, out, v, rng):
        dtype = np.asarray(out).dtype if float_array(np.asarray(out)) else np.float64
        self.v = v if v is not None else np.asarray(rng.standard_normal(np.shape(out)), dtype)[()]
        return self.v

    def along(self, u, a=None):
        """t -> (phi, the size of its terms, kink signature) at x + t u, with phi = v . f,
        or given ``a`` the rule's v . J . a; a domain error made LeftOut."""
        v = np.asarray(self.v, np.float64)

        def phi(t):
            try:
                out, vjp, sig = self.at(self.split(self.x + t * u))
                terms = (v * np.asarray(out, np.float64) if a is None else
                         a * self.flat(vjp(v if v.ndim else float(v))))
            except (ArithmeticError, ValueError) as error:
                raise LeftOut(f"f is not defined within the step: {error}") from None
            return float(np.sum(terms)), float(np.sum(np.abs(terms))), sig
        return phi

    def second(self, u, w, h, atol, noise):
        """u.D_w(grad).w, the other order, by differences of the vjp (a Hessian is
        symmetric), and its error and rounding."""
        analytic, err, rounding, _ = smooth_derivative(self.along(u, w), h, atol, noise)
        return analytic, err + rounding


class Values(Problem):
    """A function of Values returning one Value; one slot per input."""

    second_by = "w.H.u by autograd.grad(create_graph)"

    def __init__(self, f, inputs, params=None):
        if params:
            raise TypeError("check_grads: a function of Values takes no params")
        self.f = f
        self.start([np.float64(float(x)) for x in inputs],
                   [getattr(x, "label", None) or f"inputs[{i}]" for i, x in enumerate(inputs)],
                   np.float64)

    def output(self, xs):
        vals = [Value(float(x), label=name) for x, name in zip(xs, self.names)]
        return vals, returns_value(self.f(*vals), "check_grads: the function")

    def at(self, xs):
        vals, out = self.output(xs)
        return out.data, lambda g: grad(out, vals, grad_output=float(g)), kink_signature(out)

    def backprop(self, upstream, rng):
        vals, out = self.output(self.native)
        out.backward(float(self.upstream(out.data, upstream, rng)))
        nodes = out.topological_order()  # x / relu(x) = 1 cancels terms of these sizes
        self.forward_size = abs(float(self.v)) * sum(abs(n.data) for n in nodes)
        self.backward_size = sum(abs(float(n.grad)) for n in nodes)
        return self.flat([x.grad for x in vals])

    def second(self, u, w, *_):
        """w . H u (H: the Hessian of v * f) by back-propagating through the backward pass,
        and its rounding bound, 16 eps times the sizes of that graph's terms."""
        vals, out = self.output(self.native)
        d1 = grad(out, vals, grad_output=float(self.v), create_graph=True)
        r = sum((d * float(ui) for d, ui in zip(d1, u)), Value(0.0))
        r.backward()
        terms = sum(abs(n.data) + abs(float(n.grad)) for n in r.topological_order())
        return float(np.dot([float(h) for h in grad(r, vals)], w)), 16 * EPS * terms

    def text(self):
        """The graph at the point, after back-propagating ``v`` with the rules under test
        (without gradients where a rule raises)."""
        _, out = self.output(self.native)
        with contextlib.suppress(Exception):
            out.backward(float(self.v))
        return out.to_text(max_lines=40)


class Arrays(Problem):
    """forward(*inputs, **params) -> array (or a tuple, the output first);
    vjp(g, out, *inputs, **params) -> one gradient per input (None: not checked)."""

    second_by = "u.D_w(grad).w: the other order, by differences of the vjp"

    def __init__(self, who, forward, vjp, inputs, params, differentiable, names=None,
                 optional=False):  # optional: a gradient of None drops its input
        self.who, self.forward, self.vjp, self.inputs, self.params, self.optional = (
            who, forward, vjp, list(inputs), params, optional)
        self.all_names = names or [f"input {i}" for i in range(len(inputs))]
        self.slots = [i for i, (x, d) in enumerate(zip(inputs, differentiable))
                      if d and float_array(np.asarray(x))]
        if not self.slots:
            raise ValueError(f"check_grads({who}): no input is a float array to differentiate")
        self.start()

    def start(self):
        native = [self.inputs[i] for i in self.slots]
        super().start(native, [self.all_names[i] for i in self.slots], native[0].dtype)

    def at(self, values):
        placed = dict(zip(self.slots, values))
        xs = [placed.get(i, x) for i, x in enumerate(self.inputs)]
        out = self.forward(*xs, **self.params)
        return primary(out), lambda g: [self.grads(g, out, xs)[i] for i in self.slots], ()

    def grads(self, g, out, xs):
        grads = self.vjp(g, out, *xs, **self.params)
        grads = tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)
        if len(grads) != len(xs):
            raise Failure(f"{self.who}: the vjp returned {len(grads)} gradient(s) for "
                          f"{len(xs)} input(s) ({', '.join(self.all_names)})")
        return grads

    def backprop(self, upstream, rng):
        who, before = self.who, [np.array(x, copy=True) for x in self.inputs]
        full = self.forward(*self.inputs, **self.params)
        out = primary(full)
        if len({x.dtype for x in self.native}) == 1 and np.asarray(out).dtype != self.dtype:
            raise Failure(f"{who}: float {self.dtype} inputs gave a {np.asarray(out).dtype} "
                          f"output; keep the inputs' dtype")
        v = self.upstream(out, upstream, rng)
        v_before, out_before = np.array(v, copy=True), np.array(out, copy=True)
        grads = self.grads(v, full, self.inputs)
        watched = [(a, b, f"{who} changed its input {name} in place; a rule must leave the "
                          f"inputs alone (compute into a new array)")
                   for name, a, b in zip(self.all_names, self.inputs, before)] + [
            (v, v_before, f"{who} changed the upstream gradient (dout) in place, as the book's "
                          f"Relu.backward does with dout[mask] = 0; use e.g. dout * mask"),
            (out, out_before, f"{who}'s backward changed the forward output in place")]
        for a, b, text in watched:
            a = np.asarray(a)
            if a.shape != b.shape or a.dtype != b.dtype or a.tobytes() != b.tobytes():
                raise Failure(text)
        arrays = [a for a in self.inputs + [out] if isinstance(a, np.ndarray)]
        for name, x, dx in zip(self.all_names, self.inputs, grads):
            if dx is None:
                continue
            x, dx, is_array = np.asarray(x), np.asarray(dx), isinstance(dx, np.ndarray)
            if dx.shape != x.shape:
                raise Failure(f"{who}: the gradient for {name} has shape {dx.shape}, but {name} "
                              f"has shape {x.shape}")
            if x.dtype.kind == "f" and dx.dtype != x.dtype:
                raise Failure(f"{who}: the gradient for {name} is {dx.dtype}, but {name} is "
                              f"{x.dtype}; keep the input's dtype (a float64 constant such as "
                              f"np.ones(shape) promotes float32)")
            if is_array and any(np.shares_memory(dx, a) for a in arrays):
                raise Failure(f"{who}: the gradient for {name} shares memory with an input or "
                              f"the output (an alias); return a new array, or the caller's "
                              f"update dx -= ... would change the input too")
        missing = [self.all_names[i] for i in self.slots if grads[i] is None]
        if missing and not self.optional:
            raise Failure(f"{who}: no gradient for {', '.join(missing)}")
        self.slots = [i for i in self.slots if grads[i] is not None]
        self.start()
        # |v| times the largest input or output: the size of the terms the rule adds up,
        # unseen from outside (softmax's y - t where y ~ t is rounding only).
        big = max([1.0] + [float(np.max(np.abs(a))) for a in arrays if float_array(a) and a.size])
        self.forward_size = self.backward_size = norm(v) * big
        return self.flat([grads[i] for i in self.slots])


def copy_state(layer, dtype=None):
    """A copy of ``layer``: its float arrays cast to ``dtype``, other attributes deep copies
    (a Generator keeps its state) or shared if they cannot be (``numpy.random``)."""
    twin = copy.copy(layer)
    for name, a in vars(layer).items():
        with contextlib.suppress(TypeError, copy.Error):
            a = copy.deepcopy(a)
        setattr(twin, name, a.astype(dtype) if dtype is not None and float_array(a) else a)
    return twin


def layer_problem(layer, inputs, params, wrt):
    """forward(*inputs, **params) keeps state, backward(dout) returns dx (or one per input;
    None: not needed) and leaves each parameter's gradient in ``d<name>``.  The rule runs
    on the layer, the numerical side on float64 copies made before; numpy's global random
    state is reset before every forward, so a Dropout mask is the same in all."""
    wrt = list(wrt) if wrt is not None else [
        n for n, a in vars(layer).items() if float_array(a) and hasattr(layer, "d" + n)]
    k, arrays = len(inputs), [*inputs, *(getattr(layer, n) for n in wrt)]
    pristine, twin, state, after = copy_state(layer), layer, np.random.get_state(), None

    def forward(*xs, **params):
        nonlocal twin, after
        mine = all(a is b for a, b in zip(xs, arrays))  # the rule's own run, on the layer
        twin = layer if mine else copy_state(pristine, np.float64)
        for name, a in zip(wrt, xs[k:]):
            setattr(twin, name, a)
        np.random.set_state(state)
        try:
            return twin.forward(*xs[:k], **params)
        finally:
            after = after or np.random.get_state()
            np.random.set_state(after)

    def vjp(g, out, *xs, **params):  # dx (or one per input), then the parameters' d<name>
        dxs = twin.backward(g)
        dxs = dxs if isinstance(dxs, tuple) else (dxs,)
        return dxs + tuple(getattr(twin, "d" + n) for n in wrt)
    return Arrays(type(layer).__name__, forward, vjp, arrays, params, [True] * len(arrays),
                  [f"input {i}" for i in range(k)] + wrt, optional=True)


def problem(f, inputs, params, wrt):
    """The adapter for ``f``; see ``check_grads`` for what ``f`` may be."""
    arrays = any(isinstance(x, np.ndarray) for x in inputs)
    if isinstance(f, Op) and (arrays or not f.scalar):
        return Arrays(f"op {f.name!r}", f.forward, f.vjp, inputs, params or {},
                      [r is not None for r in f.backward])
    if isinstance(f, tuple) and len(f) == 2 and all(map(callable, f)):
        return Arrays(getattr(f[0], "__name__", "forward"), f[0], f[1], inputs, params or {},
                      [True] * len(inputs))
    if callable(getattr(f, "forward", None)) and callable(getattr(f, "backward", None)):
        return layer_problem(f, inputs, params or {}, wrt)
    if callable(f) and not arrays:
        return Values(f, inputs, params)
    raise TypeError(
        "check_grads: give a function of Values (with Value or float inputs), an op of the "
        "table, a pair (forward, vjp) with vjp(g, out, *inputs) -> gradients, or a layer "
        f"with forward and backward; got {f!r:.80} with inputs of types "
        f"{[type(x).__name__ for x in inputs]}")
