"""Chapter 6's layers and nets: BatchNormalization, Dropout, weight decay, MultiLayerNet(Extend).

Derivatives through autograd.testing.check_grads (back-propagation against central
differences in float64 along random directions, float32 and float64, to the second order)
on hypothesis-drawn shapes and values; the nets through nn.gradcheck's kink-aware check; behaviour (statistics, running averages, expected
activations, seeds, dtypes, no mutation) and errors.
"""
import re

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nn.gradcheck import gradient_check
from autograd.testing import check_grads, close
from nn.layers import BatchNormalization, Dropout, Relu
from nn.nets.multi_layer_net import MultiLayerNet, MultiLayerNetExtend, weight_scale



def floats(lo=-3.0, hi=3.0):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def array(data, shape, lo=-3.0, hi=3.0):
    return data.draw(hnp.arrays(np.float64, shape, elements=floats(lo, hi)))


def spread(data, shape):
    """An input whose every feature has some spread over the batch: BN divides by its std."""
    x = array(data, shape)
    x = x + np.arange(x.shape[0]).reshape((-1,) + (1,) * (x.ndim - 1))  # distinct rows
    return x


# ---------------------------------------------------------------- Batch Normalization

BN_LAYOUTS = [
    # (input shape, gamma size, per_pixel)
    ((4, 3), 3, False),
    ((3, 2, 2, 2), 2, False),   # per channel
    ((3, 2, 2, 2), 8, True),    # the book's per pixel
    ((2, 3, 4), 3, False),      # (N, C, L)
]


@pytest.mark.parametrize("train", [True, False], ids=["train", "test"])
@pytest.mark.parametrize("shape, features, per_pixel", BN_LAYOUTS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=15)
@given(data=st.data())
def test_batchnorm_backward_matches_central_differences(shape, features, per_pixel, train,
                                                        dtype, data):
    # autograd.testing.check_grads: dx, dgamma and dbeta along random directions against
    # central differences in float64 (a float32 layer on a float64 copy), second order too.
    # Rows 10 apart: float32 Batch Norm of values that hardly differ rounds beyond the
    # float32 tolerance (it divides by their spread); the float64 layouts keep spread()'s.
    x = spread(data, shape)
    if dtype == np.float32:
        x = x + 9.0 * np.arange(len(x)).reshape((-1,) + (1,) * (x.ndim - 1))
    x = x.astype(dtype)
    gamma = array(data, (features,), 0.2, 2.0).astype(dtype)
    beta = array(data, (features,)).astype(dtype)
    layer = BatchNormalization(gamma, beta, per_pixel=per_pixel)
    if not train:  # running statistics from a fixed warm-up batch
        layer.running_mean = np.linspace(-1, 1, features).astype(dtype)
        layer.running_var = np.linspace(0.5, 2, features).astype(dtype)
    result = check_grads(layer, x, params={"train_flg": train}, order=2,
                         rng=data.draw(st.integers(0, 99)))
    assert result.checked == 2  # smooth: nothing left out
    assert layer.dgamma.shape == gamma.shape and layer.dbeta.shape == beta.shape


def test_batchnorm_normalises_each_feature_or_channel():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, (8, 3, 4, 5)) * np.array([1, 10, 0.1])[None, :, None, None]
    y = BatchNormalization(np.ones(3), np.zeros(3)).forward(x)
    close(y.mean(axis=(0, 2, 3)), np.zeros(3), rtol=1e-6, atol=1e-12)
    close(y.var(axis=(0, 2, 3)), np.ones(3), rtol=1e-4, atol=1e-8)
    # the book's per pixel: each of the 60 pixels on its own
    y = BatchNormalization(np.ones(60), np.zeros(60), per_pixel=True).forward(x)
    close(y.reshape(8, 60).mean(axis=0), np.zeros(60), rtol=1e-6, atol=1e-12)
    # gamma and beta scale and shift: the result's mean is beta, its std |gamma|
    x2 = rng.normal(size=(50, 2))
    y2 = BatchNormalization(np.array([2.0, -0.5]), np.array([1.0, 3.0])).forward(x2)
    close(y2.mean(axis=0), [1.0, 3.0], rtol=1e-6, atol=1e-8)
    close(y2.std(axis=0), [2.0, 0.5], rtol=1e-5, atol=1e-8)


