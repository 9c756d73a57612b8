import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


# -- array rows: convolution and pooling, chapter 7 (numpy arrays only) ----------------
# Images are (N, C, H, W), filters (FN, C, FH, FW); a window of FH x FW slides over the
# input padded with P on each side, S pixels at a time:
#     OH = (H + 2P - FH) // S + 1,   OW = (W + 2P - FW) // S + 1.
# The rows assume shapes that fit; nn.conv's layers and functions check them first.

def windows(x, filter_h, filter_w, stride=1, pad=0, fill=0):
    """A strided view (N, C, OH, OW, FH, FW) of the padded input: [n, c, y, x, i, j] is
    padded x[n, c, y*S + i, x*S + j].  No copy, except for padding (with ``fill``)."""
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=fill)
    oh = (x.shape[2] - filter_h) // stride + 1
    ow = (x.shape[3] - filter_w) // stride + 1
    view = sliding_window_view(x, (filter_h, filter_w), axis=(2, 3))
    return view[:, :, :(oh - 1) * stride + 1:stride, :(ow - 1) * stride + 1:stride]


def add_windows(col, input_shape, stride, pad):
    """The transpose of ``windows``: ``col`` (N, C, OH, OW, FH, FW) -> (N, C, H, W) =
    ``input_shape``, each window added onto the place it was taken from, padding cut off.

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


def _im2col(x, *, filter_h, filter_w, stride=1, pad=0):
    """The book's im2col: (N, C, H, W) -> (N*OH*OW, C*FH*FW), one window per row, its
    values in (c, i, j) order; one copy of the strided view."""
    view = windows(x, filter_h, filter_w, stride, pad)
    n, _, oh, ow = view.shape[:4]
    return view.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, -1)


def _col2im(g, out, x, *, filter_h, filter_w, stride=1, pad=0):
    """d im2col: every row of g goes back onto its window; overlapping windows add up."""
    n, c = x.shape[:2]
    oh, ow = (x.shape[2] + 2 * pad - filter_h) // stride + 1, (x.shape[3] + 2 * pad - filter_w) // stride + 1
    col = g.reshape(n, oh, ow, c, filter_h, filter_w).transpose(0, 3, 1, 2, 4, 5)
    return add_windows(col, x.shape, stride, pad)


def columns(x, filter_h, filter_w, stride, pad):
    """im2col's rows as one matrix per sample, transposed: (N, C*FH*FW, OH*OW).

    In this layout a convolution is one (FN, C*FH*FW) @ (C*FH*FW, OH*OW) product per
    sample whose result is already (N, FN, OH*OW), the book's output layout: no transpose
    of the output, and the copy that makes the columns is several times faster.
    """
    view = windows(x, filter_h, filter_w, stride, pad)  # (N, C, OH, OW, FH, FW)
    n, c, oh, ow = view.shape[:4]
    return view.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * filter_h * filter_w, oh * ow)


def _conv2d(x, W, b, *, stride=1, pad=0):
    """out[n, f] = W2 @ columns(x)[n] + b[f], W2 = W.reshape(FN, C*FH*FW): (N, FN, OH, OW)."""
    fn, _, fh, fw = W.shape
    col = columns(x, fh, fw, stride, pad)
    out = np.matmul(W.reshape(fn, -1), col)
    out += b[:, None]
    oh = (x.shape[2] + 2 * pad - fh) // stride + 1
    return out.reshape(len(x), fn, oh, -1)


def _conv2d_dx(g, out, x, W, b, *, stride=1, pad=0):
    """dx = col2im of W2^T G_n, with G_n = g[n] as (FN, OH*OW)."""
    fn, c, fh, fw = W.shape
    n, _, oh, ow = g.shape
    dcol = np.matmul(W.reshape(fn, -1).T, g.reshape(n, fn, -1))  # (N, C*FH*FW, OH*OW)
    dcol = dcol.reshape(n, c, fh, fw, oh, ow).transpose(0, 1, 4, 5, 2, 3)
    return add_windows(dcol, x.shape, stride, pad)


def _conv2d_dW(g, out, x, W, b, *, stride=1, pad=0):
    """dW = sum over samples of G_n columns(x)[n]^T, reshaped to (FN, C, FH, FW)."""
    fn, _, fh, fw = W.shape
    col = columns(x, fh, fw, stride, pad)
    return np.matmul(g.reshape(len(g), fn, -1), col.transpose(0, 2, 1)).sum(axis=0).reshape(W.shape)


def _conv2d_db(g, out, x, W, b, *, stride=1, pad=0):
    """db = sum of g over samples and positions."""
    return g.reshape(len(g), len(b), -1).sum(axis=2).sum(axis=0)


def _max_pool(x, *, pool_h, pool_w, stride=2, pad=0):
    """out[n, c, y, x] = max of the window; padding is -inf, so never the maximum."""
    view = windows(x, pool_h, pool_w, stride, pad, fill=-np.inf)
    out = view[..., 0, 0].copy()
    for i in range(pool_h):
        for j in range(pool_w):
            if i or j:
                np.maximum(out, view[..., i, j], out=out)
    return out


def _max_pool_dx(g, out, x, *, pool_h, pool_w, stride=2, pad=0):
    """Each g[n, c, y, x] goes to the first place in its window (row by row) where x equals
    the maximum ``out`` (the book's argmax, and PyTorch's); overlapping windows add up.

    One pass per offset (i, j) of the window: the outputs whose maximum sits at (i, j)
    and was not found at an earlier offset send their gradient to that pixel.
    """
    view = windows(x, pool_h, pool_w, stride, pad, fill=-np.inf)
    h, w = x.shape[2:]
    oh, ow = out.shape[2:]
    # Windows that tile the input exactly (the usual 2x2, stride 2, even size) write each
    # pixel once: straight into dx, with no zero-filling and no additions.
    tiles = pad == 0 and stride == pool_h == pool_w and h == oh * stride and w == ow * stride
    dx = (np.empty if tiles else np.zeros)((*x.shape[:2], h + 2 * pad, w + 2 * pad), dtype=g.dtype)
    free = np.ones(out.shape, dtype=bool)  # outputs whose maximum is not found yet
    hit = np.empty(out.shape, dtype=bool)
    part = None if tiles else np.empty(out.shape, dtype=g.dtype)
    for i in range(pool_h):
        rows = slice(i, i + (oh - 1) * stride + 1, stride)
        for j in range(pool_w):
            np.equal(view[..., i, j], out, out=hit)
            hit &= free
            free ^= hit
            target = dx[:, :, rows, j:j + (ow - 1) * stride + 1:stride]
            if tiles:
                np.multiply(g, hit, out=target)
            else:
                np.multiply(g, hit, out=part)
                target += part
    return dx[:, :, pad:pad + h, pad:pad + w]


ROWS = {
    "im2col": dict(forward=_im2col, backward=(_col2im,), symbol="im2col",
                   doc="col = im2col(x): each FH x FW window of x (N, C, H, W) as a row of col "
                       "(N*OH*OW, C*FH*FW); dx = col2im(dcol), which adds each row back onto "
                       "its window."),
    "conv2d": dict(forward=_conv2d, backward=(_conv2d_dx, _conv2d_dW, _conv2d_db),
                   symbol="Convolution",
                   doc="out[n, f] = W2 X_n + b[f] with X_n = columns of sample n (C*FH*FW, "
                       "OH*OW), W2 = W as (FN, C*FH*FW); dW = sum_n G_n X_n^T, db = sum of g "
                       "over n, y, x, dx = col2im(W2^T G_n)."),
    "max_pool": dict(forward=_max_pool, backward=(_max_pool_dx,), symbol="Pooling",
                     doc="out = max over each pool_h x pool_w window; dx gets g at the first "
                         "maximum of each window, 0 elsewhere."),
}
