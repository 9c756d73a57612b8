"""The book's scalar layers (MulLayer, AddLayer) refuse what is not a number."""
import numpy as np
import pytest


@pytest.mark.parametrize("bad", [None, "1", b"1", True, [1.0], np.array(["a"]), 1j])
def test_the_books_scalar_layers_refuse_non_numbers(bad):
    from autograd import AddLayer, MulLayer
    mul, add = MulLayer(), AddLayer()
    with pytest.raises(TypeError, match=r"MulLayer\.forward: x: expected a number"):
        mul.forward(bad, 2.0)
    with pytest.raises(TypeError, match=r"AddLayer\.forward: y: expected a number"):
        add.forward(2.0, bad)
    mul.forward(3.0, 4.0)
    with pytest.raises(TypeError, match=r"MulLayer\.backward: dout: expected a number"):
        mul.backward(bad)
    with pytest.raises(TypeError, match=r"AddLayer\.backward: dout: expected a number"):
        add.backward(bad)
    assert mul.backward(np.float32(2.0)) == (8.0, 6.0) and add.backward(2) == (2, 2)
