"""Drawing the graph, numerical differentiation and gradcheck of the scalar engine."""
import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import GradcheckError, Value, central_difference, declare_op, gradcheck, numerical_grad


def apple_price():
    apple, num, tax = Value(100, label="apple"), Value(2, label="apple_num"), Value(1.1, label="tax")
    price = apple * num * tax
    price.label = "price"
    return price, (apple, num, tax)


def test_to_dot_draws_ops_as_circles_and_values_on_arrows():
    price, _ = apple_price()
    dot = price.to_dot()
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    assert dot.count("shape=circle") == 2 and dot.count('label="×"') == 2
    assert "<100>" in dot and "<220>" in dot  # forward values on the arrows
    assert "color=\"red\"" not in dot       # no gradients before backward


def test_to_dot_shows_gradients_after_backward():
    price, _ = apple_price()
    price.backward()
    dot = price.to_dot()
    for grad in ("2.2", "110", "200", "1.1"):
        assert f'<font color="red">{grad}</font>' in dot
    assert 'output [shape=plaintext, label="price"]' in dot


def test_to_text_lists_every_node_with_value_and_grad():
    price, _ = apple_price()
    price.backward()
    text = price.to_text()
    assert "apple = 100   grad 2.2" in text
    assert "price = *(v2, tax) = 220   grad 1" in text
    assert len(text.splitlines()) == 5


def test_to_text_is_bounded_for_big_graphs():
    y = Value(1.0)
    for _ in range(500):
        y = y + 1
    lines = y.to_text(max_lines=10).splitlines()
    assert len(lines) == 11 and "more nodes" in lines[-1]


def test_draw_renders_svg_when_graphviz_is_there():
    if shutil.which("dot") is None:  # .ci/run installs it; a test that cannot run fails
        pytest.fail("the Graphviz 'dot' program is not installed (apt-get install graphviz)")
    price, _ = apple_price()
    price.backward()
    svg = price.draw().pipe(format="svg").decode()
    assert "<svg" in svg and "apple" in svg and "2.2" in svg


def test_central_difference_matches_known_slopes():
    assert central_difference(lambda x: 3 * x + 1, 2.0) == pytest.approx(3.0, rel=1e-9)
    assert central_difference(lambda x: x ** 3, 2.0, h=1e-4) == pytest.approx(12.0, rel=1e-7)
    with pytest.raises(ValueError, match="h must be > 0"):
        central_difference(lambda x: x, 1.0, h=0)


@settings(max_examples=40, deadline=None)
@given(x=st.floats(0.2, 3.0), y=st.floats(-2.0, 2.0))
def test_gradcheck_passes_for_correct_backprop(x, y):
    a, b = Value(x, label="a"), Value(y, label="b")
    a.grad, b.grad = 7.0, -1.0
    result = gradcheck(lambda a, b: (a * b).tanh() + a.log() * b.sigmoid() - b / a, [a, b])
    assert result.ok and bool(result)
    assert result.max_abs_error < 1e-6
    assert (a.data, b.data, a.grad, b.grad) == (x, y, 7.0, -1.0)  # inputs left as they were


def test_gradcheck_catches_a_wrong_rule():
    # A multiplication declared outside the library with a broken rule: dz/dx = x, not y.
    bad_mul = declare_op("bad_mul", forward=lambda x, y: x * y, register=False,
                         backward=(lambda g, out, x, y: g * x, lambda g, out, x, y: g * x))
    a, b = Value(2.0, label="a"), Value(5.0, label="b")
    result = gradcheck(lambda a, b: bad_mul(a, b), [a, b])
    assert not result.ok and result.worst_input == "a"
    assert "FAILED" in str(result)
    with pytest.raises(GradcheckError, match=r"gradcheck failed for a: backprop 2\.0, numerical 5\.0"):
        gradcheck(lambda a, b: bad_mul(a, b), [a, b], raise_exception=True)


def test_gradcheck_names_unlabelled_inputs_by_position_and_rejects_non_values():
    with pytest.raises(TypeError, match=r"inputs\[1\] is a float"):
        gradcheck(lambda a, b: a * b, [Value(1.0), 2.0])
    with pytest.raises(TypeError, match="must return a Value"):
        gradcheck(lambda a: 3.0, [Value(1.0)])
    assert gradcheck(lambda a: a * a, [Value(1.0)]).rows[0][0] == "inputs[0]"


def test_numerical_grad_restores_inputs():
    a = Value(1.5)
    (g,) = numerical_grad(lambda a: a * a * a, [a])
    assert g == pytest.approx(3 * 1.5 ** 2, rel=1e-8)
    assert a.data == 1.5


def test_show_prints_text_outside_jupyter(capsys):
    price, _ = apple_price()
    assert price.show() is None
    assert "price = *(v2, tax) = 220" in capsys.readouterr().out


def test_intermediate_labels_are_drawn():
    x, y = Value(2.0, label="x"), Value(3.0, label="y")
    t = x + y
    t.label = "t"
    z = t ** 2
    assert "<t = 5>" in z.to_dot()


def test_constants_are_drawn_inside_their_op_like_the_book():
    x = Value(0.5, label="x")
    y = 1 / (1 + (x * -1).exp())
    dot = y.to_dot()
    for circle in ('label="×-1"', 'label="exp"', 'label="+1"', 'label="1÷"'):
        assert circle in dot
    assert dot.count("shape=plaintext") == 2  # only x and the output: no constant inputs
    unfolded = y.to_dot(fold_constants=False)
    assert unfolded.count("shape=plaintext") == 5 and 'label="×"' in unfolded


def test_labelled_or_shared_leaves_stay_inputs():
    a, two = Value(3.0, label="a"), Value(2.0, label="two")
    assert 'label="two"' in (a * two).to_dot()  # labelled: an input with its gradient
    b = Value(3.0)
    square = b * b
    dot = square.to_dot()  # an unlabelled leaf used twice is a variable, not a constant
    assert 'label="×"' in dot and 'n0 [shape=plaintext, label="v0"]' in dot
    square.backward()  # one arrow, as the explorer draws it, carrying what flowed back: 3 + 3
    assert "n0 -> n1 [label=<3<br/><font color=\"red\">6</font>>];" in square.to_dot()


def test_dot_of_a_constant_arrow_after_backward_is_valid():
    if shutil.which("dot") is None:
        pytest.fail("the Graphviz 'dot' program is not installed (apt-get install graphviz)")
    import graphviz
    x = Value(0.5, label="x")
    y = x * 2
    y.backward()
    dot = y.to_dot(fold_constants=False)  # the 2's arrow carries no gradient: no empty <font>
    assert "<font color=\"red\"></font>" not in dot and "<font color=\"red\">2</font>" in dot
    assert "<svg" in graphviz.Source(dot).pipe(format="svg").decode()
