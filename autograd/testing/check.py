"""``check_grads``: back-propagation against Richardson-extrapolated central differences
along random directions, with tolerances fitted to the rule's dtype and to the rounding its
terms allow (x / relu(x) = 1 cancels); culprit messages when they disagree."""
import math

import numpy as np

from ..engine import Value, grad
from .adapters import Failure, problem as make_problem
from .core import (EPS, RTOL, STEP, CheckResult, GradcheckError, Kink, OutOfDomain, norm,
                   smooth_derivative, stencil, unit_direction)
from .kinks import input_kinks


def check_grads(f, *inputs, order=1, params=None, wrt=None, upstream=None, directions=1,
                rng=0, step=STEP, rtol=None, atol=0.0):
    """Check back-propagation of ``f`` at ``inputs`` along random directions: raise
    ``GradcheckError`` naming what disagrees, else return a ``CheckResult`` (false when
    nothing was compared: every point left out at a kink, or out of the domain).  ``f``:

    * a function of Values returning one Value (``inputs``: Values or floats);
    * a row of the op table: on floats it runs on Values, on numpy arrays through its
      ``forward`` and ``vjp`` (``params``: its keyword settings, e.g. ``t=labels``);
    * a pair ``(forward, vjp)``, ``vjp(g, out, *inputs, **params)`` -> one gradient per input;
    * a layer: ``forward(*inputs, **params)``, ``backward(dout)`` -> dx (or one per input);
      its parameters too: ``wrt`` names them, by default each float array ``W`` with ``dW``.

    The rule runs once in its dtype, the numerical side in float64 (on copies).  A tuple
    output is differentiated through its first element.  ``upstream``: dL/d(out) (random
    normal by default); ``directions`` random unit directions from ``rng``.  ``order=2``
    checks the derivative too: for Values, w.H.u by back-propagating through the backward
    pass against differences of the gradient; for arrays, differences of the vjp along u
    and w must agree (a Hessian is symmetric).  ``rtol``: by default ``RTOL`` of the rule's
    dtype.  Arrays and layers: nothing mutated, gradients new arrays (no alias) of their
    inputs' shape and dtype, the output in the inputs' dtype.  A non-finite input (or
    parameter) is refused: ValueError.
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
    try:
        out = problem.run()
        if upstream is None:
            dtype = np.asarray(out).dtype if np.asarray(out).dtype.kind == "f" else np.float64
            upstream = np.asarray(rng.standard_normal(np.shape(out)), dtype)[()]
        grads = problem.backprop(upstream)
    except Failure as failure:
        raise GradcheckError(f"check_grads: {failure}") from None
    rtol = RTOL.get(problem.dtype, 1e-3) if rtol is None else rtol
    result = CheckResult()
    jiggles = []
    if problem.kind == "arrays":  # Values: the sizes of the graph's terms bound the rounding
        try:
            jiggle_rng = np.random.default_rng(0)
            jiggles = [problem.jiggled(jiggle_rng) for _ in range(3)]
        except (ArithmeticError, ValueError):
            pass
    with np.errstate(all="ignore"):  # an overflow on the numerical side leaves a point out
        for _ in range(directions):
            u = unit_direction(rng, [problem.x.size])[0]
            first_order(problem, grads, u, step, rtol, atol, result, jiggles)
            if order == 2:
                w = unit_direction(rng, [problem.x.size])[0]
                second_order(problem, u, w, step, atol, result)
    return result


def versus(result, analytic, phi, h, rtol, atol, scale, slack, noise, report, suffix=""):
    """Compare ``analytic`` with phi'(0) by the stencil: within rtol * max(scale, |either|)
    + atol + ``slack`` + the stencil's error and rounding passes (nan fails); a kink or a
    domain end within the step leaves the point out; a failure raises ``report(...)``."""
    __tracebackhide__ = True
    try:
        numerical, err, rounding, step = smooth_derivative(
            phi, h, rtol * max(scale, abs(analytic)) + atol + slack, noise)
    except (Kink, OutOfDomain) as why:
        result.left_out += 1
        return result.reasons.append((str(why) if isinstance(why, Kink) else
                                      f"f is not defined within the step: {why}") + suffix)
    allowed = rtol * max(scale, abs(numerical)) + atol + slack + rounding + err
    diff = abs(analytic - numerical)
    excess = diff / allowed if allowed > 0 else (0.0 if diff == 0 else math.inf)
    result.checked += 1
    result.worst = math.inf if math.isnan(excess) else max(result.worst, excess)
    if not excess <= 1:
        raise GradcheckError(report(numerical, allowed, step))


def along(fn, problem, u):
    """t -> fn(x + t u), a domain error (ArithmeticError, ValueError) made OutOfDomain."""
    def at(t):
        try:
            return fn(problem.x + t * u)
        except (ArithmeticError, ValueError) as error:
            raise OutOfDomain(str(error)) from None
    return at


def first_order(problem, grads, u, h, rtol, atol, result, jiggles=()):
    __tracebackhide__ = True
    backprop = float(np.dot(grads, u))
    # The rule's own rounding where its terms cancel: eps of its dtype times their size,
    # and 16 times what moving the inputs by one eps does to v.J.u (a rule rounds at each
    # of its steps, the jiggle only once).
    cancel = 16 * float(np.finfo(problem.dtype).eps) * problem.backward_size
    cancel += 16 * max([abs(float(np.dot(j, u)) - backprop) for j in jiggles], default=0.0)
    versus(result, backprop, along(problem.value, problem, u), h, rtol, atol, norm(grads),
           cancel, EPS * problem.forward_size, lambda numerical, allowed, step: message(
               problem, 1, backprop, numerical, allowed, u, grads, rtol, atol, step))


def second_order(problem, u, w, h, atol, result):
    """The first-order check run on the derivative u . grad(x), along w: against w.H.u by
    create_graph for Values, against differences of w . grad(x) along u for arrays."""
    __tracebackhide__ = True
    rtol = 1e-6  # all in float64: differences of a float64 backward pass
    noise = EPS * problem.backward_size  # one float64 gradient's rounding (cancellation)

    def dotted(a):
        def fn(x):
            g, sig = problem.gradient(x)
            return float(np.dot(g, a)), float(np.sum(np.abs(g * a))), sig
        return fn
    if problem.kind == "values":
        analytic, slack = problem.second(u, w)
        what = "w.H.u by autograd.grad(create_graph)"
    else:
        try:
            analytic, err, rounding, _ = smooth_derivative(
                along(dotted(w), problem, u), h, atol, noise)
        except (Kink, OutOfDomain) as why:
            result.left_out += 1
            return result.reasons.append(f"{why} (second order)")
        slack, what = err + rounding, "u.D_w(grad).w: the other order, by differences of the vjp"
    versus(result, analytic, along(dotted(u), problem, w), h, rtol, atol, abs(analytic), slack,
           noise, lambda numerical, allowed, step: message(
               problem, 2, analytic, numerical, allowed, w, None, rtol, atol, step, what, u),
           " (second order)")


def fmt(x):
    a = np.asarray(x, np.float64)
    if a.ndim == 0:
        return repr(float(a))
    return np.array2string(a, precision=6, threshold=12, max_line_width=10 ** 6,
                           separator=", ").replace("\n", "")


def message(problem, order, analytic, numerical, allowed, direction, grads, rtol, atol, h,
            what=None, u=None):
    def named(x, sep=": "):
        return ", ".join(f"{n}{sep}{fmt(a)}" for n, a in zip(problem.names, problem.split(x)))
    found = culprit(problem, order)
    lines = [(f"check_grads: the {('first', 'second')[order - 1]} derivative disagrees with "
              f"numerical differentiation (rule run in {problem.dtype}, numerical side in "
              f"float64)"), *([f"  culprit: {found}"] if found else []),
             f"  at: {named(problem.x, ' = ')}",
             f"  upstream gradient v = {fmt(problem.v)}",
             f"  direction {'w' if order == 2 else 'u'} = {named(direction)}"]
    if order == 2:
        lines += [f"  first direction u = {named(u)}", f"  {what}: {analytic!r}",
                  f"  w.D_u(grad).u by differences of the first derivative: {numerical!r}"]
    else:
        lines += [f"  backprop v.J.u = {analytic!r}",
                  f"  numerical      = {numerical!r}  (central differences, h = {h:g}, Richardson)"]
    lines.append(f"  |difference| = {abs(analytic - numerical):.3e} > allowed {allowed:.3e} "
                 f"(rtol {rtol:g}, atol {atol:g})")
    bad = (wrong_inputs(problem, grads, direction, h, rtol, atol)
           if order == 1 and len(problem.names) > 1 else [])
    if bad:
        lines.append(f"  wrong for: {', '.join(bad)}")
    if problem.kind == "values":
        lines.append("  graph (grad: what the rules back-propagate from v):\n    "
                     + problem.text().replace("\n", "\n    "))
    return "\n".join(lines)


def wrong_inputs(problem, grads, u, h, rtol, atol):
    """The inputs whose gradient alone disagrees (the direction restricted to each)."""
    bad = []
    for k, name in enumerate(problem.names):
        part = problem.flat([p if j == k else 0 * p for j, p in enumerate(problem.split(u))])
        if norm(part) == 0:
            continue
        part = part / norm(part)
        try:
            numerical, err, _, rounding, _, _ = stencil(along(problem.value, problem, part), h)
        except OutOfDomain:
            continue
        tol = rtol * max(norm(grads), abs(numerical)) + atol + rounding + err
        if abs(float(np.dot(grads, part)) - numerical) > tol:
            bad.append(name)
    return bad


def culprit(problem, order):
    """For arrays: the op.  For Values: the first node whose own rule disagrees, at the
    node's inputs, with central differences of its row's forward (order 2: the rule's
    derivative by create_graph with central differences of the rule)."""
    if problem.kind == "arrays":
        return problem.who
    try:
        nodes = problem.output(problem.native)[1].topological_order(leaves=False)
    except Exception:  # noqa: BLE001 - whatever f raises, the message is written without it
        return None
    for node in nodes:
        row, xs = node.row, [p.data for p in node.parents]
        if any(abs(x - k) < 2 * STEP for x, ks in zip(xs, input_kinks(row)) for k in ks):
            continue
        live = [i for i, p in enumerate(node.parents)
                if not p.is_constant and row.backward[i] is not None]
        for i, j in ((i, j) for i in live for j in live if order == 2 or i == j):
            def fn(t, row=row, xs=xs, i=i, j=j):
                ys = [x + t if k == j else x for k, x in enumerate(xs)]
                return row.on_floats(*ys) if order == 1 else float(
                    row.backward[i](1.0, row.on_floats(*ys), *ys))
            try:
                vals = [Value(x) for x in xs]
                rule = (float(row.backward[i](1.0, row.on_floats(*xs), *xs)) if order == 1 else
                        float(grad(grad(row(*vals), vals[i], create_graph=True), vals[j])))
                numerical, err, kink, rounding, _, _ = stencil(
                    lambda t: (fn(t), abs(fn(t)), ()), STEP)
            except (ArithmeticError, ValueError, TypeError, OutOfDomain):
                continue
            tol = 1e-6 * max(abs(rule), abs(numerical)) + rounding + err + 1e-12
            if kink <= 1e-6 * (abs(numerical) + 1) and not abs(rule - numerical) <= tol:
                which = f"d/d(input {i})" if order == 1 else f"d2/d(input {i})d(input {j})"
                return (f"op {row.name!r} at inputs ({', '.join(map(repr, xs))}): its rule "
                        f"gives {which} = {rule!r}, central differences of its forward give "
                        f"{numerical!r}")
    return None
