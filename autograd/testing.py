"""Property tests for derivatives, yours included, without false alarms at kinks.

Four tools, for any function of Values, any row of the op table (``autograd.ops``),
any pair ``(forward, vjp)`` and any layer object with ``forward``/``backward``:

``check_grads(f, *inputs, order=1)``
    The directional check (方向微分): a random unit direction ``u`` over all inputs
    and a random upstream gradient ``v``; back-propagation's ``v . J u`` against a
    central difference of ``t -> v . f(x + t u)``, always computed in float64 (float32
    inputs are copied to float64 for it).  Seven evaluations of ``f`` per direction
    whatever the size of the inputs, where the element-by-element table
    (``autograd.gradcheck``, ``nn.gradient.numerical_gradient``) costs two per element.
    ``order=2`` also checks the derivative of the derivative.
``check_kink(op, *inputs)``
    At a point where a row is not differentiable, its rule must pick a subgradient:
    a number between the one-sided derivatives.
Hypothesis strategies
    ``floats_for``/``values_for``/``inputs_for``/``arrays_for`` draw inputs (floats,
    Values, tuples, arrays) in an op's safe domain,
    ``float_arrays`` and ``class_labels`` arrays and targets for layers and losses;
    ``graphs()`` draws random expression graphs from the op table (yours included).
``rule_test(op)``
    A ready pytest test for one row: first and second derivatives, the scalar engine
    against the array path, no mutation, no aliasing, dtype and shapes kept.

The numerical side
------------------
Along the line ``phi(t) = v . f(x + t u)`` (float64) the stencil evaluates ``phi`` at
t = 0, +-h/4, +-h/2, +-h (h = ``step`` = 1e-3).  With D(s) = (phi(s) - phi(-s)) / 2s,
the estimate is Richardson's R1 = (4 D(h/2) - D(h)) / 3 (error ~h**4) and
R2 = (4 D(h/4) - D(h/2)) / 3 beside it; |R1 - R2| estimates R1's error and is allowed
for.  Where phi does not look smooth at step h (below), the stencil is tried again at
h/10 and h/100: a smooth function's statistics shrink like h**3, a kink's only once the
step no longer reaches it, and rounding noise's grow (then the point is left out as
too flat to resolve in float64, e.g. a saturated tanh).  Backprop passes when

    |v.J.u - R1| <= rtol * |J^T v| + atol + |R1 - R2| + rounding

with ``rtol`` fitted to the dtype the rule ran in (``RTOL``: 1e-7 for float64, 1e-3
for float32, 3e-2 for float16).  ``rounding`` bounds what rounding can do: on the
numerical side eps |v . f| / h, on both sides eps (of the dtype) times the size of the
terms that cancel (of the graph's nodes for Values, else |v| times the largest input or
output): x / relu(x) = 1 and softmax's y - t where y ~ t are differences of big terms.

Kinks (折れ点): a kink within h of the point spoils any difference quotient (the
book's check fails for ~13% of seeds because of ReLU).  Such a point is left out and
counted in the result, never reported as a bug.  Known kinks are the rows' declared
``kinks`` (relu at 0): for functions of Values every node of a row with kinks is
watched, and a point where an input crosses or sits on a kink is left out.  Unknown
kinks show in ``phi`` itself: a slope that jumps makes R1 and R2 disagree, or the
one-sided differences at h/4 disagree by more than the curvature explains.

Safe domains
------------
The strategies draw |x| <= ``BOUND`` (3), inside the row's ``domain``, and at least
``MARGIN`` (0.1) away from every kink, pole and finite domain end: 100 steps of the
stencil, so the checks never straddle a declared kink at the inputs themselves.
A row's ``domain`` is ``(low, high)`` for every input, or one entry per input
(None: all reals; ``(low, high)``; or a tuple of such intervals, e.g. division's
denominator ``((-inf, 0), (0, inf))``).  ``kinks`` is a tuple of points for every
input, or one tuple per input.
"""
import copy
import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from .engine import Value, grad
from .numerical import GradcheckError
from .ops import OPS, Op

__all__ = ["check_grads", "check_kink", "CheckResult", "GradcheckError", "rule_test",
           "graphs", "Graph", "floats_for", "values_for", "inputs_for", "arrays_for", "safe_floats",
           "float_arrays", "class_labels",
           "input_domains", "input_kinks", "unit_direction", "close", "RTOL", "BOUND",
           "MARGIN", "STEP"]

BOUND = 3.0  # the strategies draw |x| <= BOUND
MARGIN = 0.1  # ... and keep this far from kinks, poles and domain ends
STEP = 1e-3  # the stencil's largest step h
RTOL = {np.dtype(np.float64): 1e-7, np.dtype(np.float32): 1e-3, np.dtype(np.float16): 3e-2}
_EPS = float(np.finfo(np.float64).eps)


def close(actual, expected, rtol=None, atol=None, dtype=np.float64):
    """Assert ``actual`` ~ ``expected`` elementwise: |a - e| <= atol + rtol * |e|, with
    ``rtol`` by default ``RTOL[dtype]``, the tolerance of a value computed once in
    ``dtype``, and ``atol`` by default ``rtol``."""
    rtol = RTOL[np.dtype(dtype)] if rtol is None else rtol
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol if atol is None else atol)


# -- domains and kinks, read from the rows --------------------------------------------

def _is_interval(d):
    return (isinstance(d, (tuple, list)) and len(d) == 2
            and all(isinstance(b, numbers.Real) for b in d))


def input_domains(op, domain=None):
    """Per input of ``op``: the tuple of open intervals (low, high) where it is defined.

    ``domain`` overrides the row's own; see the module docstring for the forms."""
    d = op.domain if domain is None else domain
    n = op.arity
    if d is None:
        return [((-math.inf, math.inf),)] * n
    if _is_interval(d):
        return [((float(d[0]), float(d[1])),)] * n
    if len(d) != n:
        raise ValueError(f"op {op.name!r}: domain {d!r} must be (low, high) or one entry per "
                         f"input ({n})")
    result = []
    for e in d:
        if e is None:
            result.append(((-math.inf, math.inf),))
        elif _is_interval(e):
            result.append(((float(e[0]), float(e[1])),))
        else:
            result.append(tuple((float(lo), float(hi)) for lo, hi in e))
    return result


def input_kinks(op, kinks=None):
    """Per input of ``op``: the points where it is not differentiable (a tuple)."""
    k = op.kinks if kinks is None else tuple(kinks)
    if all(isinstance(p, numbers.Real) for p in k):
        return [tuple(float(p) for p in k)] * op.arity
    if len(k) != op.arity:
        raise ValueError(f"op {op.name!r}: kinks {k!r} must be points, or one tuple per input")
    return [tuple(float(p) for p in e) for e in k]


def _safe_intervals(intervals, kinks, margin=MARGIN, bound=BOUND):
    """Closed pieces of ``intervals`` within [-bound, bound], ``margin`` from every end and kink."""
    pieces = []
    for lo, hi in intervals:
        a, b = max(lo + margin, -bound), min(hi - margin, bound)
        cuts = sorted(k for k in kinks if a - margin < k < b + margin)
        for k in cuts:
            if k - margin >= a:
                pieces.append((a, k - margin))
            a = max(a, k + margin)
        if a <= b:
            pieces.append((a, b))
    if not pieces:
        raise ValueError(f"no safe inputs in {intervals} within +-{bound}, {margin} away "
                         f"from the kinks {kinks}; pass a wider domain")
    return pieces


