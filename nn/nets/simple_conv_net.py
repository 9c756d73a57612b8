"""The book's SimpleConvNet (ch07/simple_convnet.py), 単純なCNN:

    Conv (30 filters 5x5) -> ReLU -> Pool (max 2x2, stride 2) -> Affine (100) -> ReLU
    -> Affine (10) -> Softmax-with-Loss

Same names and arguments as the book, so its training code runs unchanged::

    network = SimpleConvNet(input_dim=(1, 28, 28),
                            conv_param={'filter_num': 30, 'filter_size': 5, 'pad': 0, 'stride': 1},
                            hidden_size=100, output_size=10, weight_init_std=0.01)
    grads = network.gradient(x_batch, t_batch)   # x_batch (N, 1, 28, 28)
"""
import numpy as np

from ..layers import Affine, Convolution, Pooling, Relu
from ..layers.conv import output_size as conv_output_size
from .base import Net

CONV_PARAM = {"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1}


class SimpleConvNet(Net):
    """The book's SimpleConvNet for images ``input_dim`` = (C, H, W).

    Parameters: W1 (filter_num, C, filter_size, filter_size), b1 (filter_num,), W2
    (filter_num * PH * PW, hidden_size), b2, W3 (hidden_size, output_size), b3, where PH x
    PW is the pooled size: the convolution gives OH = (H + 2*pad - filter_size) // stride +
    1 (likewise OW) and the 2x2 pooling halves it.  Weights start as ``weight_init_std``
    times standard normal draws, biases at 0.  ``dtype`` and ``rng``: see ``Net``.
    ``accuracy`` runs 100 images at a time: bounded memory for the convolution's columns.
    """

    eval_batch_size = 100

    def __init__(self, input_dim=(1, 28, 28), conv_param=None, hidden_size=100, output_size=10,
                 weight_init_std=0.01, *, dtype=np.float64, rng=None):
        conv_param = dict(CONV_PARAM if conv_param is None else conv_param)
        unknown, missing = set(conv_param) - set(CONV_PARAM), set(CONV_PARAM) - set(conv_param)
        if unknown or missing:
            raise ValueError(f"SimpleConvNet: conv_param needs exactly the keys "
                             f"{sorted(CONV_PARAM)}; missing {sorted(missing)}, unknown "
                             f"{sorted(unknown)}")
        if len(input_dim) != 3:
            raise ValueError(f"SimpleConvNet: input_dim must be (C, H, W), got {input_dim!r}")
        super().__init__(dtype, rng)
        filter_num, filter_size = conv_param["filter_num"], conv_param["filter_size"]
        stride, pad = conv_param["stride"], conv_param["pad"]
        oh, ow = conv_output_size((1,) + tuple(input_dim), filter_size, filter_size, stride, pad,
                                  "SimpleConvNet")
        if oh < 2 or ow < 2:
            raise ValueError(f"SimpleConvNet: the convolution's output is {oh}x{ow}, too small "
                             f"for the 2x2 pooling; use larger images or a smaller filter_size")
        std = weight_init_std
        self.layers["Conv1"] = Convolution(
            self.weights(std, filter_num, input_dim[0], filter_size, filter_size),
            self.zeros(filter_num), stride, pad)
        self.layers["Relu1"] = Relu()
        self.layers["Pool1"] = Pooling(pool_h=2, pool_w=2, stride=2)
        self.layers["Affine1"] = Affine(self.weights(std, filter_num * (oh // 2) * (ow // 2),
                                                     hidden_size), self.zeros(hidden_size))
        self.layers["Relu2"] = Relu()
        self.layers["Affine2"] = Affine(self.weights(std, hidden_size, output_size),
                                        self.zeros(output_size))
        self.link_params()
