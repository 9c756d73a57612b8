"""Chapter 8: DeepConvNet, data augmentation and the chapter's options of python -m nn.train.

References, each independent of the code under test:
- the book's DeepConvNet written out here from the definitions in float64 (convolution as a
  sum over the filter's offsets, pooling as a reshape, each backward by hand);
- back-propagation against central differences (autograd.testing.check_grads) on a tiny net;
- for augmentation, shifts and turns whose result is known pixel by pixel.
"""
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from autograd.testing import check_grads
from nn.data.augment import augment, transform
from nn.layers import Dropout
from nn.nets.deep_conv_net import DeepConvNet

# ------------------------------------------------------- the book's network, from the definitions

PADS = (1, 1, 1, 2, 1, 1)


def ref_conv(x, W, b, pad):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    fh, fw = W.shape[2:]
    oh, ow = xp.shape[2] - fh + 1, xp.shape[3] - fw + 1
    out = np.zeros((len(x), len(W), oh, ow)) + b[:, None, None]
    for i in range(fh):
        for j in range(fw):
            out += np.einsum("nchw,fc->nfhw", xp[:, :, i:i + oh, j:j + ow], W[:, :, i, j])
    return out


def ref_conv_backward(dout, x, W, pad):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dW = np.zeros_like(xp), np.zeros_like(W)
    oh, ow = dout.shape[2:]
    for i in range(W.shape[2]):
        for j in range(W.shape[3]):
            dW[:, :, i, j] = np.einsum("nfhw,nchw->fc", dout, xp[:, :, i:i + oh, j:j + ow])
            dxp[:, :, i:i + oh, j:j + ow] += np.einsum("nfhw,fc->nchw", dout, W[:, :, i, j])
    return dxp[:, :, pad:dxp.shape[2] - pad, pad:dxp.shape[3] - pad], dW, dout.sum(axis=(0, 2, 3))


