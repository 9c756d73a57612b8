"""The book's fully connected multi-layer nets: MultiLayerNet and MultiLayerNetExtend.

Same names, arguments and behaviour as the book's common/multi_layer_net.py and
common/multi_layer_net_extend.py::

    network = MultiLayerNetExtend(input_size=784, hidden_size_list=[100] * 5, output_size=10,
                                  weight_init_std='he', use_batchnorm=True)
    grads = network.gradient(x_batch, t_batch)
    optimizer.update(network.params, grads)

Layers, for each hidden size: Affine -> [BatchNorm] -> activation -> [Dropout]; then a
last Affine and Softmax-with-Loss.  Parameters W1, b1, ..., W(L+1), b(L+1), and with
Batch Norm gamma1, beta1, ... for the hidden layers (the network base names them).

Initial weights (重みの初期値), ``weight_init_std``: a number is the standard deviation
(the book's 0.01); 'he' / 'relu' is sqrt(2 / n) and 'xavier' / 'sigmoid' sqrt(1 / n),
with n the number of nodes in the previous layer.  Weight decay: see ``nn.nets.base``.
"""
import numpy as np

from ..layers import Affine, BatchNormalization, Dropout, Relu, Sigmoid
from .base import Net

ACTIVATIONS = {"relu": Relu, "sigmoid": Sigmoid}


def weight_scale(weight_init_std, fan_in):
    """The standard deviation of a layer's initial weights (see the module)."""
    name = str(weight_init_std).lower()
    if name in ("relu", "he"):
        return float(np.sqrt(2.0 / fan_in))
    if name in ("sigmoid", "xavier"):
        return float(np.sqrt(1.0 / fan_in))
    if isinstance(weight_init_std, str):
        raise ValueError(f"weight_init_std {weight_init_std!r} is not known: give a number (a "
                         "standard deviation such as 0.01), 'he'/'relu' or 'xavier'/'sigmoid'")
    scale = float(weight_init_std)
    if not scale >= 0:
        raise ValueError(f"weight_init_std must be >= 0, got {weight_init_std}")
    return scale


class MultiLayerNetExtend(Net):
    """The book's extended multi-layer net: weight decay, Dropout and Batch Normalization.

    ``input_size``, ``hidden_size_list`` (e.g. [100, 100, 100]), ``output_size``; ``activation``
    'relu' or 'sigmoid'; ``weight_init_std`` (see the module); ``weight_decay_lambda``;
    ``use_dropout`` with ``dropout_ration`` (the book's spelling); ``use_batchnorm``.  Beyond
    the book: ``dtype``, ``rng`` (see ``Net``), ``inverted_dropout`` (see ``nn.layers.Dropout``).
    """

    def __init__(self, input_size, hidden_size_list, output_size, activation="relu",
                 weight_init_std="relu", weight_decay_lambda=0, use_dropout=False,
                 dropout_ration=0.5, use_batchnorm=False, *, dtype=np.float64, rng=None,
                 inverted_dropout=True):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be 'relu' or 'sigmoid', got {activation!r}")
        sizes = [input_size, *hidden_size_list, output_size]
        if any(not isinstance(n, (int, np.integer)) or n < 1 for n in sizes):
            raise ValueError(f"layer sizes must be positive integers, got input_size "
                             f"{input_size}, hidden_size_list {hidden_size_list}, output_size "
                             f"{output_size}")
        super().__init__(dtype, rng, weight_decay_lambda)
        self.input_size, self.output_size = input_size, output_size
        self.hidden_size_list = list(hidden_size_list)
        self.hidden_layer_num = len(self.hidden_size_list)
        self.activation = activation
        self.use_dropout, self.use_batchnorm = use_dropout, use_batchnorm
        for idx in range(1, len(sizes)):
            W = self.weights(weight_scale(weight_init_std, sizes[idx - 1]), sizes[idx - 1], sizes[idx])
            self.layers[f"Affine{idx}"] = Affine(W, self.zeros(sizes[idx]))
            if idx == len(sizes) - 1:
                break  # the last Affine gives the scores
            if use_batchnorm:
                self.layers[f"BatchNorm{idx}"] = BatchNormalization(
                    np.ones(sizes[idx], dtype=self.dtype), self.zeros(sizes[idx]))
            self.layers[f"Activation_function{idx}"] = ACTIVATIONS[activation]()
            if use_dropout:
                self.layers[f"Dropout{idx}"] = Dropout(dropout_ration, inverted=inverted_dropout,
                                                       rng=self.rng)
        self.link_params()


class MultiLayerNet(MultiLayerNetExtend):
    """The book's plain multi-layer net: Affine -> activation per hidden layer, weight decay."""

    def __init__(self, input_size, hidden_size_list, output_size, activation="relu",
                 weight_init_std="relu", weight_decay_lambda=0, *, dtype=np.float64, rng=None):
        super().__init__(input_size, hidden_size_list, output_size, activation, weight_init_std,
                         weight_decay_lambda, dtype=dtype, rng=rng)
