"""Drawing a computational graph the way the book's figures do: ops in circles (×, +, exp),
inputs as text, each arrow with the value flowing forward and, after ``backward()``, the
gradient flowing back (in red, below it).  ``draw`` renders through Graphviz (the ``viz``
extra and the ``dot`` program), else as chainrule's own SVG (``autograd.explore.picture``).
"""
import html
import shutil

from . import files
from .explore import edge_texts, node_names, number, picture, value_view


def to_dot(root, rankdir="LR", show_grad=None, precision=6, fold_constants=True):
    """Graphviz DOT source of the explorer's picture of ``root``'s graph (``value_view``).

    ``show_grad``: each arrow's gradient (what flowed back along it) under its value; by
    default once some node has a non-zero gradient (after ``backward``).  ``precision``:
    significant digits (220.00000000000003 shows as 220).  ``fold_constants``: an unlabelled
    leaf used once (the 2 of ``x * 2``) is drawn inside its op's circle ("×2"), as the book
    does; a labelled one is an input.
    """
    if show_grad is None:
        show_grad = any(node.grad != 0.0 for node in root.topological_order())
    view = value_view(root, precision=precision, fold_constants=fold_constants)
    ids = ["output" if n["kind"] == "output" else f"n{i}" for i, n in enumerate(view["nodes"])]
    lines = ["digraph computational_graph {", f"  rankdir={rankdir};",
             '  node [fontname="Helvetica"]; edge [fontname="Helvetica", fontsize=11];']
    for nid, n in zip(ids, view["nodes"]):
        # A backslash doubled: a lone one would escape the closing quote.
        label = html.escape(n["text"]).replace("\\", "\\\\")
        shape = "circle" if n["kind"] == "op" else "plaintext"
        lines.append(f'  {nid} [shape={shape}, label="{label}"];')
    for e in view["edges"]:
        value, grad = (html.escape(text) for text in edge_texts(e, precision))
        # No gradient on a constant's arrow.
        grad = f'<br/><font color="red">{grad}</font>' if show_grad and grad else ""
        lines.append(f"  {ids[e['src']]} -> {ids[e['dst']]} [label=<{value}{grad}>];")
    return "\n".join(lines + ["}"])


def to_text(root, precision=6, max_lines=200):
    """One line per node, inputs first: ``name = op(inputs) = value   grad g``."""
    order = root.topological_order()
    names = node_names(order, precision=precision, expressions=False)
    lines = []
    for node in order[:max_lines]:
        args = ", ".join(names[id(p)] for p in node.parents)
        op = f" = {node.op}({args})" if node.parents else ""
        lines.append(f"{names[id(node)]}{op} = {number(node.data, precision)}   "
                     f"grad {number(node.grad, precision)}")
    if len(order) > max_lines:
        lines.append(f"... ({len(order) - max_lines} more nodes)")
    return "\n".join(lines)


def draw(root, format="svg", **options):
    """The picture: a ``graphviz.Source`` with Graphviz, else an ``explore.Picture`` (SVG
    only, laid out by ``autograd.layout``).  Both show themselves in Jupyter and give the
    bytes with ``.pipe(format="svg")``.  ``options`` are those of ``to_dot``.
    """
    try:
        import graphviz
    except ImportError:
        graphviz = None
    if graphviz is not None and shutil.which("dot") is not None:
        return graphviz.Source(to_dot(root, **options), format=format)
    if format != "svg":
        raise RuntimeError(
            f"drawing as {format!r} needs Graphviz: pip install -e '.[viz]' in chainrule's "
            "folder, and its 'dot' program (Debian/Ubuntu: apt-get install graphviz; macOS: "
            "brew install graphviz); without them draw() gives SVG")
    return picture(root, **options)


def save_svg(root, path, **options):
    """Write the picture of ``root``'s graph to ``path`` as SVG (whole or not at all), with
    Graphviz when it is installed, else laid out here; ``options`` as ``to_dot``'s.
    Returns the path as a str."""
    return files.write_text(path, draw(root, format="svg", **options).pipe(format="svg").decode())


def show(root, **options):
    """Look at the graph: in a Jupyter kernel the picture (as ``draw``), in a plain terminal
    ``to_text`` printed.  Returns None, so a notebook stores the picture and nothing that
    changes from run to run."""
    try:
        from IPython import get_ipython
        from IPython.display import SVG, display
        in_kernel = get_ipython() is not None and hasattr(get_ipython(), "kernel")
    except ImportError:
        in_kernel = False
    if in_kernel:
        display(SVG(draw(root, **options).pipe(format="svg")))
    else:
        print(to_text(root))
