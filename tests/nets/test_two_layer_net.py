"""TwoLayerNet and the gradient check (nn.gradcheck), including the book's own code run unchanged."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograd.testing import check_grads
from nn import TwoLayerNet
from nn import gradcheck
from nn.gradcheck import gradient_check, passed

KEYS = ("W1", "b1", "W2", "b2")
pytestmark = pytest.mark.usefixtures("one_blas_thread")


def reference_scores(net, x):
    """relu(x W1 + b1) W2 + b2 straight from the params, independent of the layers."""
    p = net.params
    return np.maximum(x @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]


def small_problem(seed, n=5, d=6, hidden=4, classes=3, std=1.0):
    rng = np.random.default_rng(seed)
    net = TwoLayerNet(d, hidden, classes, std, rng=rng)
    net.params["b1"][...] = rng.standard_normal(hidden)
    net.params["b2"][...] = rng.standard_normal(classes)
    x = rng.standard_normal((n, d))
    t = rng.integers(0, classes, n)
    return net, x, t


# ---------------------------------------------------------------- structure, as in the book

def test_params_are_the_layers_arrays_and_gradients_the_layers_results():
    net = TwoLayerNet(4, 3, 2)
    assert list(net.params) == list(KEYS)
    assert list(net.layers) == ["Affine1", "Relu1", "Affine2"]
    assert net.layers["Affine1"].W is net.params["W1"] and net.layers["Affine1"].b is net.params["b1"]
    assert net.layers["Affine2"].W is net.params["W2"] and net.layers["Affine2"].b is net.params["b2"]
    grad = net.gradient(np.ones((2, 4)), np.array([0, 1]))
    assert grad["W1"] is net.layers["Affine1"].dW and grad["b2"] is net.layers["Affine2"].db
    assert net.layers["Affine1"].input_grad is False  # no gradient for the data


def test_init_follows_the_book_and_seeds_reproduce():
    np.random.seed(3)
    expected = 0.01 * np.random.randn(5, 4)
    np.random.seed(3)
    net = TwoLayerNet(5, 4, 2)  # rng=None: numpy's global generator, like the book
    np.testing.assert_array_equal(net.params["W1"], expected)
    assert not net.params["b1"].any() and not net.params["b2"].any()
    a, b = TwoLayerNet(5, 4, 2, rng=7), TwoLayerNet(5, 4, 2, rng=7)
    for key in KEYS:
        np.testing.assert_array_equal(a.params[key], b.params[key])


def loss_of_params(x, t):
    """The pair (forward, vjp) of L(W1, b1, W2, b2) for check_grads: the loss of a
    TwoLayerNet in the params' dtype (float64 for the numerical side), and its
    ``gradient`` scaled by the upstream gradient."""
    def net_at(params):
        net = TwoLayerNet(*params[0].shape, params[2].shape[1], dtype=params[0].dtype)
        net.set_params(dict(zip(KEYS, params)))
        return net

    def forward(*params):
        return net_at(params).loss(x.astype(params[0].dtype), t)

    def vjp(g, out, *params):
        grads = net_at(params).gradient(x.astype(params[0].dtype), t)
        return tuple(g * grads[k] for k in KEYS)
    return forward, vjp


@given(seed=st.integers(0, 2**32 - 1), one_hot=st.booleans(), dtype=st.sampled_from(
    [np.float64, np.float32]))
def test_gradient_matches_numerical_differences(seed, one_hot, dtype):
    # Every seed, kinks included: a direction whose step crosses a ReLU kink is left out.
    net, x, t = small_problem(seed)
    if one_hot:
        t = np.eye(3)[t]
    params = [net.params[k].astype(dtype) for k in KEYS]
    check_grads(loss_of_params(x, t), *params, rng=seed, directions=2, order=2)


@given(seed=st.integers(0, 2**32 - 1), chunk=st.integers(1, 40), n=st.integers(1, 40))
def test_accuracy_in_chunks_matches_the_definition(seed, chunk, n):
    net, _, _ = small_problem(seed)
    rng = np.random.default_rng(seed)
    x, t = rng.standard_normal((n, 6)), rng.integers(0, 3, n)
    expected = np.mean(reference_scores(net, x).argmax(axis=1) == t)
    assert net.accuracy(x, t, batch_size=chunk) == pytest.approx(expected, abs=1e-15)
    assert net.accuracy(x, np.eye(3)[t]) == pytest.approx(expected, abs=1e-15)


def test_predict_matches_the_definition():
    net, x, _ = small_problem(0)
    np.testing.assert_allclose(net.predict(x), reference_scores(net, x), rtol=1e-14)


def test_accuracy_reads_the_data_without_copying_it():
    net = TwoLayerNet(6, 4, 3, dtype=np.float32)
    x = np.random.default_rng(0).random((25, 6), dtype=np.float32)
    net.accuracy(x, np.zeros(25, dtype=np.uint8), batch_size=10)
    assert np.shares_memory(net.layers["Affine1"].x, x)  # a view of the last chunk


def test_set_params_copies_into_the_same_arrays():
    net, other = TwoLayerNet(3, 2, 2, rng=0), TwoLayerNet(3, 2, 2, rng=1)
    w1 = net.params["W1"]
    net.set_params(other.params)
    assert net.params["W1"] is w1 and net.layers["Affine1"].W is w1
    np.testing.assert_array_equal(w1, other.params["W1"])
    with pytest.raises(ValueError, match=r"W2 has shape \(3, 3\).*\(2, 2\)"):
        net.set_params({**other.params, "W2": np.zeros((3, 3))})


# ---------------------------------------------------------------- dtypes

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_everything_stays_in_the_dtype(dtype):
    net = TwoLayerNet(6, 5, 3, dtype=dtype, rng=0)
    x = np.random.default_rng(1).random((4, 6)).astype(dtype)
    t = np.array([0, 2, 1, 2])
    for _ in range(2):
        grad = net.gradient(x, t)
        for key in KEYS:
            assert grad[key].dtype == dtype
            product = 0.1 * grad[key]  # a Python float must not promote float32
            assert product.dtype == dtype
            net.params[key] -= 0.1 * grad[key]
            assert net.params[key].dtype == dtype
        assert net.lastLayer.loss.dtype == dtype
        assert net.loss(x, t).dtype == dtype
        assert net.loss(x, np.eye(3)[t]).dtype == dtype
        assert net.predict(x).dtype == dtype


def test_library_default_is_float64_and_other_dtypes_are_refused():
    assert TwoLayerNet(2, 2, 2).params["W1"].dtype == np.float64
    with pytest.raises(ValueError, match="float32 or float64"):
        TwoLayerNet(2, 2, 2, dtype=np.float16)


# ---------------------------------------------------------------- gradient check with kink detection

@settings(max_examples=10)
@given(seed=st.integers(0, 2**32 - 1))
def test_gradient_check_passes_and_excludes_nothing_away_from_kinks(seed):
    net, x, t = small_problem(seed)
    assume(np.abs(x @ net.params["W1"] + net.params["b1"]).min() > 1e-3)
    results = gradient_check(net, x, t)
    assert list(results) == list(KEYS)
    assert passed(results)
    assert all(r.excluded == 0 and r.size == net.params[k].size for k, r in results.items())


@pytest.mark.parametrize("offset", [0.0, 0.5e-4, -0.3e-4])  # at the kink, or within h = 1e-4 of it
def test_gradient_check_detects_and_excludes_kink_crossings(offset):
    net, x, t = small_problem(1)
    W1, b1 = net.params["W1"], net.params["b1"]
    pre = x @ W1 + b1
    j = int(np.argmax(np.abs(net.params["W2"]).sum(axis=1)))  # a unit that matters
    b1[j] += offset - pre[0, j]  # sample 0's pre-activation of unit j is now ~offset
    others = np.abs(x @ W1 + b1)
    others[0, j] = np.inf
    assert others.min() > 1e-3  # this is the only pre-activation near 0

    # Without the exclusion, the central difference across the kink is wrong for b1[j].
    naive = np.abs(net.gradient(x, t)["b1"] - net.numerical_gradient(x, t)["b1"])
    assert naive[j] > 1e-6 and naive.mean() > gradcheck.TOLERANCE

    results = gradient_check(net, x, t)
    assert passed(results)
    assert results["b1"].excluded == 1
    assert 1 <= results["W1"].excluded <= W1.shape[0]  # only column j can cross
    assert results["W2"].excluded == results["b2"].excluded == 0
    text = gradcheck.format_results(results, "index labels")
    assert "1 of 4 coordinates left out" in text


def test_gradient_check_reports_a_real_error():
    net, x, t = small_problem(2)
    assert np.abs(x @ net.params["W1"] + net.params["b1"]).min() > 1e-3

    class Wrong(TwoLayerNet):
        def gradient(self, x, t):
            grad = super().gradient(x, t)
            return {**grad, "b2": grad["b2"] * 1.01}

    wrong = Wrong(6, 4, 3, rng=0)
    wrong.set_params(net.params)
    results = gradient_check(wrong, x, t)
    assert not passed(results)
    assert results["b2"].mean_abs_diff > gradcheck.TOLERANCE
    assert "EXCEEDS" in gradcheck.format_results(results, "x")


@pytest.mark.slow
def test_gradcheck_command(mnist_data, capsys):
    mnist_data(normalize=False)  # fails without data
    assert gradcheck.main(["--seed", "0", "--hidden-size", "4"]) == 0
    out = capsys.readouterr().out
    for key in KEYS:
        assert out.count(f"{key}:") == 2  # one-hot and index labels
    assert "all parameters within 1e-08" in out
    assert gradcheck.main(["--seed", "0", "--hidden-size", "4", "--tol", "1e-30"]) == 1
    assert "FAILED" in capsys.readouterr().out


# ---------------------------------------------------------------- the book's code, unchanged

@pytest.mark.slow
def test_the_books_gradient_check(mnist_data):
    load_mnist = lambda **kw: mnist_data(**kw)  # noqa: E731
    np.random.seed(1)  # a seed whose ReLU inputs are all more than h from 0 (asserted below)

    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
    network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    x_batch = x_train[:3]
    t_batch = t_train[:3]
    grad_numerical = network.numerical_gradient(x_batch, t_batch)
    grad_backprop = network.gradient(x_batch, t_batch)
    diffs = {}
    for key in grad_numerical.keys():
        diff = np.average(np.abs(grad_backprop[key] - grad_numerical[key]))
        print(key + ":" + str(diff))
        diffs[key] = diff

    pre = x_batch.astype(np.float64) @ network.params["W1"] + network.params["b1"]
    assert np.abs(pre).min() > 1e-4
    assert all(d < 1e-8 for d in diffs.values()), diffs


def test_the_books_training_loop(mnist_data):
    load_mnist = lambda **kw: mnist_data(**kw)  # noqa: E731
    np.random.seed(0)

    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
    network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    iters_num = 601  # the book's 10,000, cut to one epoch and one more evaluation
    train_size = x_train.shape[0]
    batch_size = 100
    learning_rate = 0.1
    train_loss_list = []
    train_acc_list = []
    test_acc_list = []
    iter_per_epoch = max(train_size / batch_size, 1)

    for i in range(iters_num):
        batch_mask = np.random.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]
        grad = network.gradient(x_batch, t_batch)
        for key in ('W1', 'b1', 'W2', 'b2'):
            network.params[key] -= learning_rate * grad[key]
        loss = network.loss(x_batch, t_batch)
        train_loss_list.append(loss)
        if i % iter_per_epoch == 0:
            train_acc = network.accuracy(x_train, t_train)
            test_acc = network.accuracy(x_test, t_test)
            train_acc_list.append(train_acc)
            test_acc_list.append(test_acc)
            print(train_acc, test_acc)

    assert len(test_acc_list) == 2
    assert test_acc_list[-1] > 0.88 and train_acc_list[-1] > 0.88  # the book: ~0.90 after 1 epoch
    assert np.mean(train_loss_list[-50:]) < np.mean(train_loss_list[:50])
