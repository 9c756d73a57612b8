"""Watch back-propagation happen: a step-by-step explorer of a Value graph (docs/explorer.md).

``y.explore()`` (a Jupyter widget) and ``y.to_html(path)`` (one offline HTML file) walk the
book's drawing forward (順伝播), then backward (逆伝播) by the chain rule (連鎖律), upstream ×
local = passed.  Every number comes from Python (``backward_trace``: the op table's rules);
the page only shows them.  ``picture`` is ``draw()`` without Graphviz.
"""
import collections
import copy
import functools
import graphlib
import html
import json
import math
from pathlib import Path

from . import files
from .layout import layered_layout

_HERE = Path(__file__).resolve().parent
FONT = 13        # px, op symbols and input names
EDGE_FONT = 11   # px, numbers on the arrows
MAX_TEXT = 24    # characters of a label drawn in the picture (the detail text has them whole)


# -- one name per node, and numbers for people: shared by every view (draw.py too) --------

def label_text(node):
    """The node's label as text ('' for none): any object via str(), a lone surrogate
    (which no file can hold as UTF-8) as its escape, e.g. ``\\udcff``."""
    if node.label is None:
        return ""
    return str(node.label).encode("utf-8", "backslashreplace").decode("utf-8")


def number(x, precision=6):
    """``x`` with ``precision`` significant digits: 220.00000000000003 -> '220'; never '-0'."""
    return f"{x + 0.0:.{precision}g}"


def exact(x):
    """``x`` to the last bit (repr), for the chain rule's text; -0.0 shows as 0.0."""
    return repr(x + 0.0)


def folded_constants(order):
    """Ids of the leaves drawn inside their op's circle: unlabelled, used exactly once."""
    uses = collections.Counter(id(p) for node in order for p in node.parents)
    folded = set()
    for node in order:
        # At most one operand per op (the second first), so the circle keeps an input arrow.
        for const in node.parents[1::-1] if len(node.parents) >= 2 else ():
            if not const.parents and not label_text(const) and uses[id(const)] == 1:
                folded.add(id(const))
                break
    return folded


def op_symbol(node, folded, precision=6):
    """What the op's circle shows (plain text): its symbol with a folded constant (ids in
    ``folded``): "×2", "+1", "1÷", and "−(-1)" for a negative one after + or −."""
    symbol = node.row.symbol
    const = next((p for p in node.parents[1::-1] if id(p) in folded), None)
    if const is None or len(node.parents) < 2:
        return symbol
    text = number(const.data, precision)
    if text.startswith("-") and symbol in "+−":
        text = f"({text})"
    # 1 + x reads as "+1" like the book; order matters only for 1 / x ("1÷") and 3 - x.
    return f"{symbol}{text}" if const is node.parents[1] or node.row.commutes else f"{text}{symbol}"


def _formula(symbol, args, negative=True):
    """'a × b' or 'exp(a)'; a binary op's input in brackets when it has a space, or when it
    starts with a minus and ``negative``: 'exp(x + y)', '(x + y) × (-1)'."""
    if len(args) != 2:
        return f"{symbol}({args[0]})"
    a, b = (f"({x})" if " " in x or (negative and x.startswith("-")) else x for x in args)
    return f"{a} {symbol} {b}"


def node_names(order, folded=frozenset(), precision=6, expressions=True):
    """{id(node): name} for ``order``, the same in the steps and the drawing: the label, else
    for a result the expression that made it (``apple × apple_num``) when ``expressions`` and
    at most ``MAX_TEXT`` characters, for a constant or folded leaf its number, else ``v<i>``
    (i: its place in ``order``)."""
    names = {}
    for i, node in enumerate(order):
        name = label_text(node)
        if not name and (id(node) in folded or node.is_constant):
            name = number(node.data, precision)
        elif not name and node.parents and expressions:
            name = _formula(node.row.symbol, [names[id(p)] for p in node.parents])
            name = name if len(name) <= MAX_TEXT else ""
        names[id(node)] = name or f"v{i}"
    return names


def expression(node, names):
    """'apple × apple_num' and '100.0 × 2.0' for the forward detail text."""
    args = [names[id(p)] for p in node.parents]
    nums = [exact(p.data) for p in node.parents]
    return _formula(node.row.symbol, args, negative=False), _formula(node.row.symbol, nums)


