"""nn.train: the training loop, divergence, saving weights, the command line, and a short real run."""
import json
import sys

import numpy as np
import pytest

from nn import TwoLayerNet
from nn.nets.base import load_params
from nn.train import main
from nn.training import loop
from nn.training.loop import History, batch_drawer, train

pytestmark = pytest.mark.usefixtures("one_blas_thread")


def blobs(n, seed, classes=3, d=8):
    """Well separated Gaussian clusters (the same for every seed): a few hundred SGD steps solve it."""
    centers = 3 * np.random.default_rng(0).standard_normal((classes, d))
    rng = np.random.default_rng(seed)
    t = rng.integers(0, classes, n)
    return (centers[t] + rng.standard_normal((n, d))).astype(np.float32), t.astype(np.uint8)


def synthetic_run(seed=0, **kwargs):
    (x, t), (xt, tt) = blobs(600, 1), blobs(200, 2)
    net = TwoLayerNet(8, 10, 3, 0.1, dtype=np.float32, rng=seed)
    options = dict(iters_num=250, batch_size=20, rng=seed, progress=False, verbose=False)
    return net, train(net, x, t, xt, tt, **{**options, **kwargs})


def test_train_learns_and_records_like_the_book():
    net, history = synthetic_run()
    assert isinstance(history, History)
    assert history.iter_per_epoch == 30  # 600 / 20
    assert len(history.train_loss_list) == 250
    # once per epoch from the first iteration (as the book), and after the last
    assert history.eval_iters == [1, 31, 61, 91, 121, 151, 181, 211, 241, 250]
    assert len(history.train_acc_list) == len(history.test_acc_list) == 10
    assert history.test_acc_list[-1] > 0.95 and history.train_acc_list[-1] > 0.95
    assert np.mean(history.train_loss_list[-20:]) < 0.5 * np.mean(history.train_loss_list[:20])
    assert all(net.params[k].dtype == np.float32 for k in net.params)
    assert 0 <= history.eval_seconds <= history.elapsed


def test_train_is_reproducible_with_a_seed():
    _, a = synthetic_run(seed=5)
    _, b = synthetic_run(seed=5)
    _, c = synthetic_run(seed=6)
    assert a.train_loss_list == b.train_loss_list and a.test_acc_list == b.test_acc_list
    assert a.train_loss_list != c.train_loss_list


def test_batch_drawer_draws_the_rows_the_books_indexing_would():
    x, t = np.arange(60, dtype=np.float32).reshape(20, 3), np.arange(20) % 3
    x_copy, book_rng = x.copy(), np.random.default_rng(4)
    draw = batch_drawer(x, t, 5, np.random.default_rng(4))
    for _ in range(3):
        mask = book_rng.integers(20, size=5)
        x_batch, t_batch = draw()
        assert np.array_equal(x_batch, x[mask]) and np.array_equal(t_batch, t[mask])
    assert np.array_equal(x, x_copy)


def test_train_accepts_one_hot_labels():
    (x, t), (xt, tt) = blobs(600, 1), blobs(200, 2)
    net = TwoLayerNet(8, 10, 3, 0.1, dtype=np.float32, rng=0)
    history = train(net, x, np.eye(3, dtype=np.float32)[t], xt, np.eye(3, dtype=np.float32)[tt],
                    iters_num=200, batch_size=20, rng=0, progress=False, verbose=False)
    assert history.test_acc_list[-1] > 0.95