def test_per_pixel_is_the_flat_layer_on_flattened_images():
    rng = np.random.default_rng(1)
    x, G = rng.normal(size=(5, 2, 3, 3)), rng.normal(size=(5, 2, 3, 3))
    gamma, beta = rng.normal(size=18), rng.normal(size=18)
    a = BatchNormalization(gamma, beta, per_pixel=True)
    b = BatchNormalization(gamma, beta)
    close(a.forward(x), b.forward(x.reshape(5, 18)).reshape(x.shape), rtol=1e-6, atol=1e-14)
    close(a.backward(G), b.backward(G.reshape(5, 18)).reshape(x.shape), rtol=1e-6, atol=1e-14)
    close(a.running_var, b.running_var, rtol=1e-6, atol=1e-15)


def test_running_averages_and_test_mode():
    # the book's rule: running <- 0.9 running + 0.1 batch (biased variance), from zeros
    x1 = np.array([[1.0, 10.0], [3.0, 30.0]])   # mean (2, 20), var (1, 100)
    x2 = np.array([[0.0, 0.0], [4.0, 0.0]])     # mean (2, 0),  var (4, 0)
    layer = BatchNormalization(np.ones(2), np.zeros(2))
    layer.forward(x1)
    close(layer.running_mean, [0.2, 2.0], rtol=1e-6, atol=1e-15)
    close(layer.running_var, [0.1, 10.0], rtol=1e-6, atol=1e-15)
    layer.forward(x2)
    close(layer.running_mean, [0.38, 1.8], rtol=1e-6, atol=1e-15)
    close(layer.running_var, [0.49, 9.0], rtol=1e-6, atol=1e-15)
    # test mode uses them and leaves them alone
    y = layer.forward(np.array([[0.38, 4.8]]), train_flg=False)
    close(y, [[0.0, 3.0 / np.sqrt(9.0 + 1e-6)]], rtol=1e-6, atol=1e-12)
    close(layer.running_mean, [0.38, 1.8], rtol=1e-6, atol=1e-15)


def test_batchnorm_float32_and_no_mutation():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(6, 4)).astype(np.float32)
    x0 = x.copy()
    layer = BatchNormalization(np.ones(4, np.float32), np.zeros(4, np.float32))
    y = layer.forward(x)
    dx = layer.backward(np.ones_like(y))
    assert y.dtype == dx.dtype == layer.dgamma.dtype == np.float32
    np.testing.assert_array_equal(x, x0)


def test_batchnorm_errors_name_the_shapes_and_the_fix():
    layer = BatchNormalization(np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"input of shape \(2, 4\) has 4 features but gamma has 3"):
        layer.forward(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="per_pixel=True"):
        layer.forward(np.zeros((2, 4, 3, 3)))
    with pytest.raises(ValueError, match=r"gamma has shape \(3,\) but beta has shape \(2,\)"):
        BatchNormalization(np.ones(3), np.zeros(2))
    with pytest.raises(RuntimeError, match="before forward"):
        BatchNormalization(np.ones(3), np.zeros(3)).backward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        layer.forward(np.zeros(3))


# ---------------------------------------------------------------- Dropout

@pytest.mark.parametrize("inverted", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=20)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_dropout_backward_matches_central_differences(inverted, dtype, data, seed):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    x = array(data, shape).astype(dtype)
    ratio = data.draw(st.sampled_from([0.0, 0.3, 0.5]))
    for train in (True, False):  # the layer's generator is copied: the same mask throughout
        layer = Dropout(ratio, inverted=inverted, rng=seed)
        check_grads(layer, x, params={"train_flg": train}, order=2, rng=seed)


def test_dropout_both_forms_have_the_test_output_as_expected_training_output():
    x = np.linspace(-2, 2, 12).reshape(3, 4)
    for inverted in (True, False):
        layer = Dropout(0.3, inverted=inverted, rng=0)
        mean = np.mean([layer.forward(x) for _ in range(4000)], axis=0)
        # standard error of the mean of 4000 draws: |x| sqrt(p / (1 - p)) / 63 < 0.022 here
        close(mean, layer.forward(x, train_flg=False), rtol=0, atol=0.1)
        kept = layer.forward(x)[layer.mask]
        close(kept, x[layer.mask] / (0.7 if inverted else 1.0), rtol=1e-6, atol=1e-8)
        assert not layer.forward(x)[~layer.mask].any()
    close(Dropout(0.3).forward(x, train_flg=False), x, rtol=1e-6, atol=1e-8)
    close(Dropout(0.3, inverted=False).forward(x, train_flg=False), 0.7 * x, rtol=1e-6, atol=1e-8)


