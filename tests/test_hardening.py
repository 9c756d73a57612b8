"""Silent wrong results refused, one test per class (issue 14): non-finite gradient checks,
non-number upstream gradients, integer weights, bad targets and labels, steps a dtype cannot
take, empty batches, and parameters rebound in ``params``.  Round two (issue 22): optimizers
that update all parameters or none, Batch Norm's start, eps, float16 and one-sample batches,
dtypes of gradients, the book's (N, 1) labels, shapes softmax refuses, hyper-parameters that
are not numbers, and the files README's examples write."""
import re
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest

import autograd.testing.table
from autograd import GradcheckError, Value, gradcheck
from nn import Affine, Relu, Sigmoid, SoftmaxWithLoss, TwoLayerNet, cross_entropy_error
from nn.gradient import numerical_gradient
from nn.layers import BatchNormalization, Dropout
from nn.layers.functions import softmax
from nn.training.optimizers import OPTIMIZERS, RMSprop

# ---------------------------------------------------------------- 4. gradcheck and nan


@pytest.mark.parametrize("numerical", [float("nan"), float("inf"), float("-inf")])
def test_gradcheck_fails_on_a_non_finite_numerical_gradient(numerical, monkeypatch):
    # Any function whose central difference overflows or is undefined gives these values.
    monkeypatch.setattr(autograd.testing.table, "numerical_grad", lambda f, inputs, h: [numerical, 3.0])
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    result = gradcheck(lambda a, b: a * b, [a, b])
    assert not result and result.worst_input == "a"
    assert result.max_abs_error == float("inf")
    assert "FAILED (worst: a)" in str(result)
    with pytest.raises(GradcheckError, match=r"gradcheck failed for a: .* not a finite number"):
        gradcheck(lambda a, b: a * b, [a, b], raise_exception=True)
    # The reported bug: inside all(map(...)) the bare StopIteration read as "all passed".
    with pytest.raises(GradcheckError):
        all(map(lambda x: gradcheck(lambda x: x * x, [x], raise_exception=True), [Value(1.0)]))


def test_gradcheck_reports_the_worst_of_two_inputs_with_one_label(monkeypatch):
    monkeypatch.setattr(autograd.testing.table, "numerical_grad", lambda f, inputs, h: [3.0, 9.0])
    a, b = Value(2.0, label="w"), Value(3.0, label="w")
    with pytest.raises(GradcheckError, match=r"backprop 2\.0, numerical 9\.0"):
        gradcheck(lambda a, b: a * b, [a, b], raise_exception=True)


# ---------------------------------------------------------------- 5. upstream gradients

def forwarded(kind):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3))
    if kind == "Affine":
        layer = Affine(rng.standard_normal((3, 2)), np.zeros(2))
    else:
        layer = {"Relu": Relu, "Sigmoid": Sigmoid}[kind]()
    return layer, layer.forward(x)


NOT_NUMBERS = [None, "1", object(), [None, None], 1j, True]


@pytest.mark.parametrize("kind", ["Affine", "Relu", "Sigmoid"])
@pytest.mark.parametrize("dout", NOT_NUMBERS, ids=repr)
def test_layers_refuse_upstream_gradients_that_are_not_numbers(kind, dout):
    layer, out = forwarded(kind)
    with pytest.raises(TypeError, match=rf"{kind}\.backward: dout must be real numbers"):
        layer.backward(dout)


@pytest.mark.parametrize("kind", ["Affine", "Relu", "Sigmoid"])
def test_layers_refuse_an_object_array_of_the_right_shape(kind):
    layer, out = forwarded(kind)
    with pytest.raises(TypeError, match=rf"{kind}\.backward: .*dtype object"):
        layer.backward(np.full(out.shape, None))


