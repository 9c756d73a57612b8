"""An optimizer update is all or nothing: every (param, grad) pair is checked first."""
import numpy as np
import pytest

from nn.training.optimizers import OPTIMIZERS


def read_only(shape):
    array = np.ones(shape)
    array.flags.writeable = False
    return array


BAD_PAIRS = {  # the second pair, (param, grad), each refused with nothing updated
    "complex grad": (np.ones(3), np.ones(3) * 1j),
    "string grad": (np.ones(3), np.array(["a", "b", "c"])),
    "object grad": (np.ones(3), np.array([1.0, object(), 2.0], dtype=object)),
    "read-only param": (read_only(3), np.ones(3)),
    "integer param": (np.ones(3, dtype=int), np.ones(3)),
    "shape mismatch": (np.ones(3), np.ones(4)),
    # a number parameter is rebound to its new value, but only a real, non-bool one
    "bool param": (True, 1.0),
    "numpy bool param": (np.bool_(True), 1.0),
    "complex param": (1j, 1.0),
    "string param": ("a", 1.0),
    "number param, array grad": (2.0, np.ones(3)),
    "number param, complex grad": (2.0, 1j),
}


@pytest.mark.parametrize("first", ["array", "number"])
@pytest.mark.parametrize("bad", sorted(BAD_PAIRS))
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_an_optimizer_updates_all_parameters_or_none(name, bad, first):
    # item 12: every pair is checked before the first parameter changes, state included;
    # the first pair is an array (changed in place) or a number (rebound in params).
    optimizer = OPTIMIZERS[name]()
    W, dW = (np.arange(6.0).reshape(2, 3), np.ones((2, 3))) if first == "array" else (-7.0, 1.0)
    params = {"W": W}
    optimizer.update(params, {"W": dW})  # a good step first: state exists
    W, W_before, step = params["W"], np.copy(params["W"]), getattr(optimizer, "iter", None)
    states = {k: v["W"].copy() for k, v in vars(optimizer).items()
              if isinstance(v, dict) and "W" in v}
    b, db = BAD_PAIRS[bad]
    params["b"] = b
    with pytest.raises((TypeError, ValueError), match=rf"{name}\.update: (params|grads)\['b'\]"):
        optimizer.update(params, {"W": dW, "b": db})
    assert params["W"] is W and params["b"] is b  # neither rebound
    np.testing.assert_array_equal(W, W_before)
    assert getattr(optimizer, "iter", None) == step  # Adam's count not advanced
    for k, saved in states.items():  # velocities, squared-gradient sums, moments
        np.testing.assert_array_equal(getattr(optimizer, k)["W"], saved)
