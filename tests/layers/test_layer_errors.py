"""The layers refuse what would give wrong numbers: upstream gradients that are not numbers, integer weights, bad targets, bad settings, Batch Norm's edge cases, dtypes kept."""
import re
import warnings

import numpy as np
import pytest

from nn import Affine, Relu, Sigmoid, SoftmaxWithLoss, cross_entropy_error
from nn.layers import BatchNormalization, Dropout
from nn.layers.functions import softmax
from nn.training.optimizers import OPTIMIZERS, RMSprop


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
