"""``nn.conv``: the convolution layers under the name chapter 7's code imports; they live in
``nn.layers.conv``."""
from .layers.conv import Convolution, Pooling, col2im, im2col, output_size

__all__ = ["Convolution", "Pooling", "im2col", "col2im", "output_size"]