def safe_floats(intervals=((-math.inf, math.inf),), kinks=(), margin=MARGIN, bound=BOUND):
    """Hypothesis strategy: floats in the union of open ``intervals``, |x| <= ``bound``,
    at least ``margin`` from every finite end and every kink."""
    from hypothesis import strategies as st
    return st.one_of([st.floats(a, b, allow_nan=False) for a, b in
                      _safe_intervals(intervals, kinks, margin, bound)])


def floats_for(op, i, domain=None, kinks=None, margin=MARGIN, bound=BOUND):
    """Strategy: a safe float for input ``i`` of ``op`` (its domain and kinks by default)."""
    return safe_floats(input_domains(op, domain)[i], input_kinks(op, kinks)[i], margin, bound)


def values_for(op, i, domain=None, kinks=None, margin=MARGIN, bound=BOUND):
    """Strategy: a ``Value`` holding a safe float for input ``i`` of ``op``."""
    return floats_for(op, i, domain, kinks, margin, bound).map(Value)


def inputs_for(op, domain=None, kinks=None, margin=MARGIN, bound=BOUND):
    """Strategy: a tuple of safe floats, one per input of the scalar row ``op``."""
    from hypothesis import strategies as st
    return st.tuples(*[floats_for(op, i, domain, kinks, margin, bound) for i in range(op.arity)])


def arrays_for(op, i, shape, dtype=np.float64, domain=None, kinks=None, margin=MARGIN,
               bound=BOUND):
    """Strategy: an array of ``shape`` and ``dtype`` of safe values for input ``i`` of ``op``.

    Drawn in float64 and rounded to ``dtype`` (a float32 value moves by ~1e-7, far less
    than the margin)."""
    from hypothesis.extra import numpy as hnp
    return hnp.arrays(np.float64, shape, elements=floats_for(op, i, domain, kinks, margin, bound)
                      ).map(lambda a: a.astype(dtype))


def float_arrays(shape=None, dtype=np.float64, bound=BOUND, kinks=(), margin=0.0,
                 min_dims=1, max_dims=3, max_side=4):
    """Strategy: float arrays of ``shape`` (default: drawn, ``min_dims``..``max_dims``
    sides of 1..``max_side``) with values in [-bound, bound], ``margin`` from ``kinks``."""
    from hypothesis.extra import numpy as hnp
    if shape is None:
        shape = hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, max_side=max_side)
    elements = safe_floats(((-math.inf, math.inf),), kinks, margin, bound)
    return hnp.arrays(np.float64, shape, elements=elements).map(lambda a: a.astype(dtype))


def class_labels(n, classes, one_hot=False, dtype=np.float64):
    """Strategy: ``n`` class indices in [0, classes) as intp (N,), or one-hot rows (N, C)."""
    from hypothesis import strategies as st
    labels = st.lists(st.integers(0, classes - 1), min_size=n, max_size=n).map(
        lambda t: np.array(t, np.intp))
    return labels.map(lambda t: np.eye(classes, dtype=dtype)[t]) if one_hot else labels


# -- the result --------------------------------------------------------------------------

@dataclass
class CheckResult:
    """What ``check_grads`` did: directions compared, points left out and why."""

    checked: int = 0
    left_out: int = 0
    reasons: list = field(default_factory=list)  # one line per point left out
    worst: float = 0.0  # the largest |backprop - numerical| / tolerance seen (< 1 passes)

    def __bool__(self):
        return True  # a failure raises; a result means no disagreement was found

    def __str__(self):
        text = f"{self.checked} comparison(s), worst error {self.worst:.2g} of the tolerance"
        if self.left_out:
            text += f"; {self.left_out} left out: " + "; ".join(self.reasons)
        return text


# -- the functions under test, as "problems" ------------------------------------------
# A problem knows the point (float64 copies of the differentiable inputs, its "slots"),
# runs the function once in the caller's dtype with the rule under test (checking
# hygiene: no mutation, no aliasing, dtype, shapes), and evaluates v . f in float64
# at shifted points for the numerical side.

def _primary(out):
    """The output that is differentiated: the first element of a tuple (a row like
    softmax_cross_entropy returns (loss, y) and its rule reads y)."""
    return out[0] if isinstance(out, tuple) else out


def _snapshot(a):
    return np.array(a, copy=True) if isinstance(a, np.ndarray) else copy.deepcopy(a)


