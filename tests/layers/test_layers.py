"""nn.layers, nn.layers.functions and nn.gradient: derivatives through ``autograd.testing``
(back-propagation against differences in float64, along random directions, float32 and
float64, to the second order) on hypothesis-drawn shapes and values; stability, dtypes,
no mutation, errors.
"""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd.testing
import nn
from autograd import ops
from autograd.testing import arrays_for, check_grads, class_labels, close, float_arrays
from nn import (Affine, ReLU, Relu, Sigmoid, SoftmaxWithLoss, cross_entropy_error, log_softmax,
                numerical_gradient, relu, sigmoid, softmax)

SHAPES = hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)
DTYPES = st.sampled_from([np.float64, np.float32])


# ---------------------------------------------------------------- layers vs central differences
# check_grads: back-propagation against differences of the forward in float64, along random
# directions, to the second order; float32 layers included (the numerical side on a float64
# copy); inputs, dout and outputs not mutated, gradients new arrays of the inputs' dtype.

@given(data=st.data(), dtype=DTYPES)
def test_relu_backward_matches_central_differences(data, dtype):
    x = data.draw(arrays_for(ops.relu, 0, data.draw(SHAPES), dtype, bound=5.0))  # 0.1 from 0
    assert check_grads(Relu(), x, order=2, rng=data.draw(st.integers(0, 99))).left_out == 0


@given(data=st.data(), dtype=DTYPES)
def test_sigmoid_backward_matches_central_differences(data, dtype):
    x = data.draw(arrays_for(ops.sigmoid, 0, data.draw(SHAPES), dtype, bound=10.0))
    check_grads(Sigmoid(), x, order=2, rng=data.draw(st.integers(0, 99)))


@given(data=st.data(), dtype=DTYPES)
def test_affine_backward_matches_central_differences(data, dtype):
    # A batch of any sample shape, e.g. images (N, 1, h, w): D is the flattened size.
    n = data.draw(st.integers(1, 4))
    sample_shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
    m = data.draw(st.integers(1, 4))
    d = math.prod(sample_shape)
    x, W, b = (data.draw(arrays_for(ops.affine, i, s, dtype, bound=5.0)) for i, s in
               enumerate(((n, *sample_shape), (d, m), (m,))))
    layer = Affine(W, b)
    result = check_grads(layer, x, order=2, rng=data.draw(st.integers(0, 99)))
    assert result.checked == 2  # dx, dW and db along one direction, to the second order
    assert layer.forward(x).shape == (n, m)

    # input_grad=False: the same dW and db, no dx.
    g = np.ones((n, m), dtype)
    layer.forward(x)
    layer.backward(g)
    first = Affine(W, b, input_grad=False)
    first.forward(x)
    assert first.backward(g) is None
    np.testing.assert_array_equal(first.dW, layer.dW)
    np.testing.assert_array_equal(first.db, layer.db)
    check_grads(first, x)  # dW and db alone


@settings(max_examples=20)
@given(data=st.data())
def test_affine_single_sample(data):
    d, m = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    x, W, b = (data.draw(arrays_for(ops.affine, i, s, bound=5.0))
               for i, s in enumerate(((d,), (d, m), (m,))))
    layer = Affine(W, b)
    out = layer.forward(x)
    assert out.shape == (m,)
    close(out, x @ W + b)
    check_grads(Affine(W, b), x, order=2)


@given(data=st.data(), one_hot=st.booleans(), dout=st.sampled_from([1, 2.5]), dtype=DTYPES)
def test_softmax_with_loss_backward_matches_central_differences(data, one_hot, dout, dtype):
    n, c = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))
    x = data.draw(arrays_for(ops.softmax_cross_entropy, 0, (n, c), dtype, bound=10.0))
    t = data.draw(class_labels(n, c, one_hot))
    assert np.ndim(SoftmaxWithLoss().forward(x, t)) == 0
    check_grads(SoftmaxWithLoss(), x, params={"t": t}, upstream=dout, order=2)


