"""Chapter 7: im2col/col2im, Convolution, Pooling and SimpleConvNet.

References, each independent of the code under test:
- loops over every output pixel written out in the tests (the definitions);
- back-propagation against central differences in float64 along random directions
  (autograd.testing.check_grads), leaving out points where the step crosses a kink, a
  change of a pooling window's maximum; SimpleConvNet through the book's check
  (nn.gradcheck), which leaves out coordinates where +-h crosses a ReLU kink;
- the scalar engine (autograd.Value), built element by element;
- PyTorch's conv2d and max_pool2d (the ``test`` extra installs torch).
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograd import Value
from autograd.testing import check_grads
from nn.layers.conv import Convolution, Pooling, col2im, im2col
from nn.gradcheck import gradient_check, passed
from nn.nets.simple_conv_net import SimpleConvNet

# ------------------------------------------------------------------- shapes drawn by hypothesis


@st.composite
def conv_case(draw, max_size=7):
    """(x, W, b, stride, pad) with OH, OW >= 1, float64."""
    n, c, fn = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    fh, fw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride, pad = draw(st.integers(1, 3)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, fh - 2 * pad), max_size))
    w = draw(st.integers(max(1, fw - 2 * pad), max_size))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return (rng.standard_normal((n, c, h, w)), rng.standard_normal((fn, c, fh, fw)),
            rng.standard_normal(fn), stride, pad)


@st.composite
def pool_case(draw, max_size=7):
    """(x, pool_h, pool_w, stride, pad) with pad at most half the window, float64."""
    ph, pw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = draw(st.integers(1, 3))
    pad = draw(st.integers(0, min(ph, pw) // 2))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    h = draw(st.integers(max(1, ph - 2 * pad), max_size))
    w = draw(st.integers(max(1, pw - 2 * pad), max_size))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.standard_normal((n, c, h, w)), ph, pw, stride, pad


def out_size(size, filter_size, stride, pad):
    return (size + 2 * pad - filter_size) // stride + 1


def loop_conv(x, W, b, stride, pad):
    """The definition, one output pixel at a time."""
    n, _, h, w = x.shape
    fn, _, fh, fw = W.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = out_size(h, fh, stride, pad), out_size(w, fw, stride, pad)
    out = np.empty((n, fn, oh, ow))
    for i in range(n):
        for f in range(fn):
            for y in range(oh):
                for x_ in range(ow):
                    patch = xp[i, :, y * stride:y * stride + fh, x_ * stride:x_ * stride + fw]
                    out[i, f, y, x_] = np.sum(patch * W[f]) + b[f]
    return out


def loop_pool(x, ph, pw, stride, pad):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=-np.inf)
    oh, ow = out_size(h, ph, stride, pad), out_size(w, pw, stride, pad)
    out = np.empty((n, c, oh, ow))
    for y in range(oh):
        for x_ in range(ow):
            out[:, :, y, x_] = xp[:, :, y * stride:y * stride + ph, x_ * stride:x_ * stride + pw].max(axis=(2, 3))
    return out


# ------------------------------------------------------------------------------ im2col, col2im


def test_im2col_on_the_books_example_shapes():
    # The book's two examples (section 7.4.3): 1 image of 3 channels 7x7 with a 5x5 filter
    # gives (9, 75); 10 images give (90, 75).
    assert im2col(np.random.rand(1, 3, 7, 7), 5, 5, stride=1, pad=0).shape == (9, 75)
    assert im2col(np.random.rand(10, 3, 7, 7), 5, 5, stride=1, pad=0).shape == (90, 75)


@given(case=conv_case())
def test_im2col_rows_are_the_windows(case):
    x, W, _, stride, pad = case
    n, c, h, w = x.shape
    fh, fw = W.shape[2:]
    col = im2col(x, fh, fw, stride, pad)
    oh, ow = out_size(h, fh, stride, pad), out_size(w, fw, stride, pad)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    expected = [xp[i, :, y * stride:y * stride + fh, x_ * stride:x_ * stride + fw].ravel()
                for i in range(n) for y in range(oh) for x_ in range(ow)]
    np.testing.assert_array_equal(col, np.array(expected))


@given(case=conv_case())
def test_col2im_is_the_transpose_of_im2col(case):
    # <im2col(x), c> = <x, col2im(c)> for all x, c: col2im is im2col's adjoint, hence its backward.
    x, W, _, stride, pad = case
    fh, fw = W.shape[2:]
    col = im2col(x, fh, fw, stride, pad)
    c = np.random.default_rng(1).standard_normal(col.shape)
    back = col2im(c, x.shape, fh, fw, stride, pad)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(col * c), np.sum(x * back), rtol=1e-10, atol=1e-10)


def test_col2im_adds_overlapping_windows():
    # 1x1x3x3 image, 2x2 windows, stride 1: the centre pixel is in all four windows.
    ones = np.ones((4, 4))
    img = col2im(ones, (1, 1, 3, 3), 2, 2, stride=1, pad=0)
    np.testing.assert_array_equal(img[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


def test_impossible_shapes_name_the_shapes_and_the_formula():
    with pytest.raises(ValueError, match=r"OH = \(H \+ 2P - FH\) // S \+ 1 = \(4 \+ 0 - 5\) // 1 \+ 1 = 0"):
        im2col(np.zeros((1, 1, 4, 4)), 5, 5)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\) = \(2, 1, 3, 3\)"):
        Convolution(np.zeros((4, 1, 5, 5)), np.zeros(4)).forward(np.zeros((2, 1, 3, 3)))
    with pytest.raises(ValueError, match="has 3 channels, but W of shape"):
        Convolution(np.zeros((4, 1, 3, 3)), np.zeros(4)).forward(np.zeros((2, 3, 8, 8)))
    with pytest.raises(ValueError, match=r"shape \(N, C, H, W\), got shape \(28, 28\)"):
        im2col(np.zeros((28, 28)), 3, 3)
    with pytest.raises(ValueError, match="stride must be an integer >= 1, got 0"):
        Convolution(np.zeros((4, 1, 3, 3)), np.zeros(4), stride=0)
    with pytest.raises(ValueError, match=r"b must be a numpy array of shape \(4,\)"):
        Convolution(np.zeros((4, 1, 3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match=r"col has shape \(3, 4\), but input_shape"):
        col2im(np.zeros((3, 4)), (1, 1, 3, 3), 2, 2)
    with pytest.raises(ValueError, match="more than half the 2x2 window"):
        Pooling(2, 2, pad=2)
    with pytest.raises(ValueError, match=r"OW = \(W \+ 2P - FW\) // S \+ 1 = \(1 \+ 0 - 2\) // 2 \+ 1 = 0"):
        Pooling(2, 2).forward(np.zeros((1, 1, 4, 1)))


# ------------------------------------------------------------------------ Convolution, Pooling


@given(case=conv_case())
def test_convolution_forward_is_the_definition(case):
    x, W, b, stride, pad = case
    x_before = x.copy()
    out = Convolution(W, b, stride, pad).forward(x)
    np.testing.assert_allclose(out, loop_conv(x, W, b, stride, pad), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(x, x_before)


@given(case=pool_case())
def test_pooling_forward_is_the_definition(case):
    x, ph, pw, stride, pad = case
    np.testing.assert_array_equal(Pooling(ph, pw, stride, pad).forward(x), loop_pool(x, ph, pw, stride, pad))


def test_pooling_defaults_to_the_books_corrected_stride_2():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(Pooling(2, 2).forward(x)[0, 0], [[5, 7], [13, 15]])


@given(case=conv_case(max_size=5), dtype=st.sampled_from([np.float64, np.float32]))
def test_convolution_gradients_match_central_differences(case, dtype):
    # autograd.testing.check_grads: dx, dW and db along a random direction against central
    # differences in float64 (float32 layers on float64 copies), to the second order.
    x, W, b, stride, pad = (a.astype(dtype) if isinstance(a, np.ndarray) else a for a in case)
    result = check_grads(Convolution(W, b, stride, pad), x, order=2)
    assert result.checked == 2  # linear in each input: no kinks to leave out


@given(case=pool_case(max_size=5), dtype=st.sampled_from([np.float64, np.float32]))
def test_pooling_gradient_matches_central_differences_away_from_ties(case, dtype):
    x, ph, pw, stride, pad = case
    # A step that changes some window's maximum crosses a kink: check_grads leaves it out.
    result = check_grads(Pooling(ph, pw, stride, pad), x.astype(dtype), order=2, directions=2)
    assert result.checked + result.left_out == 4


def test_pooling_gives_a_tie_to_the_first_maximum_like_the_books_argmax():
    x = np.zeros((1, 1, 2, 2))
    layer = Pooling(2, 2)
    layer.forward(x)
    np.testing.assert_array_equal(layer.backward(np.ones((1, 1, 1, 1)))[0, 0], [[1, 0], [0, 0]])
    assert layer.arg_max.item() == 0


# ----------------------------------------------------------------- the scalar engine as oracle


def values(a):
    return np.vectorize(Value, otypes=[object])(a)


def value_grads(a):
    return np.vectorize(lambda v: v.grad, otypes=[float])(a)


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("pad", [0, 1])
def test_tiny_convolution_and_pooling_match_the_scalar_engine(stride, pad):
    # 1x1x4x4 input, 2 filters 2x2, then ReLU and 2x2 max pooling (stride 1), then a
    # weighted sum.  The Value version multiplies and adds element by element and takes
    # the max as m + relu(v - m), which sends a tie to the earlier element, as the
    # layers' first-maximum rule does.
    rng = np.random.default_rng(stride * 10 + pad)
    x, W, b = rng.standard_normal((1, 1, 4, 4)), rng.standard_normal((2, 1, 2, 2)), rng.standard_normal(2)
    conv, pool = Convolution(W, b, stride, pad), Pooling(2, 2, stride=1)
    from nn.layers import Relu
    relu = Relu()
    out = pool.forward(relu.forward(conv.forward(x)))
    r = rng.standard_normal(out.shape)
    dx = conv.backward(relu.backward(pool.backward(r)))

    xv, Wv, bv = values(x), values(W), values(b)
    xp = np.pad(xv, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=Value(0.0))
    oh = out_size(4, 2, stride, pad)
    conv_v = np.empty((2, oh, oh), dtype=object)
    for f in range(2):
        for y in range(oh):
            for x_ in range(oh):
                s = bv[f]
                for i in range(2):
                    for j in range(2):
                        s = s + Wv[f, 0, i, j] * xp[0, 0, y * stride + i, x_ * stride + j]
                conv_v[f, y, x_] = s.relu()
    loss = Value(0.0)
    for f in range(2):
        for y in range(oh - 1):
            for x_ in range(oh - 1):
                window = [conv_v[f, y + i, x_ + j] for i in range(2) for j in range(2)]
                m = window[0]
                for v in window[1:]:
                    m = m + (v - m).relu()
                assert m.data == pytest.approx(out[0, f, y, x_], abs=1e-12)
                loss = loss + m * r[0, f, y, x_]
    loss.backward()
    np.testing.assert_allclose(value_grads(xv), dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(value_grads(Wv), conv.dW, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(value_grads(bv), conv.db, rtol=1e-10, atol=1e-12)


# -------------------------------------------------------------------------- PyTorch reference


@given(case=conv_case(max_size=9), dtype=st.sampled_from([np.float32, np.float64]))
def test_convolution_matches_torch(case, dtype):
    x, W, b, stride, pad = (a.astype(dtype) if isinstance(a, np.ndarray) else a for a in case)
    layer = Convolution(W, b, stride, pad)
    out = layer.forward(x)
    assert out.dtype == dtype
    xt, Wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
    ref = F.conv2d(xt, Wt, bt, stride=stride, padding=pad)
    g = np.random.default_rng(4).standard_normal(out.shape).astype(dtype)
    ref.backward(torch.tensor(g))
    dx = layer.backward(g)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(out, ref.detach().numpy(), **tol)
    np.testing.assert_allclose(dx, xt.grad.numpy(), **tol)
    np.testing.assert_allclose(layer.dW, Wt.grad.numpy(), **tol)
    np.testing.assert_allclose(layer.db, bt.grad.numpy(), **tol)


@pytest.mark.parametrize("fn, c, size, pad", [(4, 4, 6, 1), (2, 4, 5, 2), (3, 3, 4, 0),
                                            (2, 2, 5, 1), (4, 2, 6, 1)])
def test_the_input_gradient_by_either_way_matches_torch(fn, c, size, pad):
    """conv2d's dx rule takes the convolution of the gradient (stride 1, square filter,
    FN <= C) or col2im (the last case, FN > C); both give PyTorch's gradient in float64."""
    rng = np.random.default_rng(fn * 100 + c * 10 + pad)
    x, W, b = rng.standard_normal((2, c, size, size)), rng.standard_normal((fn, c, 3, 3)), rng.standard_normal(fn)
    layer = Convolution(W, b, stride=1, pad=pad)
    g = rng.standard_normal(layer.forward(x).shape)
    xt = torch.tensor(x, requires_grad=True)
    F.conv2d(xt, torch.tensor(W), torch.tensor(b), padding=pad).backward(torch.tensor(g))
    np.testing.assert_allclose(layer.backward(g), xt.grad.numpy(), rtol=1e-10, atol=1e-12)


