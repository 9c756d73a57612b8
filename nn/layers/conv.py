"""Convolution and pooling (畳み込み層とプーリング層), chapter 7 of the book.

Images are batches laid out as the book does, (N, C, H, W): N samples, C channels, H rows,
W columns.  Filters are (FN, C, FH, FW).  A filter of FH x FW slides over the input padded
with P zeros on each side, S pixels at a time, giving an output of

    OH = (H + 2P - FH) // S + 1,    OW = (W + 2P - FW) // S + 1

(when S does not divide H + 2P - FH, the last rows that do not fill a window are not used,
as in the book's code and PyTorch).  A shape that gives OH or OW < 1 is refused with an
error naming the shapes and this formula.

``im2col`` (the book's common/util.py) turns every window into one row of a matrix, so that
convolution is one matrix product; ``col2im``, its transpose, is its backward.  Neither loops
over pixels or samples: im2col is one copy of a strided view of the input; col2im loops over
the FH x FW offsets of the window only.  ``Convolution`` and ``Pooling`` (max pooling) are the
book's layers; their derivatives are the op table's rows "conv2d" and "max_pool".
"""
import numpy as np

from autograd import ops

from .core import forward_first, upstream
from .functions import as_floats


def output_size(shape, filter_h, filter_w, stride, pad, who):
    """(OH, OW) for an input ``shape`` (N, C, H, W); a ValueError naming ``who`` if impossible."""
    if len(shape) != 4:
        raise ValueError(f"{who}: input must be a batch of images of shape (N, C, H, W), got "
                         f"shape {tuple(shape)}; reshape one image to (1, C, H, W)")
    for name, value, least in (("filter height", filter_h, 1), ("filter width", filter_w, 1),
                               ("stride", stride, 1), ("pad", pad, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise ValueError(f"{who}: {name} must be an integer >= {least}, got {value!r}")
    _, _, h, w = shape
    oh = (h + 2 * pad - filter_h) // stride + 1
    ow = (w + 2 * pad - filter_w) // stride + 1
    if oh < 1 or ow < 1:
        raise ValueError(
            f"{who}: input of shape (N, C, H, W) = {tuple(shape)} is smaller than the "
            f"{filter_h}x{filter_w} window (FH x FW) with stride S = {stride} and pad P = {pad}: "
            f"OH = (H + 2P - FH) // S + 1 = ({h} + {2 * pad} - {filter_h}) // {stride} + 1 = {oh}, "
            f"OW = (W + 2P - FW) // S + 1 = ({w} + {2 * pad} - {filter_w}) // {stride} + 1 = {ow}; "
            f"both must be >= 1: use a smaller window or a larger pad")
    return oh, ow


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    """The book's im2col: every window of the input as one row.

    ``input_data`` (N, C, H, W) -> col (N*OH*OW, C*FH*FW); row n*OH*OW + y*OW + x holds the
    window at output position (y, x) of sample n, its C*FH*FW values in (c, i, j) order.
    Then a convolution is ``col @ W.reshape(FN, -1).T``.
    """
    input_data = np.asarray(input_data)
    output_size(input_data.shape, filter_h, filter_w, stride, pad, "im2col")
    return ops.im2col.forward(input_data, filter_h=filter_h, filter_w=filter_w, stride=stride,
                              pad=pad)


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """The book's col2im, the transpose of im2col: each row of ``col`` (N*OH*OW, C*FH*FW)
    is added back onto the window it came from; returns (N, C, H, W) = ``input_shape``.

    Where windows overlap (stride < filter size) their values add up, so
    ``col2im(dcol, ...)`` is dL/d(input) when ``dcol`` is dL/d(im2col(input)).
    """
    input_shape = tuple(input_shape)
    oh, ow = output_size(input_shape, filter_h, filter_w, stride, pad, "col2im")
    n, c = input_shape[:2]
    expected = (n * oh * ow, c * filter_h * filter_w)
    if np.shape(col) != expected:
        raise ValueError(f"col2im: col has shape {np.shape(col)}, but input_shape "
                         f"{input_shape} with a {filter_h}x{filter_w} window, stride {stride}, "
                         f"pad {pad} needs (N*OH*OW, C*FH*FW) = {expected}")
    col = np.asarray(col).reshape(n, oh, ow, c, filter_h, filter_w).transpose(0, 3, 1, 2, 4, 5)
    return ops.add_image_windows(col, input_shape, stride, pad)


class Convolution:
    """Convolution layer (畳み込み層): out[n, f] = sum over c, i, j of
    W[f, c, i, j] * padded x[n, c, y*S + i, x*S + j], plus b[f].

    ``W`` (FN, C, FH, FW) and ``b`` (FN,) are kept by reference (in-place updates reach
    the layer); a number ``b`` (the book's apply_filter.py passes 0) is that bias for every
    filter, made an array of W's dtype.  forward(x): (N, C, H, W) -> (N, FN, OH, OW), in W's
    dtype.  backward(dout) stores ``dW`` (FN, C, FH, FW) and ``db`` (FN,) and returns dL/dx
    (N, C, H, W), or None with ``input_grad=False`` (a first layer never needs it); all in
    W's dtype, whatever dout's.  The arithmetic is one matrix product per sample over
    im2col's columns (the op table's row "conv2d", which also holds the derivatives).
    """

    def __init__(self, W, b, stride=1, pad=0, input_grad=True):
        if not isinstance(W, np.ndarray) or W.ndim != 4 or W.dtype.kind != "f":
            raise ValueError(f"Convolution: W must be a 4-D numpy array of floats (FN, C, FH, "
                             f"FW), got {type(W).__name__} of shape {np.shape(W)} and dtype "
                             f"{getattr(W, 'dtype', None)}")
        if isinstance(b, (int, float, np.integer, np.floating)) and not isinstance(b, bool):
            b = np.full(W.shape[:1], b, dtype=W.dtype)
        if not isinstance(b, np.ndarray) or b.shape != W.shape[:1]:
            raise ValueError(f"Convolution: b must be a numpy array of shape {W.shape[:1]} "
                             f"(one bias per filter) to match W of shape {W.shape}, or one "
                             f"number for all filters, got "
                             f"{type(b).__name__} of shape {np.shape(b)}")
        output_size((1,) + W.shape[1:], *W.shape[2:], stride, pad, "Convolution")  # checks S, P
        self.W = W
        self.b = b
        self.stride = stride
        self.pad = pad
        self.input_grad = input_grad
        self.x = self.out = None
        self.dW = self.db = None

    def forward(self, x):
        x = np.asarray(x)
        if x.dtype != self.W.dtype:
            x = x.astype(self.W.dtype)
        fn, c, fh, fw = self.W.shape
        output_size(x.shape, fh, fw, self.stride, self.pad, "Convolution")
        if x.shape[1] != c:
            raise ValueError(f"Convolution: input of shape (N, C, H, W) = {x.shape} has "
                             f"{x.shape[1]} channels, but W of shape (FN, C, FH, FW) = "
                             f"{self.W.shape} expects C = {c}")
        self.x = x
        self.out = ops.conv2d.forward(x, self.W, self.b, stride=self.stride, pad=self.pad)
        return self.out

    def backward(self, dout=1):
        forward_first(self.x, "Convolution")
        dout = upstream(dout, self.out.shape, self.out.dtype, "Convolution")
        dx, self.dW, self.db = ops.conv2d.vjp(
            dout, self.out, self.x, self.W, self.b, needs=(self.input_grad, True, True),
            stride=self.stride, pad=self.pad)
        return dx


class Pooling:
    """Max pooling layer (Maxプーリング): out[n, c, y, x] = max over i < pool_h, j < pool_w of
    padded x[n, c, y*S + i, x*S + j].  No parameters; each channel on its own.

    forward(x): (N, C, H, W) -> (N, C, OH, OW).  Padding is with -inf, so a window's
    maximum is always one of the input's values (as in PyTorch; ``pad`` at most half the
    window).  backward(dout) passes each output's gradient to the input where the maximum
    was, the first one in the window if several are equal, as the book's ``argmax`` and
    PyTorch do (op table row "max_pool").  ``stride`` defaults to 2, the book's corrected one.
    """

    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        output_size((1, 1, pool_h, pool_w), pool_h, pool_w, stride, pad, "Pooling")
        if 2 * pad > min(pool_h, pool_w):
            raise ValueError(f"Pooling: pad {pad} is more than half the {pool_h}x{pool_w} "
                             f"window, so some windows would be padding only; use pad <= "
                             f"{min(pool_h, pool_w) // 2}")
        self.pool_h = pool_h
        self.pool_w = pool_w
        self.stride = stride
        self.pad = pad
        self.x = self.out = None

    def forward(self, x):
        x = as_floats(x)
        output_size(x.shape, self.pool_h, self.pool_w, self.stride, self.pad, "Pooling")
        self.x = x
        self.out = ops.max_pool.forward(x, **self._params())
        return self.out

    @property
    def arg_max(self):
        """The book's ``arg_max``: for each output (N, C, OH, OW), the position i * pool_w + j
        in its window of the maximum found by the last forward (the first one if several
        are equal); None before forward."""
        if self.x is None:
            return None
        view = ops.image_windows(self.x, self.pool_h, self.pool_w, self.stride, self.pad,
                             fill=-np.inf)
        return view.reshape(*view.shape[:4], -1).argmax(axis=-1)

    def backward(self, dout=1):
        forward_first(self.x, "Pooling")
        dout = upstream(dout, self.out.shape, self.out.dtype, "Pooling")
        return ops.max_pool.vjp(dout, self.out, self.x, **self._params())[0]

    def _params(self):
        return dict(pool_h=self.pool_h, pool_w=self.pool_w, stride=self.stride, pad=self.pad)