def test_dropout_is_seedable():
    x = np.ones((20, 20))
    a = Dropout(0.5, rng=42).forward(x)
    b = Dropout(0.5, rng=42).forward(x)
    c = Dropout(0.5, rng=43).forward(x)
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()
    np.random.seed(7)
    d = Dropout(0.5).forward(x)  # the book's global generator
    np.random.seed(7)
    np.testing.assert_array_equal(d, Dropout(0.5).forward(x))
    assert 0.4 < np.mean(a == 0) < 0.6


def test_dropout_keeps_float32_and_refuses_bad_ratio():
    x = np.ones((3, 3), np.float32)
    layer = Dropout(0.5, rng=0)
    assert layer.forward(x).dtype == np.float32
    assert layer.backward(np.ones((3, 3), np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match=r"dropout_ratio must be a number in \[0, 1\), got 1.0"):
        Dropout(1.0)


# ---------------------------------------------------------------- nets: gradient checks

class TrainMode:
    """A net seen by nn.gradcheck.gradient_check: loss in training mode, dropout masks re-seeded
    before every forward pass so that each evaluation of the loss draws the same masks."""

    def __init__(self, net, seed=0):
        self.net, self.seed = net, seed
        self.params, self.layers = net.params, net.layers

    def _reseed(self):
        for i, layer in enumerate(self.net.layers.values()):
            if isinstance(layer, Dropout):
                layer.rng = np.random.default_rng(self.seed + i)

    def loss(self, x, t):
        self._reseed()
        return self.net.loss(x, t, train_flg=True)

    def gradient(self, x, t):
        self._reseed()
        return self.net.gradient(x, t)


def check_net(net, x, t):
    wrapped = TrainMode(net)
    wrapped.loss(x, t)
    for layer in net.layers.values():
        if isinstance(layer, BatchNormalization):
            # A feature with almost no spread in the batch: BN divides by its std, so the
            # loss then bends on the scale of the step h and central differences lose
            # their accuracy (not a wrong gradient). Draw another example.
            assume(layer._saved[1][2].min() > 1e-3)
    results = gradient_check(wrapped, x, t, h=1e-5)
    for name, r in results.items():
        assume(r.excluded < r.size)  # a parameter sitting on a kink everywhere: draw another
        assert r.mean_abs_diff <= 1e-7, f"{name}: mean |backprop - numerical| {r.mean_abs_diff}"


@given(data=st.data(), activation=st.sampled_from(["relu", "sigmoid"]),
       batchnorm=st.booleans(), dropout=st.booleans(), lam=st.sampled_from([0.0, 0.1]),
       one_hot=st.booleans())
def test_multi_layer_net_extend_gradient_check(data, activation, batchnorm, dropout, lam, one_hot):
    n, d, c = data.draw(st.integers(3, 5)), data.draw(st.integers(1, 4)), data.draw(st.integers(2, 4))
    hidden = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    x = spread(data, (n, d))
    labels = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    net = MultiLayerNetExtend(d, hidden, c, activation=activation, weight_init_std=0.8,
                              weight_decay_lambda=lam, use_dropout=dropout, dropout_ration=0.3,
                              use_batchnorm=batchnorm, rng=data.draw(st.integers(0, 10**6)))
    # beta and gamma away from their start, so their gradients are not special
    for key, p in net.params.items():
        if key.startswith(("gamma", "beta", "b")):
            p += array(data, p.shape, -0.5, 0.5)
    check_net(net, x, np.eye(c)[labels] if one_hot else labels)


@settings(max_examples=20)
@given(data=st.data(), activation=st.sampled_from(["relu", "sigmoid"]),
       lam=st.sampled_from([0.0, 0.5]))
def test_multi_layer_net_gradient_check(data, activation, lam):
    x = spread(data, (3, 4))
    net = MultiLayerNet(4, [3, 3], 3, activation=activation, weight_init_std=1.0,
                        weight_decay_lambda=lam, rng=data.draw(st.integers(0, 10**6)))
    check_net(net, x, np.array([0, 2, 1]))


def test_weight_decay_in_loss_and_gradient():
    rng = np.random.default_rng(3)
    x, t = rng.normal(size=(4, 3)), np.array([0, 1, 0, 1])
    plain = MultiLayerNet(3, [5], 2, rng=9)
    decayed = MultiLayerNet(3, [5], 2, weight_decay_lambda=0.25, rng=9)
    ws = [plain.params["W1"], plain.params["W2"]]
    penalty = 0.125 * sum(float(np.sum(W ** 2)) for W in ws)
    assert decayed.loss(x, t) == pytest.approx(plain.loss(x, t) + penalty, rel=1e-14)
    g0, g1 = plain.gradient(x, t), decayed.gradient(x, t)
    close(g1["W1"], g0["W1"] + 0.25 * ws[0], rtol=1e-14, atol=0)
    close(g1["b1"], g0["b1"], rtol=0, atol=0)


def test_weight_init_scales():
    assert weight_scale("he", 50) == pytest.approx(0.2)
    assert weight_scale("ReLU", 8) == pytest.approx(0.5)
    assert weight_scale("xavier", 100) == pytest.approx(0.1)
    assert weight_scale("sigmoid", 4) == pytest.approx(0.5)
    assert weight_scale(0.01, 1000) == 0.01
    with pytest.raises(ValueError, match="'glorot' is not known"):
        weight_scale("glorot", 10)
    net = MultiLayerNet(2000, [500], 10, weight_init_std="he", rng=0)
    assert net.params["W1"].std() == pytest.approx(np.sqrt(2 / 2000), rel=0.01)
    assert net.params["W2"].std() == pytest.approx(np.sqrt(2 / 500), rel=0.05)
    net = MultiLayerNet(2000, [500], 10, weight_init_std="xavier", activation="sigmoid", rng=0)
    assert net.params["W1"].std() == pytest.approx(np.sqrt(1 / 2000), rel=0.01)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nets_keep_their_dtype(dtype):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(6, 5))  # float64 data is converted
    net = MultiLayerNetExtend(5, [4, 4], 3, use_batchnorm=True, use_dropout=True,
                              weight_decay_lambda=0.01, dtype=dtype, rng=0)
    grads = net.gradient(x, np.array([0, 1, 2, 0, 1, 2]))
    assert all(p.dtype == dtype for p in net.params.values())
    assert all(g.dtype == dtype for g in grads.values())
    assert set(grads) == set(net.params)
    assert np.asarray(net.predict(x)).dtype == dtype


