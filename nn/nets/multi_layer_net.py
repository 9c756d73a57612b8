"""The book's fully connected multi-layer nets: MultiLayerNet and MultiLayerNetExtend.

Same names, arguments and behaviour as the book's common/multi_layer_net.py and
common/multi_layer_net_extend.py::

    network = MultiLayerNetExtend(input_size=784, hidden_size_list=[100] * 5, output_size=10,
                                  weight_init_std='he', use_batchnorm=True)
    grads = network.gradient(x_batch, t_batch)
    optimizer.update(network.params, grads)

Layers, for each hidden size: Affine -> [BatchNorm] -> activation -> [Dropout]; then a
last Affine and Softmax-with-Loss.  Parameters W1, b1, ..., W(L+1), b(L+1), and with
Batch Norm gamma1, beta1, ... for the hidden layers.  ``params`` holds the very arrays
the layers use, so in-place updates (the optimizers') reach them.

Initial weights (重みの初期値), ``weight_init_std``: a number is the standard deviation
(the book's 0.01); 'he' / 'relu' is sqrt(2 / n) and 'xavier' / 'sigmoid' sqrt(1 / n),
with n the number of nodes in the previous layer.

Weight decay (荷重減衰): loss + sum over the weights W of (lambda / 2) ||W||^2, and its
gradient lambda W added to each dW (the ``l2_penalty`` row of the op table).  Biases,
gamma and beta are not decayed, as in the book.
"""
from collections import OrderedDict

import numpy as np

from autograd.ops import l2_penalty
from ..gradient import numerical_gradient
from ..layers import Affine, BatchNormalization, Dropout, Relu, Sigmoid, SoftmaxWithLoss
from .two_layer_net import _float_dtype

ACTIVATIONS = {"relu": Relu, "sigmoid": Sigmoid}


def weight_scale(weight_init_std, fan_in):
    """The standard deviation of a layer's initial weights: a number as it is, or
    'he'/'relu' -> sqrt(2 / fan_in), 'xavier'/'sigmoid' -> sqrt(1 / fan_in)."""
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


