"""The explorer's Python side: the replayed backward pass, the views, the HTML file, the
layout, draw()'s picture without Graphviz, and TwoLayerNet's layer views.

What the page does with them in a browser is tested in test_explore_browser.py.
"""
import json
import re
import sys
from importlib import resources

import graphviz
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, draw, explore
from book_graphs import apple_orange_graph
from autograd.layout import layered_layout


def _page_data(text):
    raw = re.search(r'<script type="application/json" id="chainrule-data">(.*?)</script>',
                    text, re.S).group(1)
    return json.loads(raw.replace("<\\/", "</"))


# -- the numbers: the replayed backward pass is back-propagation's, bit for bit --------

@given(a=st.floats(0.1, 3.0), b=st.floats(-2.0, 2.0), dy=st.floats(-3.0, 3.0))
def test_trace_gives_backwards_numbers_exactly(a, b, dy):
    x, y = Value(a, label="x"), Value(b, label="y")
    t = x * y + x.exp()          # x used three times, y twice: fan-out everywhere
    out = (t * y - x / (y * y + 1)).tanh() + t.sigmoid() * x ** 2 + (x + 1).log().relu()
    seed, grads, passes = explore.backward_trace(out, seed=dy)
    assert x.grad == y.grad == 0.0  # the replay touches no grad field
    out.backward(dy)
    for node in out.topological_order():
        if node.is_constant:  # the plain numbers (the 1 of x + 1) get no gradient
            assert id(node) not in grads and node.grad == 0.0
        else:
            assert grads[id(node)] == node.grad
    assert len(passes) == len(out.topological_order(leaves=False))


def test_seed_is_the_gradient_backward_started_with():
    price, leaves = apple_orange_graph()
    assert explore.backward_trace(price)[0] == 1.0  # before backward: dL/dprice = 1
    price.backward(2)
    seed, grads, _ = explore.backward_trace(price)
    assert seed == 2.0 and [grads[id(v)] for v in leaves] == [v.grad for v in leaves]


def test_steps_write_out_the_chain_rule():
    price, leaves = apple_orange_graph()
    view = explore.value_view(price)
    texts = [s["text"] for s in view["steps"]]
    assert len(texts) == 1 + 4 + 1 + 4 + 1  # inputs, 4 ops forward, seed, 4 backward, done
    assert "backward() has not run yet" in texts[0]
    assert texts[4].endswith("= 715.0000000000001")
    assert "to tax: 1.0 × 650.0 (local dprice/dtax) = 650.0" in texts[6]
    assert "to apple_num: 1.1 × 100.0 (local d(apple × apple_num)/dapple_num) = 110.00000000000001" in texts[9]
    assert price.grad == 0.0 and all(v.grad == 0.0 for v in leaves)
    price.backward()
    assert "backward() has run" in explore.value_view(price)["steps"][0]["text"]


def test_fan_out_shows_the_contributions_being_added():
    x = Value(3.0, label="x")
    y = x * x + x * 2
    texts = [s["text"] for s in explore.value_view(y)["steps"]]
    (added,) = [t for t in texts if "used more than once" in t]
    # Backward reaches x * 2 first (x gets 2.0), then x * x, which sends 3.0 through each slot.
    assert "to x: 1.0 × 3.0 (local d(x × x)/dx) = 3.0" in added
    assert "2.0 + 3.0 = 5.0" in added and "5.0 + 3.0 = 8.0" in added
    y.backward()
    assert x.grad == 8.0


