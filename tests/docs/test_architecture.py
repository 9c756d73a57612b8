"""The shape of the code, kept true: layers point one way, no import circle, no private name
used across files, ruff clean.

The layers contract lives in pyproject.toml ([tool.importlinter]): the commands above the
networks above the layers above ``autograd``, and ``autograd`` never imports ``nn``.
"""
import ast
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("autograd", "nn")


def _tool(name):
    path = Path(sys.executable).with_name(name)
    if not path.exists():
        path = shutil.which(name)
    assert path, f"{name} is not installed: pip install -e '.[test]'"
    return str(path)


def test_import_layers_contract():
    run = subprocess.run([_tool("lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "BROKEN" not in run.stdout and "2 kept, 0 broken" in run.stdout, run.stdout[-2000:]


def import_circles(graph, modules):
    """Pairs (a, b) where a imports b directly and b leads back to a."""
    circles = []
    for a in sorted(modules):
        for b in sorted(graph.find_modules_directly_imported_by(a)):
            # a package's __init__ re-exporting its own modules is not a circle of files
            if b in modules and not a.startswith(b + ".") and not b.startswith(a + "."):
                if graph.find_shortest_chain(importer=b, imported=a):
                    circles.append((a, b))
    return circles


def test_no_import_circle():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    modules = {m for m in graph.modules if m.split(".")[0] in PACKAGES}
    assert import_circles(graph, modules) == []


def test_the_circle_check_can_fail():
    graph = grimp.ImportGraph()
    for name in ("p", "p.a", "p.b"):
        graph.add_module(name)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.a")
    assert import_circles(graph, {"p", "p.a", "p.b"}) == [("p.a", "p.b"), ("p.b", "p.a")]


def _is_private(name):
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_names_used_across_files(source, module_names):
    """The private names a file imports from another module, or reads from an imported module
    (``mod._name``)."""
    tree = ast.parse(source)
    found, imported_modules = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            for alias in node.names:
                if _is_private(alias.name) or any(map(_is_private, (node.module or "").split("."))):
                    found.append(f"from {'.' * node.level}{node.module or ''} import {alias.name}")
                elif alias.name in module_names or node.level:
                    imported_modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                imported_modules.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and _is_private(node.attr)
                and isinstance(node.value, (ast.Name, ast.Attribute))):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in imported_modules:
                found.append(ast.unparse(node))
    return found


def project_files():
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


@pytest.mark.parametrize("path", project_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_name_across_files(path):
    module_names = {p.stem for p in project_files()} | {"np", "numpy", "optuna"}
    assert private_names_used_across_files(path.read_text(), module_names) == []


def test_the_private_name_check_can_fail():
    source = ("from .draw import _label, op_symbol\nimport numpy as np\nfrom . import explore\n"
              "explore._write_atomic(1)\nnp.core._x\nself._ok = 1\n")
    assert sorted(private_names_used_across_files(source, {"explore"})) == [
        "explore._write_atomic", "from .draw import _label", "np.core._x"]


def test_ruff_is_clean():
    run = subprocess.run([_tool("ruff"), "check", "--no-cache", "autograd", "nn", "tests",
                          "benchmarks"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
