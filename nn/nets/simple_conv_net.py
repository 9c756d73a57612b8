"""The book's SimpleConvNet (ch07/simple_convnet.py), 単純なCNN:

    Conv (30 filters 5x5) -> ReLU -> Pool (max 2x2, stride 2) -> Affine (100) -> ReLU
    -> Affine (10) -> Softmax-with-Loss

Same names and arguments as the book, so its training code runs unchanged::

    network = SimpleConvNet(input_dim=(1, 28, 28),
                            conv_param={'filter_num': 30, 'filter_size': 5, 'pad': 0, 'stride': 1},
                            hidden_size=100, output_size=10, weight_init_std=0.01)
    grads = network.gradient(x_batch, t_batch)   # x_batch (N, 1, 28, 28)

``save_params``/``load_params`` use .npz files (the book's use pickle, which can run code
when loading; npz cannot).
"""
import os
from collections import OrderedDict

import numpy as np

from ..layers.conv import Convolution, Pooling, output_size
from ..gradient import numerical_gradient
from ..layers import Affine, Relu, SoftmaxWithLoss
from .two_layer_net import _float_dtype

PARAM_NAMES = ("W1", "b1", "W2", "b2", "W3", "b3")
CONV_PARAM = {"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1}


class SimpleConvNet:
    """conv - relu - pool - affine - relu - affine - softmax, for images ``input_dim`` = (C, H, W).

    Parameters: W1 (filter_num, C, filter_size, filter_size), b1 (filter_num,), W2
    (filter_num * PH * PW, hidden_size), b2, W3 (hidden_size, output_size), b3, where
    PH x PW is the pooled size: the convolution gives OH = (H + 2*pad - filter_size) //
    stride + 1 (likewise OW) and the 2x2 pooling halves it.  Weights start as
    ``weight_init_std`` times standard normal draws, biases at 0.

    ``dtype`` float64 (default, as the book; what gradient checks need) or float32 (the
    speed path); params, gradients and loss stay in it.  ``rng``: None draws from numpy's
    global generator as the book does; an int seed or a Generator uses that instead.
    """

    def __init__(self, input_dim=(1, 28, 28), conv_param=None, hidden_size=100, output_size=10,
                 weight_init_std=0.01, *, dtype=np.float64, rng=None):
        conv_param = dict(CONV_PARAM if conv_param is None else conv_param)
        unknown = set(conv_param) - set(CONV_PARAM)
        missing = set(CONV_PARAM) - set(conv_param)
        if unknown or missing:
            raise ValueError(f"SimpleConvNet: conv_param needs exactly the keys "
                             f"{sorted(CONV_PARAM)}; missing {sorted(missing)}, unknown "
                             f"{sorted(unknown)}")
        if len(input_dim) != 3:
            raise ValueError(f"SimpleConvNet: input_dim must be (C, H, W), got {input_dim!r}")
        self.dtype = _float_dtype(dtype)
        filter_num, filter_size = conv_param["filter_num"], conv_param["filter_size"]
        stride, pad = conv_param["stride"], conv_param["pad"]
        oh, ow = _size_after(input_dim, filter_size, stride, pad)
        pool_output_size = filter_num * (oh // 2) * (ow // 2)

        draw = np.random.randn if rng is None else np.random.default_rng(rng).standard_normal
        std = weight_init_std

        def weights(*shape):
            return (std * draw(*shape) if rng is None else std * draw(shape)).astype(self.dtype)

        self.params = {
            "W1": weights(filter_num, input_dim[0], filter_size, filter_size),
            "b1": np.zeros(filter_num, dtype=self.dtype),
            "W2": weights(pool_output_size, hidden_size),
            "b2": np.zeros(hidden_size, dtype=self.dtype),
            "W3": weights(hidden_size, output_size),
            "b3": np.zeros(output_size, dtype=self.dtype),
        }
        self.layers = OrderedDict()
        # The first layer's input is the data: no gradient needed there.
        self.layers["Conv1"] = Convolution(self.params["W1"], self.params["b1"], stride, pad,
                                           input_grad=False)
        self.layers["Relu1"] = Relu()
        self.layers["Pool1"] = Pooling(pool_h=2, pool_w=2, stride=2)
        self.layers["Affine1"] = Affine(self.params["W2"], self.params["b2"])
        self.layers["Relu2"] = Relu()
        self.layers["Affine2"] = Affine(self.params["W3"], self.params["b3"])
        self.last_layer = SoftmaxWithLoss()

    @property
    def lastLayer(self):  # noqa: N802 -- TwoLayerNet's (chapter 5's) name, read by nn.train
        return self.last_layer

    def predict(self, x):
        """Scores (N, output_size) for images (N, C, H, W); no softmax (it keeps the argmax)."""
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        """Mean cross-entropy of the batch; ``t`` one-hot (N, C) or class indices (N,)."""
        return self.last_layer.forward(self.predict(x), t)

    def accuracy(self, x, t, batch_size=100):
        """Fraction of images whose highest score is the label's class (a Python float).

        Runs ``batch_size`` images at a time (the last batch may be smaller; the book's
        drops it), so memory is bounded: the convolution's columns for a batch of 100
        28x28 images are 100 * 25 * 576 numbers, whatever the size of ``x``.
        """
        t = np.asarray(t)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        n = len(x)
        if len(t) != n:
            raise ValueError(f"accuracy: {n} inputs (shape {np.shape(x)}) but {len(t)} labels "
                             f"(shape {t.shape}); they must have one label per input")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"accuracy: batch_size must be an integer >= 1, got {batch_size!r}")
        correct = 0
        for start in range(0, n, batch_size):
            scores = self.predict(x[start:start + batch_size])
            correct += int(np.count_nonzero(scores.argmax(axis=1) == t[start:start + batch_size]))
        return correct / n if n else float("nan")

    def numerical_gradient(self, x, t):
        """Gradient of the loss by central differences (slow; for checking ``gradient``)."""
        loss_w = lambda w: self.loss(x, t)  # noqa: E731 -- the book's name
        return {key: numerical_gradient(loss_w, self.params[key]) for key in PARAM_NAMES}

    def gradient(self, x, t):
        """Gradient of the loss by back-propagation: {'W1': dW1, 'b1': db1, ..., 'b3': db3}.

        The arrays are the layers' own: the next call replaces them.  The loss of this
        forward pass stays in ``self.last_layer.loss``.
        """
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        grads = {}
        for i, name in enumerate(("Conv1", "Affine1", "Affine2"), start=1):
            grads[f"W{i}"], grads[f"b{i}"] = self.layers[name].dW, self.layers[name].db
        return grads

    def save_params(self, file_name="params.npz"):
        """Write the parameters to the .npz file ``file_name`` (atomically; never pickle)."""
        from ..train import save_params

        save_params(file_name, self.params)

    def load_params(self, file_name="params.npz"):
        """Read parameters saved by ``save_params`` into the network's own arrays.

        Names and shapes must match this network's; values are converted to its dtype.
        Nothing is changed unless every array fits.
        """
        from ..train import load_params

        if not os.fspath(file_name).endswith(".npz"):
            raise ValueError(f"load_params: {file_name!r} must be an .npz file written by "
                             f"save_params (pickle files are not read)")
        self.set_params(load_params(file_name))

    def set_params(self, params):
        """Copy ``params`` (name -> array) into the network's arrays, keeping their identity."""
        missing = [k for k in PARAM_NAMES if k not in params]
        if missing:
            raise ValueError(f"SimpleConvNet: parameters {', '.join(missing)} are missing; "
                             f"need {', '.join(PARAM_NAMES)}")
        values = {k: np.asarray(params[k]) for k in PARAM_NAMES}
        for key, value in values.items():
            if value.shape != self.params[key].shape:
                raise ValueError(f"SimpleConvNet: {key} has shape {value.shape}, this network's "
                                 f"has shape {self.params[key].shape}")
            if value.dtype.kind not in "fiu" or not np.all(np.isfinite(value)):
                raise ValueError(f"SimpleConvNet: {key} must hold finite numbers")
        for key, value in values.items():
            self.params[key][...] = value


def _size_after(input_dim, filter_size, stride, pad):
    """(OH, OW) after the convolution, checked; and the 2x2 pooling must fit."""
    oh, ow = output_size((1,) + tuple(input_dim), filter_size, filter_size, stride, pad,
                         "SimpleConvNet")
    if oh < 2 or ow < 2:
        raise ValueError(f"SimpleConvNet: the convolution's output is {oh}x{ow}, too small for "
                         f"the 2x2 pooling; use larger images or a smaller filter_size")
    return oh, ow

