"""TwoLayerNet's forward and backward, step by step, as the book's layer diagram.

``explore(net, x, t)`` (a Jupyter widget) and ``to_html(net, x, t, path)`` (one offline
HTML file) show Affine1 -> Relu1 -> Affine2 -> SoftmaxWithLoss with the array shapes on
the arrows; stepping runs the layers forward, then back-propagates, showing each
layer's dout (the gradient flowing back, 逆伝播) with its numbers.  Every number comes
from the network's own layer objects (``layer.forward`` / ``layer.backward``).

On a tiny net (say 2-3-2 on two samples) the page has more views: each layer expanded
into its scalar graph built with ``autograd.Value`` (``scalar_graph``), the other layers
drawn as boxes, and everything as scalars.  Their numbers agree with the vectorised
layers' to rounding (tests/test_explore.py checks it).
"""
import numpy as np

from autograd import Value, files
from autograd import explore as value_explorer

LAYERS = ("Affine1", "Relu1", "Affine2", "SoftmaxWithLoss")
# Which layer each named array of the scalar graph belongs to.
LAYER_OF = {"x": "Affine1", "W1": "Affine1", "b1": "Affine1", "a1": "Affine1",
            "h1": "Relu1", "W2": "Affine2", "b2": "Affine2", "a2": "Affine2",
            "z": "SoftmaxWithLoss", "e": "SoftmaxWithLoss", "y": "SoftmaxWithLoss", "L": "SoftmaxWithLoss"}
MAX_SCALARS = 400  # products in both Affine layers (N*D*H + N*H*C) up to which views expand


def _labels(t):
    """Class indices (N,) from one-hot rows (N, C) or indices."""
    t = np.asarray(t)
    return t.argmax(axis=1) if t.ndim == 2 else t


def scalar_graph(net, x, t):
    """The net's loss built with Values, one scalar at a time.

    Returns ``(L, values)``: ``L`` the loss Value, ``values`` a dict name -> numpy
    object array of Values for x, W1, b1, a1 (= x W1 + b1), h1 (= ReLU(a1)), W2, b2,
    a2 (= h1 W2 + b2), y (= softmax(a2), drawn off the loss's path: the loss is computed
    by log-softmax, as the net computes it).  Every node is labelled like ``W1[0,2]``.
    """
    x = np.asarray(x, dtype=np.float64)
    x = x.reshape(1, -1) if x.ndim == 1 else x
    labels = _labels(t).reshape(-1)
    p = net.params

    def leaves(name, array):
        out = np.empty(array.shape, dtype=object)
        for idx in np.ndindex(array.shape):
            out[idx] = Value(float(array[idx]), label=f"{name}[{','.join(map(str, idx))}]")
        return out

    def affine(name, xs, W, b):
        n, m = xs.shape[0], W.shape[1]
        out = np.empty((n, m), dtype=object)
        for i in range(n):
            for j in range(m):
                s = b[j]
                for k in range(W.shape[0]):
                    s = s + W[k, j] * xs[i, k]  # W first: the product follows W's layer
                s.label = f"{name}[{i},{j}]"
                out[i, j] = s
        return out

    v = {"x": leaves("x", x), "W1": leaves("W1", p["W1"]), "b1": leaves("b1", p["b1"]),
         "W2": leaves("W2", p["W2"]), "b2": leaves("b2", p["b2"])}
    v["a1"] = affine("a1", v["x"], v["W1"], v["b1"])
    v["h1"] = np.empty(v["a1"].shape, dtype=object)
    for idx in np.ndindex(v["a1"].shape):
        v["h1"][idx] = v["a1"][idx].relu()
        v["h1"][idx].label = f"h1[{idx[0]},{idx[1]}]"
    v["a2"] = affine("a2", v["h1"], v["W2"], v["b2"])
    n, c = v["a2"].shape
    v["y"] = np.empty((n, c), dtype=object)
    loss = None
    for i in range(n):
        # The net's own loss, from the scores by log-softmax: with m the row's largest
        # score (a plain number), -log y_t = log(sum_j exp(a_j - m)) - (a_t - m), so no
        # exp overflows and no log sees 0.
        m = max(a.data for a in v["a2"][i])
        z = [a - m for a in v["a2"][i]]
        for j in range(c):
            z[j].label = f"z[{i},{j}]"
        e = []
        for j in range(c):
            e.append(z[j].exp())
            e[-1].label = f"e[{i},{j}]"
        total = e[0]
        for ej in e[1:]:
            total = total + ej
        for j in range(c):
            v["y"][i, j] = e[j] / total
            v["y"][i, j].label = f"y[{i},{j}]"
        term = total.log() - z[labels[i]]
        loss = term if loss is None else loss + term
    loss = loss / n
    loss.label = "L"
    return loss, v


def _shape(a):
    return str(tuple(np.shape(a)))


def _array(a):
    # + 0.0 turns -0.0 (a zero gradient times a negative number) into 0.0.
    return np.array2string(np.asarray(a) + 0.0, precision=6, threshold=40, edgeitems=2,
                           max_line_width=100)


