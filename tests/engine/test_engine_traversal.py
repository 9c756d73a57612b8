"""The scalar engine's traversal: orders, leaves, no recursion, and backprop on random DAGs."""
import pytest
import ast
import gc
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import autograd
from autograd import Value, no_grad
from autograd.testing import check_grads

# A random program: each step applies an op to earlier values (any of them, so the
# graph has shared subexpressions and diamonds), starting from three inputs.  Every
# op keeps values of the inputs' size, and ReLU is used away from its kink at 0 on
# both sides; check_grads leaves out a point where a kink is near anyway.
UNARY = [lambda a: a.tanh(), lambda a: (a * 0.5).sigmoid(), lambda a: (a * a + 1.0).log(),
         lambda a: (a.tanh() * 0.3).exp(), lambda a: -a,
         lambda a: (a.tanh() * a.tanh() + 0.1).relu() + (-(a * a) - 0.1).relu()]
BINARY = [lambda a, b: (a + b) * 0.5, lambda a, b: (a - b) * 0.5, lambda a, b: a.tanh() * b,
          lambda a, b: a / (b * b + 1.0), lambda a, b: (a.tanh() ** 2 + 1.0) ** b.tanh()]

steps = st.lists(st.tuples(st.booleans(), st.integers(0, 10), st.integers(0, 10 ** 6),
                           st.integers(0, 10 ** 6)), min_size=1, max_size=25)


def run(program, inputs):
    pool = list(inputs)
    for binary, k, i, j in program:
        a, b = pool[i % len(pool)], pool[j % len(pool)]
        pool.append(BINARY[k % len(BINARY)](a, b) if binary else UNARY[k % len(UNARY)](a))
    out = pool[-1]
    for v in pool[-4:-1]:  # tie in a few more so the output depends on most of the graph
        out = out + v * 0.5
    return out


def positions(order):
    return {id(node): i for i, node in enumerate(order)}


@given(program=steps, xs=st.tuples(*[st.floats(-2.0, 2.0)] * 3))
def test_topological_order_puts_parents_first(program, xs):
    out = run(program, [Value(x) for x in xs])
    full, ops = out.topological_order(), out.topological_order(leaves=False)
    assert full[-1] is out and len({id(n) for n in full}) == len(full)
    assert [n for n in full if n.op] == ops and all(n.op for n in ops)
    where = positions(full)
    assert all(where[id(p)] < where[id(n)] for n in full for p in n.parents)


@given(program=steps, xs=st.tuples(*[st.floats(-2.0, 2.0)] * 3))
def test_backward_on_random_dags_matches_central_differences(program, xs):
    check_grads(lambda a, b, c: run(program, (a, b, c)), *xs, directions=2)


def test_parents_view():
    x, y = Value(1.0), Value(2.0)
    assert x.parents == ()
    assert (x * y).parents == (x, y)
    assert x.tanh().parents == (x,)
    z = x ** 3
    assert z.parents[0] is x and z.parents[1].data == 3.0
    with no_grad():
        assert (x * y).parents == () and (x * y).op == ""


def test_backward_on_a_leaf_and_leaf_only_orders():
    x = Value(2.0)
    assert x.topological_order() == [x] and x.topological_order(leaves=False) == []
    x.backward(3)
    assert x.grad == 3.0


@pytest.mark.slow
def test_long_chain_under_a_tiny_recursion_limit():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        x = Value(0.5)
        y = x
        for _ in range(100_000):
            y = (y * 1.0).tanh() + 0.0
        y.backward()
        y.zero_grad()
        assert len(y.topological_order()) == 1 + 5 * 100_000
        del y  # freeing the chain must not recurse either
    finally:
        sys.setrecursionlimit(limit)
    assert x.grad == 0.0


def test_no_cycles_after_backward_on_a_dag():
    gc.collect()
    gc.disable()
    try:
        a, b = Value(0.3), Value(-1.2)
        shared = a * b
        out = (shared + shared.tanh() * a) * shared
        out.backward()
        del a, b, shared, out
        assert gc.collect() == 0
    finally:
        gc.enable()


def imports(path):
    """(module, names) of every import statement in ``path``, top level or inside a function."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            yield "." * node.level + (node.module or ""), [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            yield from ((a.name, []) for a in node.names)


def test_the_op_table_knows_no_engine_and_no_private_name_crosses_files():
    # Dependencies point one way: the engine imports the op table, never the reverse (not
    # even inside a function), and the core's files import no private name of another.
    folder = Path(autograd.__file__).parent
    assert not [m for m, _ in imports(folder / "ops.py") if "engine" in m]
    core = ("engine.py", "ops.py", "layers.py", "__init__.py", "clash.py")
    private = [(file, m, name) for file in core for m, names in imports(folder / file)
               for name in names if name.startswith("_") and not name.startswith("__")]
    assert private == []