@pytest.mark.parametrize("dout", NOT_NUMBERS, ids=repr)
def test_softmax_with_loss_refuses_upstream_gradients_that_are_not_numbers(dout):
    layer = SoftmaxWithLoss()
    layer.forward(np.zeros((2, 3)), np.array([0, 2]))
    with pytest.raises(TypeError, match=r"SoftmaxWithLoss\.backward: dout must be real numbers"):
        layer.backward(dout)
    np.testing.assert_array_equal(layer.backward(np.float32(2)), 2 * layer.backward())


# ---------------------------------------------------------------- 6. decided, one by one

def test_affine_refuses_integer_weights_instead_of_truncating_its_input():
    with pytest.raises(TypeError, match=r"Affine: W must be floating point, got dtype int64"):
        Affine(np.ones((2, 2), dtype=np.int64), np.zeros(2))
    with pytest.raises(TypeError, match=r"Affine: b must be floating point"):
        Affine(np.ones((2, 2)), np.zeros(2, dtype=np.int32))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_one_hot_targets_with_nan_or_inf_are_refused(bad):
    t = np.eye(3)[[0, 1]]
    t[1, 2] = bad
    with pytest.raises(ValueError, match=r"one-hot target row 1 sums to"):
        SoftmaxWithLoss().forward(np.zeros((2, 3)), t)
    with pytest.raises(ValueError, match=r"cross_entropy_error: one-hot target row 1"):
        cross_entropy_error(np.full((2, 3), 1 / 3), t)


@pytest.fixture
def net_and_data():
    rng = np.random.default_rng(0)
    return TwoLayerNet(4, 5, 3, rng=0), rng.standard_normal((6, 4)), rng.integers(0, 3, 6)


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True])
def test_accuracy_refuses_a_batch_size_below_one(net_and_data, batch_size):
    net, x, t = net_and_data
    with pytest.raises(ValueError, match=r"accuracy: batch_size must be an integer >= 1"):
        net.accuracy(x, t, batch_size=batch_size)
    assert net.accuracy(x, t, batch_size=4) == net.accuracy(x, t)


@pytest.mark.parametrize("label", [3, 250, -1])
def test_accuracy_refuses_labels_that_are_not_classes(net_and_data, label):
    net, x, t = net_and_data
    t = t.copy()
    t[4] = label
    with pytest.raises(ValueError, match=rf"accuracy: label {label} is outside the range \[0, 3\)"):
        net.accuracy(x, t)
    with pytest.raises(ValueError, match=r"class indices must be integers"):
        net.accuracy(x, t.astype(float))


def test_accuracy_of_no_samples_is_an_error_not_nan(net_and_data):
    net, x, t = net_and_data
    with pytest.raises(ValueError, match=r"accuracy: no samples"):
        net.accuracy(x[:0], t[:0])


def test_numerical_gradient_refuses_a_step_the_dtype_cannot_take():
    x = np.ones(3, dtype=np.float16)  # 1 + 1e-4 rounds to 1 in float16: every derivative was 0
    with pytest.raises(ValueError, match=r"x\[0\] = 1\.0 in float16 cannot be moved by h=0\.0001"):
        numerical_gradient(lambda v: float(np.sum(v.astype(np.float64) ** 2)), x)
    np.testing.assert_array_equal(x, 1)  # restored
    big = np.array([1000.0], dtype=np.float32)  # steps of 6.1e-5 there: 1e-4 is not one
    with pytest.raises(ValueError, match=r"float32 cannot be moved"):
        numerical_gradient(lambda v: float(v[0]), big)
    # float32 near 1 moves by h to within 0.1%: allowed, and close to the truth.
    grad = numerical_gradient(lambda v: float(np.sum(v.astype(np.float64) ** 2)),
                              np.array([0.5, 1.0], dtype=np.float32))
    np.testing.assert_allclose(grad, [1.0, 2.0], rtol=2e-3)


def test_numerical_gradient_refuses_a_non_finite_point():
    with pytest.raises(ValueError, match=r"x\[1\] is nan"):
        numerical_gradient(lambda v: float(np.sum(v)), np.array([1.0, np.nan]))