def _same(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and a.tobytes() == b.tobytes()
    try:
        return bool(np.all(np.asarray(a) == np.asarray(b))) or (a != a and b != b)
    except Exception:
        return True


def _float_array(a):
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def _dtype_of(a):
    return np.asarray(a).dtype if np.asarray(a).dtype.kind == "f" else np.dtype(np.float64)


class _Failure(AssertionError):
    pass


def _hygiene(who, names, inputs, before, g, g_before, out, out_before, grads, keep=()):
    """The rule's manners: nothing mutated, gradients new arrays shaped and typed like
    their inputs.  ``grads`` pairs (name, input, gradient)."""
    for name, a, b in zip(names, inputs, before):
        if not _same(a, b):
            raise _Failure(f"{who} changed its input {name} in place; a rule must leave the "
                           f"inputs alone (compute into a new array)")
    if not _same(g, g_before):
        raise _Failure(f"{who} changed the upstream gradient (dout) in place, as the book's "
                       f"Relu.backward does with dout[mask] = 0; use e.g. dout * mask")
    if not _same(_primary(out), _primary(out_before)):
        raise _Failure(f"{who}'s backward changed the forward output in place")
    arrays = [a for a in list(inputs) + list(keep) + [_primary(out)] if isinstance(a, np.ndarray)]
    for name, x, dx in grads:
        if dx is None:
            continue
        if np.shape(dx) != np.shape(x):
            raise _Failure(f"{who}: the gradient for {name} has shape {np.shape(dx)}, but "
                           f"{name} has shape {np.shape(x)}")
        if _float_array(np.asarray(x)) and np.asarray(dx).dtype != np.asarray(x).dtype:
            raise _Failure(f"{who}: the gradient for {name} is {np.asarray(dx).dtype}, but "
                           f"{name} is {np.asarray(x).dtype}; keep the input's dtype (a float64 "
                           f"constant such as np.ones(shape) or np.float64(...) promotes float32)")
        if isinstance(dx, np.ndarray) and any(np.shares_memory(dx, a) for a in arrays):
            raise _Failure(f"{who}: the gradient for {name} shares memory with an input or the "
                           f"output (an alias); return a new array, or the caller's update "
                           f"dx -= ... would change the input too")


class _Values:
    """A function of Values returning one Value; the point is one float per input."""

    kind = "values"

    def __init__(self, f, inputs):
        self.f = f
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
        # The sizes of the terms the forward and the backward pass add up: their rounding
        # (eps times these) is what cancellation leaves, e.g. in x / relu(x) = 1.
        _, out = self.output(self.point)
        out.backward(float(v))
        nodes = out.topological_order()
        self.forward_size = abs(float(v)) * sum(abs(n.data) for n in nodes)
        self.backward_size = sum(abs(float(n.grad)) for n in nodes)
        return [np.float64(d) for d in grad(self.out, self.vals, grad_output=float(v))]

    def phi(self, shifts, v):
        _, out = self.output([x + s for x, s in zip(self.point, shifts)])
        return float(v) * out.data, abs(float(v) * out.data), _kink_signature(out)

    def grads64(self, shifts, v):
        vals, out = self.output([x + s for x, s in zip(self.point, shifts)])
        return [np.float64(d) for d in grad(out, vals, grad_output=float(v))], _kink_signature(out)

    def second(self, v, u, w):
        """w . H u for H the Hessian of v * f, by differentiating the backward pass; and
        the rounding bound of that, 16 eps times the sizes of the derivative graph's terms."""
        vals, out = self.output(self.point)
        d1 = grad(out, vals, grad_output=float(v), create_graph=True)
        r = sum((d * float(ui) for d, ui in zip(d1, u)), Value(0.0))
        r.backward()
        size = sum(abs(n.data) + abs(float(n.grad)) for n in r.topological_order())
        value = float(sum(float(h) * float(wi) for h, wi in zip(grad(r, vals), w)))
        return value, 16 * _EPS * size

    def text(self, v=1.0):
        """The graph at the point, after back-propagating ``v`` with the rules under test."""
        _, out = self.output(self.point)
        try:
            out.backward(float(v))
        except Exception:
            pass  # the graph shows without gradients
        return out.to_text(max_lines=40)


def _kink_signature(out):
    """For every node of a row with declared kinks, on which side of each kink its inputs
    lie (0: on it); two points with different signatures lie across a known kink."""
    sig = []
    for node in out.topological_order(leaves=False):
        row = node.row
        if not row.kinks:
            continue
        for i, p in enumerate(node.parents):
            for k in input_kinks(row)[i]:
                sig.append((node.op, float(np.sign(p.data - k))))
    return tuple(sig)


class _Arrays:
    """forward(*inputs, **params) -> array (or a tuple whose first element is the output);
    vjp(g, out, *inputs, **params) -> one gradient per input (None: not checked)."""

    kind = "arrays"

    def __init__(self, who, forward, vjp, inputs, params, differentiable):
        self.who, self.forward, self.vjp = who, forward, vjp
        self.inputs, self.params = list(inputs), dict(params)
        self.input_names = [f"input {i}" for i in range(len(inputs))]
        self.slots = [i for i, (x, d) in enumerate(zip(inputs, differentiable))
                      if d and _float_array(np.asarray(x))]
        if not self.slots:
            raise ValueError(f"check_grads({who}): no input is a float array to differentiate")
        self.names = [self.input_names[i] for i in self.slots]
        self.point = [np.asarray(self.inputs[i], np.float64) for i in self.slots]
        self.dtype = _dtype_of(self.inputs[self.slots[0]])

    def run(self):
        self.before = [_snapshot(x) for x in self.inputs]
        self.out = self.forward(*self.inputs, **self.params)
        out = _primary(self.out)
        floats = {np.asarray(self.inputs[i]).dtype for i in self.slots}
        if len(floats) == 1 and np.asarray(out).dtype != self.dtype:
            raise _Failure(f"{self.who}: float {self.dtype} inputs gave a {np.asarray(out).dtype} "
                           f"output; keep the inputs' dtype")
        return out

    def backprop(self, v):
        g_before, out_before = _snapshot(v), _snapshot(_primary(self.out))
        grads = self.vjp(v, self.out, *self.inputs, **self.params)
        if isinstance(grads, np.ndarray) or not isinstance(grads, (tuple, list)):
            grads = (grads,)
        if len(grads) != len(self.inputs):
            raise _Failure(f"{self.who}: the vjp returned {len(grads)} gradient(s) for "
                           f"{len(self.inputs)} input(s)")
        _hygiene(self.who, self.input_names, self.inputs, self.before, v, g_before,
                 self.out, out_before, [(n, x, d) for n, x, d in
                                        zip(self.input_names, self.inputs, grads)])
        missing = [self.input_names[i] for i in self.slots if grads[i] is None]
        if missing:
            raise _Failure(f"{self.who}: no gradient for {', '.join(missing)}")
        self.forward_size = self.backward_size = _size(v, self.inputs, _primary(self.out))
        return [np.asarray(grads[i], np.float64) for i in self.slots]

    def _at(self, shifts):
        xs = list(self.inputs)
        for i, x, s in zip(self.slots, self.point, shifts):
            xs[i] = x + s
        return xs

    def phi(self, shifts, v):
        out = np.asarray(_primary(self.forward(*self._at(shifts), **self.params)), np.float64)
        prod = np.asarray(v, np.float64) * out
        return float(np.sum(prod)), float(np.sum(np.abs(prod))), ()

    def jiggled(self, rng, v):
        """The rule's gradients, in its dtype, at the inputs moved by about one unit in the
        last place each (see ``_jiggle``)."""
        xs = list(self.inputs)
        for i in self.slots:
            xs[i] = _jiggle(np.asarray(xs[i]), rng)
        grads = self.vjp(v, self.forward(*xs, **self.params), *xs, **self.params)
        if isinstance(grads, np.ndarray) or not isinstance(grads, (tuple, list)):
            grads = (grads,)
        return [np.asarray(grads[i], np.float64) for i in self.slots]

    def grads64(self, shifts, v):
        xs = self._at(shifts)
        out = self.forward(*xs, **self.params)
        grads = self.vjp(np.asarray(v, np.float64), out, *xs, **self.params)
        if isinstance(grads, np.ndarray) or not isinstance(grads, (tuple, list)):
            grads = (grads,)
        return [np.asarray(grads[i], np.float64) for i in self.slots], ()


class _Layer:
    """A layer object: forward(*inputs, **params) keeps state, backward(dout) returns dx
    (or a tuple, one per input) and leaves each parameter's gradient in ``d<name>``."""

    kind = "layer"

    def __init__(self, layer, inputs, params, wrt):
        self.layer, self.inputs, self.params = layer, list(inputs), dict(params)
        self.who = type(layer).__name__
        self.wrt = wrt
        self.pristine = copy.deepcopy(layer)  # every float64 twin starts from this state
        self.rng_state = np.random.get_state()  # Dropout's masks: the same on every run

    def run(self):
        self.before = [_snapshot(x) for x in self.inputs]
        np.random.set_state(self.rng_state)
        self.out = self.layer.forward(*self.inputs, **self.params)
        self.rng_after = np.random.get_state()
        floats = {np.asarray(x).dtype for x in self.inputs if _float_array(np.asarray(x))}
        out = _primary(self.out)
        if len(floats) == 1 and np.asarray(out).dtype != next(iter(floats)):
            raise _Failure(f"{self.who}.forward: float {next(iter(floats))} input gave a "
                           f"{np.asarray(out).dtype} output; keep the input's dtype")
        return out

    def _parameters(self, layer):
        if self.wrt is not None:
            return list(self.wrt)
        return [name for name, a in vars(layer).items()
                if _float_array(a) and isinstance(getattr(layer, "d" + name, None), np.ndarray)
                and getattr(layer, "d" + name).shape == a.shape]

    def backprop(self, v):
        g_before, out_before = _snapshot(v), _snapshot(_primary(self.out))
        params_before = {n: _snapshot(a) for n, a in vars(self.layer).items() if _float_array(a)}
        result = self.layer.backward(v)
        dxs = result if isinstance(result, tuple) else (result,)
        if len(dxs) != len(self.inputs):
            raise _Failure(f"{self.who}.backward returned {len(dxs)} gradient(s) for "
                           f"{len(self.inputs)} input(s)")
        self.param_names = self._parameters(self.layer)
        for name in self.param_names:
            if not _same(getattr(self.layer, name), params_before.get(name)):
                raise _Failure(f"{self.who}.backward changed its parameter {name}")
        pgrads = [getattr(self.layer, "d" + n) for n in self.param_names]
        names = [f"input {i}" for i in range(len(self.inputs))]
        keep = [getattr(self.layer, n) for n in self.param_names]
        _hygiene(self.who, names, self.inputs, self.before, v, g_before, self.out, out_before,
                 list(zip(names, self.inputs, dxs))
                 + list(zip(self.param_names, keep, pgrads)), keep=keep)
        self.slots = [i for i, d in enumerate(dxs) if d is not None
                      and _float_array(np.asarray(self.inputs[i]))]
        self.names = [names[i] for i in self.slots] + self.param_names
        if not self.names:
            raise ValueError(f"check_grads({self.who}): nothing to differentiate")
        self.point = ([np.asarray(self.inputs[i], np.float64) for i in self.slots]
                      + [np.asarray(a, np.float64) for a in keep])
        self.dtype = _dtype_of(self.inputs[self.slots[0]] if self.slots else keep[0])
        np.random.set_state(self.rng_after)
        self.forward_size = self.backward_size = _size(v, self.inputs + keep, _primary(self.out))
        return [np.asarray(dxs[i], np.float64) for i in self.slots] + [
            np.asarray(g, np.float64) for g in pgrads]

    def _twin(self, shifts):
        """A float64 copy of the layer, from its state before the check, at the shifted point."""
        twin = copy.deepcopy(self.pristine)
        for name, a in list(vars(twin).items()):
            if _float_array(a):
                setattr(twin, name, a.astype(np.float64))
        k = len(self.slots)
        for name, x, s in zip(self.param_names, self.point[k:], shifts[k:]):
            setattr(twin, name, x + s)
        xs = list(self.inputs)
        for i, x, s in zip(self.slots, self.point, shifts):
            xs[i] = x + s
        np.random.set_state(self.rng_state)
        return twin, twin.forward(*xs, **self.params)

    def jiggled(self, rng, v):
        """The layer's gradients, in its dtype, from a copy made before the check with its
        inputs and parameters moved by about one unit in the last place (see ``_jiggle``)."""
        layer = copy.deepcopy(self.pristine)
        for name in self.param_names:
            setattr(layer, name, _jiggle(np.asarray(getattr(layer, name)), rng))
        xs = list(self.inputs)
        for i in self.slots:
            xs[i] = _jiggle(np.asarray(xs[i]), rng)
        np.random.set_state(self.rng_state)
        try:
            layer.forward(*xs, **self.params)
            result = layer.backward(v)
        finally:
            np.random.set_state(self.rng_after)
        dxs = result if isinstance(result, tuple) else (result,)
        return ([np.asarray(dxs[i], np.float64) for i in self.slots]
                + [np.asarray(getattr(layer, "d" + n), np.float64) for n in self.param_names])

    def phi(self, shifts, v):
        try:
            _, out = self._twin(shifts)
        finally:
            np.random.set_state(self.rng_after)
        prod = np.asarray(v, np.float64) * np.asarray(_primary(out), np.float64)
        return float(np.sum(prod)), float(np.sum(np.abs(prod))), ()

    def grads64(self, shifts, v):
        try:
            twin, _ = self._twin(shifts)
        finally:
            np.random.set_state(self.rng_after)
        result = twin.backward(np.asarray(v, np.float64) if np.ndim(v) else float(v))
        dxs = result if isinstance(result, tuple) else (result,)
        return ([np.asarray(dxs[i], np.float64) for i in self.slots]
                + [np.asarray(getattr(twin, "d" + n), np.float64) for n in self.param_names]), ()


def _jiggle(x, rng):
    """x with each value moved by one relative epsilon of its dtype, up or down at random:
    how much the rule's result moves then shows how much rounding inside it can move it
    (an ill-conditioned point, e.g. Batch Norm of values that hardly differ in float32)."""
    if not _float_array(x):
        return x
    eps = np.finfo(x.dtype).eps
    return x + x * (eps * rng.choice([-1.0, 1.0], x.shape)).astype(x.dtype)


def _size(v, arrays, out):
    """The size of the terms an array function and its vjp add up, unseen from outside:
    |v| times the largest input, parameter or output (at least 1).  Where a gradient is far
    smaller than that (softmax's y - t where y ~ t), rounding of the rule's dtype is all
    that is left of it."""
    big = max([1.0] + [float(np.max(np.abs(a))) for a in list(arrays) + [out]
                       if _float_array(np.asarray(a)) and np.size(a)])
    return _norm([np.asarray(v, np.float64)]) * big


def _problem(f, inputs, params, wrt):
    arrays = any(isinstance(x, np.ndarray) for x in inputs)
    if isinstance(f, Op):
        if not arrays and f.scalar:
            if params:
                raise TypeError(f"check_grads: op {f.name!r} on Values takes no params")
            return _Values(f, inputs)
        return _Arrays(f"op {f.name!r}", f.forward,
                       lambda g, out, *xs, **p: f.vjp(g, out, *xs, **p),
                       inputs, params or {}, [r is not None for r in f.backward])
    if isinstance(f, tuple) and len(f) == 2 and all(map(callable, f)):
        forward, vjp = f
        who = getattr(forward, "__name__", "forward")
        return _Arrays(who, forward, vjp, inputs, params or {}, [True] * len(inputs))
    if callable(getattr(f, "forward", None)) and callable(getattr(f, "backward", None)):
        return _Layer(f, inputs, params or {}, wrt)
    if callable(f) and not arrays:
        if params:
            raise TypeError("check_grads: a function of Values takes no params")
        return _Values(f, inputs)
    raise TypeError(
        "check_grads: give a function of Values (with Value or float inputs), an op of the "
        "table, a pair (forward, vjp) with vjp(g, out, *inputs) -> gradients, or a layer "
        f"with forward and backward; got {f!r:.80} with inputs of types "
        f"{[type(x).__name__ for x in inputs]}")


# -- the numerical side: the stencil ------------------------------------------------------

def _stencil(phi, h, noise=0.0):
    """phi at 0, +-h/4, +-h/2, +-h: Richardson's derivative R1, its error estimate |R1 - R2|,
    the kink statistic of the one-sided differences at h/4, a rounding bound, whether a
    declared kink was crossed or touched (the signatures), and whether the values are
    resolved (four different values on each side)."""
    ts = (-h, -h / 2, -h / 4, 0.0, h / 4, h / 2, h)
    p, mag, sigs = {}, 0.0, set()
    for t in ts:
        p[t], m, sig = phi(t)
        mag, sigs = max(mag, m, abs(p[t])), sigs | {sig}
    d = {s: (p[s] - p[-s]) / (2 * s) for s in (h, h / 2, h / 4)}
    r1 = (4 * d[h / 2] - d[h]) / 3
    r2 = (4 * d[h / 4] - d[h / 2]) / 3
    q = h / 4
    one_sided = (p[q] - 2 * p[0.0] + p[-q]) / q  # forward minus backward difference
    curvature = (p[h / 2] - 2 * p[0.0] + p[-h / 2]) / (h / 2) ** 2
    kink = abs(one_sided - q * curvature)
    rounding = 64 * (_EPS * mag + noise) / h
    on_kink = len(sigs) > 1 or any(s == 0.0 for sig in sigs for _, s in sig)
    resolved = all(len({p[t] for t in side}) == 4
                   for side in ((0.0, q, h / 2, h), (0.0, -q, -h / 2, -h)))
    return r1, abs(r1 - r2), kink, rounding, on_kink, resolved


def unit_direction(rng, shapes):
    """A random direction over arrays of ``shapes``: normal draws scaled to unit length."""
    parts = [rng.standard_normal(s) for s in shapes]
    norm = math.sqrt(sum(float(np.sum(p * p)) for p in parts)) or 1.0
    return [p / norm for p in parts]


def _dot(a, b):
    return float(sum(float(np.sum(x * y)) for x, y in zip(a, b)))


def _norm(a):
    return math.sqrt(sum(float(np.sum(np.asarray(x, np.float64) ** 2)) for x in a))


def _fmt(x, n=6):
    a = np.asarray(x, np.float64)
    if a.ndim == 0:
        return repr(float(a))
    return np.array2string(a, precision=n, threshold=12, max_line_width=10 ** 6,
                           separator=", ").replace("\n", "")


# -- check_grads ----------------------------------------------------------------------

def check_grads(f, *inputs, order=1, params=None, wrt=None, upstream=None, directions=1,
                rng=0, step=STEP, rtol=None, atol=0.0):
    """Check back-propagation of ``f`` at ``inputs`` along random directions; raise
    ``GradcheckError`` (an AssertionError) naming what disagrees, else return a
    ``CheckResult`` (how many directions were compared, how many left out at kinks).

    ``f`` is one of:

    * a function of Values returning one Value (``inputs``: Values or floats);
    * a row of the op table: on floats it runs on Values, on numpy arrays through its
      ``forward`` and ``vjp`` (``params``: its keyword settings, e.g. ``t=labels``);
    * a pair ``(forward, vjp)`` of array functions, ``forward(*inputs, **params)`` and
      ``vjp(g, out, *inputs, **params)`` -> one gradient per input (the rows' signature);
      both must compute in their inputs' dtype (the numerical side passes float64 copies);
    * a layer object: ``forward(*inputs, **params)`` then ``backward(dout)`` -> dx, or a
      tuple (one per input); the gradients of its parameters are checked too: ``wrt``
      names them, by default every float array attribute ``name`` with a gradient
      ``d<name>`` (Affine: W, b).  The numerical side runs on float64 copies of the
      layer made before the check; numpy's global random state is reset before each
      forward, so a Dropout mask is the same in all of them.

    A tuple output ``(y, ...)`` is differentiated through ``y``.  ``upstream`` is dL/d(out)
    (``v``; random normal by default); ``directions`` how many random unit directions
    ``u`` to try, drawn from ``rng`` (a seed or a numpy Generator).  ``order=2`` also
    checks second derivatives: for Values, w . H u from ``autograd.grad(...,
    create_graph=True)`` against differences of the first derivative along w; for arrays
    and layers (no second derivative to compare), the Hessian of v . f from differences of
    the vjp must be symmetric, w . D_u grad = u . D_w grad: a vjp that is not the gradient
    of anything (a rule for the wrong input, say) breaks the symmetry.  ``rtol`` defaults
    to ``RTOL`` of the dtype the rule runs in.

    Rounding inside the rule is allowed for (16 eps of its dtype times the size of the
    terms, and 16 times what moving the inputs by one eps does to the result), but a point
    where the rule is badly conditioned in its dtype (float32 Batch Norm of values that
    differ by a few percent: it divides by their spread) can still exceed the float32
    tolerance; draw such inputs with some spread, as the project's strategies do.

    Besides the values, for arrays and layers: inputs, ``dout`` and the output are not
    mutated, the gradients are new arrays (no alias of an input or the output), shaped
    and typed like their inputs, and the output keeps the inputs' float dtype.
    """
    if order not in (1, 2):
        raise ValueError(f"check_grads: order must be 1 or 2, got {order!r}")
    if not inputs:
        raise ValueError("check_grads: give the inputs at which to check f")
    problem = _problem(f, inputs, params, wrt)
    rng = np.random.default_rng(rng)
    try:
        out = problem.run()
        if upstream is None:
            shape = np.shape(out)
            v = rng.standard_normal(shape)
            v = v.astype(_dtype_of(out)) if shape else _dtype_of(out).type(v)
        else:
            v = upstream
        grads = problem.backprop(v)
    except _Failure as failure:
        raise GradcheckError(f"check_grads: {failure}") from None
    tol_dtype = problem.dtype
    rtol = RTOL.get(np.dtype(tol_dtype), 1e-3) if rtol is None else rtol
    v64 = np.asarray(v, np.float64)
    result = CheckResult()
    shapes = [np.shape(x) for x in problem.point]
    jiggles = []
    if problem.kind != "values":  # Values: the sizes of the graph's terms bound the rounding
        jiggle_rng = np.random.default_rng(0)
        try:
            jiggles = [problem.jiggled(jiggle_rng, v) for _ in range(3)]
        except (ArithmeticError, ValueError):
            jiggles = []
    for _ in range(directions):
        u = unit_direction(rng, shapes)
        _first_order(problem, grads, u, v64, step, rtol, atol, result, jiggles)
        if order == 2:
            w = unit_direction(rng, shapes)
            _second_order(problem, u, w, v64, step, atol, result)
    return result


def _ratio(diff, allowed):
    if allowed > 0:
        return diff / allowed
    return 0.0 if diff == 0 else math.inf


def _shifted_phi(problem, u, v64):
    def phi(t):
        try:
            return problem.phi([t * ui for ui in u], v64)
        except (ArithmeticError, ValueError) as error:
            raise _OutOfDomain(str(error)) from None
    return phi


class _OutOfDomain(Exception):
    pass


class _Kink(Exception):
    pass


def _smooth_derivative(phi, h, floor, noise=0.0):
    """phi'(0) from the stencil at step h, or h/10, or h/100: the first at which phi looks
    smooth.  A smooth function's kink statistics shrink like h**3 with the step, a kink's
    stay or vanish once the step no longer reaches it, and rounding noise's grow (a
    difference quotient divides it by the step).  So a smaller step is tried only while
    the statistics do not grow, and trusted if the rougher step crossed a declared kink,
    or else if its values are resolved (no two equal on either side: a saturated function,
    tanh far out, has a derivative quantised in float64 that looks perfectly flat at a
    step below its quantum) and its estimate agrees with the rougher one within that one's
    statistics.  ``floor``: the tolerance's part that does not come from the numerics;
    ``noise``: the rounding error of one value of phi beyond eps * |phi| (cancellation).
    Returns (estimate, its error, rounding bound, step); raises _Kink when no step can be
    trusted, _OutOfDomain when f is undefined."""
    too_flat = ("the difference quotient changes with the step (rounding noise: too flat "
                "to resolve in float64 here)")
    previous = None  # (estimate, how far off it may be) at the last step that looked rough
    for k in range(3):
        step = h / 10 ** k
        r1, err, kink, rounding, on_kink, resolved = _stencil(phi, step, noise)
        stat = max(kink, err)
        if not on_kink and stat <= floor / 4 + rounding:
            if previous is None or previous[1] is None:  # smooth at once, or past a declared kink
                return r1, err, rounding, step
            if resolved and abs(r1 - previous[0]) <= previous[1] + floor + rounding + err:
                return r1, err, rounding, step
            raise _Kink(too_flat)
        if previous is not None and previous[1] is not None and not on_kink \
                and 2 * stat > 3 * previous[1]:
            raise _Kink(too_flat)
        previous = (r1, None if on_kink else 2 * stat)
    raise _Kink("a declared kink within the step" if on_kink else
                "one-sided differences disagree (a kink within the step)")


def _left_out(result, why, suffix=""):
    result.left_out += 1
    result.reasons.append((str(why) if isinstance(why, _Kink) else
                           f"f is not defined within the step: {why}") + suffix)


def _first_order(problem, grads, u, v64, h, rtol, atol, result, jiggles=()):
    backprop = _dot(grads, u)
    scale = _norm(grads)
    # The rule's own rounding where its terms cancel: eps of its dtype times their size,
    # and 16 times what moving the inputs by one epsilon does to v.J.u (a rule rounds at
    # each of its steps, the jiggle only once).
    cancel = 16 * float(np.finfo(problem.dtype).eps) * problem.backward_size
    cancel += 16 * max([abs(_dot(j, u) - backprop) for j in jiggles], default=0.0)
    floor = rtol * max(scale, abs(backprop)) + atol + cancel
    try:
        numerical, err, rounding, step = _smooth_derivative(
            _shifted_phi(problem, u, v64), h, floor, _EPS * problem.forward_size)
    except (_Kink, _OutOfDomain) as why:
        _left_out(result, why)
        return
    allowed = rtol * max(scale, abs(numerical)) + atol + cancel + rounding + err
    result.checked += 1
    excess = _ratio(abs(backprop - numerical), allowed)
    result.worst = max(result.worst, excess)
    if excess > 1:
        raise GradcheckError(_message(problem, 1, backprop, numerical, allowed, u, v64, grads,
                                      rtol, atol, step))


def _second_order(problem, u, w, v64, h, atol, result):
    rtol = 1e-6  # all in float64: differences of a float64 backward pass
    noise = _EPS * problem.backward_size  # one float64 gradient's rounding (cancellation)

    def along(a, b):
        """t -> a . grad(x + t b), by the rule under test in float64."""
        def psi(t):
            try:
                g, sig = problem.grads64([t * bi for bi in b], v64)
            except (ArithmeticError, ValueError) as error:
                raise _OutOfDomain(str(error)) from None
            value = _dot(g, a)
            return value, sum(float(np.sum(np.abs(gi * ai))) for gi, ai in zip(g, a)), sig
        return psi

    try:
        if problem.kind == "values":
            analytic, cancel = problem.second(float(v64), u, w)
            what = "w.H.u by autograd.grad(create_graph)"
            err2 = rounding2 = 0.0
        else:
            cancel = 0.0
            analytic, err2, rounding2, _ = _smooth_derivative(along(w, u), h, atol, noise)
            what = "u.D_w(grad).w: the other order, by differences of the vjp"
        numerical, err, rounding, step = _smooth_derivative(
            along(u, w), h, rtol * abs(analytic) + atol + cancel, noise)
    except (_Kink, _OutOfDomain) as why:
        _left_out(result, why, " (second order)")
        return
    allowed = (rtol * max(abs(analytic), abs(numerical)) + atol + cancel + rounding + err
               + rounding2 + err2)
    if problem.kind == "values":
        # A Hessian is symmetric: u.H.w must be w.H.u (a rule for the wrong input breaks it
        # even where the differences of that same rule agree with its own derivative).
        other, cancel2 = problem.second(float(v64), w, u)
        room = rtol * max(abs(other), abs(analytic)) + atol + cancel + cancel2
        if not abs(other - analytic) <= room:
            raise GradcheckError(_message(
                problem, 2, analytic, other, room, w, v64, None, rtol, atol, step, u=u,
                what="w.H.u by autograd.grad(create_graph)",
                other_what="u.H.w, the other order, by autograd.grad(create_graph)"))
    result.checked += 1
    excess = _ratio(abs(analytic - numerical), allowed)
    result.worst = max(result.worst, excess)
    if excess > 1:
        raise GradcheckError(_message(problem, 2, analytic, numerical, allowed, w, v64, None,
                                      rtol, atol, step, what=what, u=u))


def _message(problem, order, analytic, numerical, allowed, direction, v64, grads, rtol, atol, h,
             what=None, u=None, other_what="w.D_u(grad).u by differences of the first derivative"):
    kind = {1: "first", 2: "second"}[order]
    lines = [f"check_grads: the {kind} derivative disagrees with numerical differentiation "
             f"(rule run in {problem.dtype}, numerical side in float64)"]
    culprit = _culprit(problem, order)
    if culprit:
        lines.append(f"  culprit: {culprit}")
    names = problem.names
    point = ", ".join(f"{n} = {_fmt(x)}" for n, x in zip(names, problem.point))
    lines.append(f"  at: {point}")
    lines.append(f"  upstream gradient v = {_fmt(v64)}")
    lines.append(f"  direction {'w' if order == 2 else 'u'} = "
                 + ", ".join(f"{n}: {_fmt(d)}" for n, d in zip(names, direction)))
    if order == 2:
        lines.append("  first direction u = "
                     + ", ".join(f"{n}: {_fmt(d)}" for n, d in zip(names, u)))
        lines.append(f"  {what}: {analytic!r}")
        lines.append(f"  {other_what}: {numerical!r}")
    else:
        lines.append(f"  backprop v.J.u = {analytic!r}")
        lines.append(f"  numerical      = {numerical!r}  (central differences, h = {h:g}, "
                     f"Richardson)")
    lines.append(f"  |difference| = {abs(analytic - numerical):.3e} > allowed {allowed:.3e} "
                 f"(rtol {rtol:g}, atol {atol:g})")
    if order == 1 and len(names) > 1:
        bad = _per_input(problem, grads, direction, v64, h, rtol, atol)
        if bad:
            lines.append(f"  wrong for: {', '.join(bad)}")
    if problem.kind == "values":
        lines.append("  graph (grad: what the rules back-propagate from v):\n    "
                     + problem.text(v64).replace("\n", "\n    "))
    return "\n".join(lines)


def _per_input(problem, grads, u, v64, h, rtol, atol):
    """The inputs whose gradient alone disagrees (the direction restricted to each)."""
    bad = []
    for k, name in enumerate(problem.names):
        part = [ui if j == k else np.zeros_like(ui) for j, ui in enumerate(u)]
        norm = _norm(part)
        if norm == 0:
            continue
        part = [p / norm for p in part]
        try:
            numerical, err, _, rounding, _, _ = _stencil(_shifted_phi(problem, part, v64), h)
        except _OutOfDomain:
            continue
        tol = rtol * max(_norm(grads), abs(numerical)) + atol + rounding + err
        if abs(_dot(grads, part) - numerical) > tol:
            bad.append(name)
    return bad


def _culprit(problem, order):
    """For a function of Values: the first node whose own rule disagrees with central
    differences of its row's forward, at the node's inputs (the op, the values, both
    derivatives).  For an op on arrays: the op."""
    if problem.kind == "arrays":
        return problem.who
    if problem.kind != "values":
        return None
    try:
        _, out = problem.output(problem.point)
    except Exception:
        return None
    for node in out.topological_order(leaves=False):
        found = _node_culprit(node.row, [p.data for p in node.parents],
                              [p.is_constant for p in node.parents], order)
        if found:
            return found
    return None


def _node_culprit(row, xs, constant, order):
    kinks = input_kinks(row)
    h = STEP
    if any(abs(x - k) < 2 * h for i, x in enumerate(xs) for k in kinks[i]):
        return None
    if order == 2:
        found = _asymmetric(row, xs, constant)
        if found:
            return found
    for i in range(len(xs)):
        if constant[i] or row.backward[i] is None:
            continue
        for j in range(len(xs)):
            if order == 1 and j != i:
                continue
            if order == 2 and constant[j]:
                continue

            def moved(t):
                ys = list(xs)
                ys[j] += t
                return ys
            try:
                if order == 1:
                    rule = float(row.backward[i](1.0, row.on_floats(*xs), *xs))
                    def fn(t):
                        return row.on_floats(*moved(t))
                else:
                    vals = [Value(x) for x in xs]
                    d1 = grad(row(*vals), vals[i], create_graph=True)
                    rule = float(grad(d1, vals[j]))
                    def fn(t):
                        ys = moved(t)
                        return float(row.backward[i](1.0, row.on_floats(*ys), *ys))
                numerical, err, kink, rounding, _, _ = _stencil(
                    lambda t: (fn(t), abs(fn(t)), ()), h)
            except (ArithmeticError, ValueError, TypeError):
                continue
            if kink > 1e-6 * (abs(numerical) + 1):
                continue
            tol = 1e-6 * max(abs(rule), abs(numerical)) + rounding + err + 1e-12
            if not abs(rule - numerical) <= tol:  # also catches nan
                which = "d/d(input %d)" % i if order == 1 else "d2/d(input %d)d(input %d)" % (i, j)
                args = ", ".join(repr(x) for x in xs)
                return (f"op {row.name!r} at inputs ({args}): its rule gives {which} = {rule!r}, "
                        f"central differences of its forward give {numerical!r}")
    return None


def _asymmetric(row, xs, constant):
    """A binary row whose second derivatives d2/dx dy and d2/dy dx differ: the rule for one
    of its inputs is not the derivative of the forward."""
    live = [i for i in range(len(xs)) if not constant[i] and row.backward[i] is not None]
    if len(live) < 2:
        return None
    try:
        vals = [Value(x) for x in xs]
        out = row(*vals)
        first = grad(out, [vals[i] for i in live], create_graph=True)
        hess = [[float(grad(d, vals[j])) for j in live] for d in first]
    except (ArithmeticError, ValueError, TypeError):
        return None
    a, b = hess[0][1], hess[1][0]
    if not abs(a - b) <= 1e-6 * max(abs(a), abs(b)) + 1e-12:
        i, j = live[0], live[1]
        return (f"op {row.name!r} at inputs ({', '.join(map(repr, xs))}): its second "
                f"derivatives are not symmetric: d/d(input {j}) of its rule for input {i} is "
                f"{a!r}, d/d(input {i}) of its rule for input {j} is {b!r}; one of the two "
                f"rules is not a derivative of the forward")
    return None


# -- kinks: the rule must pick a subgradient ----------------------------------------------

def check_kink(op, *inputs, upstream=1.0, h=1e-7):
    """At a point where ``op`` is not differentiable in some input, the rule's value must lie
    between the one-sided derivatives (it is then a subgradient, e.g. relu'(0) in [0, 1]).

    ``inputs`` are floats (for a scalar row, checked on floats) and every differentiable
    input is checked.  Raises ``GradcheckError``; returns the list of
    (input, rule, left, right) compared.
    """
    xs = [float(x) for x in inputs]
    out = op.on_floats(*xs)
    rows = []
    for i, rule in enumerate(op.backward):
        if rule is None:
            continue
        d = rule(upstream, out, *xs)
        d = float(d)

        def at(t):
            ys = list(xs)
            ys[i] += t
            return upstream * op.on_floats(*ys)
        right = (at(h) - at(0.0)) / h
        left = (at(0.0) - at(-h)) / h
        lo, hi = min(left, right), max(left, right)
        slack = 1e-5 * (abs(lo) + abs(hi) + abs(upstream)) + 1e-9
        rows.append((i, d, left, right))
        if not (lo - slack <= d <= hi + slack):
            raise GradcheckError(
                f"check_kink: op {op.name!r} at inputs ({', '.join(map(repr, xs))}), upstream "
                f"{upstream!r}: its rule gives d/d(input {i}) = {d!r}, outside the one-sided "
                f"derivatives [{lo!r}, {hi!r}] (left {left!r}, right {right!r}); at a kink the "
                f"rule must return a subgradient, a value between them")
    return rows


# -- random expression graphs ---------------------------------------------------------------

_HUGE = 10.0  # inputs beyond this are squashed first, so no chain of exps overflows


@dataclass(frozen=True)
class Graph:
    """A random expression: ``inputs`` (floats) and ``steps``, each (op, argument indices
    into the pool of the inputs and earlier results); the output is the last result.

    Arguments outside an op's safe domain are mapped into it with a smooth adaptor
    decided once, at ``inputs`` (log(a) becomes log(a*a + 0.6) ..., and an argument beyond
    +-10 becomes log(a*a + 1)), so the function is the same expression at every point near
    ``inputs``.  Call it on Values.
    """

    inputs: tuple
    steps: tuple
    plan: tuple = ()

    def __call__(self, *xs):
        pool = list(xs)
        for (op, args), adaptors in zip(self.steps, self.plan):
            pool.append(op(*[_adapt(pool[a], how) for a, how in zip(args, adaptors)]))
        return pool[-1]

    def to_text(self):
        return self(*[Value(x, label=f"x{i}") for i, x in enumerate(self.inputs)]).to_text()

    def __repr__(self):
        return (f"Graph(inputs={list(self.inputs)}, ops="
                f"{[op.name for op, _ in self.steps]})\n{self.to_text()}")


def _adapt(a, how):
    """The smooth maps that bring a value into an op's domain (``how`` from ``_plan``)."""
    if how is None:
        return a
    squash, interval = how
    if squash:  # log(a*a + 1) grows slowly but never saturates (tanh(16) would be flat)
        a = (a * a + 1.0).log()
    if interval is None:
        return a
    lo, hi = interval
    if math.isinf(lo) and math.isinf(hi):
        return a
    if math.isinf(hi):
        return a * a + (lo + 0.6)
    if math.isinf(lo):
        return (hi - 0.6) - a * a
    return lo + MARGIN + (hi - lo - 2 * MARGIN) * a.sigmoid()


def _inside(x, intervals, margin):
    return any(lo + margin <= x <= hi - margin for lo, hi in intervals)


def _plan(inputs, steps):
    pool = [Value(x) for x in inputs]
    plan = []
    for op, args in steps:
        domains = input_domains(op)
        adaptors = []
        for i, a in enumerate(args):
            x = pool[a].data
            squash = abs(x) > _HUGE
            if squash:
                x = math.log(x * x + 1.0)
            interval = None
            if not _inside(x, domains[i], MARGIN):
                interval = next((iv for iv in domains[i] if not (math.isinf(iv[0]) and
                                                                 math.isinf(iv[1]))), None)
            adaptors.append(None if not squash and interval is None else (squash, interval))
        plan.append(tuple(adaptors))
        pool.append(op(*[_adapt(pool[a], how) for a, how in zip(args, adaptors)]))
    return tuple(plan)


def graphs(ops=None, min_inputs=1, max_inputs=3, max_steps=6):
    """Strategy: a random ``Graph`` of 1 to ``max_steps`` ops drawn from ``ops`` (default:
    every scalar row of the table when the strategy is made, yours included), on
    ``min_inputs``..``max_inputs`` inputs in [-BOUND, BOUND].  Hypothesis shrinks a failing
    graph towards fewer steps, the first op of ``ops`` and the first inputs."""
    from hypothesis import strategies as st
    if ops is None:
        ops = [op for _, op in sorted(OPS.items()) if op.scalar]
    ops = list(ops)
    if not ops or not all(isinstance(op, Op) and op.scalar for op in ops):
        raise ValueError("graphs: ops must be scalar rows of the op table (declare_op(..., "
                         "scalar=True))")

    @st.composite
    def graph(draw):
        n = draw(st.integers(min_inputs, max_inputs))
        inputs = tuple(draw(st.floats(-BOUND, BOUND, allow_nan=False)) for _ in range(n))
        raw = draw(st.lists(st.tuples(st.integers(0, len(ops) - 1),
                                           st.integers(0, 10 ** 6), st.integers(0, 10 ** 6)),
                                 min_size=1, max_size=max_steps))
        steps = []
        for k, (o, a, b) in enumerate(raw):
            pool = n + k
            # Arguments count back from the newest result, so the graph stays connected.
            args = ((pool - 1 - a % pool,) if ops[o].arity == 1 else
                    (pool - 1 - a % pool, pool - 1 - b % pool))
            steps.append((ops[o], args))
        steps = tuple(steps)
        try:
            plan = _plan(inputs, steps)
        except (ArithmeticError, ValueError):
            from hypothesis import reject
            reject()
        return Graph(inputs, steps, plan)

    return graph()


# -- rule_test ------------------------------------------------------------------------------

def _upstream_floats():
    """dL/d(out) values: 1 (the layers' default dout=1) or |g| in [0.1, 2], either sign
    (not 0, which would make every check vacuous)."""
    from hypothesis import strategies as st
    return st.one_of(st.just(1.0), safe_floats(((-2.0, 2.0),), (0.0,), margin=0.1, bound=2.0))


def _upstream_strategy(shape, dtype):
    """dL/d(out) of ``shape``: all ones or random values from ``_upstream_floats``."""
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
    if shape == ():
        return _upstream_floats().map(lambda g: np.dtype(dtype).type(g))
    return st.one_of(st.just(np.ones(shape, dtype)),
                     hnp.arrays(np.float64, shape, elements=_upstream_floats()
                                ).map(lambda a: a.astype(dtype)))


def rule_test(op, *, domain=None, kinks=None, shapes=None, inputs=None, params=None,
              dtypes=(np.float64, np.float32), order=2, max_examples=25, margin=MARGIN):
    """A ready pytest test for the row ``op``: ``test_softplus = rule_test(softplus)``.

    On inputs drawn by hypothesis in the safe domain (``domain`` and ``kinks`` default to
    the row's; ``margin`` from kinks, poles and domain ends) and drawn upstream gradients
    it checks, with ``check_grads``:

    * scalar rows (on Values): first and, for ``order=2``, second derivatives on Values;
      at each declared kink, a subgradient (``check_kink``); the array path on arrays of
      ``shapes`` (a strategy of one shape, default small shapes) in each of ``dtypes``;
      and the scalar engine and the array path agree element by element;
    * array rows (``scalar=False``): the array path in each dtype, first order and the
      second-order consistency of the vjp; inputs from ``inputs`` (a strategy of a tuple
      of float64 arrays, cast to each dtype) or from ``shapes`` (a strategy of a tuple of
      shapes, one per input, filled from the domain);
    * always: inputs, upstream gradient and output not mutated; gradients new arrays of
      their inputs' shape and dtype; float32 in, float32 out.

    ``params``: the row's keyword settings, a dict, a strategy of dicts, or a function
    of the drawn (float64) inputs returning such a strategy (labels ``t`` for a loss);
    float arrays among them (one-hot targets, running statistics), also inside tuples, are
    cast to each dtype with the inputs.
    """
    from hypothesis import Phase, given, settings
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    if not isinstance(op, Op):
        raise TypeError(f"rule_test: give a row of the op table (declare_op), got {op!r}")
    if op.scalar:
        shapes = shapes if shapes is not None else hnp.array_shapes(min_dims=1, max_dims=3,
                                                                    max_side=4)
        point = inputs_for(op, domain, kinks, margin)
        kink_points = [(i, k) for i in range(op.arity) for k in input_kinks(op, kinks)[i]]
    elif inputs is None and shapes is None:
        raise ValueError(f"rule_test({op.name!r}): an array row needs inputs= (a strategy of "
                         f"a tuple of arrays) or shapes= (a strategy of a tuple of shapes)")

    def draw_params(data, xs):
        if params is None:
            return {}
        if isinstance(params, dict):
            return params
        strategy = params(xs) if callable(params) and not isinstance(
            params, st.SearchStrategy) else params
        return data.draw(strategy, label="params")

    def draw_arrays(data):
        if inputs is not None:
            return tuple(data.draw(inputs, label="inputs"))
        shape_tuple = data.draw(shapes, label="shapes")
        if op.scalar:
            shape_tuple = (shape_tuple,) * op.arity
        return tuple(data.draw(arrays_for(op, i, s, domain=domain, kinks=kinks, margin=margin),
                               label=f"input {i}") for i, s in enumerate(shape_tuple))

    # One failure, shrunk: the message is the counterexample's (without hypothesis's
    # "explain" phase, which lists lines of this module rather than of the rule).
    @settings(max_examples=max_examples, deadline=None, report_multiple_bugs=False,
              phases=[p for p in Phase if p is not Phase.explain])
    @given(data=st.data())
    def test(data):
        seed = data.draw(st.integers(0, 2 ** 32 - 1), label="seed")
        if op.scalar:
            xs = data.draw(point, label="point")
            g = data.draw(_upstream_floats(), label="upstream")
            check_grads(op, *xs, order=order, upstream=g, rng=seed)
            if kink_points:
                i, k = data.draw(st.sampled_from(kink_points), label="kink")
                at = list(xs)
                at[i] = k
                check_kink(op, *at, upstream=g)
        xs64 = [np.asarray(x, np.float64) for x in draw_arrays(data)]
        kw = draw_params(data, xs64)
        for dtype in dtypes:
            typed = [x.astype(dtype) for x in xs64]
            kw_typed = {k: _cast(p, dtype) for k, p in kw.items()}
            out = _primary(op.forward(*typed, **kw_typed))
            v = data.draw(_upstream_strategy(np.shape(out), dtype), label=f"upstream {dtype}")
            check_grads(op, *typed, params=kw_typed, upstream=v, rng=seed, order=order)
        if op.scalar:
            _engine_agrees(op, xs64, data.draw(_upstream_strategy(xs64[0].shape, np.float64)))

    test.__name__ = test.__qualname__ = f"test_rule_{op.name}"
    return test


def _cast(p, dtype):
    """A setting in ``dtype``: float arrays cast, tuples and lists of them too."""
    if _float_array(p):
        return p.astype(dtype)
    if isinstance(p, (tuple, list)):
        return type(p)(_cast(q, dtype) for q in p)
    return p


def _engine_agrees(op, xs, g):
    """The scalar engine, element by element, gives the array path's gradients."""
    grads = op.vjp(g, op.forward(*xs), *xs)
    for idx in np.ndindex(xs[0].shape):
        vals = [Value(float(x[idx])) for x in xs]
        out = op(*vals)
        scalar = grad(out, vals, grad_output=float(g[idx]))
        for i, (d, s) in enumerate(zip(grads, scalar)):
            if d is None:
                continue
            a = float(np.asarray(d)[idx])
            if not math.isclose(a, s, rel_tol=1e-9, abs_tol=1e-12 * (1 + abs(s))):
                raise GradcheckError(
                    f"op {op.name!r}: the array path gives d/d(input {i}) = {a!r} at element "
                    f"{idx} (inputs {[float(x[idx]) for x in xs]}, upstream {float(g[idx])!r}), "
                    f"the scalar engine {s!r}")
