"""chainrule's vectorised networks on numpy: the book's chapters 5 to 8.

The book's code runs after changing only its imports::

    from nn import TwoLayerNet, load_mnist, Adam, Trainer, DeepConvNet

Rooms, from the bottom up (each imports only the ones below it, and ``autograd``):

- ``nn.layers``: the layers (Affine, Relu, Sigmoid, SoftmaxWithLoss, BatchNormalization,
  Dropout, Convolution, Pooling), their functions and im2col/col2im; every forward and
  backward is a row of the op table ``autograd.ops``, shared with ``autograd.Value``.
- ``nn.data``: MNIST (``load_mnist``), augmentation, and the atomic file writes;
  ``nn.util``: the book's ``smooth_curve`` and ``shuffle_dataset``.
- ``nn.nets``: the network base ``Net`` and the book's nets, each a definition of its layers.
- ``nn.training``: the optimizers, the one training loop, the book's ``Trainer``.
- the commands at the top: ``python -m nn.train``, ``nn.gradcheck``, ``nn.experiments``
  (with the search in ``nn.hyperparam``), and ``nn.explore`` (the layer view); ``nn.cli`` is
  what they share.
"""
import autograd as _autograd

if not getattr(_autograd, "__chainrule__", False):  # HIPS autograd shares the name: see autograd/clash.py
    raise ImportError(
        f"nn needs chainrule's autograd, but `import autograd` gives another package "
        f"({getattr(_autograd, '__file__', _autograd)}). chainrule and HIPS autograd (the "
        f"'autograd' package on PyPI) both install a top-level package named autograd, so one "
        f"hides the other. Uninstall HIPS autograd from this environment (pip uninstall "
        f"autograd), or give chainrule a virtual environment of its own.")

from .data.mnist import load_mnist
from .gradient import numerical_gradient
from .layers import (Affine, BatchNormalization, Convolution, Dropout, Pooling, Relu, ReLU,
                     Sigmoid, SoftmaxWithLoss, col2im, im2col)
from .layers.functions import cross_entropy_error, log_softmax, relu, sigmoid, softmax
from .nets.deep_conv_net import DeepConvNet
from .nets.multi_layer_net import MultiLayerNet, MultiLayerNetExtend
from .nets.simple_conv_net import SimpleConvNet
from .nets.two_layer_net import TwoLayerNet
from .training.optimizers import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSprop
from .training.trainer import Trainer
from .util import shuffle_dataset, smooth_curve

# Chapter 5 (layers, TwoLayerNet), chapter 6 (学習に関するテクニック: optimizers, Batch Norm,
# Dropout, multi-layer nets, Trainer), chapter 7 (convolution), chapter 8 (DeepConvNet).
__all__ = ["Affine", "Relu", "ReLU", "Sigmoid", "SoftmaxWithLoss", "TwoLayerNet", "load_mnist",
           "numerical_gradient", "softmax", "log_softmax", "cross_entropy_error", "sigmoid",
           "relu", "BatchNormalization", "Dropout", "MultiLayerNet", "MultiLayerNetExtend",
           "SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam", "Trainer",
           "Convolution", "Pooling", "im2col", "col2im", "SimpleConvNet", "DeepConvNet",
           "smooth_curve", "shuffle_dataset"]