# ---------------------------------------------------------------- 10. empty batches

def test_an_empty_batch_is_a_clear_error(net_and_data):
    net, x, t = net_and_data
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "mean of empty slice" on the way
        with pytest.raises(ValueError, match=r"SoftmaxWithLoss: empty batch \(scores of shape \(0, 3\)\)"):
            SoftmaxWithLoss().forward(np.zeros((0, 3)), np.zeros(0, dtype=int))
        with pytest.raises(ValueError, match=r"empty batch"):
            SoftmaxWithLoss().forward(np.zeros((0, 3)), np.zeros((0, 3)))
        with pytest.raises(ValueError, match=r"empty batch"):
            net.gradient(x[:0], t[:0])
        with pytest.raises(ValueError, match=r"empty batch"):
            net.loss(x[:0], t[:0])
        with pytest.raises(ValueError, match=r"cross_entropy_error: empty batch"):
            cross_entropy_error(np.zeros((0, 3)), np.zeros(0, dtype=int))


# ---------------------------------------------------------------- 16. rebinding params

def test_rebinding_a_parameter_reaches_the_layer(net_and_data):
    net, x, t = net_and_data
    W1 = np.zeros_like(net.params["W1"])
    net.params["W1"] = W1  # in the book the layer would keep the old array
    assert net.layers["Affine1"].W is W1 and net.params["W1"] is W1
    np.testing.assert_array_equal(net.predict(x), np.zeros((6, 3)))  # hidden all 0, b2 = 0
    grad = net.gradient(x, t)
    net.params["W1"] -= 0.1 * grad["W1"]  # the book's update: same array, still connected
    assert net.layers["Affine1"].W is W1
    b2 = np.ones(3)
    net.params.update(b2=b2)
    assert net.layers["Affine2"].b is b2
    W2 = np.full_like(net.params["W2"], 0.5)
    net.params |= {"W2": W2}
    assert net.layers["Affine2"].W is W2
    new = {k: v.copy() for k, v in net.params.items()}
    net.params = new  # the whole dict: each array is given to its layer
    assert all(net.params[k] is new[k] for k in new)
    assert net.layers["Affine1"].W is new["W1"] and net.layers["Affine2"].b is new["b2"]


@pytest.mark.parametrize("value, problem", [
    (np.zeros((4, 6)), "shape"), (np.zeros((4, 5), dtype=np.float32), "dtype"),
    ([[0.0] * 5] * 4, "list"),
])
def test_rebinding_a_parameter_to_another_shape_or_dtype_is_refused(net_and_data, value, problem):
    net, x, t = net_and_data
    old = net.params["W1"]
    with pytest.raises(ValueError, match=r"params\['W1'\]: the network's W1 is a float64 array of "
                                         r"shape \(4, 5\)"):
        net.params["W1"] = value
    assert net.params["W1"] is old and net.layers["Affine1"].W is old


def test_training_on_an_empty_set_is_a_clear_error(net_and_data):
    from nn.train import train
    net, x, t = net_and_data
    with pytest.raises(ValueError, match=r"train: x_train is empty"):
        train(net, x[:0], t[:0], x, t, iters_num=1, batch_size=2, progress=False, verbose=False)


def test_a_copied_network_keeps_its_own_params_connected(net_and_data):
    import copy
    net, x, t = net_and_data
    twin = copy.deepcopy(net)
    assert twin.params["W1"] is twin.layers["Affine1"].W and twin.params["W1"] is not net.params["W1"]
    np.testing.assert_array_equal(twin.predict(x), net.predict(x))
    twin.params["W2"] = np.zeros_like(twin.params["W2"])
    assert twin.layers["Affine2"].W is twin.params["W2"] and net.params["W2"].any()