def test_net_arguments_are_checked():
    with pytest.raises(ValueError, match="activation must be 'relu' or 'sigmoid', got 'tanh'"):
        MultiLayerNet(3, [2], 2, activation="tanh")
    with pytest.raises(ValueError, match=r"hidden_size_list \[2, 0\]"):
        MultiLayerNet(3, [2, 0], 2)
    with pytest.raises(ValueError, match="weight_decay_lambda must be >= 0"):
        MultiLayerNet(3, [2], 2, weight_decay_lambda=-1)
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        MultiLayerNet(3, [2], 2, dtype=np.int32)


def test_book_layer_names_and_keys():
    net = MultiLayerNetExtend(4, [3, 3], 2, use_batchnorm=True, use_dropout=True)
    assert list(net.layers) == ["Affine1", "BatchNorm1", "Activation_function1", "Dropout1",
                                "Affine2", "BatchNorm2", "Activation_function2", "Dropout2",
                                "Affine3"]
    assert list(net.params) == ["W1", "b1", "W2", "b2", "W3", "b3", "gamma1", "beta1",
                                "gamma2", "beta2"]
    assert isinstance(net.layers["Activation_function1"], Relu)
    # params are the layers' own arrays, so in-place updates reach them
    assert net.params["gamma1"] is net.layers["BatchNorm1"].gamma


# ---------------------------------------------------------------- the op-table rows themselves

@given(data=st.data(), lam=st.floats(0.0, 2.0))
def test_l2_penalty_row(data, lam):
    # Its derivative: tests/test_ops.py runs rule_test on every row.
    from autograd import ops

    W = array(data, data.draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4)))
    assert ops.l2_penalty(W, lam=lam) == pytest.approx(0.5 * lam * float(np.sum(W ** 2)))


