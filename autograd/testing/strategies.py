"""Hypothesis strategies (hypothesis is imported when one is made, not with ``autograd``):
inputs in an op's safe domain, |x| <= ``BOUND``, ``MARGIN`` (100 stencil steps) from every
kink, pole and domain end; arrays and labels for layers; random graphs from the op table."""
import math
from dataclasses import dataclass

import numpy as np

from ..engine import Value
from ..ops import OPS, Op
from .core import BOUND, MARGIN
from .kinks import input_domains, input_kinks, safe_intervals


def safe_floats(intervals=((-math.inf, math.inf),), kinks=(), margin=MARGIN, bound=BOUND):
    """Hypothesis strategy: floats in the union of open ``intervals``, |x| <= ``bound``,
    at least ``margin`` from every finite end and every kink."""
    from hypothesis import strategies as st
    return st.one_of([st.floats(a, b, allow_nan=False) for a, b in
                      safe_intervals(intervals, kinks, margin, bound)])


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
    """Strategy: an array of ``shape`` and ``dtype`` of safe values for input ``i`` of ``op``
    (drawn in float64, then rounded: a float32 value moves by far less than the margin)."""
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


_HUGE = 10.0  # an argument beyond this is squashed first, so no chain of exps overflows


@dataclass(frozen=True)
class Graph:
    """A random expression on Values: ``inputs`` (floats) and ``steps``, each (op, argument
    indices into the pool of inputs and earlier results); the output is the last result.
    An argument outside its op's safe domain goes through a smooth map into it (log(a)
    becomes log(a*a + 0.6) ..., one beyond +-10 log(a*a + 1) first), decided once at
    ``inputs`` (the ``plan``), so it is one expression at every point near them."""

    inputs: tuple
    steps: tuple
    plan: tuple = ()

    def __call__(self, *xs):
        return run(self.steps, xs, self.plan)[0]

    def __repr__(self):
        text = self(*[Value(x, label=f"x{i}") for i, x in enumerate(self.inputs)]).to_text()
        return f"Graph(inputs={list(self.inputs)}, ops={[op.name for op, _ in self.steps]})\n{text}"


def run(steps, xs, plan=None):
    """The graph's output on Values ``xs``, and its plan (decided at ``xs`` if not given)."""
    pool, decided = list(xs), []
    for k, (op, args) in enumerate(steps):
        hows = plan[k] if plan is not None else tuple(
            adaptor(pool[a].data, intervals) for a, intervals in zip(args, input_domains(op)))
        decided.append(hows)
        pool.append(op(*[adapt(pool[a], how) for a, how in zip(args, hows)]))
    return pool[-1], tuple(decided)


def adaptor(x, intervals):
    """How to bring ``x`` into ``intervals``: None, or (squash first?, interval to map into)."""
    squash = abs(x) > _HUGE
    x = math.log(x * x + 1.0) if squash else x
    interval = None if any(lo + MARGIN <= x <= hi - MARGIN for lo, hi in intervals) else next(
        (iv for iv in intervals if not (math.isinf(iv[0]) and math.isinf(iv[1]))), None)
    return (squash, interval) if squash or interval else None


def adapt(a, how):
    """The smooth map ``adaptor`` chose, applied to the Value ``a``."""
    if how is None:
        return a
    squash, interval = how
    if squash:  # log(a*a + 1) grows slowly but never saturates (tanh(16) would be flat)
        a = (a * a + 1.0).log()
    if interval is None:
        return a
    lo, hi = interval
    if math.isinf(hi):
        return a * a + (lo + 0.6)
    if math.isinf(lo):
        return (hi - 0.6) - a * a
    return lo + MARGIN + (hi - lo - 2 * MARGIN) * a.sigmoid()


def graphs(ops=None, min_inputs=1, max_inputs=3, max_steps=6):
    """Strategy: a random ``Graph`` of 1 to ``max_steps`` ops drawn from ``ops`` (default:
    every scalar row of the table when the strategy is made, yours included), on
    ``min_inputs``..``max_inputs`` inputs in [-BOUND, BOUND].  Hypothesis shrinks a failing
    graph towards fewer steps, the first op of ``ops`` and the first inputs."""
    from hypothesis import reject
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
        try:
            return Graph(inputs, tuple(steps), run(steps, [Value(x) for x in inputs])[1])
        except (ArithmeticError, ValueError):
            reject()

    return graph()