def test_arrows_carry_values_and_the_gradient_that_flowed_back_along_them():
    price, _ = apple_orange_graph()
    view = explore.value_view(price)
    texts = [explore.edge_texts(e, 6) for e in view["edges"]]
    arrows = {(view["nodes"][e["src"]]["text"], value): grad
              for e, (value, grad) in zip(view["edges"], texts)}
    assert arrows[("apple", "100")] == "2.2" and arrows[("tax", "1.1")] == "650"
    assert arrows[("×", "715")] == "1"
    assert arrows[("×", "apple × apple_num = 200")] == "1.1"  # a result's arrow names it
    x = Value(3.0, label="x")
    twice = explore.value_view(x * x + x * 2)  # x's two arrows carry 6 and 2, not 8
    assert sorted(e["grad"] for e in twice["edges"] if e["value"] == 3) == [2, 6]
    # Every arrow's numbers appear at a step that exists, forward before backward.
    n = len(view["steps"])
    assert all(0 <= e["fw"] < e["bw"] < n for e in view["edges"])


def test_constants_fold_into_their_op_as_draw_does():
    x = Value(0.5, label="x")
    y = 1 / (1 + (x * -1).exp())
    ops = [n["text"] for n in explore.value_view(y)["nodes"] if n["kind"] == "op"]
    assert ops == ["×-1", "exp", "+1", "1÷"]
    assert [n["kind"] for n in explore.value_view(y)["nodes"]].count("input") == 1


# -- collapsing big graphs ------------------------------------------------------------

def chain(n):
    y = Value(1.0, label="x")
    for i in range(n):
        y = (y * 1.01).tanh()
        y.label = f"block{i // 10}.y{i}"
    return y


def test_collapse_by_depth_and_by_prefix():
    y = chain(40)
    full = explore.value_view(y)
    by_depth = explore.value_view(y, collapse=5)
    groups = [n["text"] for n in by_depth["nodes"] if n["kind"] == "group"]
    # 80 ops and x; the 5 ops nearest the output stay, the 75 others and x become one box.
    assert groups == ["farther than 5 ops from the output (76 nodes)"]
    assert sum(n["kind"] == "op" for n in by_depth["nodes"]) == 5
    assert len(by_depth["steps"]) == len(full["steps"])  # every node still has its steps
    by_prefix = explore.value_view(y, collapse=["block0", "block1", "block2"])
    groups = [n["text"] for n in by_prefix["nodes"] if n["kind"] == "group"]
    # An unlabelled product follows its first input into the group: 10 labels + 10 products.
    assert groups == ["block0 (20 nodes)", "block1 (20 nodes)", "block2 (20 nodes)"]
    by_function = explore.value_view(y, collapse=lambda label: label.split(".")[0] if "." in label else None)
    assert sum(n["kind"] == "group" for n in by_function["nodes"]) == 4


def test_a_chosen_collapse_opens_collapsed_and_each_box_expands_on_click():
    y = chain(40)
    views = explore.value_views(y, collapse=["block0", "block1"])
    assert [v["name"] for v in views] == ["collapsed into 2 groups (click one)",
                                          "whole graph (121 nodes)",
                                          "block0 expanded", "block1 expanded"]
    for v in views:  # a click on a box opens the view that has it expanded
        for node, target in v.get("groups", {}).items():
            box = v["nodes"][node]["text"].split(" (")[0]
            assert views[target]["name"] == f"{box} expanded"
            assert not any(n["text"].startswith(box + " (") for n in views[target]["nodes"])
    assert len(views[0]["groups"]) == 2 and len(views[2]["groups"]) == 1
    # Every view steps through the same back-propagation.
    assert len({len(v["steps"]) for v in views}) == 1


def test_collapse_rejects_what_it_cannot_use(tmp_path):
    a = Value(1.0, label="A.x")
    b = a * 2
    b.label = "B.y"
    c = b * 3
    c.label = "A.z"  # A -> B -> A: two boxes feeding each other
    with pytest.raises(ValueError, match="feed each other in a circle"):
        (c + 1).to_html(tmp_path / "g.html", collapse=["A.", "B."])
    assert list(tmp_path.iterdir()) == []
    y = chain(3)
    with pytest.raises(TypeError, match="collapse must be a depth"):
        explore.value_view(y, collapse=2.5)
    with pytest.raises(ValueError, match="collapse depth must be >= 0, got -1"):
        explore.value_view(y, collapse=-1)