class MultiLayerNetExtend:
    """The book's extended multi-layer net: weight decay, Dropout and Batch Normalization.

    ``input_size``, ``hidden_size_list`` (e.g. [100, 100, 100]), ``output_size``;
    ``activation`` 'relu' or 'sigmoid'; ``weight_init_std`` (see the module);
    ``weight_decay_lambda``; ``use_dropout`` with ``dropout_ration`` (the book's
    spelling); ``use_batchnorm``.  Beyond the book: ``dtype`` float64 (default) or
    float32, everything stays in it; ``rng`` None draws weights and dropout masks from
    numpy's global generator (as the book), an int or Generator from its own;
    ``inverted_dropout`` (default True, see ``nn.layers.Dropout``).
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
        if weight_decay_lambda < 0:
            raise ValueError(f"weight_decay_lambda must be >= 0, got {weight_decay_lambda}")
        self.input_size, self.output_size = input_size, output_size
        self.hidden_size_list = list(hidden_size_list)
        self.hidden_layer_num = len(self.hidden_size_list)
        self.activation = activation
        self.weight_decay_lambda = float(weight_decay_lambda)
        self.use_dropout, self.use_batchnorm = use_dropout, use_batchnorm
        self.dtype = _float_dtype(dtype)
        generator = np.random if rng is None else np.random.default_rng(rng)
        draw = generator.standard_normal

        self.params = {}
        for idx in range(1, len(sizes)):
            scale = weight_scale(weight_init_std, sizes[idx - 1])
            self.params[f"W{idx}"] = (scale * draw((sizes[idx - 1], sizes[idx]))).astype(self.dtype)
            self.params[f"b{idx}"] = np.zeros(sizes[idx], dtype=self.dtype)

        self.layers = OrderedDict()
        for idx in range(1, self.hidden_layer_num + 1):
            self.layers[f"Affine{idx}"] = Affine(self.params[f"W{idx}"], self.params[f"b{idx}"],
                                                 input_grad=idx > 1)
            if use_batchnorm:
                n = self.hidden_size_list[idx - 1]
                self.params[f"gamma{idx}"] = np.ones(n, dtype=self.dtype)
                self.params[f"beta{idx}"] = np.zeros(n, dtype=self.dtype)
                self.layers[f"BatchNorm{idx}"] = BatchNormalization(
                    self.params[f"gamma{idx}"], self.params[f"beta{idx}"])
            self.layers[f"Activation_function{idx}"] = ACTIVATIONS[activation]()
            if use_dropout:
                self.layers[f"Dropout{idx}"] = Dropout(dropout_ration, inverted=inverted_dropout,
                                                       rng=generator)
        idx = self.hidden_layer_num + 1
        self.layers[f"Affine{idx}"] = Affine(self.params[f"W{idx}"], self.params[f"b{idx}"],
                                             input_grad=idx > 1)
        self.last_layer = SoftmaxWithLoss()

    @property
    def lastLayer(self):  # TwoLayerNet's name, which nn.train reads
        return self.last_layer

    def predict(self, x, train_flg=False):
        """Scores (N, output_size); ``train_flg`` switches Batch Norm and Dropout to training."""
        for layer in self.layers.values():
            if isinstance(layer, (BatchNormalization, Dropout)):
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)
        return x

    def weight_decay(self):
        """(lambda / 2) * sum of ||W||^2 over the weight matrices (0.0 when lambda is 0)."""
        lam = self.weight_decay_lambda
        if lam == 0:
            return 0.0
        return float(sum(l2_penalty(self.params[f"W{i}"], lam=lam)
                         for i in range(1, self.hidden_layer_num + 2)))

    def loss(self, x, t, train_flg=False):
        """Mean cross-entropy plus the weight-decay term; ``t`` one-hot or class indices."""
        return self._loss(x, t, train_flg)

    def _loss(self, x, t, train_flg):
        y = MultiLayerNetExtend.predict(self, x, train_flg)
        return self.last_layer.forward(y, t) + self.weight_decay()

    def accuracy(self, x, t, batch_size=10000):
        """Fraction of samples classified right (test mode), ``batch_size`` rows at a time."""
        t = np.asarray(t)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        if len(t) != len(x):
            raise ValueError(f"accuracy: {len(x)} inputs but {len(t)} labels; give one label "
                             "per input")
        correct = 0
        for start in range(0, len(x), batch_size):
            scores = MultiLayerNetExtend.predict(self, x[start:start + batch_size], False)
            correct += int(np.count_nonzero(scores.argmax(axis=1) == t[start:start + batch_size]))
        return correct / len(x) if len(x) else float("nan")

    def numerical_gradient(self, x, t):
        """Central differences of ``loss(x, t, train_flg=True)`` for every parameter (slow).

        With Dropout the masks are redrawn at every forward pass, so this is only
        meaningful without it (or with the layers' generators re-seeded, as the tests do).
        """
        loss_W = lambda W: self._loss(x, t, True)  # noqa: E731 -- the book's name
        return {key: numerical_gradient(loss_W, p) for key, p in self.params.items()}

    def gradient(self, x, t):
        """Back-propagation in training mode: {'W1': dW1, 'b1': db1, ..., 'gamma1': ...}."""
        self._loss(x, t, True)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        grads = {}
        lam = self.weight_decay_lambda
        for idx in range(1, self.hidden_layer_num + 2):
            affine = self.layers[f"Affine{idx}"]
            dW = affine.dW
            if lam:
                W = self.params[f"W{idx}"]
                dW = dW + l2_penalty.backward[0](1.0, None, W, lam=lam)
            grads[f"W{idx}"], grads[f"b{idx}"] = dW, affine.db
            if self.use_batchnorm and idx <= self.hidden_layer_num:
                bn = self.layers[f"BatchNorm{idx}"]
                grads[f"gamma{idx}"], grads[f"beta{idx}"] = bn.dgamma, bn.dbeta
        return grads


class MultiLayerNet(MultiLayerNetExtend):
    """The book's plain multi-layer net: Affine -> activation per hidden layer, weight decay."""

    def __init__(self, input_size, hidden_size_list, output_size, activation="relu",
                 weight_init_std="relu", weight_decay_lambda=0, *, dtype=np.float64, rng=None):
        super().__init__(input_size, hidden_size_list, output_size, activation, weight_init_std,
                         weight_decay_lambda, dtype=dtype, rng=rng)

    def predict(self, x):
        return super().predict(x, train_flg=False)

    def loss(self, x, t):
        return super().loss(x, t, train_flg=False)
