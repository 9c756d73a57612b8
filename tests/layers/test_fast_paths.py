"""The training step's hot spots against an independent float64 reference.

SoftmaxWithLoss (the ``softmax_cross_entropy`` row of ``autograd.ops``, its index branch
too) on numpy arrays, Python lists and one-hot targets alike; Affine on arrays against
Affine on lists; ``relu`` of a float array.

The reference is written per sample with Python's ``math`` (no numpy): for scores x and
target t, loss = log(fsum_k exp(x_k - m)) - (x_t - m) with m = max_k x_k, and
dL/dx_k = (exp(x_k - m) / sum - [k == t]) / N.
"""
import math
import tracemalloc
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import ops
from nn import Affine, SoftmaxWithLoss, relu
from nn.layers import functions

# Row offsets: ordinary scores, huge logits, and rows far apart from each other (a row
# around 0 next to one around 2000: shifting every row by the batch's maximum instead of
# its own would make the first row's exponentials underflow to 0).
OFFSETS = st.sampled_from([0.0, 0.0, 1000.0, -1000.0, 2000.0, 1e-3])


def reference(x, t):
    """(loss, dL/dx) in float64, sample by sample with ``math``."""
    n = len(x)
    losses, grads = [], []
    for row, label in zip(x.tolist(), t.tolist()):
        m = max(row)
        e = [math.exp(v - m) for v in row]
        s = math.fsum(e)
        losses.append(math.log(s) - (row[label] - m))
        grads.append([(ek / s - (k == label)) / n for k, ek in enumerate(e)])
    return math.fsum(losses) / n, np.array(grads)


@st.composite
def scores_and_labels(draw):
    """Scores (N, C) in float64 with per-row offsets, some classes at -inf (probability 0,
    never the target), and class indices (N,) of a random integer dtype."""
    n, c = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    x = draw(hnp.arrays(np.float64, (n, c), elements=st.floats(-30, 30)))
    x += np.array([draw(OFFSETS) for _ in range(n)])[:, None]
    labels = [draw(st.integers(0, c - 1)) for _ in range(n)]
    dead = draw(hnp.arrays(np.bool_, (n, c)))
    dead[np.arange(n), labels] = False
    x[dead] = -np.inf
    dtype = draw(st.sampled_from([np.uint8, np.int8, np.int32, np.int64, np.uint64]))
    return x, np.array(labels, dtype=dtype)


def loss_and_grad(x, t, dout=1.0):
    layer = SoftmaxWithLoss()
    loss = layer.forward(x, t)
    return loss, layer.backward(dout)