@pytest.mark.parametrize("bad", [None, "1", b"1", True, [1.0], np.array(["a"]), 1j])
def test_the_books_scalar_layers_refuse_non_numbers(bad):
    from autograd import AddLayer, MulLayer
    mul, add = MulLayer(), AddLayer()
    with pytest.raises(TypeError, match=r"MulLayer\.forward: x: expected a number"):
        mul.forward(bad, 2.0)
    with pytest.raises(TypeError, match=r"AddLayer\.forward: y: expected a number"):
        add.forward(2.0, bad)
    mul.forward(3.0, 4.0)
    with pytest.raises(TypeError, match=r"MulLayer\.backward: dout: expected a number"):
        mul.backward(bad)
    with pytest.raises(TypeError, match=r"AddLayer\.backward: dout: expected a number"):
        add.backward(bad)
    assert mul.backward(np.float32(2.0)) == (8.0, 6.0) and add.backward(2) == (2, 2)


# ---------------------------------------------------------------- issue 22, round two

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


@pytest.mark.parametrize("make, argument, expected", [
    (lambda v: RMSprop(lr=v), "lr", "> 0"),
    (lambda v: Dropout(v), "dropout_ratio", r"in \[0, 1\)"),
    (lambda v: BatchNormalization(np.ones(2), np.zeros(2), momentum=v), "momentum",
     r"in \[0, 1\]"),
    (lambda v: BatchNormalization(np.ones(2), np.zeros(2), eps=v), "eps", "> 0"),
] + [(lambda v, c=c, a=a: c(**{a: v}), a, None) for c in OPTIMIZERS.values()
     for a in c.__init__.__code__.co_varnames[1:c.__init__.__code__.co_argcount]])
@pytest.mark.parametrize("value", [None, "0.5", True, [0.5], 1j])
def test_hyperparameters_that_are_not_numbers_are_named(make, argument, expected, value):
    # item 26: RMSprop(lr=None), Dropout('0.5'), Dropout(None) ...: the argument and what it
    # must be (a string was converted by float() before, None failed inside float()).
    what = expected or r"(> 0|in \[0, 1\))"
    with pytest.raises(TypeError, match=rf": {argument} must be a number {what}, got "):
        make(value)


@pytest.mark.parametrize("eps", [0, -1, 0.0, float("nan")])
def test_batchnorm_refuses_an_eps_that_is_not_positive(eps):
    # item 14: eps 0 gave nan for a constant feature, -1 the square root of a negative.
    with pytest.raises(ValueError, match=r"BatchNormalization: eps must be a number > 0"):
        BatchNormalization(np.ones(2), np.zeros(2), eps=eps)


def test_batchnorm_in_test_mode_before_training_is_near_the_identity():
    # item 13: with no training batch yet, mean 0 and variance 1 (it was variance 0: 1000 x);
    # the running averages then start from 0, as the book's.
    x = np.random.default_rng(0).normal(size=(5, 3))
    layer = BatchNormalization(np.ones(3), np.zeros(3))
    np.testing.assert_allclose(layer.forward(x, train_flg=False), x / np.sqrt(1 + 1e-6),
                               rtol=1e-12)
    assert layer.running_mean is None  # nothing estimated from a test batch
    layer.forward(x)
    np.testing.assert_allclose(layer.running_var, 0.1 * x.var(axis=0), rtol=1e-12)


def test_batchnorm_float16_statistics_do_not_overflow():
    # item 14: squares of float16 values above 256 overflow; the statistics are float32.
    x = np.array([[-400, 1], [-200, 2], [200, 3], [400, 5]], dtype=np.float16)
    layer = BatchNormalization(np.ones(2, np.float16), np.zeros(2, np.float16))
    y = layer.forward(x)
    reference = BatchNormalization(np.ones(2), np.zeros(2)).forward(x.astype(np.float64))
    assert y.dtype == np.float16 and np.all(np.isfinite(layer.running_var))
    np.testing.assert_allclose(y, reference, rtol=2e-3, atol=2e-3)
    assert abs(y[0, 0]) > 1  # not the 0 that an inf variance gives
    dx = layer.backward(np.ones_like(y))
    assert dx.dtype == layer.dgamma.dtype == layer.dbeta.dtype == np.float16