@given(case=pool_case(max_size=9))
def test_max_pooling_matches_torch(case):
    x, ph, pw, stride, pad = case
    layer = Pooling(ph, pw, stride, pad)
    out = layer.forward(x)
    xt = torch.tensor(x, requires_grad=True)
    ref = F.max_pool2d(xt, (ph, pw), stride=stride, padding=pad)
    g = np.random.default_rng(5).standard_normal(out.shape)
    ref.backward(torch.tensor(g))
    np.testing.assert_array_equal(out, ref.detach().numpy())
    np.testing.assert_allclose(layer.backward(g), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_max_pooling_ties_match_torch():
    # After ReLU whole windows are 0: the gradient must go to one element, the same as torch's.
    x = np.maximum(np.random.default_rng(6).standard_normal((2, 3, 6, 6)), 0)
    layer = Pooling(2, 2)
    g = np.random.default_rng(7).standard_normal(layer.forward(x).shape)
    xt = torch.tensor(x, requires_grad=True)
    F.max_pool2d(xt, 2, 2).backward(torch.tensor(g))
    np.testing.assert_array_equal(layer.backward(g), xt.grad.numpy())


# ------------------------------------------------------------------------------ SimpleConvNet

SMALL = dict(input_dim=(1, 6, 6), conv_param={"filter_num": 2, "filter_size": 3, "pad": 1, "stride": 1},
             hidden_size=4, output_size=3, weight_init_std=0.5)


@settings(max_examples=15)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 3), channels=st.integers(1, 2),
       size=st.integers(5, 8), filter_size=st.integers(1, 3), pad=st.integers(0, 1),
       stride=st.integers(1, 2), one_hot=st.booleans())
