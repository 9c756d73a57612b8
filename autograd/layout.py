"""A layered (Sugiyama-style) layout of a DAG, left to right, without Graphviz: 1. columns
by the longest path to the output; 2. a bend point in each column an edge crosses, or for an
edge longer than ``SPAN`` columns a lane above the drawing (bend points in every column would
make an input used at every depth cost quadratic space); 3. crossing reduction by barycenter
sweeps, keeping the order with the fewest crossings; 4. rows: each node pulled towards its
neighbours' mean height, keeping order and gaps.  Each step is linear in nodes + bend points
(plus a sort per column): grandalf is too slow for thousands of nodes, networkx has step 1.
"""
import bisect
import collections
import itertools

SWEEPS = 12  # crossing-reduction sweeps (alternating directions); the best order is kept
SPAN = 3     # columns up to which an edge bends through every column it crosses
LANE = 30.0  # px above the nodes where the longer edges run


def layered_layout(sizes, edges, col_gap=90.0, row_gap=26.0, margin=12.0):
    """Positions for a DAG drawn left to right.

    ``sizes``: (width, height) of each node 0..n-1.  ``edges``: (src, dst) pairs of a DAG
    (duplicates allowed).  ``col_gap``, ``row_gap``: room between columns (for edge labels)
    and between two nodes of a column.  Returns ``(centres, routes, (width, height))``: the
    (x, y) centre of each node, and per edge its points from the source's centre through
    its bend points to the target's centre.  A cycle raises ValueError.
    """
    n = len(sizes)
    succ = [[] for _ in range(n)]
    for s, d in edges:
        succ[s].append(d)

    # 1. columns, counted from the right (the sinks) by the longest path to a sink.
    order = _topological(succ, collections.Counter(d for _, d in edges))
    depth = [0] * n
    for v in reversed(order):
        depth[v] = 1 + max((depth[w] for w in succ[v]), default=-1)
    last = max(depth, default=0)
    column = [last - d for d in depth]

    # 2. bend points: node ids n, n+1, ... each in its own column; a chain of ids per edge.
    col_of, height = list(column), [h for _, h in sizes]
    # Per node: its neighbours in the column before and after, the other ends of its long edges.
    before, after, far = (collections.defaultdict(list) for _ in range(3))
    chains = []
    for s, d in edges:
        if column[d] - column[s] > SPAN:  # a long edge: no bend points, it runs in the lane
            far[s].append(d)
            far[d].append(s)
            chains.append([s, d])
            continue
        chain = [s, *range(len(col_of), len(col_of) + column[d] - column[s] - 1), d]
        col_of += range(column[s] + 1, column[d])
        height += [0.0] * (len(chain) - 2)
        for a, b in zip(chain, chain[1:]):
            after[a].append(b)
            before[b].append(a)
        chains.append(chain)
    long = bool(far)

    # 3. crossing reduction, from the topological order; a bend point starts beside the
    # node its edge comes from.
    rank = {v: i for i, v in enumerate(order)}
    rank.update((v, rank[chain[0]]) for chain in chains for v in chain[1:-1])
    columns = [[] for _ in range(last + 1)]
    for v in sorted(range(len(col_of)), key=lambda v: (rank[v], v)):
        columns[col_of[v]].append(v)
    pos = {v: i for col in columns for i, v in enumerate(col)}
    best, fewest = [list(col) for col in columns], _crossings(columns, pos, after)
    for sweep in range(SWEEPS):
        if fewest == 0:
            break
        left_to_right = sweep % 2 == 1
        key = before if left_to_right else after
        for c in range(1, last + 1) if left_to_right else range(last - 1, -1, -1):
            col = columns[c]
            bary = {v: _mean([pos[u] for u in key[v]], pos[v]) for v in col}
            col.sort(key=bary.__getitem__)  # stable: ties keep their order
            pos.update((v, i) for i, v in enumerate(col))
        crossings = _crossings(columns, pos, after)
        if crossings < fewest:
            best, fewest = [list(col) for col in columns], crossings

    # 4. rows: start packed, then pull each node towards its neighbours' mean height.
    y = [0.0] * len(col_of)
    for col in best:
        _pack(col, y, height, row_gap, [y[v] for v in col])
    for it in range(6):
        for col in best if it % 2 == 0 else reversed(best):
            _pack(col, y, height, row_gap,
                  [_mean([y[u] for u in before[v] + after[v] + far[v]], y[v]) for v in col])
    top = min((y[v] - height[v] / 2 for v in range(len(col_of))), default=0.0)

    # x: each column as wide as its widest node.
    widths = [0.0] * (last + 1)
    for v in range(n):
        widths[column[v]] = max(widths[column[v]], sizes[v][0])
    starts = list(itertools.accumulate((w + col_gap for w in widths), initial=margin))
    x = [start + w / 2 for start, w in zip(starts, widths)]
    # A long edge runs in the lane above the drawing: up from its source, along the top,
    # and down into its target, crossing no node on the way.
    xy = [(x[col_of[v]], y[v] - top + margin + (LANE if long else 0.0)) for v in range(len(col_of))]
    routes = []
    for chain in chains:
        s, d = chain[0], chain[-1]
        points = [xy[v] for v in chain]
        if column[d] - column[s] > SPAN:
            points[1:1] = [((xy[s][0] + x[column[s] + 1]) / 2, margin + 4),
                           ((x[column[d] - 1] + xy[d][0]) / 2, margin + 4)]
        routes.append(points)
    total_h = max((xy[v][1] + height[v] / 2 for v in range(len(col_of))), default=0.0) + margin
    return xy[:n], routes, (starts[-1] - col_gap + margin, total_h)


def _mean(values, default):
    return sum(values) / len(values) if values else default


def _crossings(columns, pos, after):
    """How many pairs of edges cross between neighbouring columns (counted by merging)."""
    return sum(_inversions([pos[w] for v in col for w in sorted(after[v], key=pos.__getitem__)])
               for col in columns)


def _inversions(a):
    """Pairs i < j with a[i] > a[j]: O(n log n) comparisons (insort moves memory in C)."""
    seen, count = [], 0
    for x in reversed(a):
        count += bisect.bisect_left(seen, x)
        bisect.insort(seen, x)
    return count


def _topological(succ, missing):
    """Kahn's algorithm (``missing``: each node's count of inputs), taking the most recently
    readied node first (depth first), so a chain of nodes stays together in the order."""
    ready = [v for v in reversed(range(len(succ))) if missing[v] == 0]
    order = []
    while ready:
        v = ready.pop()
        order.append(v)
        for w in reversed(succ[v]):
            missing[w] -= 1
            if missing[w] == 0:
                ready.append(w)
    if len(order) != len(succ):
        raise ValueError("layered_layout: the edges form a cycle; a computational graph never does")
    return order


def _pack(col, y, height, gap, want):
    """Set y for the nodes of one column (top to bottom) as close to ``want`` as the
    order and gaps allow: pushed down from the top, then up from the bottom, then the
    block is centred on the wanted heights."""
    if not col:
        return
    sep = [(height[a] + height[b]) / 2 + gap for a, b in zip(col, col[1:])]
    ys = list(want)
    for i in range(1, len(col)):
        ys[i] = max(ys[i], ys[i - 1] + sep[i - 1])
    for i in range(len(col) - 2, -1, -1):
        ys[i] = min(ys[i], ys[i + 1] - sep[i])
    for i in range(1, len(col)):
        ys[i] = max(ys[i], ys[i - 1] + sep[i - 1])
    shift = sum(w - v for w, v in zip(want, ys)) / len(col)
    for v, yv in zip(col, ys):
        y[v] = yv + shift