def ref_pool(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def ref_pool_backward(dout, x):
    up = lambda a: a.repeat(2, axis=2).repeat(2, axis=3)  # noqa: E731
    return (x == up(ref_pool(x))) * up(dout)  # random floats: no ties


def ref_deep_conv_net(p, x, t, masks):
    """Loss and gradients of the book's DeepConvNet; ``masks`` (two 0/1 arrays) in training,
    None for testing (each Dropout then halves).  Returns (scores, loss, grads)."""
    saved, h = [], x
    for i in range(1, 7):
        a = ref_conv(h, p[f"W{i}"], p[f"b{i}"], PADS[i - 1])
        saved.append((h, a))
        h = np.maximum(a, 0)
        if i % 2 == 0:
            saved.append(h)
            h = ref_pool(h)
    shape, h = h.shape, h.reshape(len(h), -1)
    a7 = h @ p["W7"] + p["b7"]
    r7 = np.maximum(a7, 0)
    d7 = r7 * masks[0] if masks else r7 * 0.5
    a8 = d7 @ p["W8"] + p["b8"]
    scores = a8 * masks[1] if masks else a8 * 0.5
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    y = e / e.sum(axis=1, keepdims=True)
    n = len(x)
    loss = -np.mean(np.log(y[np.arange(n), t]))
    dscores = y.copy()
    dscores[np.arange(n), t] -= 1
    dscores /= n
    g = {}
    da8 = dscores * (masks[1] if masks else 0.5)
    g["W8"], g["b8"] = d7.T @ da8, da8.sum(axis=0)
    da7 = (da8 @ p["W8"].T) * (masks[0] if masks else 0.5) * (a7 > 0)
    g["W7"], g["b7"] = h.T @ da7, da7.sum(axis=0)
    dh = (da7 @ p["W7"].T).reshape(shape)
    for i in range(6, 0, -1):
        if i % 2 == 0:
            dh = ref_pool_backward(dh, saved.pop())
        inp, a = saved.pop()
        dh, g[f"W{i}"], g[f"b{i}"] = ref_conv_backward(dh * (a > 0), inp, p[f"W{i}"], PADS[i - 1])
    return scores, loss, g


@settings(max_examples=5)
@given(st.integers(0, 2**32 - 1))
@example(999999999)  # one score near 0 (6e-14 off, the largest score 66)
def test_predict_and_gradient_equal_the_books_network_written_from_the_definitions(seed):
    rng = np.random.default_rng(seed)
    net = DeepConvNet(rng=seed)
    for value in net.params.values():  # biases too: zeros would hide a bias added wrongly
        value[...] = value + 0.1 * rng.standard_normal(value.shape)
    x, t = rng.random((3, 1, 28, 28)), rng.integers(10, size=3)
    params = {k: v.copy() for k, v in net.params.items()}

    scores, _, _ = ref_deep_conv_net(params, x, t, masks=None)  # Dropout off: testing
    # A score near 0 is the sum of terms as large as the largest score, so its rounding is
    # measured against that score (as the gradients' below), not against itself.
    np.testing.assert_allclose(net.predict(x), scores, rtol=1e-12,
                               atol=1e-13 * np.abs(scores).max())
    grads = net.gradient(x, t)
    masks = [layer.mask for layer in net.layers.values() if isinstance(layer, Dropout)]
    _, loss, expected = ref_deep_conv_net(params, x, t, masks)
    np.testing.assert_allclose(net.last_layer.loss, loss, rtol=1e-12)
    assert sorted(grads) == sorted(expected)
    for key in expected:
        scale = np.abs(expected[key]).max()
        np.testing.assert_allclose(grads[key], expected[key], rtol=1e-10, atol=1e-12 * scale,
                                   err_msg=key)


def test_the_books_shapes_he_initial_weights_and_dtype():
    net = DeepConvNet(dtype=np.float32, rng=0)
    shapes = {k: v.shape for k, v in net.params.items()}
    assert shapes == {"W1": (16, 1, 3, 3), "b1": (16,), "W2": (16, 16, 3, 3), "b2": (16,),
                      "W3": (32, 16, 3, 3), "b3": (32,), "W4": (32, 32, 3, 3), "b4": (32,),
                      "W5": (64, 32, 3, 3), "b5": (64,), "W6": (64, 64, 3, 3), "b6": (64,),
                      "W7": (1024, 50), "b7": (50,), "W8": (50, 10), "b8": (10,)}
    assert all(v.dtype == np.float32 for v in net.params.values())
    fan_in = {"W1": 9, "W2": 144, "W3": 144, "W4": 288, "W5": 288, "W6": 576, "W7": 1024,
              "W8": 50}
    for key, n in fan_in.items():  # He: std sqrt(2 / fan_in), within sampling error
        assert abs(net.params[key].std() / np.sqrt(2 / n) - 1) < 0.25, key
    x = np.random.default_rng(0).random((2, 1, 28, 28))
    assert net.predict(x).dtype == np.float32
    assert all(g.dtype == np.float32 for g in net.gradient(x, np.array([1, 2])).values())


def test_back_propagation_matches_central_differences_on_a_tiny_net():
    convs = [{"filter_num": fn, "filter_size": 3, "pad": pad, "stride": 1}
             for fn, pad in zip((3, 3, 4, 4, 4, 4), PADS)]
    net = DeepConvNet((1, 8, 8), *convs, hidden_size=6, output_size=3, rng=1)
    rng = np.random.default_rng(2)
    for value in net.params.values():  # biases not 0, so that a wrong bias gradient shows
        value[...] = value + 0.1 * rng.standard_normal(value.shape)
    x, t = rng.random((2, 1, 8, 8)), np.array([0, 2])
    names = list(net.params)
    dropouts = [layer for layer in net.layers.values() if isinstance(layer, Dropout)]

    def set_params(values):
        for layer in dropouts:  # the same masks in every call
            layer.rng = np.random.default_rng(3)
        net.set_params(dict(zip(names, values)))

    def forward(*values):
        set_params(values)
        return np.asarray(net.loss(x, t))

    def vjp(g, out, *values):
        set_params(values)
        grads = net.gradient(x, t)
        return tuple(g * grads[k] for k in names)

    start = [value.copy() for value in net.params.values()]  # set_params writes into the net's
    result = check_grads((forward, vjp), *start, directions=3)
    assert result.checked >= 1, result


# ------------------------------------------------------------------------------- augmentation

images = st.integers(0, 2**32 - 1).map(
    lambda s: np.random.default_rng(s).random((3, 2, 7, 6)).astype(np.float32))


@settings(max_examples=20)
@given(images)
def test_no_shift_and_no_turn_is_the_identity(x):
    before = x.copy()
    out = transform(x, np.zeros((3, 2)), np.zeros(3))
    np.testing.assert_array_equal(out, x)
    assert out.dtype == x.dtype and out is not x
    np.testing.assert_array_equal(x, before)  # the caller's array is not changed


@settings(max_examples=20)
@given(images, st.integers(-3, 3), st.integers(-3, 3))
def test_a_whole_pixel_shift_moves_every_pixel_by_that_much(x, dy, dx):
    out = transform(x, np.tile([dy, dx], (3, 1)), np.zeros(3))
    h, w = x.shape[2:]
    for i in range(h):
        for j in range(w):
            src = (i - dy, j - dx)
            expected = x[:, :, src[0], src[1]] if 0 <= src[0] < h and 0 <= src[1] < w else 0
            np.testing.assert_array_equal(out[:, :, i, j], expected)


def test_a_quarter_turn_turns_counter_clockwise_and_each_image_has_its_own():
    x = np.zeros((2, 1, 5, 5))
    x[:, 0, 0, 4] = 1  # top right
    out = transform(x, np.zeros((2, 2)), np.array([np.pi / 2, 0]))
    np.testing.assert_allclose(out[0, 0], np.eye(5)[:1].T @ np.eye(5)[:1], atol=1e-12)  # top left
    np.testing.assert_array_equal(out[1], x[1])


def test_augment_draws_small_moves_per_image_and_keeps_shapes():
    x = np.random.default_rng(0).random((50, 1, 28, 28)).astype(np.float32)
    out = augment(x, np.random.default_rng(0))
    assert out.shape == x.shape and out.dtype == np.float32
    changed = [not np.array_equal(a, b) for a, b in zip(out, x)]
    assert sum(changed) >= 45  # a few may draw shift 0 and a tiny angle
    with pytest.raises(ValueError, match=r"shifts of shape \(50, 2\)"):
        transform(x, np.zeros((50,)), np.zeros(50))


# ------------------------------------------------------------ python -m nn.train --net deep ...


@pytest.fixture
def small_mnist(mnist_data, monkeypatch):
    """The real images, fewer of them, so that the command runs in seconds."""
    import nn.data.mnist
    data = mnist_data(flatten=False, dtype=np.float32)
    (x, t), (xt, tt) = data
    monkeypatch.setattr(nn.data.mnist, "load_mnist",
                        lambda **kwargs: ((x[:500], t[:500]), (xt[:100], tt[:100])))
    return xt[:100], tt[:100]


def test_the_command_trains_saves_and_loads_the_deep_net(small_mnist, tmp_path, capsys,
                                                          one_blas_thread):
    from nn.nets.base import load_params
    from nn.train import main
    weights, figure = tmp_path / "deep.npz", tmp_path / "wrong.png"
    assert main(["--net", "deep", "--epochs", "2", "--seed", "0", "--no-progress", "--augment",
                 "--train-acc-size", "50", "--save", str(weights)]) == 0
    out = capsys.readouterr().out
    assert "DeepConvNet(6 conv 3x3" in out and "Adam" in out and "lr 0.001" in out
    assert "10 iterations of 100" in out and out.count("train acc, test acc |") == 3
    params = load_params(weights)
    assert sorted(params) == sorted(f"{p}{i}" for p in "Wb" for i in range(1, 9))
    assert params["W7"].shape == (1024, 50) and params["W1"].dtype == np.float32

    assert main(["--net", "deep", "--load", str(weights), "--misclassified", str(figure),
                 "--float16"]) == 0
    out = capsys.readouterr().out
    net = DeepConvNet(dtype=np.float32)
    net.set_params(params)
    x, t = small_mnist
    accuracy = net.accuracy(x, t)
    assert f"test acc {accuracy:.4f}" in out  # the saved weights, not retrained
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = {line.split(":")[0].strip(): line for line in out.splitlines()}
    assert lines["float32"].endswith(f"test acc {accuracy:.4f}")
    assert "float64" in lines and "float16" in lines


@pytest.mark.parametrize("argv, message", [
    (["--net", "deep", "--load", "w.npz", "--save", "x.npz"], "--save needs a training run"),
    (["--float16"], "use it with --net deep"),
    (["--augment"], "use it with --net convnet or deep"),
    (["--net", "deep", "--load", "no-such-file.npz"], "no such file"),
])
def test_the_commands_options_are_checked_before_anything_runs(argv, message, capsys,
                                                               no_training, tmp_path,
                                                               monkeypatch):
    from nn.train import main
    monkeypatch.chdir(tmp_path)
    (tmp_path / "w.npz").write_bytes(b"")
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_load_refuses_a_file_that_is_not_the_nets_weights(small_mnist, tmp_path, capsys):
    from nn.train import main
    other = tmp_path / "other.npz"
    np.savez(other, W1=np.zeros(3))
    not_npz = tmp_path / "text.npz"
    not_npz.write_text("hello")
    for path in (other, not_npz):
        assert main(["--net", "deep", "--load", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: --load {path}: not weights of this network")
