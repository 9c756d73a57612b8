"""autograd.testing itself: no false alarms on correct rules (many hypothesis runs, kinks
included), and a mutation study: deliberately wrong rules, each caught with a message
that names what is wrong.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import Value, declare_op, ops
from autograd.ops import elementwise
from autograd.testing import (GradcheckError, check_grads, check_kink, class_labels, graphs,
                              input_domains, input_kinks, rule_test, safe_floats,
                              values_for)
from nn import Affine, Relu, Sigmoid, SoftmaxWithLoss

SHAPES = hnp.array_shapes(min_dims=1, max_dims=2, max_side=4).map(lambda s: (s,))


# -- the correct rules never fail ----------------------------------------------------------

# Every row of the table passes rule_test over 100 hypothesis runs: tests/test_ops.py.

@settings(max_examples=300)
@given(graphs())
def test_random_graphs_of_correct_rows_pass_to_second_order(graph):
    check_grads(graph, *graph.inputs, order=2)


@pytest.mark.parametrize("at", [0.0, 1e-9, -1e-9, 3e-4, -7e-4])
def test_relu_at_and_near_its_kink_is_left_out_not_reported(at):
    result = check_grads(lambda x: x.relu() * 3 + x, Value(at), order=2)
    assert result.checked + result.left_out == 2
    if abs(at) < 1e-6:  # within every step of the stencil (h down to 1e-5)
        assert result.left_out == 2 and "declared kink" in result.reasons[0]
    else:  # a smaller step no longer reaches the kink: checked there
        assert result.checked == 2
    x = np.array([at, 1.0, -2.0])
    result = check_grads(Relu(), x)  # no declared kinks for a layer: detected from f itself
    assert result.checked + result.left_out == 1
    if abs(at) < 1e-6:  # every direction crosses it
        assert result.left_out == 1 and "one-sided" in result.reasons[0]


def test_an_undeclared_kink_is_detected():
    absolute = declare_op("abs_undeclared", register=False,
                          forward=elementwise(abs, np.abs),
                          backward=(lambda g, out, x: g * (2 * ops.step(x) - 1),))
    result = check_grads(absolute, 0.0)
    assert result.checked == 0 and result.left_out == 1
    assert check_grads(absolute, 0.5).checked == 1


def test_layers_on_many_seeds_with_kinks_around_never_false_alarm():
    # The first layers of TwoLayerNet on 200 seeds: ReLU inputs anywhere, kinks included.
    for seed in range(200):
        rng = np.random.default_rng(seed)
        W1, b1 = rng.standard_normal((6, 4)), rng.standard_normal(4)
        x = rng.standard_normal((5, 6))
        check_grads(Affine(W1, b1), x, rng=seed)
        check_grads(Relu(), x @ W1 + b1, rng=seed)


def test_result_counts_and_domain_errors_are_left_out():
    result = check_grads(lambda x: x.log(), Value(5e-4))  # the step leaves log's domain
    assert result.left_out == 1 and "not defined" in result.reasons[0]
    assert check_grads(lambda x, y: x * y, 1.5, -2.0, directions=3).checked == 3


def test_domains_and_kinks_from_the_rows():
    assert input_domains(ops.div)[1] == ((-math.inf, 0.0), (0.0, math.inf))
    assert input_domains(ops.log) == [((0.0, math.inf),)]
    assert input_kinks(ops.relu) == [(0.0,)]

    @given(safe_floats(input_domains(ops.div)[1], margin=0.1), values_for(ops.log, 0))
    def safe(y, x):
        assert 0.1 <= abs(y) <= 3.0 and isinstance(x, Value) and 0.1 <= x.data <= 3.0
    safe()


# -- the mutation study: each wrong rule is caught --------------------------------------

def _detach(x):
    return x.data if isinstance(x, Value) else x


def _slope(x, at_zero):
    """Leaky ReLU's slope: 1 for x > 0, 0.1 for x < 0, ``at_zero`` at 0 (kept in x's dtype)."""
    if isinstance(x, np.ndarray):
        return np.where(x > 0, 1.0, np.where(x < 0, 0.1, at_zero)).astype(x.dtype)
    x = _detach(x)
    return 1.0 if x > 0 else 0.1 if x < 0 else at_zero


def _leaky(at_zero, name):
    return declare_op(name, register=False, kinks=(0.0,),
                      forward=elementwise(lambda x: x if x > 0 else 0.1 * x,
                                          lambda x: np.where(x > 0, x, 0.1 * x)),
                      backward=(lambda g, out, x: g * _slope(x, at_zero),))


def _book_relu_backward(g, out, x):
    g[out <= 0] = 0  # the book's Relu.backward: dout[self.mask] = 0
    return g


def _half_square_dx(g, out, x):
    return x if np.all(g == 1) else g * x  # "saves a multiply" and returns x itself


def _exp_in_place(g, out, x):
    out *= g  # "saves memory": writes into the forward output
    return out


def _affine_db_first_row(g, out, x, W, b):
    return g[0].copy()  # right for a batch of one


def _sce_without_mean(g, out, x, *, t):
    y = out[1].copy()
    y[np.arange(len(y)), t] -= 1
    return g * y  # forgot the / N


def _labels(xs):
    return class_labels(*xs[0].shape).map(lambda t: {"t": t})


AFFINE_SHAPES = st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)).map(
    lambda s: ((s[0], s[1]), (s[1], s[2]), (s[2],)))
SCE_SHAPES = st.tuples(st.integers(1, 5), st.integers(2, 5)).map(lambda s: (s,))

# (name, the wrong row, rule_test keyword arguments, what the message must say)
MUTANTS = [
    ("sign flipped", declare_op("tanh_sign", register=False, forward=ops.tanh.forward,
                                backward=(lambda g, out, x: -g * (1 - out * out),)),
     {}, "derivative"),
    ("factor missing", declare_op("sigmoid_factor", register=False, forward=ops.sigmoid.forward,
                                  backward=(lambda g, out, x: g * out,)),
     {}, "derivative"),
    ("wrong input swapped", declare_op("mul_swapped", register=False, forward=ops.mul.forward,
                                       backward=(lambda g, out, x, y: g * y,
                                                 lambda g, out, x, y: g * y)),
     {}, r"input 1"),
    ("exponent minus one missing", declare_op(
        "pow_exponent", register=False, forward=ops.pow_.forward, domain=ops.pow_.domain,
        backward=(lambda g, out, x, y: g * y * ops.pow_(x, y), ops.pow_.backward[1])),
     {}, "derivative"),
    ("quotient rule missing x", declare_op(
        "div_dy", register=False, forward=ops.div.forward, domain=ops.div.domain,
        backward=(ops.div.backward[0], lambda g, out, x, y: -g / y)),
     {}, r"d/d\(input 1\)"),
    ("wrong only at the kink", _leaky(0.0, "leaky_kink"), {}, "subgradient"),
    ("wrong second derivative only (detached output)", declare_op(
        "tanh_detached", register=False, forward=ops.tanh.forward,
        backward=(lambda g, out, x: g * (1 - _detach(out) ** 2),)),
     {}, "second derivative"),
    ("mutates dout", declare_op("relu_book", register=False, scalar=False,
                                forward=ops.relu.forward, backward=(_book_relu_backward,)),
     {"shapes": SHAPES, "order": 1, "margin": 0.1, "kinks": (0.0,)}, "upstream gradient"),
    ("returns an alias", declare_op("half_square", register=False, scalar=False,
                                    forward=lambda x: x * x / 2, backward=(_half_square_dx,)),
     {"shapes": SHAPES}, "alias"),
    ("leaks float64", declare_op(
        "tanh_float64", register=False, scalar=False, forward=ops.tanh.forward,
        backward=(lambda g, out, x: g * (1 - out * out) * np.ones(out.shape),)),
     {"shapes": SHAPES}, "float64"),
    ("writes into its output", declare_op("exp_in_place", register=False, scalar=False,
                                          forward=ops.exp.forward, backward=(_exp_in_place,)),
     {"shapes": SHAPES}, "alias|in place"),
    ("mutates its input", declare_op(
        "exp_input", register=False, scalar=False, forward=ops.exp.forward,
        backward=(lambda g, out, x: g * np.exp(x, out=x),)),
     {"shapes": SHAPES}, "input"),
    ("batch sum missing", declare_op(
        "affine_db", register=False, scalar=False, forward=ops.affine.forward,
        backward=ops.affine.backward[:2] + (_affine_db_first_row,)),
     {"shapes": AFFINE_SHAPES}, "input 2"),
    ("mean missing", declare_op(
        "sce_sum", register=False, scalar=False, forward=ops.softmax_cross_entropy.forward,
        backward=(_sce_without_mean,)),
     {"shapes": SCE_SHAPES, "params": _labels}, "derivative"),
]


@pytest.mark.parametrize("name, op, kwargs, says", MUTANTS, ids=[m[0] for m in MUTANTS])
def test_every_wrong_rule_is_caught(name, op, kwargs, says):
    with pytest.raises(GradcheckError, match=says) as caught:
        rule_test(op, max_examples=60, **kwargs)()
    assert repr(op.name) in str(caught.value) or op.name in str(caught.value)


@pytest.mark.slow
def test_the_correct_twins_of_the_mutants_pass():
    rule_test(_leaky(0.1, "leaky_ok"), max_examples=60)()
    rule_test(declare_op("half_square_ok", register=False, scalar=False,
                         forward=lambda x: x * x / 2, backward=(lambda g, out, x: g * x,)),
              shapes=SHAPES)()
    rule_test(ops.relu, max_examples=60)()
    rule_test(ops.affine, shapes=AFFINE_SHAPES, max_examples=40)()
    rule_test(ops.softmax_cross_entropy, shapes=SCE_SHAPES, params=_labels, max_examples=40)()


def test_a_failure_names_the_op_the_inputs_both_derivatives_and_shows_the_graph():
    bad = MUTANTS[0][1]
    with pytest.raises(GradcheckError) as caught:
        check_grads(lambda x, y: bad(x * y) + y, Value(0.5, label="x"), Value(-1.5, label="y"))
    text = str(caught.value)
    assert "culprit: op 'tanh_sign' at inputs (-0.75)" in text
    assert "backprop v.J.u" in text and "numerical" in text and "direction u" in text
    assert "tanh_sign(v" in text and "x = 0.5" in text  # the graph, Value.to_text()


@pytest.mark.slow
def test_hypothesis_shrinks_a_failing_graph_to_the_wrong_op():
    bad = MUTANTS[0][1]
    strategy = graphs(ops=[ops.add, ops.mul, ops.exp, bad], max_steps=5)

    @settings(max_examples=200, database=None)
    @given(strategy)
    def test(graph):
        check_grads(graph, *graph.inputs)

    with pytest.raises(GradcheckError) as caught:
        test()
    text = str(caught.value)
    assert "culprit: op 'tanh_sign'" in text
    graph_text = text.split("graph (grad")[1]
    assert graph_text.count("(") <= 3  # shrunk: the bad op, at most one op besides it


def test_check_kink_accepts_subgradients_and_refuses_the_rest():
    assert check_kink(ops.relu, 0.0)[0][1:] == (0.0, 0.0, 1.0)
    with pytest.raises(GradcheckError, match=r"outside the one-sided derivatives \[0.1"):
        check_kink(_leaky(0.0, "leaky_zero"), 0.0)


# -- layers, float32, state ---------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layers_of_both_dtypes(dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3)).astype(dtype)
    W, b = rng.standard_normal((3, 5)).astype(dtype), rng.standard_normal(5).astype(dtype)
    for layer, inputs, params in ((Affine(W, b), (x,), {}), (Sigmoid(), (x,), {}),
                                  (SoftmaxWithLoss(), (x,), {"t": np.array([0, 2, 1, 1])})):
        result = check_grads(layer, *inputs, params=params, order=2, directions=2)
        assert result.checked == 4


def test_a_layer_with_random_state_checks_with_the_same_mask():
    class Dropout:  # the book's, in float32 or float64
        def __init__(self, ratio=0.5):
            self.ratio, self.mask = ratio, None

        def forward(self, x, train_flg=True):
            self.mask = np.random.rand(*x.shape) > self.ratio
            return x * self.mask

        def backward(self, dout):
            return dout * self.mask

    np.random.seed(0)
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    assert check_grads(Dropout(), x, params={"train_flg": True}, order=2).checked == 2
    state = np.random.get_state()[1].copy()
    Dropout().forward(x)
    np.random.seed(0)
    check_grads(Dropout(), x)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # as if forward ran once


def test_a_layer_that_zeroes_dout_in_place_is_caught():
    class BookRelu:
        def forward(self, x):
            self.mask = x <= 0
            out = x.copy()
            out[self.mask] = 0
            return out

        def backward(self, dout):
            dout[self.mask] = 0
            return dout

    with pytest.raises(GradcheckError, match="upstream gradient"):
        check_grads(BookRelu(), np.array([1.0, -2.0, 3.0]))


def test_rule_test_takes_drawn_inputs_and_fixed_params():
    pairs = st.integers(1, 3).flatmap(lambda n: st.tuples(
        hnp.arrays(np.float64, (n, 2), elements=st.floats(-2, 2)),
        hnp.arrays(np.float64, (2, 3), elements=st.floats(-2, 2)),
        hnp.arrays(np.float64, (3,), elements=st.floats(-2, 2))))
    rule_test(ops.affine, inputs=pairs, max_examples=20)()
    scores = hnp.arrays(np.float64, (2, 3), elements=st.floats(-5, 5)).map(lambda x: (x,))
    rule_test(ops.softmax_cross_entropy, inputs=scores, params={"t": np.array([2, 0])},
              max_examples=20)()


def test_bad_calls_say_what_to_give():
    with pytest.raises(TypeError, match="pair \\(forward, vjp\\)"):
        check_grads(lambda x: x, np.ones(3))
    with pytest.raises(ValueError, match="order must be 1 or 2"):
        check_grads(ops.tanh, 0.5, order=3)
    with pytest.raises(ValueError, match="shapes="):
        rule_test(ops.affine)


# -- issue 22: a check that compares nothing, copies, overflow, tracebacks, bad calls -------

def test_a_check_that_compared_nothing_fails_naming_the_reason():
    with pytest.raises(ValueError, match=r"input 0 holds .*nan.* finite point"):
        check_grads(Sigmoid(), np.array([np.nan, 1.0]))
    absolute = declare_op("abs_nothing", register=False, forward=elementwise(abs, np.abs),
                          backward=(lambda g, out, x: g * (2 * ops.step(x) - 1),))
    result = check_grads(absolute, 0.0)  # left out at its kink: nothing compared
    assert not result and "nothing compared" in str(result) and "one-sided" in str(result)
    assert check_grads(absolute, 0.5)


@pytest.mark.parametrize("rng", [None, 7])
def test_a_layer_whose_rng_cannot_be_copied_is_checked(rng):
    from nn.layers import Dropout
    x = np.random.default_rng(0).standard_normal((3, 4))
    assert check_grads(Dropout(0.3, rng=rng), x, order=2).checked == 2


def test_no_warning_leaks_near_the_largest_float(recwarn):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_grads(ops.exp, 709.0, order=2).checked == 2
        assert check_grads(lambda x: x.exp(), Value(709.0), order=2).checked == 2
        assert check_grads(ops.exp, np.array([709.0, 1.0]), order=2).checked == 2


@pytest.mark.slow
def test_a_failing_rule_test_shows_the_culprit_before_library_source(tmp_path):
    import os
    import subprocess
    import sys
    (tmp_path / "test_bad.py").write_text(
        "from autograd import declare_op, ops\n"
        "from autograd.testing import rule_test\n"
        "bad = declare_op('tanh_sign', register=False, forward=ops.tanh.forward,\n"
        "                 backward=(lambda g, out, x: -g * (1 - out * out),))\n"
        "test_bad = rule_test(bad)\n")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "test_bad.py"], check=False, cwd=tmp_path, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": root}, timeout=300)
    lines = run.stdout.splitlines()
    first = next(i for i, line in enumerate(lines) if "culprit: op 'tanh_sign'" in line)
    assert run.returncode == 1 and first < 15, run.stdout
    assert not any("autograd" + os.sep + "testing" in line for line in lines[:first])


def test_gradcheck_of_a_single_value_says_to_pass_a_list():
    from autograd import gradcheck
    with pytest.raises(TypeError, match=r"list of Values, e\.g\. gradcheck\(f, \[x\]\)"):
        gradcheck(lambda x: x * x, Value(0.7))
