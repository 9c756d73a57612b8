"""``check_grads``: back-propagation against Richardson-extrapolated central differences
along random directions, with tolerances fitted to the rule's dtype and to the rounding its
terms allow (x / relu(x) = 1 cancels); culprit messages when they disagree."""
import math

import numpy as np

from .adapters import Values, problem as make_problem
from .core import (EPS, RTOL, STEP, CheckResult, GradcheckError, LeftOut, norm,
                   smooth_derivative, unit_direction)


def check_grads(f, *inputs, order=1, params=None, wrt=None, upstream=None, directions=1,
                rng=0, step=STEP, rtol=None, atol=0.0):
    """Check back-propagation of ``f`` at ``inputs`` against central differences in
    float64 along ``directions`` random unit directions (``rng``): raise ``GradcheckError``
    naming what disagrees, else return a ``CheckResult`` (false if nothing was compared).
    ``f``: a function of Values returning one Value; a row of the op table (on floats as
    Values, on arrays through its ``forward`` and ``vjp`` with ``params``, e.g. ``t=labels``);
    a pair ``(forward, vjp)``, ``vjp(g, out, *inputs, **params)`` -> one gradient per input;
    or a layer, ``forward(*inputs, **params)``, ``backward(dout)`` -> dx (or one per input),
    its parameters ``wrt`` too (by default each float array ``W`` with a ``dW``).  A tuple
    output counts by its first element.  ``upstream``: dL/d(out), random by default.
    ``order=2`` checks the derivative too.  ``rtol``: by default ``RTOL`` of the rule's
    dtype.  Arrays and layers must not mutate or alias, and keep shapes and dtypes.  A
    non-finite input or parameter: ValueError.
    """
    __tracebackhide__ = True
    if order not in (1, 2):
        raise ValueError(f"check_grads: order must be 1 or 2, got {order!r}")
    if not inputs:
        raise ValueError("check_grads: give the inputs at which to check f")
    problem = make_problem(f, inputs, params, wrt)
    for name, x in zip(problem.names, problem.native):
        if not np.all(np.isfinite(x)):
            raise ValueError(f"check_grads: {name} holds {x!r}; a derivative needs a finite "
                             f"point (nothing would be compared)")
    rng = np.random.default_rng(rng)
    grads = problem.backprop(upstream, rng)
    rtol = RTOL.get(problem.dtype, 1e-3) if rtol is None else rtol
    result = CheckResult()
    with np.errstate(all="ignore"):  # an overflow on the numerical side leaves a point out
        for _ in range(directions):
            u = unit_direction(rng, [problem.x.size])[0]
            w = unit_direction(rng, [problem.x.size])[0] if order == 2 else None
            for k in range(order):
                args = (problem, grads, u, w if k else None, step, rtol, atol)
                try:
                    analytic, numerical, allowed, h = compare(*args)
                except LeftOut as why:
                    result.left_out += 1
                    result.reasons.append(str(why) + (" (second order)" if k else ""))
                    continue
                diff = abs(analytic - numerical)
                excess = diff / allowed if allowed > 0 else (0.0 if diff == 0 else math.inf)
                result.checked += 1
                result.worst = math.inf if math.isnan(excess) else max(result.worst, excess)
                if not excess <= 1:
                    raise GradcheckError(message(analytic, numerical, allowed, h, *args))
    return result


def compare(problem, grads, u, w, h, rtol, atol):
    """(backprop, numerical, allowed, step) for v.J.u (``w`` None), or the same comparison
    run on the derivative, all in float64: d/dw of u . grad against w.H.u.  Allowed: rtol *
    max(scale, |either|) + atol + the stencil's error and rounding + the rule's own
    rounding, eps of its dtype times the size of its terms; nan fails."""
    if w is None:
        analytic = float(np.dot(grads, u))
        slack = 16 * float(np.finfo(problem.dtype).eps) * problem.backward_size
        phi, scale, noise = problem.along(u), norm(grads), EPS * problem.forward_size
    else:
        rtol, noise = 1e-6, EPS * problem.backward_size  # a float64 gradient's rounding
        analytic, slack = problem.second(u, w, h, atol, noise)
        phi, scale = problem.along(w, u), abs(analytic)
    numerical, err, rounding, step = smooth_derivative(
        phi, h, rtol * max(scale, abs(analytic)) + atol + slack, noise)
    allowed = rtol * max(scale, abs(numerical)) + atol + slack + rounding + err
    return analytic, numerical, allowed, step


