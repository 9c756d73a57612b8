"""The notebooks run from a fresh kernel, and their stored outputs come from such a run.

``test_notebook_executes`` runs each notebook top to bottom with nbclient, as a reader
would run it (kernel "python3", working directory notebooks/). The notebooks check the
book's numbers with ``assert``, so a notebook that executes shows the right numbers.
The executed copy is kept in memory and thrown away: tests never write to notebooks/.

``test_stored_notebook`` reads the committed files. They must hold the outputs of one
clean run: every code cell executed once, in order, with no errors, and the book's
numbers visible. So a notebook committed without its outputs fails.

To refresh a notebook's stored outputs after editing it, run it from a fresh kernel and
save it, e.g. ``jupyter nbconvert --to notebook --execute --inplace notebooks/NAME``
(or "Restart & Run All" and save).
"""
import os
import re
from pathlib import Path

import pytest

import nbclient
import nbformat

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = REPO_ROOT / "notebooks"

NOTEBOOKS = [
    "01_computational_graph.ipynb",
    "02_activation_layers.ipynb",
    "03_affine_softmax.ipynb",
    "04_gradient_check.ipynb",
    "05_training_mnist.ipynb",
    "06_higher_order_derivatives.ipynb",
    "07_testing_your_derivative.ipynb",
    "08_training_techniques.ipynb",
    "09_convolution.ipynb",
    "10_deep_learning.ipynb",
]

# These load MNIST through load_mnist, from $CHAINRULE_DATA/mnist (CI never downloads).
NEEDS_MNIST = {"04_gradient_check.ipynb", "05_training_mnist.ipynb",
               "08_training_techniques.ipynb", "09_convolution.ipynb", "10_deep_learning.ipynb"}

CELL_TIMEOUT = 120  # seconds per cell
MAX_STORED_BYTES = 300_000

# Numbers the book prints that each stored notebook must show, digit for digit.
BOOK_NUMBERS = {
    "01_computational_graph.ipynb": [
        "220.00000000000003", "715.0000000000001",
        "2.2", "110.00000000000001", "3.3000000000000003", "165.0", "650.0",
    ],
    # Softmax-with-Loss's y - t for the book's two cases: (0.3, -0.8, 0.5), (0.01, -0.01, 0).
    "03_affine_softmax.ipynb": ["0.3", "-0.8", "0.5", "0.01", "-0.01"],
}

# Notebooks whose printed text is pure Python float arithmetic, hence the same on every
# machine: a fresh run must print exactly what is stored.
REPRODUCIBLE_TEXT = {"01_computational_graph.ipynb"}


def _read(name):
    return nbformat.read(NOTEBOOK_DIR / name, as_version=4)


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def _printed_text(cell):
    """What a cell printed: its stream outputs (stdout and stderr), joined."""
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def _output_text(nb):
    """Every piece of text the notebook's outputs show (printed text and text/plain)."""
    parts = []
    for cell in _code_cells(nb):
        for out in cell.outputs:
            if out.output_type == "stream":
                parts.append(out.text)
            elif "data" in out:
                parts.append(out["data"].get("text/plain", ""))
    return "\n".join(parts)


def _shows_number(text, number):
    """``number`` appears as a whole number in ``text`` (2.2 is not found in 2.25 or 12.2)."""
    return re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", text) is not None


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_executes(name, monkeypatch):
    data = os.environ.get("CHAINRULE_DATA")
    if name in NEEDS_MNIST and not data:
        pytest.fail(f"{name} loads MNIST: set CHAINRULE_DATA to the directory holding mnist/, "
                    f"as README.md's test command does (CHAINRULE_DATA=../shared/data)")
    if data:
        # The kernel runs in notebooks/, so a relative path would point elsewhere.
        monkeypatch.setenv("CHAINRULE_DATA", os.path.abspath(data))
    # Plots go inline, as in Jupyter; a non-interactive MPLBACKEND (CI's Agg) would hide them.
    monkeypatch.delenv("MPLBACKEND", raising=False)
    # The kernel imports this checkout's autograd and nn, whatever an older install maps them to.
    pythonpath = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", str(REPO_ROOT) + (os.pathsep + pythonpath if pythonpath else ""))

    nb = _read(name)
    client = nbclient.NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    client.execute()  # raises CellExecutionError, naming the cell, on any error

    for cell in _code_cells(nb):
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"{name}: cell {cell.get('id')} raised {errors[0].get('ename')}"

    if name in REPRODUCIBLE_TEXT:
        stored = _code_cells(_read(name))
        for fresh_cell, stored_cell in zip(_code_cells(nb), stored):
            if any(o.output_type != "stream" for o in stored_cell.outputs):
                continue  # a drawing: SVG where Graphviz is installed, else printed text
            assert _printed_text(fresh_cell) == _printed_text(stored_cell), (
                f"{name}: cell {stored_cell.get('id')} prints something else than its stored "
                "output; re-run the notebook from a fresh kernel and save it")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_stored_notebook(name):
    path = NOTEBOOK_DIR / name
    size = path.stat().st_size
    assert size < MAX_STORED_BYTES, f"{name} is {size} bytes: make its pictures smaller"

    nb = _read(name)
    nbformat.validate(nb)
    cells = _code_cells(nb)
    counts = [c.execution_count for c in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"{name} is not stored as one clean run (execution counts {counts}): run it from a "
        "fresh kernel, top to bottom, and save it with its outputs")
    assert any(c.outputs for c in cells), f"{name} is stored without outputs"
    for cell in cells:
        for out in cell.outputs:
            assert out.output_type != "error", f"{name}: cell {cell.get('id')} stored an error"

    text = _output_text(nb)
    assert "Traceback" not in text, f"{name}: a stored output shows a traceback"
    missing = [n for n in BOOK_NUMBERS.get(name, []) if not _shows_number(text, n)]
    assert not missing, f"{name}: the stored outputs do not show the book's {missing}"