def test_simple_conv_net_gradient_check(seed, n, channels, size, filter_size, pad, stride, one_hot):
    conv_param = {"filter_num": 2, "filter_size": filter_size, "pad": pad, "stride": stride}
    assume((size + 2 * pad - filter_size) // stride + 1 >= 2)  # the 2x2 pooling must fit
    rng = np.random.default_rng(seed)
    net = SimpleConvNet(input_dim=(channels, size, size), conv_param=conv_param, hidden_size=4,
                        output_size=3, weight_init_std=0.5, rng=seed)
    for key in ("b1", "b2", "b3"):  # biases start at 0: a padded border would sit on ReLU's kink
        net.params[key][...] = 0.5 * rng.standard_normal(net.params[key].shape)
    x, t = rng.standard_normal((n, channels, size, size)), rng.integers(0, 3, n)
    results = gradient_check(net, x, np.eye(3)[t] if one_hot else t, h=1e-5)
    assert passed(results, 1e-8), results
    assert all(r.excluded < r.size for r in results.values())


def test_gradient_check_catches_a_wrong_pooling_rule(monkeypatch):
    net = SimpleConvNet(**SMALL, rng=0)
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((2, 1, 6, 6)), rng.integers(0, 3, 2)
    backward = Pooling.backward
    monkeypatch.setattr(Pooling, "backward", lambda self, dout=1: 1.1 * backward(self, dout))
    assert not passed(gradient_check(net, x, t, h=1e-5), 1e-8)


def test_simple_conv_net_has_the_books_shapes_and_keeps_its_dtype():
    for dtype in (np.float32, np.float64):
        net = SimpleConvNet(dtype=dtype, rng=0)
        assert {k: v.shape for k, v in net.params.items()} == {
            "W1": (30, 1, 5, 5), "b1": (30,), "W2": (4320, 100), "b2": (100,),
            "W3": (100, 10), "b3": (10,)}
        x = np.random.default_rng(0).random((3, 1, 28, 28))
        grads = net.gradient(x, np.array([1, 2, 3]))
        assert all(g.dtype == dtype for g in grads.values())
        assert np.asarray(net.last_layer.loss).dtype == dtype
    with pytest.raises(ValueError, match="missing \\['stride'\\]"):
        SimpleConvNet(conv_param={"filter_num": 30, "filter_size": 5, "pad": 0})


def test_save_and_load_params_as_npz(tmp_path):
    net = SimpleConvNet(**SMALL, rng=0)
    path = tmp_path / "params.npz"
    net.save_params(path)
    other = SimpleConvNet(**SMALL, rng=1)
    held = other.params["W1"]
    other.load_params(path)
    for key in net.params:
        np.testing.assert_array_equal(other.params[key], net.params[key])
    assert other.params["W1"] is held and other.layers["Conv1"].W is held  # the layers see it
    (tmp_path / "params.pkl").write_bytes(b"\x80\x04\x95junk")  # a pickle's start, by hand
    with pytest.raises(ValueError, match="it is a pickle"):
        other.load_params(tmp_path / "params.pkl")
    with pytest.raises(ValueError, match=r"W1 has shape \(2, 1, 3, 3\), this network's has shape \(30, 1, 5, 5\)"):
        SimpleConvNet(rng=0).load_params(path)


def test_accuracy_runs_in_batches_and_counts_the_last_partial_batch():
    net = SimpleConvNet(**SMALL, rng=0)
    x = np.random.default_rng(0).standard_normal((7, 1, 6, 6))
    labels = net.predict(x).argmax(axis=1)
    seen = []
    predict = net.predict
    net.predict = lambda batch: seen.append(len(batch)) or predict(batch)
    assert net.accuracy(x, labels, batch_size=3) == 1.0  # the book's version drops the 7th
    assert seen == [3, 3, 1]
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        net.accuracy(x, labels, batch_size=0)


@pytest.mark.slow
def test_a_short_convnet_training_run(mnist_data, one_blas_thread):
    from nn.training.optimizers import Adam
    from nn.train import train
    (x_train, t_train), (x_test, t_test) = mnist_data(flatten=False, dtype=np.float32)
    network = SimpleConvNet(dtype=np.float32, rng=0)
    history = train(network, x_train[:6000], t_train[:6000], x_test[:500], t_test[:500],
                    iters_num=120, rng=0, optimizer=Adam(lr=0.001), eval_threads=1,
                    progress=False, verbose=False)
    assert history.test_acc_list[-1] > 0.85, history.test_acc_list


# ------------------------------------------------------------------------ the op table's rows


# Their derivatives: tests/test_ops.py runs rule_test on every row.

def test_the_conv2d_row_skips_the_gradients_nobody_needs():
    from autograd import OPS
    rng = np.random.default_rng(0)
    x, W, b = rng.standard_normal((2, 1, 5, 5)), rng.standard_normal((3, 1, 2, 2)), np.zeros(3)
    conv2d_row = OPS["conv2d"]
    out = conv2d_row(x, W, b, stride=2, pad=1)
    g = rng.standard_normal(out.shape)
    grads = conv2d_row.vjp(g, out, x, W, b, stride=2, pad=1)
    skipped = conv2d_row.vjp(g, out, x, W, b, needs=(False, True, True), stride=2, pad=1)
    assert skipped[0] is None
    np.testing.assert_array_equal(skipped[1], grads[1])


# ------------------------------------------------------------------ python -m nn.train --net convnet


@pytest.mark.slow
def test_the_command_trains_the_convnet_with_adam(mnist_data, monkeypatch, tmp_path, capsys):
    import nn.data.mnist
    from nn.nets.base import load_params
    from nn.train import main
    data = mnist_data(flatten=False, dtype=np.float32)
    seen = {}

    def small_mnist(**kwargs):  # the real images, fewer of them: the test takes seconds
        seen.update(kwargs)
        (x, t), (xt, tt) = data
        return (x[:1000], t[:1000]), (xt[:200], tt[:200])

    monkeypatch.setattr(nn.data.mnist, "load_mnist", small_mnist)
    weights, filters = tmp_path / "w.npz", tmp_path / "filters.png"
    assert main(["--net", "convnet", "--epochs", "2", "--seed", "0", "--no-progress",
                 "--save", str(weights), "--filters", str(filters)]) == 0
    out = capsys.readouterr().out
    assert seen["flatten"] is False
    assert "SimpleConvNet(conv 30x5x5" in out and "Adam" in out and "lr 0.001" in out
    assert "20 iterations of 100" in out  # 2 epochs of 1000 / 100
    assert out.count("train acc, test acc |") == 3  # iteration 1, each epoch's end
    params = load_params(weights)
    assert params["W1"].shape == (30, 1, 5, 5) and params["W1"].dtype == np.float32
    assert filters.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_command_refuses_filters_for_the_two_layer_net_and_iters_with_epochs(capsys):
    from nn.train import main
    with pytest.raises(SystemExit) as exit_info:
        main(["--filters", "f.png"])
    assert exit_info.value.code == 2
    assert "use it with --net convnet" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--net", "convnet", "--iters", "5", "--epochs", "1"])
    assert "give --iters or --epochs, not both" in capsys.readouterr().err


def test_layers_refuse_backward_before_forward_and_badly_shaped_dout():
    conv, pool = Convolution(np.ones((2, 1, 2, 2)), np.zeros(2)), Pooling(2, 2)
    for layer in (conv, pool):
        with pytest.raises(RuntimeError, match="before forward"):
            layer.backward(np.ones((1, 2, 3, 3)))
    out = conv.forward(np.ones((1, 1, 4, 4)))
    with pytest.raises(ValueError, match=r"dout has shape \(3,\), but forward's output had shape \(1, 2, 3, 3\)"):
        conv.backward(np.ones(3))
    np.testing.assert_array_equal(conv.backward(2.0), conv.backward(np.full(out.shape, 2.0)))
    with pytest.raises(ValueError, match="W must be a 4-D numpy array of floats"):
        Convolution(np.ones((2, 1, 2, 2), dtype=int), np.zeros(2))


# ------------------------------------------------------------- issue 22: items 15, 19 and 27


@pytest.mark.parametrize("layer", ["conv", "pool"])
def test_float32_layers_give_float32_gradients_for_a_float64_dout(layer):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 2, 4, 4)).astype(np.float32)
    if layer == "conv":
        W, b = rng.standard_normal((3, 2, 3, 3)).astype(np.float32), np.zeros(3, np.float32)
        under_test = Convolution(W, b, pad=1)
    else:
        under_test = Pooling(2, 2)
    out = under_test.forward(x)
    dout = rng.standard_normal(out.shape)  # float64
    dx = under_test.backward(dout)
    grads = [dx] + ([under_test.dW, under_test.db] if layer == "conv" else [])
    assert [g.dtype for g in grads] == [np.float32] * len(grads)
    expected = under_test.backward(dout.astype(np.float32))  # the same numbers, rounded once
    np.testing.assert_array_equal(dx, expected)