def test_rows_are_in_the_table_and_refuse_values():
    from autograd import OPS, Value

    for name in ("batchnorm", "scale_shift", "dropout", "l2_penalty"):
        assert name in OPS and not OPS[name].scalar and OPS[name].doc
    assert OPS["dropout"].backward[1] is None  # the mask is data
    with pytest.raises(TypeError, match="dropout"):
        OPS["dropout"](Value(1.0), None, scale=2.0)


# ---------------------------------------------------------------- the book's Trainer

def test_trainer_records_like_the_book_and_uses_the_optimizer():
    from nn.training.optimizers import Momentum
    from nn.training.trainer import Trainer

    rng = np.random.default_rng(5)
    x = rng.normal(size=(40, 6)).astype(np.float32)
    t = (x[:, 0] > 0).astype(np.intp)  # a separable task
    net = MultiLayerNetExtend(6, [8], 2, dtype=np.float32, rng=0)
    before = {k: p.copy() for k, p in net.params.items()}
    trainer = Trainer(net, x, t, x[:10], t[:10], epochs=30, mini_batch_size=10,
                      optimizer=Momentum(lr=0.1), verbose=False, rng=0)
    trainer.train()
    assert trainer.iter_per_epoch == 4 and len(trainer.train_loss_list) == 120
    assert len(trainer.train_acc_list) == len(trainer.test_acc_list) == 30  # one per epoch, as the book's
    assert trainer.train_acc_list[-1] > 0.9
    assert all(not np.array_equal(before[k], p) for k, p in net.params.items())
    # by name, with the book's optimizer_param
    t2 = Trainer(net, x, t, x, t, epochs=1, optimizer="adam", optimizer_param={"lr": 0.01},
                 verbose=False)
    assert type(t2.optimizer).__name__ == "Adam" and t2.optimizer.lr == 0.01
    with pytest.raises(ValueError, match="40 training inputs for 39 labels"):
        Trainer(net, x, t[:-1], x, t, verbose=False)
    with pytest.raises(ValueError, match="unknown optimizer 'adamax'"):
        Trainer(net, x, t, x, t, optimizer="adamax", verbose=False)


def test_trainer_verbose_prints_the_books_lines_and_quiet_prints_nothing(capsys):
    from nn.training.trainer import Trainer

    rng = np.random.default_rng(6)
    x = rng.normal(size=(30, 6)).astype(np.float32)
    t = (x[:, 0] > 0).astype(np.intp)
    net = MultiLayerNetExtend(6, [8], 2, dtype=np.float32, rng=0)
    trainer = Trainer(net, x, t, x[:25], t[:25], epochs=3, mini_batch_size=10,
                      evaluate_sample_num_per_epoch=20, rng=0).train()
    lines = capsys.readouterr().out.splitlines()
    # the book's order: each iteration's loss, then the epoch's line after an epoch's first iteration
    assert len(lines) == 9 + 3 + 2
    losses, epochs = [], []
    for line in lines[:-2]:
        loss = re.fullmatch(r"train loss:(\S+)", line)
        epoch = re.fullmatch(r"=== epoch:(\d+), train acc:(\S+), test acc:(\S+) ===", line)
        assert loss or epoch, line
        if loss:
            losses.append(float(loss[1]))
        else:
            assert len(losses) % trainer.iter_per_epoch == 1, lines  # after the epoch's first loss
            epochs.append((int(epoch[1]), float(epoch[2]), float(epoch[3])))
    assert losses == trainer.train_loss_list
    assert epochs == [(n + 1, a, b) for n, (a, b) in
                      enumerate(zip(trainer.train_acc_list, trainer.test_acc_list))]
    assert lines[-2] == "=============== Final Test Accuracy ==============="
    final = re.fullmatch(r"test acc:(\S+)", lines[-1])
    assert final and float(final[1]) == net.accuracy(x[:25], t[:25])  # the whole test set
    Trainer(net, x, t, x, t, epochs=2, mini_batch_size=10, verbose=False, rng=0).train()
    assert capsys.readouterr().out == ""


def test_batchnorm_refuses_an_empty_training_batch():
    from nn.layers import BatchNormalization
    layer = BatchNormalization(np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"empty batch of shape \(0, 3\)"):
        layer.forward(np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"empty batch of shape \(0, 3, 2, 2\)"):
        BatchNormalization(np.ones(3), np.zeros(3)).forward(np.zeros((0, 3, 2, 2)), train_flg=False)
    assert np.isfinite(layer.forward(np.ones((2, 3)))).all()  # a batch after it still works
