"""Drawing the graph: DOT, text and SVG, labels and folded constants as in the book's figures."""
import shutil

import pytest

from autograd import Value


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
