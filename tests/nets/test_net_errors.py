"""The nets refuse bad batches, labels and parameters, and keep params connected to their layers."""
import warnings

import numpy as np
import pytest

from nn import SoftmaxWithLoss, TwoLayerNet, cross_entropy_error


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
