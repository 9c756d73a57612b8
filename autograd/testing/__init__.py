"""Property tests for derivatives, yours included, without false alarms at kinks: a
function of Values, a row of the op table, a pair ``(forward, vjp)`` or a layer, checked
along random directions against central differences in float64 (docs/testing.md)."""
from .check import check_grads
from .core import (BOUND, MARGIN, RTOL, STEP, CheckResult, GradcheckError, central_difference,
                   close, unit_direction)
from .kinks import check_kink, input_domains, input_kinks
from .rule import rule_test
from .strategies import (Graph, arrays_for, class_labels, float_arrays, floats_for, graphs,
                         inputs_for, safe_floats, values_for)
from .table import gradcheck, numerical_grad

__all__ = ["BOUND", "MARGIN", "RTOL", "STEP", "CheckResult", "GradcheckError", "Graph",
           "arrays_for", "central_difference", "check_grads", "check_kink", "class_labels",
           "close", "float_arrays", "floats_for", "gradcheck", "graphs", "input_domains",
           "input_kinks", "inputs_for", "numerical_grad", "rule_test", "safe_floats",
           "unit_direction", "values_for"]
