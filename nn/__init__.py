"""chainrule's vectorised networks: the book's layers, functions and TwoLayerNet on numpy.

Chapter 5's code runs after changing only its imports::

    from nn import TwoLayerNet, load_mnist

Every forward and backward comes from the op table ``autograd.ops``, shared with the
scalar engine ``autograd.Value``.  Train with ``python -m nn.train``; check the
gradients with ``python -m nn.gradcheck``.
"""
from .functions import cross_entropy_error, log_softmax, relu, sigmoid, softmax
from .gradient import numerical_gradient
from .layers import Affine, Relu, ReLU, Sigmoid, SoftmaxWithLoss
from .mnist import load_mnist
from .two_layer_net import TwoLayerNet

__all__ = ["Affine", "Relu", "ReLU", "Sigmoid", "SoftmaxWithLoss", "TwoLayerNet", "load_mnist",
           "numerical_gradient", "softmax", "log_softmax", "cross_entropy_error", "sigmoid",
           "relu"]