# -- the HTML file ---------------------------------------------------------------------

def test_html_file_is_self_contained(tmp_path):
    price, _ = apple_orange_graph()
    path = price.to_html(tmp_path / "graph.html")
    text = (tmp_path / "graph.html").read_text(encoding="utf-8")
    assert path == str(tmp_path / "graph.html")
    # Nothing to fetch: no external script, style, image or font; the one URL is SVG's namespace.
    assert set(re.findall(r"https?://[^\s\"'\\]+", text)) == {"http://www.w3.org/2000/svg"}
    assert not re.search(r"<(link|img|iframe)\b|\bsrc=|@import|\bimport\s*\(", text)
    data = _page_data(text)
    (view,) = data["views"]
    assert view["svg"].startswith("<svg") and len(data["steps"][view["steps"]]) == 11
    assert "function mount(" in text and ".cr-explorer" in text  # the script and style inline


def test_html_data_cannot_close_its_script_tag(tmp_path):
    x = Value(2.0, label="</script><script>alert(1)</script>")
    (x * 3).to_html(tmp_path / "g.html")
    text = (tmp_path / "g.html").read_text(encoding="utf-8")
    assert text.count("</script>") == 2  # the data block's and the module's, nothing else
    assert _page_data(text)["steps"][0][0]["text"].count("</script>") == 2


def test_html_into_a_missing_folder_fails_cleanly(tmp_path):
    price, _ = apple_orange_graph()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        price.to_html(tmp_path / "no" / "such" / "graph.html")
    assert list(tmp_path.iterdir()) == []


def test_page_script_and_style_ship_with_the_package():
    files = resources.files("autograd")
    assert "function render(" in (files / "explore.js").read_text(encoding="utf-8")
    assert ".cr-current" in (files / "explore.css").read_text(encoding="utf-8")


def test_explore_is_a_jupyter_widget():
    price, _ = apple_orange_graph()
    w = price.explore()
    assert "export default { render }" in w._esm
    assert w.data["steps"][0][4]["text"].endswith("= 715.0000000000001")
    bundle = w._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.jupyter.widget-view+json" in data
    assert ">715<" in data["image/svg+xml"] and 'fill="#d00000">650<' in data["image/svg+xml"]


# -- the layout --------------------------------------------------------------------------

def test_layout_draws_every_edge_left_to_right_without_overlaps():
    y = chain(5) * Value(2.0, label="a") + Value(1.0, label="b")
    view = explore.value_view(y)
    sizes = [explore._node_size(n) for n in view["nodes"]]
    edges = [(e["src"], e["dst"]) for e in view["edges"]]
    centres, routes, (width, height) = layered_layout(sizes, edges)
    for (s, d), route in zip(edges, routes):
        xs = [p[0] for p in route]
        assert xs == sorted(xs) and xs[0] < xs[-1]
        assert route[0] == centres[s] and route[-1] == centres[d]
    boxes = [(x - w / 2, y - h / 2, x + w / 2, y + h / 2) for (x, y), (w, h) in zip(centres, sizes)]
    for i, a in enumerate(boxes):
        assert 0 <= a[0] and a[2] <= width and 0 <= a[1] and a[3] <= height
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def _crossing_pairs(routes):
    """Pairs of arrow segments between the same two columns whose ends swap order."""
    gaps = {}
    for route in routes:
        for (x0, y0), (x1, y1) in zip(route, route[1:]):
            gaps.setdefault((round(x0), round(x1)), []).append((y0, y1))
    return sum(1 for segs in gaps.values() for i, (a0, a1) in enumerate(segs)
               for b0, b1 in segs[i + 1:] if (a0 - b0) * (a1 - b1) < 0)