def _d(name):
    """The name after a 'd' of dL/d...: bracketed when it is an expression."""
    return f"({name})" if " " in name else name


def _short(text, limit=MAX_TEXT):
    text = str(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _finite(x):
    """A number for the page's JSON: -0.0 as 0.0; inf and nan, which JSON lacks, as text."""
    x += 0.0
    return x if math.isfinite(x) else str(x)


def backward_trace(root, seed=None):
    """Back-propagation of ``root`` replayed by the op table's rules, called as ``Value.backward``
    calls them (its numbers to the last bit), touching no ``grad``.  ``seed``: dL/d(root), by
    default ``root.grad`` once ``backward`` has run, else 1.0.  Returns ``(seed, grads,
    passes)``: ``grads`` {id(node): gradient}; ``passes`` per op node in backward's order
    ``(node, g, [(parent, local, passed, before), ...])``: the local derivative, the gradient
    sent, what the parent had before (None at first).
    """
    seed = (float(root.grad) or 1.0) if seed is None else seed
    grads = {id(root): float(seed)}
    passes = []
    for node in reversed(root.topological_order(leaves=False)):
        g = grads[id(node)]
        inputs = [p.data for p in node.parents]
        rows = []
        for parent, rule in zip(node.parents, node.row.backward):
            if parent.is_constant:
                continue  # a constant: back-propagation passes it nothing
            passed = rule(g, node.data, *inputs)
            before = grads.get(id(parent))
            # Starting from 0.0 as backward does (0.0 + -0.0 is 0.0).
            grads[id(parent)] = (0.0 if before is None else before) + passed
            rows.append((parent, rule(1.0, node.data, *inputs), passed, before))
        passes.append((node, g, rows))
    return seed, grads, passes


# -- collapsing big graphs into groups ---------------------------------------------------

def group_of(order, collapse):
    """{id(node): group name} of the nodes drawn as one box per group.

    ``collapse``: an int d keeps the ops fewer than d ops from the output (the longest
    path) and their inputs, the rest in one box; a str or list of str are label prefixes;
    a function of the label gives the group name or None.  An unlabelled op joins its
    first input's group, so a neuron (w * x + b, then relu) follows its labelled weights.
    """
    if isinstance(collapse, bool) or not (isinstance(collapse, (int, str, list, tuple))
                                          or callable(collapse)):
        raise TypeError("collapse must be a depth (int), label prefixes (str or list of str) or "
                        f"a function of the label, got {type(collapse).__name__}: {collapse!r:.60}")
    if isinstance(collapse, int):
        if collapse < 0:
            raise ValueError(f"collapse depth must be >= 0, got {collapse}")
        depth, kept = _depths(order), set()  # kept drawn: the near ops and their inputs
        for node in order:
            if node.parents and depth[id(node)] < collapse:
                kept.update([id(node)] + [id(p) for p in node.parents if not p.parents])
        return {id(n): f"farther than {collapse} ops from the output" for n in order
                if id(n) not in kept}
    if not callable(collapse):
        prefixes = sorted(map(str, [collapse] if isinstance(collapse, str) else collapse),
                          key=len, reverse=True)
        collapse = lambda t: next((p for p in prefixes if t.startswith(p)), None)  # noqa: E731
    groups = {}
    for node in order:
        label = label_text(node)
        first = node.parents[0] if node.parents else None  # an unlabelled op follows it
        group = collapse(label) if label else groups.get(id(first))
        if group is not None:
            groups[id(node)] = str(group)
    return groups


def _depths(order):
    """{id(node): the longest path in ops from the node to the output}."""
    depth = {}
    for node in reversed(order):
        d = depth.setdefault(id(node), 0)
        for p in node.parents:
            depth[id(p)] = max(depth.get(id(p), 0), d + 1)
    return depth


MAX_GROUPS = 30  # boxes a graph opens collapsed into, at most


def auto_groups(view, order):
    """{id(node): group name} for a big graph (the output's op in none): labels cut at
    ``.[/_`` (``L0.n3.w1``: ``L0``, ``L0.n3``) into 2 to ``MAX_GROUPS`` groups holding nearly
    every node and feeding each other in no circle, the finest cut kept; else bands of depth."""
    labels = {label_text(n) for n in order} - {""}
    for level in (3, 2, 1):
        def cut(label, level=level):
            ends = [i for i, c in enumerate(label) if c in ".[/_"][:level]
            return label[:ends[-1]] if len(ends) == level else label
        groups = group_of(order, cut)
        groups.pop(id(order[-1]), None)
        if (2 <= len({cut(label) for label in labels}) <= MAX_GROUPS
                and len(groups) >= 0.9 * len(order) and _acyclic(grouped(view, groups, ""))):
            return groups
    depth = _depths(order)
    band = max(1, -(-(max(depth.values()) + 1) // MAX_GROUPS))
    return {i: f"{d // band * band}-{d // band * band + band - 1} ops from the output"
            for i, d in depth.items() if i != id(order[-1])}


def _acyclic(view):
    order = graphlib.TopologicalSorter()
    for e in view["edges"]:
        order.add(e["dst"], e["src"])
    try:
        order.prepare()
    except graphlib.CycleError:
        return False
    return True


# -- the views: what the page shows -------------------------------------------------------

def value_view(root, *, precision=6, fold_constants=True, collapse=None, seed=None,
               name="graph"):
    """What the page shows of ``root``'s graph: ``nodes`` [{kind, text}], ``edges`` [{src,
    dst, name, value, grad, fw, bw}] (numbers shown from step fw, gradient from step bw),
    ``steps`` [{phase, text}], ``at`` (the node of each step).  ``collapse``: see ``group_of``.
    The steps: the inputs, each op forward, the seed, each op backward, the gradients.
    """
    order = root.topological_order()
    folded = folded_constants(order) if fold_constants else set()
    names = node_names(order, folded, precision)
    seed, grads, passes = backward_trace(root, seed)
    me = names[id(root)]
    # Drawn nodes, then the output; ``members``: the node each stands for.
    drawn = [n for n in order if id(n) not in folded]
    vid = {id(n): i for i, n in enumerate(drawn)}
    nodes = [{"kind": "op", "text": op_symbol(n, folded, precision)} if n.parents else
             {"kind": "input", "text": _short(names[id(n)])} for n in drawn]
    members = [id(n) for n in drawn]
    out = None
    if root.parents:
        out = len(nodes)
        members.append(None)
        nodes.append({"kind": "output", "text": _short(me)})

    leaves = [n for n in drawn if not n.parents]
    steps = [{"phase": "forward", "node": None, "text": "\n".join(
        ["forward: the inputs"]
        + [f"  {names[id(n)]} = {exact(n.data)}" for n in leaves]
        + ["", f"backward() has run: the gradients below are the ones it computed (dL/d{_d(me)}"
           f" = {exact(seed)})." if float(root.grad) != 0.0 else
           "backward() has not run yet: gradients show as ? until the steps below "
           f"compute them, starting from dL/d{_d(me)} = {exact(seed)}."])}]
    ops = [n for n in order if n.parents]
    fw_step = {id(n): k for k, n in enumerate(ops, 1)}  # the inputs': 0
    for k, node in enumerate(ops, 1):
        expr, nums = expression(node, names)
        head = f"{names[id(node)]} = {expr}" if names[id(node)] != expr else expr
        steps.append({"phase": "forward", "node": vid[id(node)], "text":
                      f"forward {k} of {len(ops)}: {head}\n  = {nums}\n  = {exact(node.data)}"})
    bw_step, sent = {}, {}  # per arrow (parent, node): its step, the gradient it carried
    if root.parents:
        steps.append({"phase": "backward", "node": out, "text":
                      f"backward starts at the output: dL/d{_d(me)} = {exact(seed)}"
                      + ("" if seed != 1.0 else f"  (d{_d(me)}/d{_d(me)} = 1)")})
    for k, (node, g, rows) in enumerate(passes, 1):
        it = names[id(node)]
        lines = [f"backward {k} of {len(passes)}: the {node.row.symbol} node "
                 f"that made {it}", f"  upstream gradient dL/d{_d(it)} = {exact(g)}"]
        for parent, local, passed, before in rows:
            pn = names[id(parent)]
            lines.append(f"  to {pn}: {exact(g)} × {exact(local)} (local d{_d(it)}/d{_d(pn)}) "
                         f"= {exact(passed)}")
            if before is not None:
                lines.append(f"     {pn} is used more than once: its gradients add up, "
                             f"{exact(before)} + {exact(passed)} = {exact(before + passed)}")
            bw_step[id(parent), id(node)] = len(steps)
            sent[id(parent), id(node)] = sent.get((id(parent), id(node)), 0.0) + passed
        lines += [f"  ({exact(p.data)} is a plain number of the expression: it gets no gradient)"
                  for p in node.parents if p.is_constant]
        steps.append({"phase": "backward", "node": vid[id(node)], "text": "\n".join(lines)})
    if root.parents:
        steps.append({"phase": "backward", "node": None, "text": "\n".join(
            [f"done: the gradients of {me} with respect to the inputs"]
            + [f"  dL/d{_d(names[id(n)])} = {exact(grads[id(n)])}" for n in leaves
               if id(n) in grads] + [f"({me} = {exact(root.data)})"])})

    edges = []  # parent -> node, one for x * x
    for node in ops:
        for parent in {id(p): p for p in node.parents}.values():
            key = (id(parent), id(node))  # a constant's arrow carries no gradient
            if id(parent) not in folded:  # a result's arrow names it, like the book's t
                edges.append({"src": vid[id(parent)], "dst": vid[id(node)],
                              "name": _short(names[id(parent)]) if parent.parents else "",
                              "value": _finite(parent.data),
                              "grad": _finite(sent[key]) if key in sent else "",
                              "fw": fw_step.get(id(parent), 0), "bw": bw_step.get(key)})
    if out is not None:  # the output's arrow carries the seed back from the seed's step
        edges.append({"src": vid[id(root)], "dst": out, "name": "", "value": _finite(root.data),
                      "grad": _finite(seed), "fw": fw_step[id(root)], "bw": len(ops) + 1})
    at = [step.pop("node") for step in steps]
    view = {"name": name, "nodes": nodes, "edges": edges, "steps": steps, "at": at,
            "precision": precision, "output": me, "members": members}
    return view if collapse is None else grouped(view, group_of(order, collapse), name)


def grouped(view, groups, name):
    """``view`` with each group of ``groups`` ({id(node): name}) drawn as one box: the
    arrows inside it left out, several between two boxes one without numbers; same steps."""
    nodes, new, boxes = [], [], {}
    for n, member in zip(view["nodes"], view["members"]):
        group = groups.get(member)
        if group is None:
            new.append(len(nodes))
            nodes.append(n)
            continue
        if group not in boxes:
            boxes[group] = len(nodes)
            nodes.append({"kind": "group", "text": group, "count": 0})
        new.append(boxes[group])
        nodes[boxes[group]]["count"] += 1
    nodes = [dict(n, text=_short(f"{n['text']} ({n['count']} nodes)", 2 * MAX_TEXT))
             if n["kind"] == "group" else n for n in nodes]
    edges, pairs = [], {}
    for e in view["edges"]:
        a, b = new[e["src"]], new[e["dst"]]
        if a == b:
            continue
        if (a, b) in pairs:  # several arrows between two boxes: one arrow, no numbers
            edges[pairs[a, b]].update(name="", value="", grad="", bw=None)
            continue
        pairs[a, b] = len(edges)
        edges.append(dict(e, src=a, dst=b, name="" if nodes[a]["kind"] == "group" else e["name"]))
    at = [None if n is None else new[n] for n in view["at"]]
    return dict(view, name=name, nodes=nodes, edges=edges, at=at,
                members=[None] * len(nodes), box_of=boxes)


# -- drawing: layout and SVG --------------------------------------------------------

def _text_width(text, size):
    # Wide enough for digits and Latin letters in Helvetica; CJK counts double.
    return sum(1.2 if ord(c) > 0x2e80 else 0.62 for c in str(text)) * size


def _node_size(node):
    width = _text_width(node["text"], FONT)
    if node["kind"] == "op":
        return max(34.0, width + 14), 34.0
    return (width + 18, 28.0) if node["kind"] == "group" else (width + 4, 18.0)


def _boundary(centre, size, towards):
    """The point where the line from a node's centre towards ``towards`` leaves its ellipse."""
    (cx, cy), (w, h), (px, py) = centre, size, towards
    dx, dy = px - cx, py - cy
    if dx == 0 and dy == 0:
        return cx, cy
    t = 1 / math.hypot(dx / (w / 2 + 2), dy / (h / 2 + 2))
    return cx + dx * t, cy + dy * t


def edge_texts(edge, precision):
    """The arrow's two texts, its value (with the result's name: 't = 5') and its gradient."""
    value, grad = (number(x, precision) if isinstance(x, (int, float)) else str(x)
                   for x in (edge["value"], edge["grad"]))
    return (f"{edge['name']} = {value}" if edge.get("name") else value), grad


LABEL_SPOTS = (0.38, 0.5, 0.28, 0.62, 0.2, 0.72, 0.12, 0.82)  # where on an arrow its numbers go
CELL = 64  # px, the grid that finds what a label would overlap


def _place_labels(routes, texts, boxes):
    """For each arrow, the centre of its numbers' box, or None where each spot would overlap
    a node or other numbers (shown on hover then): greedy, on a grid of ``CELL`` px."""
    grid = collections.defaultdict(list)

    def cells(b):
        return [(i, j) for i in range(int(b[0] // CELL), int(b[2] // CELL) + 1)
                for j in range(int(b[1] // CELL), int(b[3] // CELL) + 1)]

    def claim(b, force=False):
        """Take box ``b`` unless it overlaps one taken (or ``force``); say whether taken."""
        if not force and not all(b[2] <= o[0] or o[2] <= b[0] or b[3] <= o[1] or o[3] <= b[1]
                                 for c in cells(b) for o in grid[c]):
            return False
        for c in cells(b):
            grid[c].append(b)
        return True

    for b in boxes:
        claim(b, force=True)
    spots = []
    for (value, grad), route in zip(texts, routes):
        w = max(_text_width(value, EDGE_FONT), _text_width(grad, EDGE_FONT)) / 2 + 2
        found = next((b for b in _label_boxes(route, w) if claim(b)), None)
        spots.append(found and ((found[0] + found[2]) / 2, found[1] + 14))
    return spots


def _label_boxes(route, w):
    """Where an arrow's numbers may go, best first: along it (on a long one, near the op
    that uses it), on the line, else just above or below it."""
    for (x0, y0), (x1, y1) in zip(route, route[1:]):
        length = math.hypot(x1 - x0, y1 - y0)
        for t in LABEL_SPOTS if length < 240 else [1 - d / length for d in (70, 100, 130, 160)]:
            for dy in (0, -24, 24):
                x, y = x0 + t * (x1 - x0), y0 + t * (y1 - y0) + dy
                yield (x - w, y - 14, x + w, y + 16)


def _svg(view, show_values=True, show_grads=True):
    """``(svg, boxes)``: the view as SVG, every arrow's numbers in text elements the page
    updates, and the [x, y, w, h] (centre, size) of each node."""
    nodes, edges = view["nodes"], view["edges"]
    if not _acyclic(view):  # only collapsing makes a circle
        boxes = ", ".join(n["text"] for n in nodes if n["kind"] == "group")
        raise ValueError(f"collapse: the boxes {boxes} feed each other in a circle, so they cannot "
                         "be drawn left to right; choose groups that follow the graph's order "
                         "(e.g. one prefix per layer)")
    texts = [edge_texts(e, view.get("precision", 6)) for e in edges]
    sizes = [_node_size(n) for n in nodes]
    ends = [(e["src"], e["dst"]) for e in edges]
    longest = max((_text_width(t, EDGE_FONT) for pair in texts for t in pair), default=0.0)
    # Numbers that find no room: laid out again with more room between rows (small graphs).
    for row_gap in (42.0, 70.0, 110.0) if len(nodes) <= BIG else (42.0,):
        centres, routes, (width, height) = layered_layout(
            sizes, ends, col_gap=min(max(60.0, longest + 40), 260.0), row_gap=row_gap, margin=16.0)
        paths = [[_boundary(centres[a], sizes[a], r[1]), *r[1:-1],  # from border to border
                  _boundary(centres[b], sizes[b], r[-2])] for (a, b), r in zip(ends, routes)]
        spots = _place_labels(paths, texts, [(x - w / 2, y - h / 2, x + w / 2, y + h / 2)
                                             for (x, y), (w, h) in zip(centres, sizes)])
        if None not in spots:
            break
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="cr-svg" width="{width:.0f}" '
           f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
           'font-family="Helvetica, Arial, sans-serif">',
           '<defs><marker id="cr-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker>'
           '</defs>']
    for k, (pts, spot, (value, grad)) in enumerate(zip(paths, spots, texts)):
        value = html.escape(value) if show_values else ""
        grad = html.escape(grad) if show_grads else ""
        d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        out.append(f'<g class="cr-edge" data-e="{k}"><path d="{d}" fill="none" stroke="#444" '
                   'stroke-width="1.2" marker-end="url(#cr-arrow)"/>')
        if spot is None:  # no room: the numbers show on hover (and in the step's text)
            out.append(f'<title>{value}</title></g>')
            continue
        for y, cls, colour, text in ((spot[1] - 5, "val", "", value),
                                     (spot[1] + 13, "grad", ' fill="#d00000"', grad)):
            out.append(f'<text class="cr-{cls}" x="{spot[0]:.1f}" y="{y:.1f}" text-anchor="middle" '
                       f'font-size="{EDGE_FONT}"{colour}>{text}</text>')
        out.append("</g>")
    for i, (n, (cx, cy), (w, h)) in enumerate(zip(nodes, centres, sizes)):
        # An op's one-character symbol (× + ÷ σ) a little larger, as in the book's circles.
        size = FONT + 4 if n["kind"] == "op" and len(n["text"]) == 1 else FONT
        box = f'x="{cx - w / 2:.1f}" y="{cy - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}"'
        shape = {"op": f'<ellipse cx="{cx:.1f}" cy="{cy:.1f}" rx="{w / 2:.1f}" ry="{h / 2:.1f}" '
                       'fill="#ffffff" stroke="#333333" stroke-width="1.3"/>',
                 "group": f'<rect {box} rx="6" fill="#f2f2f2" stroke="#777777" '
                          'stroke-dasharray="4 3"/>',
                 }.get(n["kind"], f'<rect {box} fill="none" stroke="none"/>')
        out.append(f'<g class="cr-node cr-{n["kind"]}" data-n="{i}">{shape}<text x="{cx:.1f}" '
                   f'y="{cy:.1f}" text-anchor="middle" dominant-baseline="central" '
                   f'font-size="{size}">{html.escape(n["text"])}</text></g>')
    out.append("</svg>")
    return "".join(out), [[round(x), round(y), round(w), round(h)]
                          for (x, y), (w, h) in zip(centres, sizes)]


def _page_data(views, title):
    """What the page's script needs: per view the SVG, the node boxes, the arrows (ends,
    name, numbers, steps; the page formats the numbers), the steps."""
    data, shared = {"title": title, "views": [], "steps": []}, {}
    for v in views:
        svg, boxes = _svg(v, show_values=False, show_grads=False)
        if id(v["steps"]) not in shared:  # views of one graph share its steps' texts
            shared[id(v["steps"])] = len(data["steps"])
            data["steps"].append([{"phase": s["phase"], "text": s["text"]} for s in v["steps"]])
        data["views"].append({
            "name": v["name"], "svg": svg, "boxes": boxes, "steps": shared[id(v["steps"])],
            "at": v["at"],
            "digits": v.get("precision", 6), "groups": v.get("groups", {}),
            "edges": [[e["src"], e["dst"], e.get("name", ""), e["value"], e["grad"], e["fw"],
                       e["bw"]] for e in v["edges"]]})
    return data


# -- the three ways to look: a static picture, an HTML file, a Jupyter widget ----------

class Picture:
    """An SVG drawing, what ``draw()`` gives without Graphviz: shows itself in Jupyter;
    ``pipe(format="svg")`` gives the bytes as ``graphviz.Source.pipe`` does; ``save(path)``."""

    def __init__(self, svg):
        self.svg = svg

    def _repr_svg_(self):
        return self.svg

    def pipe(self, format="svg"):
        if format != "svg":
            raise ValueError(f"this picture is SVG only (asked for {format!r}); other formats "
                             "need Graphviz: pip install -e '.[viz]' in chainrule's folder, and "
                             "its 'dot' program (apt-get install graphviz / brew install graphviz)")
        return self.svg.encode()

    def save(self, path):
        return files.write_text(path, self.svg)


def picture(root, rankdir="LR", show_grad=None, precision=6, fold_constants=True):
    """The book-style drawing as SVG, laid out without Graphviz; options as ``to_dot``'s
    (gradients, per arrow what flowed back along it, once ``backward`` has run)."""
    if rankdir != "LR":
        raise ValueError(f"rankdir={rankdir!r}: without Graphviz graphs are drawn left to "
                         "right only (rankdir='LR'); install Graphviz for other directions")
    if show_grad is None:
        show_grad = any(n.grad != 0.0 for n in root.topological_order())
    view = value_view(root, precision=precision, fold_constants=fold_constants)
    return Picture(_svg(view, show_grads=show_grad)[0])


def _asset(name):
    return (_HERE / name).read_text(encoding="utf-8")


def html_page(views, title="computational graph"):
    """One self-contained HTML page (inline script, style and SVG; nothing fetched)."""
    # The data is JSON safe inside <script>: every < escaped (no '</script>' or '<!--' can
    # end or hide the block), and U+2028/9, which old scripts read as line ends.
    data = json.dumps(_page_data(views, title), ensure_ascii=False, separators=(",", ":"))
    data = data.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title>\n<style>\n{_asset('explore.css')}\n"
        "body{margin:12px;font-family:Helvetica,Arial,sans-serif}</style></head>\n<body>\n"
        "<div id=\"chainrule-explorer\"></div>\n"
        f"<script type=\"application/json\" id=\"chainrule-data\">{data}"
        f"</script>\n<script type=\"module\">\n{_asset('explore.js')}\n"
        "const data = JSON.parse(document.getElementById('chainrule-data').textContent);\n"
        "mount(document.getElementById('chainrule-explorer'), data, {globalKeys: true});\n"
        "</script>\n</body></html>\n")


BIG = 300       # nodes from which a graph opens collapsed into groups
BIG_DEPTH = 10  # ... and also has a view of the ops this near the output


def value_views(root, collapse=None, **options):
    """The views of one graph in the page's view menu.  With ``collapse`` (see ``group_of``),
    or for a graph of more than ``BIG`` nodes (grouped by ``auto_groups``), it opens
    collapsed, then the whole graph, then each box expanded (a click on the box opens its
    view; up to ``MAX_GROUPS`` boxes); a big graph ends with the ops nearest the output."""
    order = root.topological_order()
    whole = value_view(root, name=f"whole graph ({len(order)} nodes)", **options)
    if collapse is None and len(order) <= BIG:
        return [whole]
    groups = auto_groups(whole, order) if collapse is None else group_of(order, collapse)
    top = grouped(whole, groups, f"collapsed into {len(set(groups.values()))} groups (click one)")
    boxes = list(top["box_of"]) if len(top["box_of"]) <= MAX_GROUPS else []
    expanded = [grouped(whole, {k: g for k, g in groups.items() if g != box}, f"{box} expanded")
                for box in boxes]
    expand = {box: k for k, box in enumerate(boxes, 2)}  # its view's place: after top, whole
    for v in [top, *expanded]:
        v["groups"] = {i: expand[g] for g, i in v["box_of"].items() if g in expand}
    if collapse is not None:
        return [top, whole, *expanded]
    near = grouped(whole, group_of(order, BIG_DEPTH), "")
    near["name"] = (f"the {sum(n['kind'] == 'op' for n in near['nodes'])} ops fewer than "
                    f"{BIG_DEPTH} ops from the output, the rest in a box")
    return [top, whole, *expanded, near]


def to_html(root, path, *, title=None, **options):
    """Write the explorer of ``root``'s graph to ``path`` as one offline HTML file, whole or
    not at all, with the usual mode (0644 under umask 022); returns the path as a str.
    ``options``: ``precision``, ``fold_constants``, ``collapse``, ``seed`` (``value_view``).
    """
    views = value_views(root, **options)
    title = title or f"computational graph of {views[0]['output']}"
    return files.write_text(path, html_page(views, title))


@functools.lru_cache(maxsize=None)
def _widget_class():
    try:
        import anywidget
        import traitlets
    except ImportError:
        raise ImportError(
            "explore() in Jupyter needs anywidget: pip install -e '.[explore]' in chainrule's "
            "folder; value.to_html('graph.html') works without it") from None

    class Explorer(anywidget.AnyWidget):
        """The explorer as a Jupyter widget.  "What if": ``leaves`` are the inputs the page
        can change ([name, value] each); it sets ``edit`` to [index, new value, stamp]."""
        _esm = _asset("explore.js") + "\nexport default { render };\n"
        _css = _asset("explore.css")
        data = traitlets.Dict().tag(sync=True)
        leaves = traitlets.List().tag(sync=True)
        edit = traitlets.List().tag(sync=True)
        error = traitlets.Unicode().tag(sync=True)

        picture = ""  # the last step drawn as SVG, for viewers that cannot run widgets
        graph = None  # (a copy of the graph's output, its editable leaves, title, options)

        def __repr__(self):  # the text a notebook stores beside the widget: short
            steps = len(self.data["steps"][0]) if self.data.get("steps") else 0
            return f"<explorer: {self.data.get('title', '')}, {steps} steps>"

        def _repr_mimebundle_(self, **kwargs):
            # A stored notebook seen without a kernel or widget support (a static viewer,
            # nbconvert) shows the picture instead of the widget.
            bundle = super()._repr_mimebundle_(**kwargs)
            data = bundle[0] if isinstance(bundle, tuple) else bundle
            if self.picture and isinstance(data, dict):
                data["image/svg+xml"] = self.picture
            return bundle

        @traitlets.observe("edit")
        def _edited(self, change):
            if self.graph is not None and len(change["new"]) >= 2:
                self.what_if(*change["new"][:2])

        def what_if(self, index, value):
            """Set leaf ``index`` to ``value`` and show every number again, recomputed by the
            op table's rules on the copy (or say why not)."""
            root, leaves, title, options = self.graph
            leaf, old = leaves[index], leaves[index].data
            try:
                leaf.data = float(value)
                recompute(root)
                views = value_views(root, **options)
            except (ArithmeticError, ValueError, TypeError) as error:
                leaf.data = old
                recompute(root)
                self.error = f"{self.leaves[index][0]} = {value!r}: {error}"
                return
            self.error = ""
            self.leaves = [[name, v.data] for (name, _), v in zip(self.leaves, leaves)]
            self.data = _page_data(views, title)

    return Explorer


MAX_LEAVES = 40  # inputs the "what if" row offers (the first ones in the graph's order)


def recompute(root):
    """Every result of ``root``'s graph again from its inputs, by the op table's forward
    rules (after an input's ``data`` changed); raises ValueError for a non-finite result."""
    for node in root.topological_order(leaves=False):
        data = float(node.row.forward(*(p.data for p in node.parents)))
        if not math.isfinite(data):
            raise ValueError(f"{node.row.symbol} gives {data!r}, not a finite number")
        node.data = data


def widget(views, title="computational graph", root=None, options=None):
    """A Jupyter widget showing ``views`` (``value_view``'s), with a small graph's last step
    as a still picture; with ``root``, the graph they show, its inputs can be changed on
    the page (``Explorer.what_if``)."""
    w = _widget_class()(data=_page_data(views, title))
    if len(views[0]["nodes"]) <= BIG:
        w.picture = _svg(views[0])[0]
    if root is not None:
        options = options or {}
        root = copy.deepcopy(root)  # the user's graph is never changed
        order = root.topological_order()
        folded = folded_constants(order) if options.get("fold_constants", True) else set()
        names = node_names(order, folded)
        leaves = [n for n in order if not (n.parents or n.is_constant or id(n) in folded)]
        w.graph = (root, leaves[:MAX_LEAVES], title, options)
        w.leaves = [[names[id(n)], n.data] for n in leaves[:MAX_LEAVES]]
    return w


class Steps(list):
    """A list of step texts that prints as the texts, a blank line between two."""

    def __str__(self):
        return "\n\n".join(self)


def walkthrough(root, **options):
    """The explorer's steps as text, one str per step (forward, then backward), for a
    terminal or a stored notebook: ``print(walkthrough(y))``, ``walkthrough(y)[5:]`` (the
    backward half).  ``options`` as ``value_view``'s."""
    return Steps(step["text"] for step in value_view(root, **options)["steps"])


def explore(root, *, title=None, **options):
    """The step-by-step explorer of ``root``'s graph as a Jupyter widget; ``options`` as
    ``value_view``'s.  Its "what if" row changes an input and shows every number recomputed
    (on a copy: ``root``'s graph is left as it is)."""
    views = value_views(root, **options)
    return widget(views, title or f"computational graph of {views[0]['output']}", root, options)