def layer_view(net, x, t):
    """The layer diagram's view (nodes, arrows, steps), computed by the net's layers.

    Runs the net's layers forward and backward on ``x``, ``t`` as ``net.gradient`` does,
    so afterwards they hold this batch's state (``dW``, ``db``, ``lastLayer.loss``).
    """
    affine1, relu1, affine2 = (net.layers[k] for k in ("Affine1", "Relu1", "Affine2"))
    last = net.lastLayer
    nodes = [{"kind": "input", "text": s} for s in ("x", "W1", "b1")]
    nodes += [{"kind": "op", "text": "Affine1"}, {"kind": "op", "text": "Relu1"}]
    nodes += [{"kind": "input", "text": s} for s in ("W2", "b2")]
    nodes += [{"kind": "op", "text": "Affine2"}, {"kind": "input", "text": "t"},
              {"kind": "op", "text": "SoftmaxWithLoss"}, {"kind": "output", "text": "L"}]
    X, W1, B1, A1, R1, W2, B2, A2, T, S, OUT = range(11)

    # Forward through the net's own layers, then backward, keeping each dout.
    a1 = affine1.forward(x)
    h1 = relu1.forward(a1)
    a2 = affine2.forward(h1)
    loss = last.forward(a2, t)
    d_a2 = last.backward(1)
    d_h1 = affine2.backward(d_a2)
    d_a1 = relu1.backward(d_h1)
    affine1.backward(d_a1)  # dx: None, the first layer's input is the data
    p = net.params

    steps = [
        {"phase": "forward", "node": None, "text":
         f"forward: the inputs\n  x {_shape(x)} =\n{_array(x)}\n  t = {_array(t)}\n"
         f"  W1 {_shape(p['W1'])}, b1 {_shape(p['b1'])}, W2 {_shape(p['W2'])}, "
         f"b2 {_shape(p['b2'])}"},
        {"phase": "forward", "node": A1, "text":
         f"Affine1.forward: out = x · W1 + b1, {_shape(x)} · {_shape(p['W1'])} + "
         f"{_shape(p['b1'])} -> {_shape(a1)}\n{_array(a1)}"},
        {"phase": "forward", "node": R1, "text":
         f"Relu1.forward: out = max(0, x) elementwise, {_shape(h1)}\n{_array(h1)}\n"
         f"  mask (x <= 0, where backward will stop the gradient):\n{_array(relu1.mask)}"},
        {"phase": "forward", "node": A2, "text":
         f"Affine2.forward: out = x · W2 + b2, {_shape(h1)} · {_shape(p['W2'])} + "
         f"{_shape(p['b2'])} -> {_shape(a2)}\n{_array(a2)}"},
        {"phase": "forward", "node": S, "text":
         f"SoftmaxWithLoss.forward: y = softmax(x) {_shape(last.y)}\n{_array(last.y)}\n"
         f"  L = mean cross-entropy error = {float(loss)!r}"},
        {"phase": "backward", "node": OUT, "text": "backward starts at the output: dL/dL = 1"},
        {"phase": "backward", "node": S, "text":
         f"SoftmaxWithLoss.backward: dx = (y - t) / N {_shape(d_a2)}\n{_array(d_a2)}"},
        {"phase": "backward", "node": A2, "text":
         f"Affine2.backward (dout {_shape(d_a2)}):\n  dx = dout · W2ᵀ {_shape(d_h1)}\n"
         f"{_array(d_h1)}\n  dW2 = xᵀ · dout {_shape(affine2.dW)}\n{_array(affine2.dW)}\n"
         f"  db2 = dout summed over the batch {_shape(affine2.db)}\n{_array(affine2.db)}"},
        {"phase": "backward", "node": R1, "text":
         f"Relu1.backward: dx = dout where x > 0, else 0 {_shape(d_a1)}\n{_array(d_a1)}"},
        {"phase": "backward", "node": A1, "text":
         f"Affine1.backward (dout {_shape(d_a1)}):\n  dW1 = xᵀ · dout {_shape(affine1.dW)}\n"
         f"{_array(affine1.dW)}\n  db1 = dout summed over the batch {_shape(affine1.db)}\n"
         f"{_array(affine1.db)}\n  (no dx: the first layer's input is the data)"},
        {"phase": "backward", "node": None, "text":
         f"done: L = {float(loss)!r}; the gradients dW1, db1, dW2, db2 are what "
         "TwoLayerNet.gradient returns"},
    ]

    def edge(src, dst, value, grad, fw, bw):
        return {"src": src, "dst": dst, "value": value, "grad": grad, "fw": fw, "bw": bw}

    edges = [
        edge(X, A1, _shape(x), "", 0, None),
        edge(W1, A1, _shape(p["W1"]), f"dW1 {_shape(affine1.dW)}", 0, 9),
        edge(B1, A1, _shape(p["b1"]), f"db1 {_shape(affine1.db)}", 0, 9),
        edge(A1, R1, _shape(a1), f"dout {_shape(d_a1)}", 1, 8),
        edge(R1, A2, _shape(h1), f"dout {_shape(d_h1)}", 2, 7),
        edge(W2, A2, _shape(p["W2"]), f"dW2 {_shape(affine2.dW)}", 0, 7),
        edge(B2, A2, _shape(p["b2"]), f"db2 {_shape(affine2.db)}", 0, 7),
        edge(A2, S, _shape(a2), f"dout {_shape(d_a2)}", 3, 6),
        edge(T, S, _shape(t), "", 0, None),
        edge(S, OUT, f"L = {float(loss):.6g}", "1", 4, 5),
    ]
    return {"name": "layers (the book's diagram)", "nodes": nodes, "edges": edges,
            "steps": steps}


def views(net, x, t):
    """The layer diagram, and on a tiny net each layer expanded into Values."""
    result = [layer_view(net, x, t)]
    x = np.asarray(x)
    n = 1 if x.ndim == 1 else x.shape[0]
    d, h = net.params["W1"].shape
    c = net.params["W2"].shape[1]
    if n * (d * h + h * c) > MAX_SCALARS:
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
    return value_explorer.widget(views(net, x, t), "TwoLayerNet: forward and backward")


def to_html(net, x, t, path):
    """Write the step-by-step layer diagram to ``path`` as one offline HTML file."""
    return files.write_text(path, value_explorer.html_page(views(net, x, t),
                                                           "TwoLayerNet: forward and backward"))
