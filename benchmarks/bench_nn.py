"""chainrule's ``nn`` beside PyTorch eager and the floor, in one run: a training step of the
book's 784-50-10 net (batch 100, float32); the whole default ``python -m nn.train`` run
(10,000 steps, 18 evaluations of all 70,000 images, data loaded); nn.train's thread defaults.

Every step draws 100 of the 60,000 training images at random and gathers them, as the
book's loop does.  The floor is the work no implementation avoids: the same draws, gathers
and matrix products (a step's five, an evaluation's two per chunk) alone, on the same threads.

    CHAINRULE_DATA=../shared/data python benchmarks/bench_nn.py [--quick]
"""
import sys
import time

import _harness as h

h.clean_env()
import numpy as np  # noqa: E402

from nn import TwoLayerNet, load_mnist  # noqa: E402
from nn.training.loop import batch_drawer, train  # noqa: E402

BATCH, HIDDEN, LR, CHUNK = 100, 50, 0.1, 10000


def nn_step(x, t, rng):
    net = TwoLayerNet(784, HIDDEN, 10, dtype=np.float32, rng=0)
    draw_batch = batch_drawer(x, t, BATCH, rng)

    def step():  # the body of nn.train's loop
        grad = net.gradient(*draw_batch())
        float(net.lastLayer.loss)
        for key in grad:
            net.params[key] -= LR * grad[key]
    return step


def torch_model(torch, x, t, rng):
    """The same net in PyTorch eager, its weights drawn as TwoLayerNet draws them from
    ``rng``: returns (step, scores), the step drawing its batches from ``rng`` too."""
    X, T = torch.from_numpy(x), torch.from_numpy(t.astype(np.int64))
    W1, W2 = (torch.from_numpy((0.01 * rng.standard_normal(shape)).astype(np.float32))
              .requires_grad_() for shape in ((784, HIDDEN), (HIDDEN, 10)))
    b1, b2 = torch.zeros(HIDDEN, requires_grad=True), torch.zeros(10, requires_grad=True)

    def scores(x):
        return torch.relu(x @ W1 + b1) @ W2 + b2

    def step():
        idx = torch.from_numpy(rng.integers(len(X), size=BATCH))
        loss = torch.nn.functional.cross_entropy(scores(X[idx]), T[idx])
        loss.backward()
        loss.item()  # nn.train reads every loss
        with torch.no_grad():
            for p in (W1, b1, W2, b2):
                p -= LR * p.grad
                p.grad = None
    return step, scores


def floor_step(x, t, rng):
    """The draw, the gather and the five products of a step (outputs preallocated)."""
    xb, tb = np.empty((BATCH, 784), np.float32), np.empty(BATCH, t.dtype)
    W1, dW1, a1, h1, dh, W2, dW2, a2 = (np.ones(shape, np.float32) for shape in (
        (784, HIDDEN), (784, HIDDEN), (BATCH, HIDDEN), (BATCH, HIDDEN), (BATCH, HIDDEN),
        (HIDDEN, 10), (HIDDEN, 10), (BATCH, 10)))

    def step():
        idx = rng.integers(len(x), size=BATCH)
        x.take(idx, axis=0, out=xb, mode="clip")
        t.take(idx, out=tb, mode="clip")
        np.matmul(xb, W1, out=a1)
        np.matmul(h1, W2, out=a2)
        np.matmul(h1.T, a2, out=dW2)
        np.matmul(a2, W2.T, out=dh)
        np.matmul(xb.T, dh, out=dW1)
    return step


def step_table(torch, x, t, quick):
    rng = np.random.default_rng(0)
    configs = {}
    for n in (1, 2):
        configs[f"nn, {n} thread(s)"] = (n, nn_step(x, t, rng))
        if torch:
            configs[f"PyTorch eager, {n} thread(s)"] = (n, torch_model(torch, x, t, rng)[0])
        configs[f"floor, {n} thread(s)"] = (n, floor_step(x, t, rng))
    rounds, calls = (5, 100) if quick else (30, 300)
    times = h.compare(configs, rounds, calls)
    cpu = h.compare({name: c for name, c in configs.items() if c[0] == 1}, rounds, calls,
                    clock=time.thread_time)
    best = h.fastest(times, "PyTorch") if torch else None
    print(f"## One training step (median us; ratios: medians of same-round ratios; PyTorch "
          f"at its best: {best}; CPU: this thread's CPU time, on 1 thread)\n")
    rows = []
    for name, v in times.items():
        vs = [h.ratio(times, name, best) if best else None,
              h.ratio(times, name, f"floor, {configs[name][0]} thread(s)")]
        vs += [h.ratio(cpu, name, "PyTorch eager, 1 thread(s)") if torch and name in cpu else None,
               h.ratio(cpu, name, "floor, 1 thread(s)") if name in cpu else None]
        rows.append([name, f"{1e6 * h.median(v):.0f}", *(f"{r:.2f}x" if r else "-" for r in vs)])
    h.table(["step", "us", "vs PyTorch", "vs floor, same threads", "CPU vs PyTorch 1 thread",
             "CPU vs floor"], rows)
    if torch:
        print("Target: nn's step (1 thread, nn.train's default) / PyTorch's: "
              + ", ".join(h.versus(h.ratio(times, "nn, 1 thread(s)", best), 0.7)) + "\n")