@settings(max_examples=200)
@given(data=scores_and_labels(), dout=st.sampled_from([1, 2.5]))
def test_softmax_with_loss_fast_path_is_stable_and_exact(data, dout):
    x, t = data
    x_before, t_before = x.copy(), t.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow, no log(0), no inf - inf
        fast = loss_and_grad(x, t, dout)
        general = loss_and_grad(x.tolist(), t.tolist(), dout)
        one_hot = loss_and_grad(x, np.eye(x.shape[1])[t], dout)
    ref_loss, ref_grad = reference(x, t)

    scale = max(1.0, np.abs(x[np.isfinite(x)]).max())
    for loss, dx in (fast, general, one_hot):
        assert loss.dtype == np.float64 and math.isfinite(loss)
        assert loss == pytest.approx(ref_loss, rel=1e-12, abs=1e-14 * scale)
        assert dx.shape == x.shape and np.all(np.isfinite(dx))
        np.testing.assert_allclose(dx, dout * ref_grad, rtol=1e-12, atol=1e-15)
    assert fast[0] == pytest.approx(general[0], rel=1e-14, abs=1e-15 * scale)
    np.testing.assert_allclose(fast[1], general[1], rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(t, t_before)


@given(data=scores_and_labels())
def test_softmax_cross_entropy_matches_log_softmax_and_softmax(data):
    x, t = data
    loss, y = ops.softmax_cross_entropy.forward(x, t=t.astype(np.intp))
    assert loss == pytest.approx(functions.mean_nll(functions.log_softmax(x), t.astype(np.intp)),
                                 rel=1e-14, abs=1e-12)
    np.testing.assert_allclose(y, functions.softmax(x), rtol=1e-14, atol=1e-300)
    assert y.flags.c_contiguous


def test_rows_far_apart_each_keep_their_own_precision():
    # Row 0 around 0, row 1 around 2000: exp(x - 2000) is 0 for all of row 0.
    x = np.array([[0.0, -1.0, 1e-3], [2000.0, 1999.0, 2000.5]])
    t = np.array([1, 0], np.uint8)
    loss, dx = loss_and_grad(x, t)
    ref_loss, ref_grad = reference(x, t)
    assert loss == pytest.approx(ref_loss, rel=1e-15)
    np.testing.assert_allclose(dx, ref_grad, rtol=1e-14, atol=1e-17)
    assert np.all(dx[0] != 0)  # row 0's probabilities did not underflow


def test_zero_probability_classes_and_exact_loss_far_from_the_answer():
    x = np.array([[-np.inf, 0.0, 800.0], [1000.0, -np.inf, -1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, dx = loss_and_grad(x, np.array([1, 2]))
        # Sample 0: 800 + log(1 + e^-800); sample 1: 2000 + log(1 + e^-2000); both exact.
        assert loss == (800.0 + 2000.0) / 2
        np.testing.assert_array_equal(dx, [[0.0, -0.5, 0.5], [0.5, 0.0, -0.5]])
        # A target whose score is -inf has probability 0: the loss is +inf, not nan.
        assert loss_and_grad(x, np.array([0, 0]))[0] == np.inf


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_path_keeps_the_dtype(dtype):
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(dtype)
    loss, dx = loss_and_grad(x, np.array([0, 3, 1, 1, 2], np.uint8))
    assert loss.dtype == dtype and dx.dtype == dtype
    ref_loss, ref_grad = reference(x.astype(np.float64), np.array([0, 3, 1, 1, 2]))
    eps = float(np.finfo(dtype).eps)  # pytest.approx wants a Python number
    assert loss == pytest.approx(ref_loss, rel=20 * eps)
    np.testing.assert_allclose(dx, ref_grad, rtol=20 * eps, atol=eps / 5)


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.intp])
def test_index_targets_are_kept_as_intp(dtype):
    # intp is what fancy indexing uses: other types would be converted at every use.
    labels = np.array([0, 3, 1], dtype)
    layer = SoftmaxWithLoss()
    layer.forward(np.zeros((3, 4), np.float32), labels)
    assert layer.t.dtype == np.intp and layer.t.tolist() == [0, 3, 1]
    assert labels.dtype == dtype and labels.tolist() == [0, 3, 1]


@pytest.mark.parametrize("labels", [np.array([1, 10, 2], np.uint8), np.array([1, 10, 2], np.uint64),
                                    np.array([1, -1, 2], np.int8), np.array([1, -1, 2], np.int64)])
def test_fast_path_refuses_bad_labels_with_the_general_message(labels):
    bad = labels[1]
    for dtype in (np.float32, np.float64):
        with pytest.raises(ValueError, match=rf"label {bad} .*\[0, 10\)"):
            SoftmaxWithLoss().forward(np.zeros((3, 10), dtype), labels)
    with pytest.raises(ValueError, match=r"\(2,\).*\(3, 10\)"):
        SoftmaxWithLoss().forward(np.zeros((3, 10)), labels[:2])


def test_index_rule_with_a_fortran_ordered_y():
    # y in Fortran order (e.g. a transposed array) gets the right gradient and is left as it was.
    rng = np.random.default_rng(2)
    y = np.asfortranarray(functions.softmax(rng.standard_normal((4, 3))))
    y_before, t = y.copy(), np.array([2, 0, 1, 2])
    dx = ops.softmax_cross_entropy.backward[0](1, (None, y), None, t=t)
    np.testing.assert_allclose(dx, (y - np.eye(3)[t]) / 4, rtol=1e-15, atol=1e-17)
    np.testing.assert_array_equal(y, y_before)


# ---------------------------------------------------------------- Affine and relu

@given(data=st.data())
def test_affine_on_arrays_gives_the_numbers_it_gives_on_lists(data):
    n, d, m = (data.draw(st.integers(1, 5)) for _ in range(3))
    elements = st.floats(-1e3, 1e3)
    x = data.draw(hnp.arrays(np.float64, (n, d), elements=elements))
    W = data.draw(hnp.arrays(np.float64, (d, m), elements=elements))
    b = data.draw(hnp.arrays(np.float64, (m,), elements=elements))
    g = data.draw(hnp.arrays(np.float64, (n, m), elements=elements))
    fast, general = Affine(W, b), Affine(W, b)
    out_fast, out_general = fast.forward(x), general.forward(x.tolist())
    np.testing.assert_array_equal(out_fast, out_general)
    np.testing.assert_array_equal(fast.backward(g), general.backward(g.tolist()))
    np.testing.assert_array_equal(fast.dW, general.dW)
    np.testing.assert_array_equal(fast.db, general.db)
    # Independent of both: the definitions, with db summed in float64 by math.fsum.
    np.testing.assert_allclose(out_fast, x @ W + b, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(fast.db, [math.fsum(col) for col in g.T], rtol=1e-12, atol=1e-9)


def test_affine_lets_the_previous_input_go_before_converting():
    # A float64 layer fed float32 batches keeps a float64 copy of each; the previous
    # copy is released first, so two copies never exist at once.
    layer = Affine(np.zeros((784, 5)), np.zeros(5))
    x = np.ones((500, 784), np.float32)
    tracemalloc.start()
    try:
        layer.forward(x)
        start = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        layer.forward(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert layer.x.dtype == np.float64
    assert peak - start < x.size * 8 / 2  # less than half a float64 copy on top


@given(x=hnp.arrays(st.sampled_from([np.float32, np.float64]), hnp.array_shapes(max_dims=3),
                    elements=st.floats(-1e6, 1e6, width=32) | st.sampled_from([0.0, -0.0])))
def test_relu_keeps_dtype_and_shape_and_matches_lists(x):
    y = relu(x)
    assert y.dtype == x.dtype and y.shape == x.shape
    np.testing.assert_array_equal(y, np.maximum(x, 0))
    np.testing.assert_array_equal(y, np.array(relu(x.tolist()), dtype=x.dtype))
    assert not np.shares_memory(y, x)
