"""The book's two-layer network (ch05/two_layer_net.py): Affine -> ReLU -> Affine -> Softmax-with-Loss.

Same names and behaviour as the book's, so its training loop and gradient check run::

    network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    grad = network.gradient(x_batch, t_batch)
    for key in ('W1', 'b1', 'W2', 'b2'):
        network.params[key] -= learning_rate * grad[key]

Everything but the layers (predict, loss, accuracy, gradient, params, weight files,
dtype and rng) is the network base, ``nn.nets.base.Net``.
"""
import numpy as np

from ..layers import Affine, Relu
from .base import Net


class TwoLayerNet(Net):
    """Scores = ReLU(x W1 + b1) W2 + b2; loss = softmax cross-entropy.

    W1 (input_size, hidden_size), b1 (hidden_size,), W2 (hidden_size, output_size),
    b2 (output_size,).  Weights start as ``weight_init_std`` times standard normal
    draws, biases at 0.  ``dtype`` and ``rng``: see ``Net``.
    """

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01, *,
                 dtype=np.float64, rng=None):
        super().__init__(dtype, rng)
        self.layers["Affine1"] = Affine(self.weights(weight_init_std, input_size, hidden_size),
                                        self.zeros(hidden_size))
        self.layers["Relu1"] = Relu()
        self.layers["Affine2"] = Affine(self.weights(weight_init_std, hidden_size, output_size),
                                        self.zeros(output_size))
        self.link_params()