def test_convolution_takes_the_books_number_bias_for_every_filter():
    # ch07/apply_filter.py: Convolution(w, 0)
    rng = np.random.default_rng(0)
    W, x = rng.standard_normal((3, 1, 2, 2)), rng.standard_normal((2, 1, 4, 4))
    for b in (0, 0.5, np.float32(-1.5)):
        layer = Convolution(W.astype(np.float32), b)
        assert layer.b.shape == (3,) and layer.b.dtype == np.float32
        np.testing.assert_allclose(layer.forward(x), loop_conv(x, W, np.full(3, float(b)), 1, 0),
                                   rtol=1e-5, atol=1e-5)
        layer.backward(np.ones((2, 3, 3, 3)))
        assert layer.db.shape == (3,)
    array_b = np.arange(3.0)
    assert Convolution(W, array_b).b is array_b  # an array stays the caller's (by reference)
    for bad in (True, "0", np.zeros(2), None):
        with pytest.raises(ValueError, match=r"one number for all filters"):
            Convolution(W, bad)


def test_convolution_on_an_empty_batch_gives_an_empty_batch_like_pooling():
    W = np.ones((2, 3, 3, 3))
    layer = Convolution(W, np.zeros(2), pad=1)
    out = layer.forward(np.zeros((0, 3, 5, 5)))
    assert out.shape == (0, 2, 5, 5)
    dx = layer.backward(np.zeros(out.shape))
    assert dx.shape == (0, 3, 5, 5)
    np.testing.assert_array_equal(layer.dW, np.zeros(W.shape))  # no samples, no gradient
    np.testing.assert_array_equal(layer.db, np.zeros(2))
    assert Pooling(2, 2).forward(np.zeros((0, 2, 4, 4))).shape == (0, 2, 2, 2)
