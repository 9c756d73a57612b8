"""The book's DeepConvNet (ch08/deep_convnet.py), chapter 8's deep network (ディープなネットワーク):

    conv 3x3 16 - relu - conv 3x3 16 - relu - pool 2x2
    conv 3x3 32 - relu - conv 3x3 32 (pad 2) - relu - pool 2x2
    conv 3x3 64 - relu - conv 3x3 64 - relu - pool 2x2
    affine 50 - relu - dropout 0.5 - affine 10 - dropout 0.5 - softmax-with-loss

Same names and arguments as the book (``conv_param_1`` .. ``conv_param_6``, ``hidden_size``,
``output_size``; parameters ``W1`` .. ``W8``, ``b1`` .. ``b8``; ``predict(x, train_flg=False)``),
so train_deepnet.py runs after an import change.  Weights start as He's: standard normal
draws times sqrt(2 / fan_in), fan_in being the inputs of one output (C * FH * FW for a filter).
"""
import numpy as np

from ..layers import Affine, Convolution, Dropout, Pooling, Relu, SoftmaxWithLoss
from ..layers.conv import output_size as conv_output_size
from .simple_conv_net import SimpleConvNet

CONV_PARAMS = tuple({"filter_num": fn, "filter_size": 3, "pad": pad, "stride": 1}
                    for fn, pad in ((16, 1), (16, 1), (32, 1), (32, 2), (64, 1), (64, 1)))


class DeepConvNet:
    """Six 3x3 convolutions with a 2x2 max pooling after every second one, then two Affine
    layers, for images ``input_dim`` = (C, H, W); the book's network for 99% on MNIST.

    W1 .. W6 (filter_num, channels in, filter_size, filter_size), W7 (64 * PH * PW,
    hidden_size) where PH x PW is the size after the third pooling (4 x 4 for MNIST), W8
    (hidden_size, output_size); each b the size of its layer's output.  Dropout is the
    book's: in training a value is kept with probability 1/2, unscaled; in testing every
    value is halved.  ``dtype`` float64 (default; gradient checks), float32 (training) or
    float16 (inference only, the book's half_float_network.py: numpy's float16 products do
    not use BLAS, so they are slow);
    ``rng``: None draws weights and dropout masks from numpy's global generator as the book
    does; an int seed or a Generator uses that instead.
    """

    def __init__(self, input_dim=(1, 28, 28), conv_param_1=CONV_PARAMS[0],
                 conv_param_2=CONV_PARAMS[1], conv_param_3=CONV_PARAMS[2],
                 conv_param_4=CONV_PARAMS[3], conv_param_5=CONV_PARAMS[4],
                 conv_param_6=CONV_PARAMS[5], hidden_size=50, output_size=10, *,
                 dtype=np.float64, rng=None):
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float16, np.float32, np.float64):
            raise ValueError(f"DeepConvNet: dtype must be float16, float32 or float64, got {dtype}")
        rng = np.random if rng is None else np.random.default_rng(rng)
        draw = rng.randn if rng is np.random else (lambda *shape: rng.standard_normal(shape))

        def he(*shape):  # He's initial weights for ReLU: std sqrt(2 / fan_in)
            return (np.sqrt(2.0 / np.prod(shape[1:] if len(shape) == 4 else shape[:1]))
                    * draw(*shape)).astype(self.dtype)

        self.params, self.layers, shape = {}, [], (1,) + tuple(input_dim)
        convs = (conv_param_1, conv_param_2, conv_param_3, conv_param_4, conv_param_5, conv_param_6)
        for i, conv in enumerate(convs, start=1):
            fn, fs = conv["filter_num"], conv["filter_size"]
            W = self.params[f"W{i}"] = he(fn, shape[1], fs, fs)
            b = self.params[f"b{i}"] = np.zeros(fn, dtype=self.dtype)
            self.layers += [Convolution(W, b, conv["stride"], conv["pad"], input_grad=i > 1),
                            Relu()]
            shape = (1, fn) + conv_output_size(shape, fs, fs, conv["stride"], conv["pad"],
                                               "DeepConvNet")
            if i % 2 == 0:
                self.layers.append(Pooling(pool_h=2, pool_w=2, stride=2))
                shape = (1, fn) + conv_output_size(shape, 2, 2, 2, 0, "DeepConvNet")
        self.params["W7"], self.params["b7"] = he(int(np.prod(shape)), hidden_size), \
            np.zeros(hidden_size, dtype=self.dtype)
        self.params["W8"], self.params["b8"] = he(hidden_size, output_size), \
            np.zeros(output_size, dtype=self.dtype)
        self.layers += [Affine(self.params["W7"], self.params["b7"]), Relu(),
                        Dropout(0.5, inverted=False, rng=rng),
                        Affine(self.params["W8"], self.params["b8"]),
                        Dropout(0.5, inverted=False, rng=rng)]
        self.last_layer = SoftmaxWithLoss()

    @property
    def lastLayer(self):  # noqa: N802 -- TwoLayerNet's (chapter 5's) name, read by nn.train
        return self.last_layer

    def predict(self, x, train_flg=False):
        """Scores (N, output_size) for images (N, C, H, W); Dropout drops only if ``train_flg``."""
        for layer in self.layers:
            x = layer.forward(x, train_flg) if isinstance(layer, Dropout) else layer.forward(x)
        return x

    def loss(self, x, t):
        """Mean cross-entropy of the batch, in training mode (Dropout on), as the book."""
        return self.last_layer.forward(self.predict(x, train_flg=True), t)

    accuracy = SimpleConvNet.accuracy  # in test mode, batch by batch
    save_params = SimpleConvNet.save_params
    load_params = SimpleConvNet.load_params

    def gradient(self, x, t):
        """Gradient of the loss by back-propagation: {'W1': dW1, 'b1': db1, ..., 'b8': db8}."""
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        with_params = [layer for layer in self.layers if isinstance(layer, (Convolution, Affine))]
        grads = {}
        for i, layer in enumerate(with_params, start=1):
            grads[f"W{i}"], grads[f"b{i}"] = layer.dW, layer.db
        return grads

    def set_params(self, params):
        """Copy ``params`` (name -> array) into the network's arrays, keeping their identity."""
        for key, value in self.params.items():
            new = np.asarray(params.get(key))
            if new.shape != value.shape or new.dtype.kind not in "fiu" \
                    or not np.isfinite(new.astype(self.dtype)).all():  # 1e5 overflows float16
                raise ValueError(f"DeepConvNet: {key} must be numbers of shape {value.shape}, "
                                 f"finite in {self.dtype}, got {new.dtype} of shape {new.shape}")
        for key, value in self.params.items():
            value[...] = params[key]