def torch_run(torch, data, iters, step_threads):
    """nn.train's loop in PyTorch: the same weights and batches for the same seed, every
    loss read, train and test accuracy as often, on 2 threads, in chunks of 10,000."""
    (x, t), (xt, tt) = data
    step, scores = torch_model(torch, x, t, np.random.default_rng(0))

    def accuracy(x, t):
        with torch.no_grad():
            return sum(int((scores(torch.from_numpy(x[s:s + CHUNK])).argmax(1)
                            == torch.from_numpy(t[s:s + CHUNK])).sum())
                       for s in range(0, len(x), CHUNK)) / len(x)
    torch.set_num_threads(step_threads)
    for i in range(iters):
        step()
        if i % 600 == 0 or i == iters - 1:
            torch.set_num_threads(2)
            train_acc, test_acc = accuracy(x, t), accuracy(xt, tt)
            torch.set_num_threads(step_threads)
    return test_acc


def nn_run(data, iters):
    (x, t), (xt, tt) = data
    rng = np.random.default_rng(0)
    net = TwoLayerNet(784, HIDDEN, 10, dtype=np.float32, rng=rng)
    history = train(net, x, t, xt, tt, iters_num=iters, rng=rng, progress=False, verbose=False)
    return history.test_acc_list[-1]


def floor_run(data, iters):
    from threadpoolctl import threadpool_limits
    (x, t), (xt, _) = data
    step = floor_step(x, t, np.random.default_rng(0))
    W1, W2, a1, a2 = (np.ones(shape, np.float32) for shape in
                      ((784, HIDDEN), (HIDDEN, 10), (CHUNK, HIDDEN), (CHUNK, 10)))
    for i in range(iters):
        step()
        if i % 600 == 0 or i == iters - 1:
            with threadpool_limits(2, user_api="blas"):
                for images in (x, xt):
                    for s in range(0, len(images), CHUNK):
                        np.matmul(images[s:s + CHUNK], W1, out=a1)
                        np.matmul(a1, W2, out=a2)


def run_table(torch, data, quick):
    iters, accs = 1200 if quick else 10000, {}
    runs = {"nn (nn.train's train())": lambda: nn_run(data, iters)}
    if torch:
        runs["PyTorch eager, 1 thread per step"] = lambda: torch_run(torch, data, iters, 1)
        runs["PyTorch eager, 2 threads per step"] = lambda: torch_run(torch, data, iters, 2)
    runs["floor"] = lambda: floor_run(data, iters)
    configs = {name: (1, lambda name=name: accs.update({name: runs[name]()})) for name in runs}
    times = h.compare(configs, rounds=1 if quick else 3, calls=1, warmup=False)
    nn = "nn (nn.train's train())"
    print(f"## The whole run: {iters:,} steps and the evaluations (2 threads), data loaded "
          f"(median s)\n")
    h.table(["run", "s", "test accuracy", "nn / this"],
            [[name, f"{h.median(times[name]):.2f}", accs[name] or "-",
              f"{h.ratio(times, nn, name):.2f}x"] for name in times])
    if torch:
        print("Target: nn / PyTorch's same loop at its best: "
              + ", ".join(h.versus(h.ratio(times, nn, h.fastest(times, "PyTorch")), 0.7)))
    print(f"Target: nn / the floor: {', '.join(h.versus(h.ratio(times, nn, 'floor'), 1.25))}\n")


def thread_table(x, t, steps):
    """Why nn.train takes 1 BLAS thread per step and 2 to evaluate: a step's products are small,
    and a second thread stalls it while another process holds a core (the mean and the tail
    grow); an evaluation's products are 100 times larger."""
    net, rows = TwoLayerNet(784, HIDDEN, 10, dtype=np.float32, rng=0), []
    for threads in (1, 2):
        h.set_threads(threads)
        step, times = nn_step(x, t, np.random.default_rng(1)), []
        for _ in range(steps):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        evals = h.compare({"": (threads, lambda: net.accuracy(x[:CHUNK], t[:CHUNK]))}, 1, 10)
        us = 1e6 * np.array(times)
        rows.append([threads, f"{us.mean():.0f}", f"{np.median(us):.0f}",
                     f"{np.percentile(us, 99):.0f}", f"{1e3 * evals[''][0]:.1f}"])
    print("## nn.train's thread defaults (one step at a time; accuracy() on 10,000 images)\n")
    h.table(["BLAS threads", "step mean, us", "median", "p99", "accuracy(), ms (mean)"], rows)


def main():
    quick = "--quick" in sys.argv
    torch = h.optional("torch")
    data = load_mnist(dtype=np.float32)
    h.header("nn vs PyTorch eager vs the floor (benchmarks/bench_nn.py"
             + (" --quick)" if quick else ")"))
    step_table(torch, *data[0], quick)
    run_table(torch, data, quick)
    thread_table(*data[0], 500 if quick else 3000)


if __name__ == "__main__":
    main()
