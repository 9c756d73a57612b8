"""Shared fixtures: MNIST for the tests that train (skipped when CHAINRULE_DATA is unset)."""
import os

import pytest


@pytest.fixture(scope="session")
def mnist_data():
    """``mnist_data(**load_mnist_kwargs)``: load_mnist, cached for the session.

    The arrays are shared between tests: do not modify them.
    """
    if not os.environ.get("CHAINRULE_DATA"):
        pytest.skip("CHAINRULE_DATA is unset, so no MNIST; run with CHAINRULE_DATA=../shared/data")
    from nn import load_mnist

    cache = {}

    def load(**kwargs):
        key = tuple(sorted(kwargs.items(), key=lambda item: item[0]))
        if key not in cache:
            cache[key] = load_mnist(**kwargs)
        return cache[key]

    return load
