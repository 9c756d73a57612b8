"""The book's two-layer network: Affine -> ReLU -> Affine -> Softmax-with-Loss.

Same names and behaviour as the book's ch05/two_layer_net.py, so its training
loop and gradient check run unchanged::

    network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    grad = network.gradient(x_batch, t_batch)
    for key in ('W1', 'b1', 'W2', 'b2'):
        network.params[key] -= learning_rate * grad[key]

``params`` holds the very arrays the layers use, so in-place updates reach the
layers; ``gradient()`` returns the layers' own dW and db arrays.
"""
from collections import OrderedDict

import numpy as np

from .gradient import numerical_gradient
from .layers import Affine, Relu, SoftmaxWithLoss

PARAM_NAMES = ("W1", "b1", "W2", "b2")


def _float_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


class TwoLayerNet:
    """Scores = ReLU(x W1 + b1) W2 + b2; loss = softmax cross-entropy.

    W1 (input_size, hidden_size), b1 (hidden_size,), W2 (hidden_size,
    output_size), b2 (output_size,).  Weights start as ``weight_init_std``
    times standard normal draws, biases at 0.

    ``dtype``: float64 (default, as the book; what gradient checks need) or
    float32 (nearly twice as fast); everything stays in it: params, gradients,
    loss.  Feed data in the same dtype (``load_mnist(dtype=...)``); other input
    is converted batch by batch.
    ``rng``: None draws the weights from numpy's global generator, as the book
    does (``np.random.seed`` makes them reproducible); an int seed or a
    ``np.random.Generator`` uses that instead.
    """

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01, *,
                 dtype=np.float64, rng=None):
        self.dtype = _float_dtype(dtype)
        draw = np.random.standard_normal if rng is None else np.random.default_rng(rng).standard_normal
        self.params = {
            "W1": (weight_init_std * draw((input_size, hidden_size))).astype(self.dtype),
            "b1": np.zeros(hidden_size, dtype=self.dtype),
            "W2": (weight_init_std * draw((hidden_size, output_size))).astype(self.dtype),
            "b2": np.zeros(output_size, dtype=self.dtype),
        }
        self.layers = OrderedDict()
        # The first layer's input is the data: no gradient needed there.
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"], input_grad=False)
        self.layers["Relu1"] = Relu()
        self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])
        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x):
        """Scores (N, output_size) for inputs (N, input_size); no softmax (it keeps the argmax)."""
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        """Mean cross-entropy of the batch; ``t`` one-hot (N, C) or class indices (N,)."""
        return self.lastLayer.forward(self.predict(x), t)

    def accuracy(self, x, t, batch_size=10000):
        """Fraction of samples whose highest score is the label's class (a Python float).

        ``t`` one-hot (N, C) or class indices (N,).  Runs ``batch_size`` rows at a
        time, so memory stays bounded on the whole training set.
        """
        t = np.asarray(t)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        n = len(x)
        if len(t) != n:
            raise ValueError(f"accuracy: {n} inputs (shape {np.shape(x)}) but {len(t)} labels "
                             f"(shape {t.shape}); they must have one label per input")
        correct = 0
        for start in range(0, n, batch_size):
            scores = self.predict(x[start:start + batch_size])
            correct += int(np.count_nonzero(scores.argmax(axis=1) == t[start:start + batch_size]))
        return correct / n if n else float("nan")

    def numerical_gradient(self, x, t):
        """Gradient of the loss by central differences (slow; for checking ``gradient``)."""
        loss_W = lambda W: self.loss(x, t)  # noqa: E731 -- the book's name
        return {key: numerical_gradient(loss_W, self.params[key]) for key in PARAM_NAMES}

    def gradient(self, x, t):
        """Gradient of the loss by back-propagation (誤差逆伝播法): {'W1': dW1, 'b1': db1, ...}.

        The arrays are the layers' own ``dW`` and ``db``: the next call replaces them.
        The loss of this forward pass stays in ``self.lastLayer.loss``.
        """
        self.loss(x, t)
        dout = self.lastLayer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        affine1, affine2 = self.layers["Affine1"], self.layers["Affine2"]
        return {"W1": affine1.dW, "b1": affine1.db, "W2": affine2.dW, "b2": affine2.db}

    def set_params(self, params):
        """Copy ``params`` (e.g. from ``nn.train.load_params``) into the network's own arrays.

        The arrays keep their identity (the layers hold them) and dtype; names and
        shapes must match.
        """
        missing = [k for k in PARAM_NAMES if k not in params]
        if missing:
            raise ValueError(f"set_params: missing {', '.join(missing)}; need {', '.join(PARAM_NAMES)}")
        for key in PARAM_NAMES:
            value = np.asarray(params[key])
            if value.shape != self.params[key].shape:
                raise ValueError(f"set_params: {key} has shape {value.shape}, the network's "
                                 f"has shape {self.params[key].shape}")
            self.params[key][...] = value
