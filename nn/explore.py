"""TwoLayerNet's forward and backward, step by step, as the book's layer diagram.

``explore(net, x, t)`` (a Jupyter widget) and ``to_html(net, x, t, path)`` (one offline
HTML file) show Affine1 -> Relu1 -> Affine2 -> SoftmaxWithLoss, each layer's numbers and
dout (逆伝播) from its own layer object; on a tiny net also each layer as ``Value`` scalars.
"""
import numpy as np

from autograd import Value, files
from autograd import explore as value_explorer

LAYERS = ("Affine1", "Relu1", "Affine2", "SoftmaxWithLoss")
# Which layer each named array of the scalar graph belongs to.
LAYER_OF = {"x": "Affine1", "W1": "Affine1", "b1": "Affine1", "a1": "Affine1",
            "h1": "Relu1", "W2": "Affine2", "b2": "Affine2", "a2": "Affine2",
            "z": "SoftmaxWithLoss", "e": "SoftmaxWithLoss", "y": "SoftmaxWithLoss",
            "L": "SoftmaxWithLoss"}
MAX_SCALARS = 400  # products in both Affine layers (N*D*H + N*H*C) up to which views expand
TITLE = "TwoLayerNet: forward and backward"


def scalar_graph(net, x, t):
    """The net's loss built with Values, one scalar at a time.

    Returns ``(L, values)``: ``L`` the loss Value, ``values`` a dict name -> numpy
    object array of Values, each labelled like ``W1[0,2]``: x, W1, b1, a1 (= x W1 + b1),
    h1 (= ReLU(a1)), W2, b2, a2 (= h1 W2 + b2), z (= a2 - the row's largest score), e (=
    exp(z)) and y (= softmax(a2), off the loss's path: the loss is the net's, by log-softmax).
    """
    x = np.asarray(x, dtype=np.float64)
    t = np.asarray(t)
    labels = (t.argmax(axis=1) if t.ndim == 2 else t).reshape(-1)  # one-hot rows or indices

    def named(name, array):
        array = np.asarray(array, dtype=object)
        out = np.empty(array.shape, dtype=object)
        for idx in np.ndindex(array.shape):
            out[idx] = array[idx] if isinstance(array[idx], Value) else Value(float(array[idx]))
            out[idx].label = f"{name}[{','.join(map(str, idx))}]"
        return out

    v = {"x": named("x", x.reshape(1, -1) if x.ndim == 1 else x)}
    v.update((k, named(k, net.params[k])) for k in ("W1", "b1", "W2", "b2"))
    # W first in every product (W.T @ x.T), so an unnamed product follows W's layer.
    v["a1"] = named("a1", (v["W1"].T @ v["x"].T).T + v["b1"])
    v["h1"] = named("h1", [[a.relu() for a in row] for row in v["a1"]])
    v["a2"] = named("a2", (v["W2"].T @ v["h1"].T).T + v["b2"])
    # The net's loss by log-softmax: -log y_t = log(sum_j exp(z_j)) - z_t with z = a - m,
    # m the row's largest score (a plain number), so no exp overflows and no log sees 0.
    v["z"] = named("z", v["a2"] - np.array([[max(a.data for a in row)] for row in v["a2"]]))
    v["e"] = named("e", [[z.exp() for z in row] for row in v["z"]])
    totals = [sum(row[1:], row[0]) for row in v["e"]]
    v["y"] = named("y", [[e / total for e in row] for row, total in zip(v["e"], totals)])
    terms = [total.log() - z[c] for total, z, c in zip(totals, v["z"], labels)]
    loss = sum(terms[1:], terms[0]) / len(terms)
    loss.label = "L"
    return loss, v


def _shape(a):
    return str(tuple(np.shape(a)))


def _array(a):
    # + 0.0 turns -0.0 (a zero gradient times a negative number) into 0.0.
    return np.array2string(np.asarray(a) + 0.0, precision=6, threshold=40, edgeitems=2,
                           max_line_width=100)


def _shown(a):
    return f"{_shape(a)}\n{_array(a)}"