def test_layout_uncrosses_what_can_be_uncrossed():
    # Inputs 0..3 feed ops 7..4 in reverse, and input 8 feeds the output 9 from far left:
    # drawn in id order every arrow would cross; a planar order exists.
    edges = [(0, 7), (1, 6), (2, 5), (3, 4), (4, 9), (5, 9), (6, 9), (7, 9), (8, 4), (8, 7)]
    _, routes, _ = layered_layout([(20, 20)] * 10, edges)
    assert _crossing_pairs(routes) == 0
    from autograd.layout import _inversions
    assert _inversions([3, 1, 2, 0]) == 5 and _inversions([0, 1, 1, 2]) == 0


def test_layout_refuses_a_cycle():
    with pytest.raises(ValueError, match="cycle"):
        layered_layout([(10, 10)] * 3, [(0, 1), (1, 2), (2, 0)])


# -- draw() and show() without Graphviz ----------------------------------------------------

@pytest.fixture
def no_graphviz(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz raises ImportError


def test_draw_without_graphviz_gives_an_svg_picture(no_graphviz, tmp_path):
    price, _ = apple_orange_graph()
    before = price.draw().pipe(format="svg").decode()
    assert before.startswith("<svg") and ">apple<" in before and ">715<" in before
    assert 'fill="#d00000">2.2<' not in before  # no gradients before backward
    price.backward()
    picture = price.draw()
    svg = picture._repr_svg_()
    for grad in ("2.2", "110", "3.3", "165", "650"):
        assert f'fill="#d00000">{grad}<' in svg
    picture.save(tmp_path / "g.svg")
    assert (tmp_path / "g.svg").read_text(encoding="utf-8") == svg


@pytest.mark.parametrize("graphviz_there", [True, False])
def test_save_svg_writes_the_picture_in_one_call(graphviz_there, monkeypatch, tmp_path):
    if not graphviz_there:
        monkeypatch.setitem(sys.modules, "graphviz", None)
    price, _ = apple_orange_graph()
    price.backward()
    assert price.save_svg(tmp_path / "price.svg") == str(tmp_path / "price.svg")
    svg = (tmp_path / "price.svg").read_text(encoding="utf-8")
    assert "<svg" in svg and ">apple<" in svg and "650" in svg
    assert ("Generated by graphviz" in svg) is graphviz_there  # drawn by Graphviz, else here


def test_draw_without_the_dot_program_gives_the_svg_picture_too(monkeypatch):
    monkeypatch.setattr(draw.shutil, "which", lambda name: None)
    price, _ = apple_orange_graph()
    assert isinstance(price.draw(), explore.Picture)


def test_draw_other_formats_need_graphviz_and_say_how(no_graphviz):
    price, _ = apple_orange_graph()
    with pytest.raises(RuntimeError, match=re.escape("pip install -e '.[viz]'")):
        price.draw(format="png")
    with pytest.raises(ValueError, match="left to right only"):
        price.draw(rankdir="TB")
    with pytest.raises(ValueError, match=re.escape("pip install -e '.[viz]'")):
        price.draw().pipe(format="png")


def test_show_displays_the_picture_in_a_kernel_without_graphviz(no_graphviz, monkeypatch):
    shown = []
    import IPython as ip

    class Kernel:
        kernel = object()

    monkeypatch.setattr(ip, "get_ipython", lambda: Kernel())
    monkeypatch.setattr(ip.display, "display", shown.append)
    price, _ = apple_orange_graph()
    assert price.show() is None
    assert len(shown) == 1 and ">apple<" in shown[0].data


# -- labels the drawings must survive (issue 14, item 14) ------------------------------------

@pytest.mark.parametrize("label", ["ends in a backslash\\", 'quo"te', 7, 2.5, "<b>&"])
def test_any_label_draws(label, tmp_path):
    x = Value(2.0, label=label)
    y = x * Value(3.0, label="k")
    y.label = label
    dot = y.to_dot()
    text = y.to_text()
    assert str(label) in text
    # Every quoted DOT string closes: a backslash is doubled, so none escapes the quote.
    for quoted in re.findall(r'label="((?:[^"\\]|\\.)*)"', dot):
        assert not quoted.endswith("\\") or quoted.endswith("\\\\")
    assert dot.count('label="') == len(re.findall(r'label="(?:[^"\\]|\\.)*"', dot))
    assert y.to_html(tmp_path / "g.html")
    svg = graphviz.Source(dot).pipe(format="svg").decode()  # Graphviz reads it too
    assert "<svg" in svg


# -- TwoLayerNet's layers, and the same net as Values -------------------------------------------

def tiny_net():
    from nn import TwoLayerNet
    net = TwoLayerNet(2, 3, 2, weight_init_std=1.0, rng=3)
    x = np.array([[0.5, -1.0], [1.5, 0.3]])
    t = np.array([[1.0, 0.0], [0.0, 1.0]])
    return net, x, t


def test_scalar_graph_agrees_with_the_vectorised_layers():
    from nn import explore as net_explore
    net, x, t = tiny_net()
    loss, values = net_explore.scalar_graph(net, x, t)
    _, grads, _ = explore.backward_trace(loss)
    as_array = np.vectorize(lambda v: grads[id(v)], otypes=[float])
    data = np.vectorize(lambda v: v.data, otypes=[float])

    expected = net.gradient(x, t)
    assert loss.data == pytest.approx(net.lastLayer.loss, rel=1e-13)
    for key in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(as_array(values[key]), expected[key], rtol=1e-12, atol=1e-15)
    # The douts between the layers, too: what SoftmaxWithLoss and Relu1 pass back.
    np.testing.assert_allclose(data(values["a2"]), net.predict(x), rtol=1e-13)
    d_a2 = net.lastLayer.backward(1)
    np.testing.assert_allclose(as_array(values["a2"]), d_a2, rtol=1e-12, atol=1e-15)
    d_a1 = net.layers["Relu1"].backward(net.layers["Affine2"].backward(d_a2))
    np.testing.assert_allclose(as_array(values["a1"]), d_a1, rtol=1e-12, atol=1e-15)


def test_layer_view_shows_shapes_and_each_dout(tmp_path):
    from nn import explore as net_explore
    net, x, t = tiny_net()
    views = net_explore.views(net, x, t)
    assert [v["name"] for v in views][:2] == ["layers (the book's diagram)", "Affine1 as scalars (Value)"]
    assert len(views) == 6
    layers = views[0]
    ops = [n["text"] for n in layers["nodes"] if n["kind"] == "op"]
    assert ops == ["Affine1", "Relu1", "Affine2", "SoftmaxWithLoss"]
    arrows = {(layers["nodes"][e["src"]]["text"], layers["nodes"][e["dst"]]["text"]): e
              for e in layers["edges"]}
    assert arrows["Affine1", "Relu1"]["value"] == "(2, 3)"
    assert arrows["Affine1", "Relu1"]["grad"] == "dout (2, 3)"
    assert arrows["W1", "Affine1"]["grad"] == "dW1 (2, 3)"
    steps = [s["text"] for s in layers["steps"]]
    expected = net.gradient(x, t)
    dW2 = np.array2string(expected["W2"], precision=6, threshold=40, edgeitems=2, max_line_width=100)
    assert dW2 in steps[7]
    # Expanded: the other layers are boxes, the expanded one is scalars.
    affine1 = views[1]
    boxes = sorted(n["text"].split(" (")[0] for n in affine1["nodes"] if n["kind"] == "group")
    assert boxes == ["Affine2", "Relu1", "SoftmaxWithLoss"]
    assert net_explore.to_html(net, x, t, tmp_path / "net.html")
    assert len(_page_data((tmp_path / "net.html").read_text(encoding="utf-8"))["views"]) == 6


def test_a_big_net_shows_the_layer_diagram_only():
    from nn import TwoLayerNet
    from nn import explore as net_explore
    net = TwoLayerNet(784, 50, 10, rng=0)
    x = np.random.default_rng(0).random((3, 784))
    views = net_explore.views(net, x, np.array([1, 2, 3]))
    assert len(views) == 1 and "(3, 784)" in views[0]["steps"][1]["text"]


# -- the one atomic writer (autograd.files), and what the page must survive (issue 22) -------

def test_writers_refuse_a_fifo_or_a_folder_and_leave_it_alone(tmp_path):
    import os
    import stat

    from autograd import files
    from nn.data.files import atomic_write as nn_atomic_write
    price, _ = apple_orange_graph()
    fifo = tmp_path / "pipe.html"
    os.mkfifo(fifo)
    for write in (lambda p: price.to_html(p), lambda p: price.save_svg(p),
                  lambda p: files.write_text(p, "x"),
                  lambda p: nn_atomic_write(p).__enter__()):
        with pytest.raises(FileExistsError, match=re.escape(repr(str(fifo))) + ".*not a regular file"):
            write(fifo)
        assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    (tmp_path / "folder.html").mkdir()
    with pytest.raises(IsADirectoryError, match="folder.html.*is a folder"):
        price.to_html(tmp_path / "folder.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.html", "pipe.html"]


def test_written_files_get_the_usual_mode_and_are_never_partial(tmp_path):
    import os

    from autograd import files
    old = os.umask(0o022)
    try:
        price, _ = apple_orange_graph()
        for path in (price.to_html(tmp_path / "g.html"), price.save_svg(tmp_path / "g.svg")):
            assert os.stat(path).st_mode & 0o777 == 0o644  # readable by a web server, as open() makes
    finally:
        os.umask(old)
    with pytest.raises(RuntimeError, match="boom"):
        with files.atomic_write(tmp_path / "g.html") as f:
            f.write(b"half")
            raise RuntimeError("boom")
    assert (tmp_path / "g.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.html", "g.svg"]  # no temporary left


@pytest.mark.parametrize("label", ["<!--<script>", "a\u2028b\u2029c", "x</script><!--"])
def test_no_label_can_break_the_page_script(label, tmp_path):
    x = Value(2.0, label=label)
    (x * 3).to_html(tmp_path / "g.html")
    text = (tmp_path / "g.html").read_text(encoding="utf-8")
    block = re.search(r'id="chainrule-data">(.*?)</script>', text, re.S).group(1)
    assert "<" not in block and "\u2028" not in block and "\u2029" not in block
    assert json.loads(block)["steps"][0][0]["text"].startswith(f"forward: the inputs\n  {label} = 2.0")


def test_a_label_with_a_lone_surrogate_is_written_escaped(tmp_path):
    x = Value(2.0, label="bad\udcffname")
    y = x * 3
    y.to_html(tmp_path / "g.html")  # UnicodeEncodeError before
    assert "bad\\udcffname" in (tmp_path / "g.html").read_text(encoding="utf-8")
    assert "bad\\\\udcffname" in y.to_dot() and "bad\\udcffname" in y.to_text()
    y.save_svg(tmp_path / "g.svg")


def test_draw_and_explore_form_no_import_circle():
    source = (resources.files("autograd") / "explore.py").read_text(encoding="utf-8")
    assert not re.search(r"^from \.draw import|^from \. import .*\bdraw\b", source, re.M)
    assert "_write_atomic" not in (resources.files("nn") / "explore.py").read_text(encoding="utf-8")


def test_the_net_explorer_survives_scores_beyond_exp_overflow(tmp_path):
    from nn import TwoLayerNet
    from nn import explore as net_explore
    net = TwoLayerNet(2, 3, 2, weight_init_std=1.0, rng=3)
    net.params["W1"][...] = [[30.0, -5.0, 20.0], [10.0, 4.0, -30.0]]
    net.params["W2"][...] = [[20.0, -30.0], [5.0, 6.0], [-10.0, 25.0]]
    x, t = np.array([[10.0, 5.0], [-3.0, 8.0]]), np.array([1, 0])
    assert net.predict(x).max() > 709
    loss = net.loss(x, t)
    assert np.isfinite(loss) and loss > 709
    net_explore.to_html(net, x, t, tmp_path / "net.html")  # OverflowError in exp before
    scalar_loss, values = net_explore.scalar_graph(net, x, t)
    assert scalar_loss.data == pytest.approx(loss, rel=1e-12)
    _, grads, _ = explore.backward_trace(scalar_loss)
    as_array = np.vectorize(lambda v: grads[id(v)], otypes=[float])
    for key, expected in net.gradient(x, t).items():
        np.testing.assert_allclose(as_array(values[key]), expected, rtol=1e-12, atol=1e-15)


# -- "what if" in Jupyter: the widget's model recomputes in Python (issue 21, item 4) -------

@settings(max_examples=15)
@given(apple=st.floats(-500, 500), tax=st.floats(0.5, 2.0))
def test_what_if_gives_what_rebuilding_the_graph_gives(apple, tax):
    price, leaves = apple_orange_graph()
    w = price.explore()
    assert [name for name, _ in w.leaves] == ["apple", "apple_num", "orange", "orange_num", "tax"]
    w.edit = [0, apple, 1]  # what the page sends when "apple" is typed in
    w.edit = [4, tax, 2]
    assert w.error == "" and price.data == 715.0000000000001 and leaves[0].data == 100  # untouched
    rebuilt, again = apple_orange_graph()
    again[0].data, again[4].data = apple, tax
    rebuilt = (again[0] * again[1] + again[2] * again[3]) * again[4]
    rebuilt.label = "price"
    assert w.data == explore.widget(explore.value_views(rebuilt), w.data["title"]).data
    rebuilt.backward()
    done = w.data["steps"][0][-1]["text"]
    for name, leaf in zip(["apple", "apple_num", "orange", "orange_num", "tax"], again):
        assert f"  dL/d{name} = {leaf.grad!r}\n" in done
    assert f"(price = {rebuilt.data!r})" in done
    assert [value for _, value in w.leaves] == [apple, 2, 150, 3, tax]


def test_what_if_refuses_what_the_op_table_refuses():
    x = Value(2.0, label="x")
    w = (x.log() * 3).explore()
    before = w.data
    w.edit = [0, -1.0, 1]  # log(-1)
    assert "x = -1.0" in w.error and w.data == before and w.leaves == [["x", 2.0]]
    w.edit = [0, 5.0, 2]
    assert w.error == "" and "= 4.828313737302301" in w.data["steps"][0][2]["text"]


def test_numbers_for_people_no_negative_zero_no_double_minus():
    from nn import TwoLayerNet
    from nn import explore as net_explore
    net = TwoLayerNet(2, 3, 2, weight_init_std=1.0, rng=3)
    net.params["W1"][...] = np.abs(net.params["W1"])
    net.params["b1"][...] = 0.0
    x, t = np.array([[-1.0, -2.0]]), np.array([1])  # every hidden unit off: dW1 = x.T @ 0
    (layers, *_) = net_explore.views(net, x, t)
    assert np.all(net.gradient(x, t)["W1"] == 0) and "-0." not in layers["steps"][9]["text"]
    z = Value(0.0, label="z")
    y = (z * -1.0) - Value(-1.0)  # -0.0, then minus a negative number
    texts = explore.walkthrough(y)
    assert not re.search(r"(?<![\d.])-0\.0\b|−-|- -", str(texts))
    assert explore.number(-0.0) == "0" and "−(-1)" in [n["text"] for n in explore.value_view(y)["nodes"]]
    assert str(texts) == "\n\n".join(texts) and "\\n" not in str(texts)  # print(walkthrough(y))