@given(data=st.data(), one_hot=st.booleans())
def test_softmax_with_loss_single_sample(data, one_hot):
    c = data.draw(st.integers(1, 5))
    x = data.draw(arrays_for(ops.softmax_cross_entropy, 0, (c,), bound=10.0))
    label = data.draw(st.integers(0, c - 1))
    t = np.eye(c)[label] if one_hot else label
    layer = SoftmaxWithLoss()
    loss = layer.forward(x, t)
    # Independent formula: -log of the label's softmax probability.
    assert loss == pytest.approx(-math.log(math.exp(x[label]) / np.exp(x).sum()), rel=1e-12)
    assert layer.backward().shape == (c,)
    check_grads(SoftmaxWithLoss(), x, params={"t": t}, order=2)


@given(data=st.data())
def test_one_hot_and_index_targets_give_the_same_loss_and_gradient(data):
    n, c = data.draw(st.integers(1, 5)), data.draw(st.integers(2, 5))
    x = data.draw(float_arrays((n, c), bound=10))
    labels = data.draw(class_labels(n, c))
    a, b = SoftmaxWithLoss(), SoftmaxWithLoss()
    assert a.forward(x, labels) == pytest.approx(b.forward(x, np.eye(c)[labels]), rel=1e-14)
    np.testing.assert_allclose(a.backward(), b.backward(), rtol=1e-14, atol=1e-16)


# ---------------------------------------------------------------- functions

@given(x=float_arrays(bound=30))
def test_softmax_and_log_softmax_against_the_definition(x):
    y = softmax(x)
    expected = np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(log_softmax(x), np.log(expected), rtol=1e-12, atol=1e-12)


@given(x=float_arrays(bound=30), shift=st.floats(-1000, 1000))
def test_softmax_is_shift_invariant_and_never_overflows(x, shift):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning fails the test
        np.testing.assert_allclose(softmax(x + shift), softmax(x), rtol=1e-9, atol=1e-300)
        np.testing.assert_allclose(log_softmax(x + shift), log_softmax(x), rtol=1e-9, atol=1e-9)


@given(x=float_arrays(bound=30))
def test_sigmoid_and_relu_against_the_definitions(x):
    np.testing.assert_allclose(sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-14)
    np.testing.assert_allclose(sigmoid(-x), 1 - sigmoid(x), rtol=1e-9, atol=1e-15)
    np.testing.assert_array_equal(relu(x), np.where(x > 0, x, 0.0))


def test_no_overflow_at_logits_of_1000():
    x = np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = softmax(x)
        np.testing.assert_allclose(y, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-15)
        np.testing.assert_array_equal(sigmoid(np.array([-1000.0, 1000.0])), [0.0, 1.0])
        layer = SoftmaxWithLoss()
        assert layer.forward(x, np.array([2, 0])) == pytest.approx((2000 + math.log(3)) / 2, rel=1e-15)
        assert np.all(np.isfinite(layer.backward()))


def test_loss_is_exact_far_from_the_answer():
    # -log softmax(x)[0] = 800 + log(1 + e^-800) = 800; an epsilon in the log caps it at ~16.
    layer = SoftmaxWithLoss()
    assert layer.forward(np.array([[0.0, 800.0]]), np.array([0])) == 800.0
    np.testing.assert_allclose(layer.backward(), [[-1.0, 1.0]], rtol=1e-15)


