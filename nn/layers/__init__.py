"""The layers room: the book's layers (common/layers.py), their functions (common/functions.py)
and convolution (im2col, col2im, Convolution, Pooling), each forward and backward a row of
the op table ``autograd.ops``."""
from .conv import Convolution, Pooling, col2im, im2col
from .core import Affine, BatchNormalization, Dropout, Relu, ReLU, Sigmoid, SoftmaxWithLoss

__all__ = ["Affine", "Relu", "ReLU", "Sigmoid", "SoftmaxWithLoss", "BatchNormalization",
           "Dropout", "Convolution", "Pooling", "im2col", "col2im"]