def test_a_one_sample_training_batch_warns_that_the_output_is_beta():
    # item 16: the variance of one sample is 0: y = beta, dx = 0.  A warning, not an error:
    # the book's batch_norm_gradient_check.py runs on x_train[:1].
    layer = BatchNormalization(np.ones(3), np.array([1.0, 2.0, 3.0]))
    with pytest.warns(RuntimeWarning, match=r"one sample .*\(1, 3\).*beta and dx is 0"):
        y = layer.forward(np.array([[5.0, -1.0, 7.0]]))
    np.testing.assert_array_equal(y, [[1.0, 2.0, 3.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # per channel, one image has H * W values per channel
        BatchNormalization(np.ones(2), np.zeros(2)).forward(np.arange(8.0).reshape(1, 2, 2, 2))
        layer.forward(np.array([[5.0, -1.0, 7.0]]), train_flg=False)  # test mode: no batch stats


@pytest.mark.parametrize("make", [
    lambda: (Affine(np.ones((3, 2), np.float32), np.zeros(2, np.float32)), ()),
    lambda: (BatchNormalization(np.ones(2, np.float32), np.zeros(2, np.float32)), ()),
    lambda: (Relu(), ()), lambda: (Sigmoid(), ()), lambda: (Dropout(0.3, rng=0), ()),
])
def test_a_float32_layer_given_a_float64_dout_keeps_float32(make):
    # item 15: gradients keep their parameter's dtype (Affine's dW, db were float64).
    layer, _ = make()
    x = np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5
    y = layer.forward(x if not isinstance(layer, BatchNormalization) else x[:, :2])
    dx = layer.backward(np.ones(y.shape, np.float64))
    grads = [dx] + [getattr(layer, n) for n in ("dW", "db", "dgamma", "dbeta")
                    if hasattr(layer, n)]
    assert [g.dtype for g in grads] == [np.float32] * len(grads)


@pytest.mark.parametrize("n", [1, 3])
def test_softmax_with_loss_takes_the_books_n_by_1_class_indices(n):
    # item 18: ch07/gradient_check.py passes t = np.array([1]).reshape((1, 1)).
    x = np.random.default_rng(n).normal(size=(n, 10))
    t = np.arange(1, n + 1)
    by_column, by_vector = SoftmaxWithLoss(), SoftmaxWithLoss()
    assert by_column.forward(x, t.reshape(n, 1)) == by_vector.forward(x, t)
    np.testing.assert_array_equal(by_column.backward(), by_vector.backward())
    assert cross_entropy_error(softmax(x), t.reshape(n, 1)) == cross_entropy_error(softmax(x), t)


@pytest.mark.parametrize("shape", [(), (3, 0)])
def test_softmax_names_a_shape_it_cannot_take(shape):
    # item 23: numpy's "return arrays must be of ArrayType" or zero-size reduction before.
    with pytest.raises(ValueError, match=rf"softmax: scores must have shape \(C,\) or \(N, C\) "
                                         rf"with C >= 1 .*got shape {re.escape(str(shape))}"):
        softmax(np.zeros(shape))
    assert softmax(np.zeros((0, 3))).shape == (0, 3)  # no samples is still a batch


@pytest.mark.parametrize("name", ["curves.png", "filters.png", "optimizers.png", "run.json",
                                  "price.html", "weights.npz", "notebooks/apple_orange.html"])
def test_files_the_readme_examples_write_are_ignored_by_git(name):
    # item 39; the figures the docs show (docs/*.png) stay tracked.
    root = Path(__file__).resolve().parent.parent
    ignored = ["git", "check-ignore", "-q", "--no-index"]
    assert subprocess.run(ignored + [name], cwd=root, check=False).returncode == 0
    assert subprocess.run(ignored + ["docs/explorer.png"], cwd=root, check=False).returncode == 1