def test_train_prints_accuracies_and_runs_without_tqdm(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now raises ImportError
    synthetic_run(iters_num=40, verbose=True, progress=True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all("train acc, test acc |" in line for line in lines)


def test_nan_loss_stops_training_naming_the_iteration():
    (x, t), (xt, tt) = blobs(100, 1), blobs(50, 2)
    net = TwoLayerNet(8, 10, 3, dtype=np.float32, rng=0)
    net.params["W1"][0, 0] = np.nan
    before = {k: v.copy() for k, v in net.params.items()}
    with pytest.raises(FloatingPointError, match=r"nan at iteration 1 of 10, before any update: the "
                                                 r"initial weights \(or the data\) give it, not the "
                                                 r"learning rate"):
        train(net, x, t, xt, tt, iters_num=10, batch_size=10, progress=False, verbose=False)
    for key in before:  # stopped before updating with the bad gradient
        np.testing.assert_array_equal(net.params[key], before[key])


def test_a_diverging_learning_rate_is_reported():
    (x, t), (xt, tt) = blobs(100, 1), blobs(50, 2)
    net = TwoLayerNet(8, 10, 3, 1.0, dtype=np.float32, rng=0)
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError,
                                                  match=r"iteration \d+ of 50.*than 1e\+30"):
        train(net, x, t, xt, tt, iters_num=50, batch_size=10, lr=1e30,
              progress=False, verbose=False)


def test_train_steps_on_the_augmented_batch():
    (x, t), (xt, tt) = blobs(100, 1), blobs(50, 2)
    net = TwoLayerNet(8, 10, 3, 0.1, dtype=np.float32, rng=0)
    w1, seen = net.params["W1"].copy(), []
    train(net, x, t, xt, tt, iters_num=3, batch_size=10, progress=False, verbose=False,
          augment=lambda x_batch: seen.append(x_batch.shape) or np.zeros_like(x_batch))
    assert seen == [(10, 8)] * 3
    np.testing.assert_array_equal(net.params["W1"], w1)  # zero inputs: dW1 = x^T dY = 0


def test_learning_rate_as_numpy_float64_does_not_promote():
    net, _ = synthetic_run(iters_num=5, lr=np.float64(0.1))
    assert all(v.dtype == np.float32 for v in net.params.values())


# ---------------------------------------------------------------- the command line

def test_plot_without_matplotlib_fails_before_training(monkeypatch, capsys, tmp_path, no_training):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(SystemExit) as exit_info:
        main(["--plot", str(tmp_path / "curves.png")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--plot needs matplotlib" in err and "pip install -e '.[train]'" in err


def test_bad_output_paths_fail_before_training(capsys, tmp_path, no_training):
    for argv in (["--save", str(tmp_path / "w.pkl")],
                 ["--save", str(tmp_path / "missing" / "w.npz")],
                 ["--plot", str(tmp_path / "missing" / "c.png")],
                 ["--plot", str(tmp_path / "c.xyz")],
                 ["--json", str(tmp_path / "summary.txt")],
                 ["--json", str(tmp_path / "missing" / "summary.json")]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        assert f"{argv[0]} {argv[1]}" in capsys.readouterr().err


def test_help_says_float32_is_the_scripts_speed_default(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "float32 is this script's default because it is the speed path" in help_text
    assert "library's default is float64" in help_text


def test_command_trains_saves_and_plots(mnist_data, tmp_path, capsys):
    mnist_data()  # fails without data
    weights, curves = tmp_path / "w.npz", tmp_path / "c.png"
    assert main(["--iters", "60", "--seed", "0", "--no-progress", "--save", str(weights),
                 "--plot", str(curves)]) == 0
    out = capsys.readouterr().out
    assert "final: train acc" in out and "elapsed" in out
    assert out.count("train acc, test acc |") == 2
    params = load_params(weights)
    assert {k: v.dtype for k, v in params.items()} == dict.fromkeys(["W1", "b1", "W2", "b2"], np.float32)
    assert params["W1"].shape == (784, 50)
    assert curves.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_command_writes_a_json_summary(mnist_data, tmp_path, capsys):
    mnist_data()  # fails without data
    argv = ["--iters", "30", "--seed", "0", "--no-progress", "--json"]
    assert main(argv + ["-"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)  # stdout holds the JSON alone
    assert "final: train acc" in captured.err
    assert summary["seed"] == 0 and summary["iters"] == 30 and summary["eval_iters"] == [1, 30]
    assert summary["test_acc"] == summary["test_acc_list"][-1]
    assert summary["train_seconds"] + summary["eval_seconds"] == pytest.approx(summary["elapsed"])
    assert main(argv + [str(tmp_path / "run.json")]) == 0
    again = json.loads((tmp_path / "run.json").read_text())
    assert again["test_acc_list"] == summary["test_acc_list"]  # same seed, same accuracies


def test_a_short_real_training_run(mnist_data):
    (x_train, t_train), (x_test, t_test) = mnist_data(dtype=np.float32)
    network = TwoLayerNet(784, 50, 10, dtype=np.float32, rng=0)
    history = train(network, x_train, t_train, x_test, t_test, iters_num=1200, rng=0,
                    progress=False, verbose=False)
    assert history.test_acc_list[-1] > 0.90
    assert history.train_acc_list[-1] > 0.90


def test_train_limits_blas_threads():
    import threadpoolctl
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((8, 4)), rng.integers(0, 2, 8)
    network = TwoLayerNet(4, 3, 2, rng=0)
    seen, gradient = [], network.gradient

    def spying_gradient(x, t):
        blas = [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
        seen.extend(blas)
        return gradient(x, t)

    network.gradient = spying_gradient
    train(network, x, t, x, t, iters_num=2, batch_size=4, threads=1, progress=False, verbose=False)
    assert seen and set(seen) == {1}


def test_train_evaluates_with_eval_threads_and_then_steps_with_threads_again():
    import threadpoolctl
    cpus = loop.usable_cpus()
    if cpus < 2:
        pytest.skip("one CPU: eval_threads=2 is capped to 1, so nothing tells the two apart")
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((8, 4)), rng.integers(0, 2, 8)
    network = TwoLayerNet(4, 3, 2, rng=0)
    seen, gradient, accuracy = [], network.gradient, network.accuracy

    def blas_threads():
        return {i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"}

    def spying_gradient(x, t):
        seen.append(("step", blas_threads()))
        return gradient(x, t)

    def spying_accuracy(x, t):
        seen.append(("eval", blas_threads()))
        return accuracy(x, t)

    network.gradient, network.accuracy = spying_gradient, spying_accuracy
    train(network, x, t, x, t, iters_num=3, batch_size=4, threads=1, eval_threads=2,
          progress=False, verbose=False)
    # an epoch is 8 // 4 = 2 iterations: train and test accuracy after iterations 1 and 3
    assert [kind for kind, _ in seen] == ["step", "eval", "eval", "step", "step", "eval", "eval"]
    assert all(n == ({1} if kind == "step" else {2}) for kind, n in seen), seen
    with loop.blas_threads(cpus + 8):
        assert blas_threads() == {cpus}  # capped at the usable CPUs


def test_trainer_fills_one_entry_per_epoch_on_the_first_samples():
    from nn import Trainer
    (x, t), (xt, tt) = blobs(100, 1), blobs(50, 2)
    net = TwoLayerNet(8, 10, 3, 0.1, dtype=np.float32, rng=0)
    seen, accuracy = [], net.accuracy
    net.accuracy = lambda x, t: seen.append(len(x)) or accuracy(x, t)
    trainer = Trainer(net, x, t, xt, tt, epochs=4, mini_batch_size=20,
                      evaluate_sample_num_per_epoch=30, verbose=False, rng=0).train()
    # the book's: after the first iteration of each epoch, so plt.plot(np.arange(4), ...) works
    assert len(trainer.train_acc_list) == len(trainer.test_acc_list) == 4
    assert seen == [30, 30] * 4 and len(trainer.train_loss_list) == 20
