"""Property tests for derivatives, yours included, without false alarms at kinks.

For any function of Values, any row of the op table, any pair ``(forward, vjp)`` and any
layer with ``forward``/``backward``, each reduced to one problem over a flat list of
float64 arrays (``adapters``):

``check_grads(f, *inputs, order=1)`` (``check``)
    The directional check (方向微分): a random unit direction ``u`` and upstream gradient
    ``v``; back-propagation's ``v . J u`` against Richardson-extrapolated central
    differences of ``t -> v . f(x + t u)`` in float64 (``core``), with tolerances fitted
    to the rule's dtype.  ``order=2`` runs the same check on the derivative.  A kink
    within the step (a declared one, or one seen in f itself) leaves the point out,
    counted in the result, never reported as a bug (``kinks``).
``check_kink(op, *inputs)``
    At a kink the rule must give a subgradient, between the one-sided derivatives.
Strategies (``strategies``; hypothesis is imported when one is made)
    ``floats_for``/``values_for``/``inputs_for``/``arrays_for`` draw inputs in an op's safe
    domain, ``float_arrays`` and ``class_labels`` arrays and targets for layers and
    losses, ``graphs()`` random expression graphs from the op table (yours included).
``rule_test(op)`` (``rule``)
    A ready pytest test for one row: first and second derivatives, the scalar engine
    against the array path, no mutation, no aliasing, dtype and shapes kept.
``gradcheck``, ``numerical_grad`` (``table``), ``central_difference`` (``core``)
    The element-by-element table, two evaluations per input; the book's
    ``nn.gradient.numerical_gradient`` and ``nn.gradcheck`` use the same difference.
"""
from .check import check_grads
from .core import (BOUND, MARGIN, RTOL, STEP, CheckResult, GradcheckError, central_difference,
                   close, unit_direction)
from .kinks import check_kink, input_domains, input_kinks
from .rule import rule_test
from .strategies import (Graph, arrays_for, class_labels, float_arrays, floats_for, graphs,
                         inputs_for, safe_floats, values_for)
from .table import gradcheck, numerical_grad

__all__ = ["check_grads", "check_kink", "CheckResult", "GradcheckError", "rule_test", "graphs",
           "Graph", "floats_for", "values_for", "inputs_for", "arrays_for", "safe_floats",
           "float_arrays", "class_labels", "input_domains", "input_kinks", "unit_direction",
           "close", "RTOL", "BOUND", "MARGIN", "STEP", "central_difference", "gradcheck",
           "numerical_grad"]
