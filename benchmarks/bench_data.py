"""Loading MNIST, and what an evaluation costs: ``load_mnist`` the first time (the .gz files
decoded, their sha256 checked, the .npy cache written) and after that; ``accuracy()`` on
the 60,000 training images in time (beside PyTorch) and in memory above what is resident.

    CHAINRULE_DATA=../shared/data python benchmarks/bench_data.py [--quick]
"""
import os
import sys
import tempfile
import time
import tracemalloc

import _harness as h

h.clean_env()
import numpy as np  # noqa: E402

from nn import TwoLayerNet, load_mnist  # noqa: E402


def load_times():
    """Seconds for load_mnist() with an empty cache, then with the cache it wrote."""
    with tempfile.TemporaryDirectory() as cache:
        os.environ["XDG_CACHE_HOME"] = cache
        times = []
        for _ in range(2):
            start = time.perf_counter()
            load_mnist(dtype=np.float32)
            times.append(time.perf_counter() - start)
        del os.environ["XDG_CACHE_HOME"]
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
    quick = "--quick" in sys.argv
    torch = h.optional("torch")
    cold, warm = load_times()
    (x, t), _ = load_mnist(dtype=np.float32)
    h.header("Data and evaluation (benchmarks/bench_data.py" + (" --quick)" if quick else ")"))
    print(f"load_mnist(): {1e3 * cold:.0f} ms with an empty cache, {1e3 * warm:.0f} ms "
          f"after that (train and test, float32)\n")

    net = TwoLayerNet(784, 50, 10, dtype=np.float32, rng=0)
    configs = {f"nn accuracy(), {n} thread(s)": (n, lambda: net.accuracy(x, t)) for n in (1, 2)}
    if torch:
        W1, b1, W2, b2 = (torch.from_numpy(net.params[k]) for k in ("W1", "b1", "W2", "b2"))
        X, T = torch.from_numpy(x), torch.from_numpy(t.astype(np.int64))

        def torch_accuracy():
            with torch.no_grad():
                return sum(int(((torch.relu(X[s:s + 10000] @ W1 + b1) @ W2 + b2).argmax(1)
                                == T[s:s + 10000]).sum()) for s in range(0, len(X), 10000))
        for n in (1, 2):
            configs[f"PyTorch eager (no_grad, chunks of 10,000), {n} thread(s)"] = (n, torch_accuracy)
    times = h.compare(configs, rounds=3 if quick else 10, calls=2)
    print("Evaluating the 60,000 training images (median ms):\n")
    h.table(["evaluation", "ms"], [[name, f"{1e3 * h.median(v):.1f}"] for name, v in times.items()])

    net64 = TwoLayerNet(784, 50, 10, dtype=np.float64, rng=0)
    h.table(["accuracy() on 60,000 float32 images (188 MB)", "extra memory, MB"],
            [["float32 net", f"{extra_memory(net, x, t) / 1e6:.1f}"],
             ["float64 net (converts one 10,000-image chunk at a time)",
              f"{extra_memory(net64, x, t) / 1e6:.1f}"]])


if __name__ == "__main__":
    main()
