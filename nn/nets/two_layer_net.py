"""The book's two-layer network: Affine -> ReLU -> Affine -> Softmax-with-Loss.

Same names and behaviour as the book's ch05/two_layer_net.py, so its training
loop and gradient check run unchanged::

    network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    grad = network.gradient(x_batch, t_batch)
    for key in ('W1', 'b1', 'W2', 'b2'):
        network.params[key] -= learning_rate * grad[key]

``params`` holds the very arrays the layers use, so in-place updates reach the
layers; ``gradient()`` returns the layers' own dW and db arrays.  Unlike the
book's plain dict, assigning a new array (``params['W1'] = W``) gives it to the
layer too, so the network never silently keeps computing with the old one.
"""
from collections import OrderedDict

import numpy as np

from ..gradient import numerical_gradient
from ..layers import Affine, Relu, SoftmaxWithLoss

PARAM_NAMES = ("W1", "b1", "W2", "b2")


class Params(dict):
    """A network's ``params``: a dict whose entries stay the arrays its layers use.

    ``links`` maps each name to ``(layer, attribute)``, e.g. ``"W1": (affine1, "W")``.
    In-place updates (the book's ``params[key] -= lr * grad[key]``) change the layer's
    array itself.  Assigning another array, ``params["W1"] = W`` (or ``update``), also
    sets ``affine1.W = W``: the layer keeps computing with what ``params`` holds.  ``W``
    must be a numpy array of the shape and dtype of the one it replaces.
    """

    def __init__(self, links):
        super().__init__((key, getattr(layer, attr)) for key, (layer, attr) in links.items())
        self._links = links

    def __setitem__(self, key, value):
        old = dict.get(self, key)
        if value is not old and key in self._links:  # `-=` gives back the same array
            # (old is None only while copy.deepcopy refills the dict: nothing to compare with)
            if old is not None and (not isinstance(value, np.ndarray) or value.shape != old.shape
                                    or value.dtype != old.dtype):
                raise ValueError(
                    f"params[{key!r}]: the network's {key} is a {old.dtype} array of shape "
                    f"{old.shape}, got {type(value).__name__} {getattr(value, 'dtype', '')} of shape "
                    f"{np.shape(value)}; give an array like it (np.asarray(value, "
                    f"dtype=np.{old.dtype}).reshape{old.shape}), or change it in place "
                    f"(params[{key!r}][...] = value)")
            layer, attr = self._links[key]
            setattr(layer, attr, value)
        dict.__setitem__(self, key, value)

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __ior__(self, other):
        self.update(other)
        return self


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
    does (``np.random.seed`` makes them reproducible); a ``np.random.RandomState``
    draws the same numbers as that global generator would after the same seed
    (``rng=np.random.RandomState(4)`` is ``np.random.seed(4)``, without touching
    it); an int seed or a ``np.random.Generator`` uses numpy's newer generator.
    ``params``: a ``Params`` dict, see there.
    """

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01, *,
                 dtype=np.float64, rng=None):
        self.dtype = _float_dtype(dtype)
        if rng is None:
            draw = np.random.standard_normal
        elif isinstance(rng, np.random.RandomState):
            draw = rng.standard_normal
        else:
            draw = np.random.default_rng(rng).standard_normal
        W1 = (weight_init_std * draw((input_size, hidden_size))).astype(self.dtype)
        W2 = (weight_init_std * draw((hidden_size, output_size))).astype(self.dtype)
        self.layers = OrderedDict()
        # The first layer's input is the data: no gradient needed there.
        self.layers["Affine1"] = Affine(W1, np.zeros(hidden_size, dtype=self.dtype), input_grad=False)
        self.layers["Relu1"] = Relu()
        self.layers["Affine2"] = Affine(W2, np.zeros(output_size, dtype=self.dtype))
        self.lastLayer = SoftmaxWithLoss()
        affine1, affine2 = self.layers["Affine1"], self.layers["Affine2"]
        self._params = Params({"W1": (affine1, "W"), "b1": (affine1, "b"),
                               "W2": (affine2, "W"), "b2": (affine2, "b")})

    @property
    def params(self):
        """The parameters W1, b1, W2, b2: the layers' own arrays (a ``Params`` dict)."""
        return self._params

    @params.setter
    def params(self, new):
        # `net.params = {...}` would disconnect the layers from a plain attribute: assign each.
        self._params.update(new)

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
        time, so memory stays bounded on the whole training set.  Raises ValueError
        for no samples, a batch_size < 1, or a label that is not one of the classes.
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"accuracy: batch_size must be an integer >= 1, got {batch_size!r}")
        t = np.asarray(t)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        elif t.dtype.kind not in "iu":
            raise ValueError(f"accuracy: class indices must be integers, got dtype {t.dtype}; "
                             f"convert them with t.astype(int)")
        n = len(x)
        if len(t) != n:
            raise ValueError(f"accuracy: {n} inputs (shape {np.shape(x)}) but {len(t)} labels "
                             f"(shape {t.shape}); they must have one label per input")
        if n == 0:
            raise ValueError("accuracy: no samples (x is empty); the accuracy of nothing is undefined")
        classes = self.params["b2"].shape[0]
        if t.min() < 0 or t.max() >= classes:
            bad = t[(t < 0) | (t >= classes)][0]
            raise ValueError(f"accuracy: label {bad} is outside the range [0, {classes}) of the "
                             f"network's {classes} classes")
        correct = 0
        for start in range(0, n, batch_size):
            scores = self.predict(x[start:start + batch_size])
            correct += int(np.count_nonzero(scores.argmax(axis=1) == t[start:start + batch_size]))
        return correct / n

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
