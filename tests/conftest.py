"""Shared fixtures (MNIST for the tests that train: they fail, never skip, when CHAINRULE_DATA
is unset), hypothesis' profiles and the markers.

Markers (registered in pyproject.toml): ``slow``, ``browser`` (headless Chromium), ``db`` (a
PostgreSQL server; set here for every test that uses the ``postgres`` fixture), ``notebooks``
(executes notebooks/), ``mnist`` (reads the real data set; set here for every test that uses
the ``mnist_data`` fixture).  The contributors' fast loop is
``pytest -m "not slow" --hypothesis-profile fast``; README's command runs everything.
"""
import os

import pytest
from hypothesis import settings

# One place for hypothesis' settings instead of one per test.  No deadline: a first example pays
# for numpy's and BLAS's warm-up, and timing belongs in benchmarks/.  "fast" trades examples for
# the contributors' quick loop; tests that need more examples than the profile's say so in their
# own @settings.
settings.register_profile("chainrule", deadline=None, max_examples=40)
settings.register_profile("fast", settings.get_profile("chainrule"), max_examples=8)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "chainrule"))


def pytest_collection_modifyitems(items):
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "mnist_data" in fixtures:
            item.add_marker(pytest.mark.mnist)
        if "postgres" in fixtures:
            item.add_marker(pytest.mark.db)
            item.add_marker(pytest.mark.slow)

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

    These matrices are small: a second BLAS thread adds more synchronisation than work, and
    on a busy machine it waits for a core.
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
