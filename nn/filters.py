"""The first layer's filters as pictures: the book's figure 7-24 (ch07/visualize_filter.py).

Each of the FN filters of W (FN, C, FH, FW) is drawn as an FH x FW grey image of its first
channel, dark for large weights (the book's ``cmap=gray_r``), each scaled to its own
range.  Before training they are noise; after training many are edge and blob detectors.
"""
import numpy as np

from .cli import save_figure


def filter_grid(filters, nx=10):
    """Axes-free layout of the filters: a list of (row, col, FH x FW array) for a grid nx wide."""
    filters = np.asarray(filters)
    if filters.ndim != 4:
        raise ValueError(f"filters must have shape (FN, C, FH, FW), got {filters.shape}")
    return [(i // nx, i % nx, filters[i, 0]) for i in range(len(filters))]


def plot_filters(path=None, *, before=None, after=None, nx=10):
    """Draw ``before`` and/or ``after`` (each (FN, C, FH, FW)) one above the other, as the
    book's two pictures; save to ``path`` if given (atomically).  Returns the matplotlib
    Figure (needs matplotlib, the ``train`` extra; no pyplot, so no display needed)."""
    from matplotlib.figure import Figure

    panels = [(title, w) for title, w in (("before training", before),
                                          ("after training", after)) if w is not None]
    if not panels:
        raise ValueError("plot_filters: give before=, after= or both (arrays (FN, C, FH, FW))")
    rows = [max(r for r, _, _ in filter_grid(w, nx)) + 1 for _, w in panels]
    fig = Figure(figsize=(nx * 0.6, sum(rows) * 0.6 + 0.4 * len(panels)), layout="constrained")
    subfigs = fig.subfigures(len(panels), 1, height_ratios=rows, squeeze=False)[:, 0]
    for subfig, (title, w), ny in zip(subfigs, panels, rows):
        subfig.suptitle(f"{title}: {len(w)} filters {w.shape[2]}x{w.shape[3]}", fontsize=9)
        axes = subfig.subplots(ny, nx, squeeze=False)
        for ax in axes.flat:
            ax.set_axis_off()
        for r, c, image in filter_grid(w, nx):
            axes[r, c].imshow(image, cmap="gray_r", interpolation="nearest")
    return save_figure(fig, path, dpi=80)