def layer_view(net, x, t):
    """The layer diagram's view (nodes, arrows, steps), computed by the net's layers.

    Runs the net's layers forward and backward on ``x``, ``t`` as ``net.gradient`` does,
    so afterwards they hold this batch's state (``dW``, ``db``, ``lastLayer.loss``).
    """
    affine1, relu1, affine2 = (net.layers[k] for k in ("Affine1", "Relu1", "Affine2"))
    last, p = net.lastLayer, net.params
    names = ("x", "W1", "b1", "Affine1", "Relu1", "W2", "b2", "Affine2", "t", "SoftmaxWithLoss",
             "L")
    nodes = [{"kind": "op" if k in LAYERS else "output" if k == "L" else "input", "text": k}
             for k in names]
    X, W1, B1, A1, R1, W2, B2, A2, T, S, OUT = range(len(names))

    # Forward through the net's own layers, then backward, keeping each dout.
    a1 = affine1.forward(x)
    h1 = relu1.forward(a1)
    a2 = affine2.forward(h1)
    loss = last.forward(a2, t)
    d_a2 = last.backward(1)
    d_h1 = affine2.backward(d_a2)
    d_a1 = relu1.backward(d_h1)
    affine1.backward(d_a1)  # dx: None, the first layer's input is the data

    steps = [  # (phase, the node it shows, text)
        ("forward", None, f"forward: the inputs\n  x {_shape(x)} =\n{_array(x)}\n"
         f"  t = {_array(t)}\n  W1 {_shape(p['W1'])}, b1 {_shape(p['b1'])}, "
         f"W2 {_shape(p['W2'])}, b2 {_shape(p['b2'])}"),
        ("forward", A1, f"Affine1.forward: out = x · W1 + b1, {_shape(x)} · {_shape(p['W1'])} + "
         f"{_shape(p['b1'])} -> {_shown(a1)}"),
        ("forward", R1, f"Relu1.forward: out = max(0, x) elementwise, {_shown(h1)}\n"
         f"  mask (x <= 0, where backward will stop the gradient):\n{_array(relu1.mask)}"),
        ("forward", A2, f"Affine2.forward: out = x · W2 + b2, {_shape(h1)} · {_shape(p['W2'])} + "
         f"{_shape(p['b2'])} -> {_shown(a2)}"),
        ("forward", S, f"SoftmaxWithLoss.forward: y = softmax(x) {_shown(last.y)}\n"
         f"  L = mean cross-entropy error = {float(loss)!r}"),
        ("backward", OUT, "backward starts at the output: dL/dL = 1"),
        ("backward", S, f"SoftmaxWithLoss.backward: dx = (y - t) / N {_shown(d_a2)}"),
        ("backward", A2, f"Affine2.backward (dout {_shape(d_a2)}):\n  dx = dout · W2ᵀ "
         f"{_shown(d_h1)}\n  dW2 = xᵀ · dout {_shown(affine2.dW)}\n"
         f"  db2 = dout summed over the batch {_shown(affine2.db)}"),
        ("backward", R1, f"Relu1.backward: dx = dout where x > 0, else 0 {_shown(d_a1)}"),
        ("backward", A1, f"Affine1.backward (dout {_shape(d_a1)}):\n  dW1 = xᵀ · dout "
         f"{_shown(affine1.dW)}\n  db1 = dout summed over the batch {_shown(affine1.db)}\n"
         "  (no dx: the first layer's input is the data)"),
        ("backward", None, f"done: L = {float(loss)!r}; the gradients dW1, db1, dW2, db2 are what "
         "TwoLayerNet.gradient returns")]
    edges = [dict(zip(("src", "dst", "value", "grad", "fw", "bw"), edge)) for edge in [
        (X, A1, _shape(x), "", 0, None),
        (W1, A1, _shape(p["W1"]), f"dW1 {_shape(affine1.dW)}", 0, 9),
        (B1, A1, _shape(p["b1"]), f"db1 {_shape(affine1.db)}", 0, 9),
        (A1, R1, _shape(a1), f"dout {_shape(d_a1)}", 1, 8),
        (R1, A2, _shape(h1), f"dout {_shape(d_h1)}", 2, 7),
        (W2, A2, _shape(p["W2"]), f"dW2 {_shape(affine2.dW)}", 0, 7),
        (B2, A2, _shape(p["b2"]), f"db2 {_shape(affine2.db)}", 0, 7),
        (A2, S, _shape(a2), f"dout {_shape(d_a2)}", 3, 6),
        (T, S, _shape(t), "", 0, None),
        (S, OUT, f"L = {float(loss):.6g}", "1", 4, 5)]]
    return {"name": "layers (the book's diagram)", "nodes": nodes, "edges": edges,
            "steps": [{"phase": phase, "text": text} for phase, _, text in steps],
            "at": [node for _, node, _ in steps]}


def views(net, x, t):
    """The layer diagram, and on a tiny net each layer expanded into Values."""
    result = [layer_view(net, x, t)]
    if len(np.atleast_2d(x)) * (net.params["W1"].size + net.params["W2"].size) > MAX_SCALARS:
        return result
    loss, _ = scalar_graph(net, x, t)
    whole = value_explorer.value_view(loss, name="everything as scalars (Value)")
    layers = value_explorer.group_of(loss.topological_order(),
                                     lambda label: LAYER_OF[label.split("[")[0]])
    return result + [value_explorer.grouped(whole, {node: layer for node, layer in layers.items()
                                                    if layer != name}, f"{name} as scalars (Value)")
                     for name in LAYERS] + [whole]


def explore(net, x, t):
    """The step-by-step layer diagram of ``net`` on the batch ``x``, ``t`` (a Jupyter widget)."""
    return value_explorer.widget(views(net, x, t), TITLE)


def to_html(net, x, t, path):
    """Write the step-by-step layer diagram to ``path`` as one offline HTML file."""
    return files.write_text(path, value_explorer.html_page(views(net, x, t), TITLE))
