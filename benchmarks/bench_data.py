"""Loading MNIST and the memory an evaluation takes: ``load_mnist`` the first time (the .gz
files decoded, their sha256 checked, the .npy cache written) and after that; the memory
``accuracy()`` allocates on the 60,000 training images (a copy of them would be 188 MB).

    CHAINRULE_DATA=../shared/data python benchmarks/bench_data.py
"""
import os
import tempfile
import time
import tracemalloc
from unittest import mock

import _harness as h

h.clean_env()
import numpy as np  # noqa: E402

from nn import TwoLayerNet, load_mnist  # noqa: E402


def load_times():
    """Seconds for load_mnist() with an empty cache, then with the cache it wrote."""
    times = []
    with tempfile.TemporaryDirectory() as cache, mock.patch.dict(os.environ, XDG_CACHE_HOME=cache):
        for _ in range(2):
            start = time.perf_counter()
            load_mnist(dtype=np.float32)
            times.append(time.perf_counter() - start)
    return times


def extra_memory(net, x, t):
    """Peak bytes numpy allocates during accuracy(x, t) above what was already allocated."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    net.accuracy(x, t)
    peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    return peak


def main():
    cold, warm = load_times()
    (x, t), _ = load_mnist(dtype=np.float32)
    h.header("Data and evaluation memory (benchmarks/bench_data.py)")
    print(f"load_mnist(): {1e3 * cold:.0f} ms with an empty cache, {1e3 * warm:.0f} ms "
          f"after that (train and test, float32)\n")
    net32, net64 = (TwoLayerNet(784, 50, 10, dtype=dtype, rng=0) for dtype in (np.float32, np.float64))
    h.table(["accuracy() on 60,000 float32 images (188 MB)", "extra memory, MB"],
            [["float32 net", f"{extra_memory(net32, x, t) / 1e6:.1f}"],
             ["float64 net (converts one 10,000-image chunk at a time)",
              f"{extra_memory(net64, x, t) / 1e6:.1f}"]])


if __name__ == "__main__":
    main()
