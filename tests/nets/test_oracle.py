"""The scalar engine as an oracle: the same small network built element by element out of
``autograd.Value``s must give the vectorised layers' gradients (float64, ~1e-10).

Network: x -> Affine -> ReLU -> Affine -> Sigmoid -> Affine -> softmax cross-entropy.
The Value version writes the loss as -log(exp(s_t) / sum_k exp(s_k)), a different
formula from the layers' log-softmax, and sums products one by one where numpy
uses BLAS, so agreement is not a tautology.
"""
import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import Value
from autograd.testing import close
from nn import Affine, Relu, Sigmoid, SoftmaxWithLoss


def as_values(a):
    return np.vectorize(Value, otypes=[object])(a)


def grads(values):
    return np.vectorize(lambda v: v.grad, otypes=[float])(values)


def value_affine(x_rows, W, b):
    """Rows of Values times a Value matrix, plus a Value vector: one sum per output."""
    d, m = W.shape
    return [[sum((row[i] * W[i, j] for i in range(d)), b[j]) for j in range(m)] for row in x_rows]


def value_loss(x, params, labels):
    W1, b1, W2, b2, W3, b3 = params
    h1 = [[v.relu() for v in row] for row in value_affine(x, W1, b1)]
    h2 = [[v.sigmoid() for v in row] for row in value_affine(h1, W2, b2)]
    scores = value_affine(h2, W3, b3)
    total = Value(0.0)
    for row, label in zip(scores, labels):
        e = [s.exp() for s in row]
        total = total - (e[label] / sum(e[1:], e[0])).log()
    return total / len(labels)


@given(data=st.data(), one_hot=st.booleans())
def test_layers_match_the_scalar_engine(data, one_hot):
    n, d, h1, h2, c = (data.draw(st.integers(lo, 4)) for lo in (1, 1, 1, 1, 2))
    shapes = [(d, h1), (h1,), (h1, h2), (h2,), (h2, c), (c,)]
    elements = st.floats(-2, 2, allow_nan=False)
    params = [data.draw(hnp.arrays(np.float64, s, elements=elements)) for s in shapes]
    x = data.draw(hnp.arrays(np.float64, (n, d), elements=elements))
    labels = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    # Both engines must see the same side of ReLU's kink.
    assume(np.all(np.abs(x @ params[0] + params[1]) > 1e-8))

    # Vectorised layers.
    affines = [Affine(params[i], params[i + 1]) for i in (0, 2, 4)]
    relu, sig, last = Relu(), Sigmoid(), SoftmaxWithLoss()
    loss = last.forward(affines[2].forward(sig.forward(affines[1].forward(
        relu.forward(affines[0].forward(x))))), np.eye(c)[labels] if one_hot else labels)
    dx = affines[0].backward(relu.backward(affines[1].backward(sig.backward(
        affines[2].backward(last.backward())))))

    # The scalar engine, element by element.
    value_params = [as_values(p) for p in params]
    value_x = as_values(x)
    value = value_loss(value_x, value_params, labels)
    value.backward()

    assert abs(loss - value.data) <= 1e-10 * max(1.0, abs(value.data))
    close(dx, grads(value_x), 1e-10, atol=1e-12)
    for layer, (vW, vb) in zip(affines, zip(value_params[::2], value_params[1::2])):
        close(layer.dW, grads(vW), 1e-10, atol=1e-12)
        close(layer.db, grads(vb), 1e-10, atol=1e-12)
