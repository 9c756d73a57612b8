"""``rule_test(op)``: a ready pytest test for one row of the op table."""
import numpy as np

from ..ops import Op
from .adapters import float_array, primary
from .check import check_grads
from .core import MARGIN
from .kinks import check_kink, input_kinks
from .strategies import arrays_for, float_arrays, inputs_for


def upstream(shape, dtype):
    """Strategy: dL/d(out) of ``shape``: all ones (the layers' dout=1) or values with |g| in
    [0.1, 2] of either sign (never 0, which would make a check vacuous)."""
    from hypothesis import strategies as st
    return st.one_of(st.just(np.ones(shape, dtype)),
                     float_arrays(shape, dtype, bound=2.0, kinks=(0.0,), margin=0.1)
                     ).map(lambda g: g[()])


def rule_test(op, *, domain=None, kinks=None, shapes=None, inputs=None, params=None,
              dtypes=(np.float64, np.float32), order=2, max_examples=25, margin=MARGIN):
    """A ready pytest test for the row ``op``: ``test_softplus = rule_test(softplus)``.

    With ``check_grads``, on hypothesis-drawn inputs in the safe domain (``domain``,
    ``kinks``: the row's by default; ``margin`` from kinks, poles and domain ends) and
    drawn upstream gradients: for a scalar row, first and (``order=2``) second derivatives
    on Values and a subgradient at each declared kink (``check_kink``); for every row, the
    array path in each of ``dtypes`` on arrays of ``shapes`` (a strategy of a shape, or for
    an array row of a tuple of shapes) or from ``inputs`` (a strategy of a tuple of
    arrays), with its manners (no mutation, no alias, shapes and dtypes kept).  ``params``:
    the row's settings, a dict, a strategy, or a function of the drawn inputs returning one
    (labels ``t`` for a loss); float arrays among them are cast to each dtype with them.
    """
    __tracebackhide__ = True
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

    # One failure, shrunk: the message is the counterexample's (without hypothesis's
    # "explain" phase, which lists lines of this module rather than of the rule).
    @settings(max_examples=max_examples, deadline=None, report_multiple_bugs=False,
              phases=[p for p in Phase if p is not Phase.explain])
    @given(data=st.data())
    def test(data):
        __tracebackhide__ = True
        seed = data.draw(st.integers(0, 2 ** 32 - 1), label="seed")
        if op.scalar:
            xs = data.draw(point, label="point")
            g = float(data.draw(upstream((), np.float64), label="upstream"))
            check_grads(op, *xs, order=order, upstream=g, rng=seed)
            if kink_points:
                i, k = data.draw(st.sampled_from(kink_points), label="kink")
                check_kink(op, *[k if j == i else x for j, x in enumerate(xs)], upstream=g)
        if inputs is not None:
            xs = data.draw(inputs, label="inputs")
        else:
            drawn = data.draw(shapes, label="shapes")
            xs = [data.draw(arrays_for(op, i, s, domain=domain, kinks=kinks, margin=margin),
                            label=f"input {i}")
                  for i, s in enumerate((drawn,) * op.arity if op.scalar else drawn)]
        xs64 = [np.asarray(x, np.float64) for x in xs]
        kw = params if params is None or isinstance(params, dict) else data.draw(
            params if isinstance(params, st.SearchStrategy) else params(xs64), label="params")
        for dtype in dtypes:
            typed = [x.astype(dtype) for x in xs64]
            kw_typed = {k: cast(p, dtype) for k, p in (kw or {}).items()}
            out = primary(op.forward(*typed, **kw_typed))
            v = data.draw(upstream(np.shape(out), dtype), label=f"upstream {dtype}")
            check_grads(op, *typed, params=kw_typed, upstream=v, rng=seed, order=order)

    test.__name__ = test.__qualname__ = f"test_rule_{op.name}"
    return test


def cast(p, dtype):
    """A setting in ``dtype``: float arrays cast, tuples and lists of them too."""
    if isinstance(p, (tuple, list)):
        return type(p)(cast(q, dtype) for q in p)
    return p.astype(dtype) if float_array(p) else p