def fmt(x):
    a = np.asarray(x, np.float64)
    return repr(float(a)) if a.ndim == 0 else np.array2string(
        a, precision=6, threshold=12, max_line_width=10 ** 6, separator=", ").replace("\n", "")


def message(analytic, numerical, allowed, h, problem, grads, u, w, step, rtol, atol):
    def named(x, sep=": "):
        return ", ".join(f"{n}{sep}{fmt(a)}" for n, a in zip(problem.names, problem.split(x)))
    rtol = rtol if w is None else 1e-6
    found = culprit(problem, w is not None)
    lines = [(f"check_grads: the {'second' if w is not None else 'first'} derivative disagrees "
              f"with numerical differentiation (rule run in {problem.dtype}, numerical side in "
              f"float64)"), f"  culprit: {found}" if found else None,
             f"  at: {named(problem.x, ' = ')}",
             f"  upstream gradient v = {fmt(problem.v)}"]
    if w is None:
        lines += [f"  direction u = {named(u)}", f"  backprop v.J.u = {analytic!r}",
                  f"  numerical      = {numerical!r}  (central differences, h = {h:g}, Richardson)"]
    else:
        lines += [f"  direction w = {named(w)}", f"  first direction u = {named(u)}",
                  f"  {problem.second_by}: {analytic!r}",
                  f"  w.D_u(grad).u by differences of the first derivative: {numerical!r}"]
    lines.append(f"  |difference| = {abs(analytic - numerical):.3e} > allowed {allowed:.3e} "
                 f"(rtol {rtol:g}, atol {atol:g})")
    if w is None and len(problem.names) > 1:
        bad = [problem.names[k] for k, *_ in wrong_parts(problem, grads, u, None, step, rtol, atol)]
        lines.append(f"  wrong for: {', '.join(bad)}" if bad else None)
    if isinstance(problem, Values):
        lines.append("  graph (grad: what the rules back-propagate from v):\n    "
                     + problem.text().replace("\n", "\n    "))
    return "\n".join(line for line in lines if line)


def wrong_parts(problem, grads, u, w, h, rtol, atol):
    """(k, j, backprop, numerical) for each slot k (pair of slots k, j when ``w`` is
    given) whose part alone disagrees: the directions restricted to those slots."""
    def part(d, k):
        return problem.flat([p if j == k else 0 * p for j, p in enumerate(problem.split(d))])
    found, n = [], len(problem.names)
    for k, j in ((k, j) for k in range(n) for j in range(n) if w is not None or k == j):
        uk, wj = part(u, k), None if w is None else part(w, j)
        if norm(uk) == 0 or (wj is not None and norm(wj) == 0):
            continue
        try:
            analytic, numerical, allowed, _ = compare(problem, grads, uk / norm(uk),
                                                      wj if wj is None else wj / norm(wj),
                                                      h, rtol, atol)
        except (LeftOut, ArithmeticError, ValueError, TypeError):
            continue
        if not abs(analytic - numerical) <= allowed:
            found.append((k, j, analytic, numerical))
    return found


def culprit(problem, second):
    """For arrays: the op.  For Values: the first node whose own rule disagrees at the
    node's inputs, with v = 1 and u, w along each input (pair of inputs): the rule (order
    2: its derivative by create_graph) against central differences of its row."""
    if not isinstance(problem, Values):
        return problem.who
    for node in problem.output(problem.native)[1].topological_order(leaves=False):
        row, xs = node.row, [p.data for p in node.parents]
        live = [i for i, p in enumerate(node.parents)
                if not p.is_constant and row.backward[i] is not None]

        def at_node(*vals, row=row, xs=xs, live=live):
            return row(*[vals[live.index(i)] if i in live else x for i, x in enumerate(xs)])
        try:
            node_problem = Values(at_node, [xs[i] for i in live])
            grads = node_problem.backprop(1.0, None)
        except (ArithmeticError, ValueError, TypeError):
            continue
        ones = np.ones(len(live))
        for k, j, rule, numerical in wrong_parts(node_problem, grads, ones,
                                                 ones if second else None, STEP, 1e-6, 0.0):
            k, j = live[k], live[j]
            which = f"d2/d(input {k})d(input {j})" if second else f"d/d(input {k})"
            return (f"op {row.name!r} at inputs ({', '.join(map(repr, xs))}): its rule "
                    f"gives {which} = {rule!r}, central differences of its forward give "
                    f"{numerical!r}")
    return None