@given(data=st.data(), one_hot=st.booleans())
def test_cross_entropy_error_against_the_definition(data, one_hot):
    n, c = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))
    y = softmax(data.draw(float_arrays((n, c), bound=10)))
    labels = data.draw(class_labels(n, c))
    t = np.eye(c)[labels] if one_hot else labels
    expected = -np.mean(np.log(y[np.arange(n), labels]))
    assert cross_entropy_error(y, t) == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_error_never_takes_log_of_zero():
    y = np.array([[0.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for t in (np.array([0]), np.array([[1.0, 0.0]]), np.array([1])):
            assert np.isfinite(cross_entropy_error(y, t))
    assert cross_entropy_error(y, np.array([1])) == 0.0


# ---------------------------------------------------------------- numerical_gradient

@given(x=float_arrays(min_dims=0, max_dims=4))
def test_numerical_gradient_of_a_known_function(x):
    c = np.linspace(-1, 1, x.size).reshape(x.shape)
    grad = numerical_gradient(lambda v: np.sum(c * np.sin(v)), x)
    np.testing.assert_allclose(grad, c * np.cos(x), rtol=1e-6, atol=1e-8)


@given(x=hnp.arrays(st.sampled_from([np.float32, np.float64]), hnp.array_shapes(max_dims=3),
                    elements=st.floats(-1e6, 1e6, width=32)))
def test_numerical_gradient_perturbs_in_place_and_restores_exactly(x):
    original = x.copy()
    seen = []

    def f(v):
        assert v is x  # the book's way: f sees the array being perturbed
        seen.append(np.count_nonzero(v != original))
        return float(np.sum(v))

    try:
        numerical_gradient(f, x)
    except ValueError as err:  # float32 far from 0 cannot move by h: refused, and restored too
        assert "cannot be moved by h" in str(err)
    assert x.tobytes() == original.tobytes()
    assert max(seen, default=0) <= 1  # one element at a time


def test_numerical_gradient_restores_even_if_f_raises():
    x = np.array([0.1, 0.2, 0.3])

    def f(v):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        numerical_gradient(f, x)
    assert x.tolist() == [0.1, 0.2, 0.3]


def test_numerical_gradient_uses_central_difference(monkeypatch):
    calls = []
    real = autograd.testing.central_difference

    def spy(f, x, h):
        calls.append(h)
        return real(f, x, h)

    monkeypatch.setattr(nn.gradient, "central_difference", spy)
    numerical_gradient(lambda v: np.sum(v ** 2), np.zeros((2, 3)), h=1e-3)
    assert calls == [1e-3] * 6


def test_numerical_gradient_rejects_integer_arrays():
    with pytest.raises(TypeError, match="array of floats"):
        numerical_gradient(lambda v: v.sum(), np.arange(3))


# ---------------------------------------------------------------- no mutation of the caller's arrays

def test_layers_do_not_mutate_their_inputs():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3))
    W, b = rng.standard_normal((3, 5)), rng.standard_normal(5)
    dout = rng.standard_normal((4, 5))
    t_index, t_onehot = np.array([0, 4, 2, 1]), np.eye(5)[[0, 4, 2, 1]]
    arrays_ = [x, W, b, dout, t_index, t_onehot]
    copies = [a.copy() for a in arrays_]

    for layer in (Relu(), Sigmoid()):
        out = layer.forward(dout)
        layer.backward(dout)  # the seed's Relu.backward zeroed parts of dout
        out[...] = 7.0  # changing the output must not reach the input either
    affine = Affine(W, b)
    affine.forward(x)
    affine.backward(dout)
    for t in (t_index, t_onehot):
        loss_layer = SoftmaxWithLoss()
        loss_layer.forward(dout, t)
        loss_layer.backward(2.0)
    softmax(dout), log_softmax(dout), sigmoid(dout), relu(dout), cross_entropy_error(softmax(dout), t_index)

    for a, c in zip(arrays_, copies):
        np.testing.assert_array_equal(a, c)


def test_affine_keeps_W_and_b_by_reference():
    W, b = np.ones((2, 3)), np.zeros(3)
    layer = Affine(W, b)
    W -= 0.5  # the book's in-place update
    b += 1.0
    np.testing.assert_array_equal(layer.forward(np.array([[1.0, 1.0]])), [[2.0, 2.0, 2.0]])


def test_relu_alias_and_book_mask():
    assert ReLU is Relu
    layer = Relu()
    layer.forward(np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(layer.mask, [True, True, False])


def test_default_dout_is_one_everywhere():
    x = np.array([[1.0, -2.0], [3.0, 4.0]])
    relu_layer, sig = Relu(), Sigmoid()
    relu_layer.forward(x)
    sig.forward(x)
    np.testing.assert_array_equal(relu_layer.backward(), relu_layer.backward(np.ones_like(x)))
    np.testing.assert_array_equal(sig.backward(), sig.backward(np.ones_like(x)))


# ---------------------------------------------------------------- dtypes

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layers_keep_the_dtype(dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4)).astype(dtype)
    W, b = rng.standard_normal((4, 5)).astype(dtype), np.zeros(5, dtype)
    for layer in (Relu(), Sigmoid()):
        assert layer.forward(x).dtype == dtype
        assert layer.backward(np.ones_like(x)).dtype == dtype
        assert layer.backward().dtype == dtype
    affine = Affine(W, b)
    out = affine.forward(x.astype(np.float64))  # inputs are computed in W's dtype
    assert out.dtype == dtype
    assert affine.backward(np.ones_like(out)).dtype == dtype
    assert affine.dW.dtype == dtype and affine.db.dtype == dtype
    for t in (np.array([0, 4, 2]), np.eye(5)[[0, 4, 2]]):  # one-hot in float64 on purpose
        loss_layer = SoftmaxWithLoss()
        loss = loss_layer.forward(out, t)
        assert loss.dtype == dtype
        assert loss_layer.backward().dtype == dtype
        assert loss_layer.backward(0.5).dtype == dtype
    for f in (softmax, log_softmax, sigmoid, relu):
        assert f(x).dtype == dtype


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("bad", [10, -1])
def test_labels_out_of_range_name_the_label_and_the_range(bad):
    with pytest.raises(ValueError, match=rf"label {bad} .*\[0, 10\)"):
        SoftmaxWithLoss().forward(np.zeros((3, 10)), np.array([1, bad, 2]))
    with pytest.raises(ValueError, match=rf"label {bad} .*\[0, 10\)"):
        cross_entropy_error(np.full((3, 10), 0.1), np.array([1, 2, bad]))


def test_targets_of_the_wrong_shape_name_both_shapes():
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(3, 10\)"):
        SoftmaxWithLoss().forward(np.zeros((3, 10)), np.zeros((3, 2), dtype=int))
    with pytest.raises(ValueError, match=r"\(4,\).*\(3, 10\)"):
        SoftmaxWithLoss().forward(np.zeros((3, 10)), np.array([1, 2, 3, 4]))
    with pytest.raises(ValueError, match=r"\(2, 3, 4\)"):
        SoftmaxWithLoss().forward(np.zeros((2, 3, 4)), np.zeros((2, 3), dtype=int))


def test_float_labels_and_rows_that_are_not_one_hot_are_refused():
    with pytest.raises(ValueError, match="integers"):
        SoftmaxWithLoss().forward(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="sums to"):
        SoftmaxWithLoss().forward(np.zeros((2, 3)), np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))


