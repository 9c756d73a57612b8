"""Domains and kinks (折れ点) read from the op table's rows, and the check at a kink.  A
row's ``domain``: ``(low, high)`` for every input, or per input None (all reals), ``(low,
high)`` or a tuple of them (division's denominator ``((-inf, 0), (0, inf))``); ``kinks``:
points for every input, or one tuple per input."""
import math
import numbers

import numpy as np

from .core import BOUND, MARGIN, GradcheckError


def is_interval(d):
    return (isinstance(d, (tuple, list)) and len(d) == 2
            and all(isinstance(b, numbers.Real) for b in d))


def as_intervals(entry):
    """One input's domain entry as a tuple of open intervals (None: all reals)."""
    entry = ((-math.inf, math.inf),) if entry is None else (entry,) if is_interval(entry) else entry
    return tuple((float(lo), float(hi)) for lo, hi in entry)


def input_domains(op, domain=None):
    """Per input of ``op``: the tuple of open intervals (low, high) where it is defined
    (``domain`` overrides the row's own)."""
    d = op.domain if domain is None else domain
    if d is None or is_interval(d):
        d = [d] * op.arity
    elif len(d) != op.arity:
        raise ValueError(f"op {op.name!r}: domain {d!r} must be (low, high) or one entry per "
                         f"input ({op.arity})")
    return [as_intervals(e) for e in d]


def input_kinks(op, kinks=None):
    """Per input of ``op``: the points where it is not differentiable (a tuple)."""
    k = op.kinks if kinks is None else tuple(kinks)
    if all(isinstance(p, numbers.Real) for p in k):
        k = [k] * op.arity
    elif len(k) != op.arity:
        raise ValueError(f"op {op.name!r}: kinks {k!r} must be points, or one tuple per input")
    return [tuple(float(p) for p in e) for e in k]


def safe_intervals(intervals, kinks, margin=MARGIN, bound=BOUND):
    """Closed pieces of ``intervals`` within [-bound, bound], ``margin`` from every end and kink."""
    pieces = []
    for lo, hi in intervals:
        a, b = max(lo + margin, -bound), min(hi - margin, bound)
        for k in sorted(k for k in kinks if a - margin < k < b + margin):
            if k - margin >= a:
                pieces.append((a, k - margin))
            a = max(a, k + margin)
        if a <= b:
            pieces.append((a, b))
    if not pieces:
        raise ValueError(f"no safe inputs in {intervals} within +-{bound}, {margin} away "
                         f"from the kinks {kinks}; pass a wider domain")
    return pieces


def kink_signature(out):
    """For every node of a row with declared kinks, on which side of each kink its inputs
    lie (0: on it); two points with different signatures lie across a known kink."""
    return tuple((node.op, float(np.sign(p.data - k)))
                 for node in out.topological_order(leaves=False) if node.row.kinks
                 for i, p in enumerate(node.parents) for k in input_kinks(node.row)[i])


def check_kink(op, *inputs, upstream=1.0, h=1e-7):
    """At a point (floats) where ``op`` is not differentiable, each rule's value must lie
    between the one-sided derivatives: a subgradient (relu'(0) in [0, 1]).  Raises
    ``GradcheckError``; returns the (input, rule, left, right) compared."""
    __tracebackhide__ = True
    xs = [float(x) for x in inputs]
    rows = []
    for i, rule in enumerate(op.backward):
        if rule is None:
            continue
        d = float(rule(upstream, op.on_floats(*xs), *xs))
        at = [upstream * op.on_floats(*[x + t if k == i else x for k, x in enumerate(xs)])
              for t in (-h, 0.0, h)]
        left, right = (at[1] - at[0]) / h, (at[2] - at[1]) / h  # one-sided, on purpose
        lo, hi = min(left, right), max(left, right)
        slack = 1e-5 * (abs(lo) + abs(hi) + abs(upstream)) + 1e-9
        rows.append((i, d, left, right))
        if not lo - slack <= d <= hi + slack:
            raise GradcheckError(
                f"check_kink: op {op.name!r} at inputs ({', '.join(map(repr, xs))}), upstream "
                f"{upstream!r}: its rule gives d/d(input {i}) = {d!r}, outside the one-sided "
                f"derivatives [{lo!r}, {hi!r}] (left {left!r}, right {right!r}); at a kink the "
                f"rule must return a subgradient, a value between them")
    return rows
