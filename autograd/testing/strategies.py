"""Hypothesis strategies (hypothesis is imported when one is made): inputs in an op's safe
domain, |x| <= ``BOUND``, ``MARGIN`` (100 stencil steps) from every kink, pole and domain
end; arrays and labels for layers; random graphs from the op table."""
import math
from dataclasses import dataclass

import numpy as np

from ..engine import Value
from ..ops import OPS, Op
from .core import BOUND, MARGIN
from .kinks import input_domains, input_kinks, safe_intervals

HUGE = 1e8


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


@dataclass(frozen=True)
class Graph:
    """A random expression on Values: ``inputs`` (floats) and ``steps``, each (op, argument
    indices into the pool of inputs and earlier results); the output is the last result.
    An argument of an op with a domain goes through a smooth map into it (log(a) is
    log(a*a + 0.1)), so the graph is defined everywhere."""

    inputs: tuple
    steps: tuple

    def __call__(self, *xs):
        pool = list(xs)
        for op, args in self.steps:
            pool.append(op(*[into(pool[a], d) for a, d in zip(args, input_domains(op))]))
        return pool[-1]

    def __repr__(self):
        text = self(*[Value(x, label=f"x{i}") for i, x in enumerate(self.inputs)]).to_text()
        return f"Graph(inputs={list(self.inputs)}, ops={[op.name for op, _ in self.steps]})\n{text}"


def into(a, intervals):
    """The Value ``a`` mapped smoothly into the last of ``intervals`` unless they are all
    reals, ``MARGIN`` from its ends."""
    lo, hi = intervals[-1]
    if math.isinf(lo) and math.isinf(hi):
        return a
    if math.isinf(hi):
        return a * a + (lo + MARGIN)
    if math.isinf(lo):
        return (hi - MARGIN) - a * a
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
        steps = []
        for k in range(draw(st.integers(1, max_steps))):
            op = draw(st.sampled_from(ops))
            # Arguments count back from the newest result, so the graph stays connected.
            steps.append((op, tuple(n + k - 1 - draw(st.integers(0, n + k - 1))
                                    for _ in range(op.arity))))
        graph = Graph(inputs, tuple(steps))
        try:  # values beyond HUGE (a chain of exps) would overflow within the check
            if max(abs(v.data) for v in graph(*map(Value, inputs)).topological_order()) > HUGE:
                reject()
        except (ArithmeticError, ValueError):
            reject()
        return graph

    return graph()