def test_affine_shape_errors_name_the_input_and_W():
    layer = Affine(np.zeros((784, 50)), np.zeros(50))
    with pytest.raises(ValueError, match=r"\(100, 1, 28, 27\).*\(784, 50\)"):
        layer.forward(np.zeros((100, 1, 28, 27)))
    with pytest.raises(ValueError, match=r"\(783,\).*\(784, 50\)"):
        layer.forward(np.zeros(783))
    layer.forward(np.zeros((100, 1, 28, 28)))  # flattens to 784: fine
    with pytest.raises(ValueError, match=r"\(100, 49\).*\(100, 50\)"):
        layer.backward(np.zeros((100, 49)))
    with pytest.raises(ValueError, match=r"b must .*\(50,\)"):
        Affine(np.zeros((784, 50)), np.zeros(10))


def test_backward_before_forward_says_so():
    for layer in (Relu(), Sigmoid(), Affine(np.zeros((2, 2)), np.zeros(2)), SoftmaxWithLoss()):
        with pytest.raises(RuntimeError, match="before forward"):
            layer.backward()


def test_a_zero_probability_class_with_one_hot_target_gives_a_finite_loss():
    # Scores of -inf (probability exactly 0) for a class the target does not pick.
    x = np.array([[-np.inf, 2.0, 0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0 * -inf = nan, not even as a warning
        one_hot = SoftmaxWithLoss().forward(x, np.array([[0.0, 1.0, 0.0]]))
    index = SoftmaxWithLoss().forward(x, np.array([1]))
    assert math.isfinite(one_hot) and one_hot == index
