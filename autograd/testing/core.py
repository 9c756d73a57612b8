"""The numerical core: ``central_difference`` (every numerical derivative in chainrule),
Richardson's stencil with its kink and rounding statistics, tolerances, the result."""
import math
from dataclasses import dataclass, field

import numpy as np

BOUND = 3.0  # the strategies draw |x| <= BOUND
MARGIN = 0.1  # ... and keep this far from kinks, poles and domain ends
STEP = 1e-3  # the stencil's largest step h
RTOL = {np.dtype(np.float64): 1e-7, np.dtype(np.float32): 1e-3, np.dtype(np.float16): 3e-2}
EPS = float(np.finfo(np.float64).eps)


class GradcheckError(AssertionError):
    """Back-propagation and numerical differentiation disagree beyond the tolerance."""


class LeftOut(Exception):
    """A kink within the step, or f not defined (not finite) there: the point is left out."""


@dataclass
class CheckResult:
    """What a check compared: ``checked`` comparisons, ``left_out`` points (kinks, with
    ``reasons``), ``worst`` |backprop - numerical| / tolerance, and for the table
    ``gradcheck`` one row per input (name, backprop, numerical, abs err, rel err).
    Truthy when something was compared and all within the tolerance."""

    checked: int = 0
    left_out: int = 0
    reasons: list = field(default_factory=list)
    worst: float = 0.0
    rows: list = field(default_factory=list)
    worst_input: str = ""

    def __bool__(self):
        return self.checked > 0 and self.worst <= 1

    ok = property(__bool__)

    max_abs_error = property(lambda self: max((r[3] for r in self.rows), default=0.0))
    max_rel_error = property(lambda self: max((r[4] for r in self.rows), default=0.0))

    def __str__(self):
        if self.rows:
            lines = [(f"{'input':<12} {'backprop':>22} {'numerical':>22} {'abs err':>10} "
                      f"{'rel err':>10}")]
            lines += [f"{n:<12} {a!r:>22} {m!r:>22} {ae:>10.2e} {re:>10.2e}"
                      for n, a, m, ae, re in self.rows]
            verdict = "ok" if self.ok else f"FAILED (worst: {self.worst_input})"
            return "\n".join([*lines, (f"max abs error {self.max_abs_error:.2e}, max rel "
                                       f"error {self.max_rel_error:.2e}: {verdict}")])
        text = (f"{self.checked} comparison(s), worst error {self.worst:.2g} of the tolerance"
                if self.checked else "nothing compared (the result is false)")
        if self.left_out:
            text += f"; {self.left_out} left out: " + "; ".join(self.reasons)
        return text

    __repr__ = __str__


def close(actual, expected, rtol=None, atol=None, dtype=np.float64):
    """Assert ``actual`` ~ ``expected`` elementwise: |a - e| <= atol + rtol * |e|, with
    ``rtol`` by default ``RTOL[dtype]``, the tolerance of a value computed once in
    ``dtype``, and ``atol`` by default ``rtol``."""
    __tracebackhide__ = True
    rtol = RTOL[np.dtype(dtype)] if rtol is None else rtol
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol if atol is None else atol)


def central_difference(f, x, h=1e-6):
    """Slope of the scalar function ``f`` at the float ``x``: (f(x+h) - f(x-h)) / 2h."""
    if not h > 0:
        raise ValueError(f"central_difference: step h must be > 0, got {h!r}")
    return (float(f(x + h)) - float(f(x - h))) / (2.0 * h)


def unit_direction(rng, shapes):
    """A random direction over arrays of ``shapes``: normal draws scaled to unit length."""
    parts = [rng.standard_normal(s) for s in shapes]
    length = math.sqrt(sum(float(np.sum(p * p)) for p in parts)) or 1.0
    return [p / length for p in parts]


def norm(x):
    """The Euclidean length of the array ``x``, without overflow on the way."""
    x = np.abs(np.ravel(np.asarray(x, np.float64)))
    big = float(x.max()) if x.size else 0.0
    return big * float(np.sqrt(np.sum((x / big) ** 2))) if 0 < big < math.inf else big


def stencil(phi, h, noise=0.0):
    """phi(t) -> (value, size, kink signature) at t = 0, +-h/4, +-h/2, +-h.  Returns
    Richardson's R1 = D(h/2) + (D(h/2) - D(h)) / 3 (D: central differences; error ~h**4),
    its error |R1 - R2| (R2 from h/4 and h/2), the larger of that and the kink statistic
    (forward minus backward difference at h/4, less the curvature's share), a rounding
    bound, whether a declared kink was crossed or touched, and whether the values are
    resolved (four different each side)."""
    p, mag, sigs = {}, 0.0, set()
    for t in (-h, -h / 2, -h / 4, 0.0, h / 4, h / 2, h):
        p[t], m, sig = phi(t)
        if not math.isfinite(p[t]):
            raise LeftOut(f"f is not defined within the step: f is {p[t]} at a step of "
                          f"{t:g} along the direction")
        mag, sigs = max(mag, m, abs(p[t])), sigs | {sig}
    d = {s: central_difference(p.__getitem__, 0.0, s) for s in (h, h / 2, h / 4)}
    r1 = d[h / 2] + (d[h / 2] - d[h]) / 3
    err = abs(r1 - d[h / 4] - (d[h / 4] - d[h / 2]) / 3)
    q, p0 = h / 4, p[0.0]
    one_sided = ((p[q] - p0) - (p0 - p[-q])) / q
    curvature = ((p[h / 2] - p0) - (p0 - p[-h / 2])) / (h / 2) ** 2
    on_kink = len(sigs) > 1 or any(s == 0.0 for sig in sigs for _, s in sig)
    resolved = all(len({p[t] for t in side}) == 4
                   for side in ((0.0, q, h / 2, h), (0.0, -q, -h / 2, -h)))
    return (r1, err, max(err, abs(one_sided - q * curvature)), 64 * (EPS * mag + noise) / h,
            on_kink, resolved)


def smooth_derivative(phi, h, floor, noise=0.0):
    """phi'(0) from the stencil at step h, h/10 or h/100, the first where phi looks smooth
    (a smooth function's statistics shrink like h**3, a kink's do not, rounding noise's
    grow): trusted past a declared kink, or if resolved and agreeing with the rougher step
    (a saturated tanh looks flat below its float64 quantum).  ``floor``: the tolerance's
    non-numerical part; ``noise``: rounding beyond eps |phi|.  Returns (estimate, error,
    rounding, step); raises LeftOut."""
    too_flat = LeftOut("the difference quotient changes with the step (rounding noise: too "
                       "flat to resolve in float64 here)")
    previous = None  # (estimate, how far off it may be) at the last step that looked rough
    for k in range(3):
        step = h / 10 ** k
        r1, err, stat, rounding, on_kink, resolved = stencil(phi, step, noise)
        rough = None if previous is None else previous[1]  # None: smooth at once, or a kink
        if not on_kink and stat <= floor / 4 + rounding:
            if rough is None or (resolved and abs(r1 - previous[0]) <= rough + floor
                                 + rounding + err):
                return r1, err, rounding, step
            raise too_flat
        if rough is not None and not on_kink and 2 * stat > 3 * rough:
            raise too_flat
        previous = (r1, None if on_kink else 2 * stat)
    raise LeftOut("a declared kink within the step" if on_kink else
                  "one-sided differences disagree (a kink within the step)")
