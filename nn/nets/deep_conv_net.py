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

from ..layers import Affine, Convolution, Dropout, Pooling, Relu
from ..layers.conv import output_size as conv_output_size
from .base import Net

CONV_PARAMS = tuple({"filter_num": fn, "filter_size": 3, "pad": pad, "stride": 1}
                    for fn, pad in ((16, 1), (16, 1), (32, 1), (32, 2), (64, 1), (64, 1)))


class DeepConvNet(Net):
    """The book's DeepConvNet (see the module) for images ``input_dim`` = (C, H, W).

    W1 .. W6 (filter_num, channels in, filter_size, filter_size), W7 (64 * PH * PW,
    hidden_size) where PH x PW is the size after the third pooling (4 x 4 for MNIST), W8
    (hidden_size, output_size); each b the size of its layer's output.  Dropout is the
    book's: in training a value is kept with probability 1/2, unscaled; in testing every
    value is halved.  ``dtype``: float64 (default; gradient checks), float32 (training) or
    float16 (inference only, the book's half_float_network.py: numpy's float16 products do
    not use BLAS, so they are slow).  ``rng``: see ``Net``; it draws the Dropout masks too.
    """

    eval_batch_size = 100  # the convolutions' columns: bounded memory
    dtypes = ("float16", "float32", "float64")

    def __init__(self, input_dim=(1, 28, 28), conv_param_1=CONV_PARAMS[0],
                 conv_param_2=CONV_PARAMS[1], conv_param_3=CONV_PARAMS[2],
                 conv_param_4=CONV_PARAMS[3], conv_param_5=CONV_PARAMS[4],
                 conv_param_6=CONV_PARAMS[5], hidden_size=50, output_size=10, *,
                 dtype=np.float64, rng=None):
        super().__init__(dtype, rng)
        he = lambda fan_in, *shape: self.weights(np.sqrt(2.0 / fan_in), *shape)  # noqa: E731
        shape = (1,) + tuple(input_dim)
        convs = (conv_param_1, conv_param_2, conv_param_3, conv_param_4, conv_param_5, conv_param_6)
        for i, conv in enumerate(convs, start=1):
            fn, fs = conv["filter_num"], conv["filter_size"]
            stride, pad = conv["stride"], conv["pad"]
            W = he(shape[1] * fs * fs, fn, shape[1], fs, fs)
            self.layers[f"Conv{i}"] = Convolution(W, self.zeros(fn), stride, pad)
            self.layers[f"Relu{i}"] = Relu()
            shape = (1, fn) + conv_output_size(shape, fs, fs, stride, pad, "DeepConvNet")
            if i % 2 == 0:
                self.layers[f"Pool{i // 2}"] = Pooling(pool_h=2, pool_w=2, stride=2)
                shape = (1, fn) + conv_output_size(shape, 2, 2, 2, 0, "DeepConvNet")
        n = int(np.prod(shape))
        self.layers["Affine1"] = Affine(he(n, n, hidden_size), self.zeros(hidden_size))
        self.layers["Relu7"] = Relu()
        self.layers["Dropout1"] = Dropout(0.5, inverted=False, rng=self.rng)
        self.layers["Affine2"] = Affine(he(hidden_size, hidden_size, output_size),
                                        self.zeros(output_size))
        self.layers["Dropout2"] = Dropout(0.5, inverted=False, rng=self.rng)
        self.link_params()

    def loss(self, x, t, train_flg=True):
        """Mean cross-entropy of the batch; in training mode (Dropout on) by default, as the
        book's DeepConvNet.loss."""
        return super().loss(x, t, train_flg)
