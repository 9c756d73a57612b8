"""Shared fixtures: MNIST for the tests that train (they fail, never skip, when CHAINRULE_DATA is unset)."""
import os

import pytest

NO_DATA = ("CHAINRULE_DATA is unset, so there is no MNIST to test with; run the tests with the "
           "command README.md gives: CHAINRULE_DATA=../shared/data .venv/bin/python -m pytest")


@pytest.fixture(scope="session")
def mnist_data():
    """``mnist_data(**load_mnist_kwargs)``: load_mnist, cached for the session.

    The arrays are shared between tests: do not modify them.
    """
    if not os.environ.get("CHAINRULE_DATA"):
        pytest.fail(NO_DATA)
    from nn import load_mnist

    cache = {}

    def load(**kwargs):
        key = tuple(sorted(kwargs.items(), key=lambda item: item[0]))
        if key not in cache:
            cache[key] = load_mnist(**kwargs)
        return cache[key]

    return load


@pytest.fixture
def one_blas_thread():
    """BLAS on one thread (if threadpoolctl is installed), as ``python -m nn.train`` runs.

    These matrices are small; on a shared 2-core machine two BLAS threads can be
    ten times slower than one.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture
def no_training(monkeypatch):
    """Fail if ``python -m nn.train`` gets as far as loading data: what it was given must be
    refused before training starts."""
    import nn.train

    def refuse(*args, **kwargs):
        raise AssertionError("training started although the command's options or outputs "
                             "should have stopped it")

    monkeypatch.setattr("nn.data.mnist.load_mnist", refuse)
    monkeypatch.setattr(nn.train, "train", refuse)
