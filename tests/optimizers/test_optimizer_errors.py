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
}


@pytest.mark.parametrize("bad", sorted(BAD_PAIRS))
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_an_optimizer_updates_all_parameters_or_none(name, bad):
    # item 12: every pair is checked before the first parameter changes, state included.
    optimizer = OPTIMIZERS[name]()
    W = np.arange(6.0).reshape(2, 3)
    optimizer.update({"W": W}, {"W": np.ones((2, 3))})  # a good step first: state exists
    W_before, step = W.copy(), getattr(optimizer, "iter", None)
    states = {k: v["W"].copy() for k, v in vars(optimizer).items()
              if isinstance(v, dict) and "W" in v}
    b, db = BAD_PAIRS[bad]
    with pytest.raises((TypeError, ValueError), match=rf"{name}\.update: (params|grads)\['b'\]"):
        optimizer.update({"W": W, "b": b}, {"W": np.ones((2, 3)), "b": db})
    np.testing.assert_array_equal(W, W_before)
    assert getattr(optimizer, "iter", None) == step  # Adam's count not advanced
    for k, saved in states.items():  # velocities, squared-gradient sums, moments
        np.testing.assert_array_equal(getattr(optimizer, k)["W"], saved)
