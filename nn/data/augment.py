"""Data augmentation (データ拡張), the book's way past 99.4% in chapter 8: every training
image is moved a couple of pixels and turned a few degrees, a different way each time it
is drawn, so the net sees more handwriting than the 60,000 images hold.

The whole batch is transformed at once with numpy: one grid of source coordinates per image
and bilinear interpolation, no loop over images.
"""
import numpy as np


def transform(x, shifts, angles):
    """Images ``x`` (N, C, H, W), each turned by ``angles[n]`` radians (counter-clockwise on
    screen) about its centre and then moved by ``shifts[n]`` = (rows down, columns right).

    out[n, c, i, j] = x[n, c] read at R(-angle) ((i, j) - centre - shift) + centre, by bilinear
    interpolation; places that come from outside the image are 0.  Shift 0 and angle 0 give
    ``x`` exactly; a whole-pixel shift moves every pixel by exactly that much.
    """
    x = np.asarray(x)
    n, _, h, w = x.shape
    shifts, angles = np.asarray(shifts, dtype=np.float64), np.asarray(angles, dtype=np.float64)
    if shifts.shape != (n, 2) or angles.shape != (n,):
        raise ValueError(f"transform: {n} images need shifts of shape ({n}, 2) and angles of "
                         f"shape ({n},), got {shifts.shape} and {angles.shape}")
    cy, cx = (h - 1) / 2, (w - 1) / 2
    cos, sin = np.cos(angles)[:, None, None], np.sin(angles)[:, None, None]
    dy = np.arange(h)[None, :, None] - cy - shifts[:, 0, None, None]  # (N, H, 1)
    dx = np.arange(w)[None, None, :] - cx - shifts[:, 1, None, None]  # (N, 1, W)
    # Where each output pixel comes from, clipped into the one-pixel zero border added below.
    src_y = np.clip(cos * dy + sin * dx + cy, -1, h)
    src_x = np.clip(-sin * dy + cos * dx + cx, -1, w)
    y0, x0 = np.floor(src_y), np.floor(src_x)
    fy, fx = (src_y - y0).astype(x.dtype)[..., None], (src_x - x0).astype(x.dtype)[..., None]
    y0, x0 = y0.astype(np.intp) + 1, x0.astype(np.intp) + 1  # + 1: the border
    y1, x1 = np.minimum(y0 + 1, h + 1), np.minimum(x0 + 1, w + 1)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))).transpose(0, 2, 3, 1)  # (N, H+2, W+2, C)
    k = np.arange(n)[:, None, None]
    out = ((1 - fy) * ((1 - fx) * padded[k, y0, x0] + fx * padded[k, y0, x1])
           + fy * ((1 - fx) * padded[k, y1, x0] + fx * padded[k, y1, x1]))
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))


def augment(x, rng, max_shift=2, max_degrees=10):
    """``x`` (N, C, H, W) with each image moved by a whole number of pixels in
    [-max_shift, max_shift] along each axis and turned by an angle drawn uniformly in
    [-max_degrees, max_degrees] degrees, drawn from the Generator ``rng``."""
    n = len(x)
    shifts = rng.integers(-max_shift, max_shift + 1, size=(n, 2))
    return transform(x, shifts, np.radians(rng.uniform(-max_degrees, max_degrees, size=n)))
