"""Drawing a computational graph the way the book's figures do.

Operations are circles labelled with the op (x, +, exp ...); each arrow carries
the value flowing forward, and once ``backward()`` has run, the gradient flowing
back (in red, below it).  Inputs are plain text with their label.

``to_dot`` needs nothing; ``draw`` renders through the optional ``graphviz``
package (``pip install -e '.[viz]'`` in the source folder) and the Graphviz ``dot``
program, and without them lays the graph out itself (``autograd.explore``) and
returns the picture as SVG; ``to_text`` is the same graph as lines of text;
``show`` picks what fits.
"""
import html
import shutil



def _number(x, precision):
    return f"{x:.{precision}g}"


def _label(node):
    """The node's label as text ('' for none): any object given as a label is shown via str()."""
    return "" if node.label is None else str(node.label)


def _name(node, precision):
    return _label(node) or _number(node.data, precision)


def _dot_string(text):
    """``text`` for a double-quoted DOT string: HTML-escaped, and a backslash doubled, since
    a lone one would escape the closing quote (a label ending in a backslash broke the file)."""
    return html.escape(text).replace("\\", "\\\\")


def _edge_label(node, show_grad, precision, named=True):
    text = html.escape(_number(node.data, precision))
    if named and node.parents and _label(node):  # a named intermediate result, like the book's t
        text = f"{html.escape(_label(node))} = {text}"
    if show_grad:
        text += f'<br/><font color="red">{html.escape(_number(node.grad, precision))}</font>'
    return f"<{text}>"


def _constants(order):
    """Ids of the leaves drawn inside their op's circle: unlabelled, used exactly once."""
    uses = {}
    for node in order:
        for parent in node.parents:
            uses[id(parent)] = uses.get(id(parent), 0) + 1
    folded = set()
    for node in order:
        x, y = (node.parents + (None, None))[:2]
        # At most one operand per op is folded, so the circle keeps an input arrow.
        for const, other in ((y, x), (x, y)):
            if (const is not None and other is not None and not const.parents
                    and not _label(const) and uses[id(const)] == 1):
                folded.add(id(const))
                break
    return folded


def op_symbol(node, folded, precision=6):
    """What the op's circle shows: its symbol, with a folded constant ("×2", "+1", "1÷").

    ``folded``: the ids from ``_constants``.  Plain text; the DOT and SVG writers escape it.
    """
    symbol = node.row.symbol
    x, y = (node.parents + (None, None))[:2]
    if y is not None and id(y) in folded:  # x * 2 drawn as "×2", the book's style
        symbol = f"{symbol}{_number(y.data, precision)}"
    elif y is not None and id(x) in folded:
        const = _number(x.data, precision)
        # 1 + x reads as "+1" like the book; order matters only for 1 / x ("1÷") and 3 - x.
        symbol = f"{symbol}{const}" if node.row.commutes else f"{const}{symbol}"
    return symbol


def to_dot(root, rankdir="LR", show_grad=None, precision=6, fold_constants=True):
    """Graphviz DOT source for the graph that computed ``root``.

    ``show_grad``: draw gradients under the values; by default only once some node
    has a non-zero gradient (that is, after ``backward``).  Numbers are printed with
    ``precision`` significant digits (220.00000000000003 shows as 220).
    ``fold_constants``: an unlabelled leaf used once (a plain number in the
    expression, like the 2 of ``x * 2``) is written inside its op's circle, as
    the book draws "×2" or "+1"; give a leaf a label to draw it as an input.
    """
    order = root.topological_order()
    if show_grad is None:
        show_grad = any(node.grad != 0.0 for node in order)
    folded = _constants(order) if fold_constants else set()
    ids = {id(node): f"n{i}" for i, node in enumerate(order)}
    lines = ["digraph computational_graph {",
             f"  rankdir={rankdir};",
             '  node [fontname="Helvetica"]; edge [fontname="Helvetica", fontsize=11];']
    for node in order:
        nid = ids[id(node)]
        if node.parents:
            symbol = _dot_string(op_symbol(node, folded, precision))
            lines.append(f'  {nid} [shape=circle, label="{symbol}"];')
        elif id(node) not in folded:
            label = _dot_string(_name(node, precision))
            lines.append(f'  {nid} [shape=plaintext, label="{label}"];')
    for node in order:
        for parent in node.parents:
            if id(parent) not in folded:
                lines.append(f"  {ids[id(parent)]} -> {ids[id(node)]} "
                             f"[label={_edge_label(parent, show_grad, precision)}];")
    if root.parents:
        # The output leaves the last op on an arrow of its own, as in the book.
        out_label = _dot_string(_label(root) or "out")
        lines.append(f'  output [shape=plaintext, label="{out_label}"];')
        lines.append(f"  {ids[id(root)]} -> output "
                     f"[label={_edge_label(root, show_grad, precision, named=False)}];")
    lines.append("}")
    return "\n".join(lines)


def to_text(root, precision=6, max_lines=200):
    """One line per node, inputs first: ``name = op(inputs) = value   grad g``."""
    order = root.topological_order()
    names = {}
    lines = []
    for i, node in enumerate(order):
        names[id(node)] = _label(node) or f"v{i}"
        if len(lines) >= max_lines:
            continue
        value = _number(node.data, precision)
        grad = _number(node.grad, precision)
        if node.parents:
            args = ", ".join(names[id(p)] for p in node.parents)
            lines.append(f"{names[id(node)]} = {node.op}({args}) = {value}   grad {grad}")
        else:
            lines.append(f"{names[id(node)]} = {value}   grad {grad}")
    if len(order) > max_lines:
        lines.append(f"... ({len(order) - max_lines} more nodes)")
    return "\n".join(lines)


def draw(root, format="svg", **options):
    """The picture: a ``graphviz.Source`` with Graphviz, else an ``explore.Picture`` (SVG).

    Both display themselves in Jupyter and give the bytes with ``.pipe(format="svg")``.
    Without the graphviz package or the ``dot`` program the graph is laid out here
    (``autograd.layout``) and drawn as SVG; other formats need Graphviz.
    ``options`` are those of ``to_dot``.
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
    from .explore import picture
    return picture(root, **options)


def show(root, **options):
    """Look at the graph: the picture in Jupyter, else the text view.

    In a Jupyter kernel, displays the graph as SVG (through Graphviz when it is
    installed, else laid out by ``autograd.layout``); in a plain terminal prints
    ``to_text``.  Returns None, so a notebook stores the picture and nothing that
    changes from run to run.
    """
    try:
        from IPython import get_ipython
        from IPython.display import SVG, display
        in_kernel = get_ipython() is not None and hasattr(get_ipython(), "kernel")
    except ImportError:
        in_kernel = False
    if in_kernel:
        display(SVG(draw(root, **options).pipe(format="svg")))
        return None
    print(to_text(root))
    return None
