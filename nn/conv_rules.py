"""Forward and backward of convolution and max pooling (to become rows of autograd/ops.py).

conv2d (x, W, b; stride, pad): x (N, C, H, W), W (FN, C, FH, FW), b (FN,) -> (N, FN, OH, OW)
max_pool (x; pool_h, pool_w, stride, pad): (N, C, H, W) -> (N, C, OH, OW)
"""
import numpy as np

from . import conv


def columns(x, filter_h, filter_w, stride, pad):
    """im2col's columns, one matrix per sample: (N, C*FH*FW, OH*OW).

    The same numbers as ``im2col`` (whose rows are these columns, samples stacked); in
    this layout a convolution is one (FN, C*FH*FW) @ (C*FH*FW, OH*OW) product per sample,
    whose result is already (N, FN, OH*OW), the book's output layout, with no transpose.
    """
    view = conv.windows(x, filter_h, filter_w, stride, pad)  # (N, C, OH, OW, FH, FW)
    n, c, oh, ow = view.shape[:4]
    return view.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * filter_h * filter_w, oh * ow)


def add_windows(col, input_shape, stride, pad):
    """col2im's scatter: ``col`` (N, C, OH, OW, FH, FW) -> (N, C, H, W) = ``input_shape``,
    each window added onto the place it was taken from; the padding is cut off.

    One strided addition per offset (i, j) of the window, FH*FW in all.
    """
    n, c, oh, ow, fh, fw = col.shape
    h, w = input_shape[2:]
    img = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=col.dtype)
    for i in range(fh):
        rows = slice(i, i + (oh - 1) * stride + 1, stride)
        for j in range(fw):
            img[:, :, rows, j:j + (ow - 1) * stride + 1:stride] += col[:, :, :, :, i, j]
    return img[:, :, pad:pad + h, pad:pad + w]


def conv2d(x, W, b, *, stride=1, pad=0):
    """out[n, f] = W_f . (window of x) + b[f]: (N, FN, OH, OW), as ``W2 @ columns(x)[n] + b``
    with W2 = W.reshape(FN, C*FH*FW)."""
    fn, c, fh, fw = W.shape
    col = columns(x, fh, fw, stride, pad)
    out = np.matmul(W.reshape(fn, -1), col)
    out += b[:, None]
    oh, ow = conv.output_size(x.shape, fh, fw, stride, pad, "conv2d")
    return out.reshape(len(x), fn, oh, ow)


def conv2d_vjp(g, out, x, W, b, *, needs=(True, True, True), stride=1, pad=0):
    """dL/dx, dL/dW, dL/db for out = conv2d(x, W, b), given g = dL/dout (N, FN, OH, OW).

    With G_n = g[n] as (FN, OH*OW) and X_n = columns(x)[n] (C*FH*FW, OH*OW):
    dW = sum_n G_n X_n^T, db = sum of g over n, y, x, and dx = col2im of W2^T G_n.
    """
    fn, c, fh, fw = W.shape
    n = len(x)
    g3 = g.reshape(n, fn, -1)
    dx = dW = db = None
    if needs[0]:
        dcol = np.matmul(W.reshape(fn, -1).T, g3)  # (N, C*FH*FW, OH*OW)
        dcol = dcol.reshape(n, c, fh, fw, *g.shape[2:]).transpose(0, 1, 4, 5, 2, 3)
        dx = add_windows(dcol, x.shape, stride, pad)
    if needs[1]:
        col = columns(x, fh, fw, stride, pad)
        dW = np.matmul(g3, col.transpose(0, 2, 1)).sum(axis=0).reshape(W.shape)
    if needs[2]:
        db = g3.sum(axis=2).sum(axis=0)
    return dx, dW, db


def max_pool(x, *, pool_h, pool_w, stride=2, pad=0):
    """out[n, c, y, x] = max of the window; padding is -inf, so never the maximum."""
    view = conv.windows(x, pool_h, pool_w, stride, pad, fill=-np.inf)
    out = view[..., 0, 0].copy()
    for i in range(pool_h):
        for j in range(pool_w):
            if i or j:
                np.maximum(out, view[..., i, j], out=out)
    return out


def max_pool_vjp(g, out, x, *, pool_h, pool_w, stride=2, pad=0):
    """dL/dx: each g[n, c, y, x] goes to the first place in its window (row by row) where
    x equals the window's maximum ``out``; windows that overlap add up.

    One pass per offset (i, j) of the window: the outputs whose maximum sits at (i, j)
    and was not found at an earlier offset send their gradient to that pixel.
    """
    view = conv.windows(x, pool_h, pool_w, stride, pad, fill=-np.inf)
    h, w = x.shape[2:]
    oh, ow = out.shape[2:]
    dx = np.zeros((*x.shape[:2], h + 2 * pad, w + 2 * pad), dtype=g.dtype)
    free = np.ones(out.shape, dtype=bool)  # outputs whose maximum is not yet found
    hit = np.empty(out.shape, dtype=bool)
    part = np.empty(out.shape, dtype=g.dtype)
    for i in range(pool_h):
        rows = slice(i, i + (oh - 1) * stride + 1, stride)
        for j in range(pool_w):
            np.equal(view[..., i, j], out, out=hit)
            hit &= free
            free ^= hit
            np.multiply(g, hit, out=part)
            dx[:, :, rows, j:j + (ow - 1) * stride + 1:stride] += part
    return dx[:, :, pad:pad + h, pad:pad + w]
