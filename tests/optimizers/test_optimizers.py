"""nn.training.optimizers against values derived by hand, and against an independent scalar loop.

Two kinds of reference, neither of which is the code under test:
- closed forms for a constant gradient g, derived on paper from each method's equations
  (e.g. Adam with constant g moves every step by lr * sign(g) up to the eps term);
- a plain-Python loop over scalars written from the papers' equations in their own form
  (PyTorch's Nesterov buffer, Adam's Algorithm 1 with m_hat and v_hat), fed a sequence
  of varying gradients.
and a third: torch.optim on the same gradients (PyTorch is in the test extra as the
reference for chapter 7's convolution tests).
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nn.training.optimizers import (OPTIMIZERS, SGD, AdaGrad, Adam, Momentum, Nesterov, RMSprop,
                           get_optimizer)


def run(optimizer, w0, grads):
    """Apply ``grads`` (one per step) to a 1-element parameter; the trajectory as floats."""
    params = {"W": np.array([w0], dtype=np.float64)}
    out = []
    for g in grads:
        optimizer.update(params, {"W": np.array([g])})
        out.append(float(params["W"][0]))
    return out


# ---------------------------------------------------------------- closed forms, constant g

def test_sgd_constant_gradient():
    # W_t = W_0 - t lr g
    assert run(SGD(lr=0.1), 1.0, [2.0] * 3) == pytest.approx([0.8, 0.6, 0.4], abs=1e-15)


def test_momentum_constant_gradient():
    # v_t = -lr g (1 + mu + ... + mu^(t-1));  W_t = W_0 + v_1 + ... + v_t.
    # lr 0.1, mu 0.9, g 1: v = -0.1, -0.19, -0.271;  W = 0.9, 0.71, 0.439.
    assert run(Momentum(lr=0.1, momentum=0.9), 1.0, [1.0] * 3) == pytest.approx(
        [0.9, 0.71, 0.439], abs=1e-14)


def test_nesterov_constant_gradient():
    # W_t = W_{t-1} + mu^2 v_{t-1} - (1 + mu) lr g; v_t = mu v_{t-1} - lr g.  lr .1, mu .9, g 1:
    # step 1: v0 = 0: W = 1 - 0.19 = 0.81, v1 = -0.1
    # step 2: W = 0.81 + 0.81 * (-0.1) - 0.19 = 0.539, v2 = -0.19
    # step 3: W = 0.539 + 0.81 * (-0.19) - 0.19 = 0.1951
    assert run(Nesterov(lr=0.1, momentum=0.9), 1.0, [1.0] * 3) == pytest.approx(
        [0.81, 0.539, 0.1951], abs=1e-14)


def test_nesterov_is_not_the_mu_cubed_form():
    # The order the book's repository had before its 2021 fix (velocity first, then mu^2
    # v_new) gives W = 1 + 0.81 * (-0.1) - 0.19 = 0.729 at the first step; Nesterov gives 0.81.
    assert run(Nesterov(lr=0.1, momentum=0.9), 1.0, [1.0])[0] != pytest.approx(0.729)


@given(grads=st.lists(st.floats(-10, 10), min_size=1, max_size=8), w0=st.floats(-10, 10))
def test_nesterov_is_the_books_current_line_order(grads, w0):
    # The book's common/optimizer.py since 2021: W += mu^2 v; W -= (1 + mu) lr g; then
    # v *= mu; v -= lr g (written here as the book writes it, on scalars).
    lr, mu, w, v, expected = 0.1, 0.9, w0, 0.0, []
    for g in grads:
        w += mu * mu * v
        w -= (1 + mu) * lr * g
        v *= mu
        v -= lr * g
        expected.append(w)
    assert run(Nesterov(lr=lr, momentum=mu), w0, grads) == pytest.approx(expected, abs=1e-12)


def test_adagrad_constant_gradient():
    # h_t = t g^2, so step t is lr g / (sqrt(t) |g| + eps)
    g, lr = 3.0, 0.5
    expected, w = [], 2.0
    for t in (1, 2, 3):
        w -= lr * g / (math.sqrt(t) * g + 1e-7)
        expected.append(w)
    assert run(AdaGrad(lr=lr), 2.0, [g] * 3) == pytest.approx(expected, abs=1e-14)
    # the first step is lr whatever g is (up to eps): 2 - 0.5
    assert run(AdaGrad(lr=lr), 2.0, [g])[0] == pytest.approx(1.5, abs=1e-7)


def test_rmsprop_constant_gradient():
    # h_t = (1 - rho^t) g^2, so step t is lr g / (sqrt(1 - rho^t) g + eps) (g > 0)
    rho, lr, g = 0.99, 0.01, 5.0
    w, expected = 0.0, []
    for t in (1, 2, 3):
        w -= lr * g / (math.sqrt(1 - rho ** t) * g + 1e-7)
        expected.append(w)
    assert run(RMSprop(lr=lr, decay_rate=rho), 0.0, [g] * 3) == pytest.approx(expected, abs=1e-14)
    # first step: 0.01 / sqrt(0.01) = 0.1, less a relative 1e-7 / 0.5 for eps
    assert expected[0] == pytest.approx(-0.1 * (1 - 2e-7), abs=1e-12)


def test_adam_constant_gradient_moves_lr_per_step():
    # m_t = (1 - b1^t) g, v_t = (1 - b2^t) g^2, so lr_t m_t / sqrt(v_t) = lr sign(g): with
    # eps, step t is lr s|g| / (s|g| + eps), s = sqrt(1 - b2^t)
    out = run(Adam(lr=0.001), 1.0, [-4.0] * 5)
    w, expected = 1.0, []
    for t in range(1, 6):
        s = math.sqrt(1 - 0.999 ** t)
        w += 0.001 * s * 4 / (s * 4 + 1e-7)
        expected.append(w)
    assert out == pytest.approx(expected, abs=1e-15)
    assert out == pytest.approx([1.001, 1.002, 1.003, 1.004, 1.005], abs=3e-9)


# ---------------------------------------------------------------- an independent scalar loop

def reference(name, grads, w, **kw):
    """Each method from its paper's equations, on Python floats, in a different form."""
    out = []
    if name == "SGD":
        for g in grads:
            w = w - kw["lr"] * g
            out.append(w)
    elif name == "Momentum":
        v = 0.0
        for g in grads:
            v = kw["momentum"] * v - kw["lr"] * g
            w = w + v
            out.append(w)
    elif name == "Nesterov":  # PyTorch's form: buffer b <- mu b + g;  W <- W - lr (g + mu b)
        b = 0.0
        for g in grads:
            b = kw["momentum"] * b + g
            w = w - kw["lr"] * (g + kw["momentum"] * b)
            out.append(w)
    elif name == "AdaGrad":  # Duchi et al.: W <- W - lr g / sqrt(sum of g^2)
        s = 0.0
        for g in grads:
            s += g * g
            w = w - kw["lr"] * g / (math.sqrt(s) + 1e-7)
            out.append(w)
    elif name == "RMSprop":  # Hinton's lecture 6e: mean square as an exponential average
        ms = 0.0
        for g in grads:
            ms = kw["decay_rate"] * ms + (1 - kw["decay_rate"]) * g * g
            w = w - kw["lr"] * g / (math.sqrt(ms) + 1e-7)
            out.append(w)
    elif name == "Adam":  # Algorithm 1 with m_hat, v_hat and eps_hat = eps sqrt(1 - b2^t)
        m = v = 0.0
        b1, b2 = kw["beta1"], kw["beta2"]
        for t, g in enumerate(grads, start=1):
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
            w = w - kw["lr"] * m_hat / (math.sqrt(v_hat) + 1e-7 / math.sqrt(1 - b2 ** t))
            out.append(w)
    return out


SETTINGS = {"SGD": dict(lr=0.1), "Momentum": dict(lr=0.05, momentum=0.8),
            "Nesterov": dict(lr=0.05, momentum=0.8), "AdaGrad": dict(lr=0.3),
            "RMSprop": dict(lr=0.02, decay_rate=0.9), "Adam": dict(lr=0.01, beta1=0.8, beta2=0.95)}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@given(grads=st.lists(st.floats(-3, 3, allow_nan=False), min_size=1, max_size=8),
       w0=st.floats(-2, 2))
def test_matches_an_independent_scalar_loop(name, grads, w0):
    kw = SETTINGS[name]
    actual = run(OPTIMIZERS[name](**kw), w0, grads)
    np.testing.assert_allclose(actual, reference(name, grads, w0, **kw), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- number parameters

@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@given(gx=st.lists(st.floats(-3, 3, allow_nan=False), min_size=1, max_size=6),
       gy=st.lists(st.floats(-3, 3, allow_nan=False), min_size=6, max_size=6))
def test_number_parameters_step_as_0d_arrays_do(name, gx, gy):
    # The book's ch06/optimizer_compare_naive.py: params {'x': -7.0, 'y': 2.0}, grads floats,
    # params[key] rebound to a float; the same numbers as 0-d float64 arrays changed in place.
    kw = SETTINGS[name]
    numbers, numbers_opt = {"x": -7.0, "y": 2.0}, OPTIMIZERS[name](**kw)
    arrays, arrays_opt = {"x": np.array(-7.0), "y": np.array(2.0)}, OPTIMIZERS[name](**kw)
    ids = {k: id(v) for k, v in arrays.items()}
    xs = []
    for dx, dy in zip(gx, gy):
        numbers_opt.update(numbers, {"x": dx, "y": dy})
        arrays_opt.update(arrays, {"x": np.array(dx), "y": np.array(dy)})
        assert type(numbers["x"]) is float and type(numbers["y"]) is float
        assert numbers == {k: float(v) for k, v in arrays.items()}
        xs.append(numbers["x"])
    assert {k: id(v) for k, v in arrays.items()} == ids
    np.testing.assert_allclose(xs, reference(name, gx, -7.0, **kw), rtol=1e-10, atol=1e-12)


def test_the_books_optimizer_compare_naive_loop():
    # f(x, y) = x^2 / 20 + y^2 from (-7, 2), 30 steps of the book's script, against its
    # SGD line (W -= lr g) and Momentum lines (v = mu v - lr g; W += v) on floats.
    sgd, momentum = {"x": -7.0, "y": 2.0}, {"x": -7.0, "y": 2.0}
    sgd_opt, momentum_opt = SGD(lr=0.95), Momentum(lr=0.1, momentum=0.9)
    x, y, x2, y2, vx, vy = -7.0, 2.0, -7.0, 2.0, 0.0, 0.0
    for _ in range(30):
        sgd_opt.update(sgd, {"x": sgd["x"] / 10.0, "y": 2.0 * sgd["y"]})
        momentum_opt.update(momentum, {"x": momentum["x"] / 10.0, "y": 2.0 * momentum["y"]})
        x, y = x - 0.95 * (x / 10.0), y - 0.95 * (2.0 * y)
        vx, vy = 0.9 * vx - 0.1 * (x2 / 10.0), 0.9 * vy - 0.1 * (2.0 * y2)
        x2, y2 = x2 + vx, y2 + vy
    assert type(sgd["x"]) is float and type(momentum["y"]) is float
    assert sgd == pytest.approx({"x": x, "y": y}, rel=1e-12, abs=1e-15)
    assert momentum == pytest.approx({"x": x2, "y": y2}, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_int_and_numpy_number_parameters_become_floats(name):
    params = {"a": 3, "b": np.float32(0.5), "c": np.int64(-1)}
    OPTIMIZERS[name](**SETTINGS[name]).update(params, {"a": 1, "b": 1.0, "c": np.float32(-2)})
    assert all(type(v) is float for v in params.values())
    assert params["a"] < 3 and params["b"] < 0.5 and params["c"] > -1


# ---------------------------------------------------------------- the interface

@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_updates_in_place_per_key_and_leaves_grads_alone(name):
    rng = np.random.default_rng(0)
    params = {"W1": rng.standard_normal((3, 4)), "b1": rng.standard_normal(4),
              "W2": rng.standard_normal((4, 2)).astype(np.float32)}
    ids = {k: id(v) for k, v in params.items()}
    grads = {k: rng.standard_normal(v.shape).astype(v.dtype) for k, v in params.items()}
    grads_before = {k: g.copy() for k, g in grads.items()}
    before = {k: p.copy() for k, p in params.items()}
    opt = get_optimizer(name.lower(), **SETTINGS[name])
    for _ in range(3):
        opt.update(params, grads)
    for k in params:
        assert id(params[k]) == ids[k]
        assert params[k].dtype == before[k].dtype
        np.testing.assert_array_equal(grads[k], grads_before[k])
    # each coordinate moves as a scalar parameter with that gradient would
    for k in params:
        for idx in [(0,) * params[k].ndim, tuple(s - 1 for s in params[k].shape)]:
            expected = reference(name, [float(grads[k][idx])] * 3, float(before[k][idx]),
                                 **SETTINGS[name])[-1]
            tol = 1e-5 if params[k].dtype == np.float32 else 1e-12
            assert float(params[k][idx]) == pytest.approx(expected, rel=tol, abs=tol)


def test_state_is_per_key_and_new_keys_start_fresh():
    opt = Momentum(lr=0.1, momentum=0.5)
    a = {"a": np.array([0.0])}
    opt.update(a, {"a": np.array([1.0])})
    both = {"a": a["a"], "b": np.array([0.0])}
    opt.update(both, {"a": np.array([1.0]), "b": np.array([1.0])})
    # a: v = -0.1 then -0.15; b: first step -0.1
    assert both["a"][0] == pytest.approx(-0.25)
    assert both["b"][0] == pytest.approx(-0.1)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_bad_input_is_refused_with_the_key(name):
    opt = OPTIMIZERS[name]()
    with pytest.raises(ValueError, match="grads has no 'b'"):
        opt.update({"b": np.zeros(2)}, {"W": np.zeros(2)})
    with pytest.raises(ValueError, match=r"grads\['W'\] has shape \(3,\).*\(2,\)"):
        opt.update({"W": np.zeros(2)}, {"W": np.zeros(3)})
    with pytest.raises(ValueError, match="not a numpy array"):
        opt.update({"W": [0.0, 1.0]}, {"W": np.zeros(2)})


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="lr must be a number > 0"):
        SGD(lr=0)
    with pytest.raises(ValueError, match=r"momentum must be a number in \[0, 1\)"):
        Momentum(momentum=1.0)
    with pytest.raises(ValueError, match="beta2"):
        Adam(beta2=-0.1)
    with pytest.raises(ValueError, match="unknown optimizer 'adamw'"):
        get_optimizer("adamw")


# ---------------------------------------------------------------- torch.optim as a reference

def torch_optimizer(name, tensors, kw):
    import torch

    if name == "SGD":
        return torch.optim.SGD(tensors, lr=kw["lr"])
    if name in ("Momentum", "Nesterov"):
        return torch.optim.SGD(tensors, lr=kw["lr"], momentum=kw["momentum"],
                               nesterov=name == "Nesterov")
    if name == "AdaGrad":
        return torch.optim.Adagrad(tensors, lr=kw["lr"], eps=1e-7)
    if name == "RMSprop":
        return torch.optim.RMSprop(tensors, lr=kw["lr"], alpha=kw["decay_rate"], eps=1e-7)
    return torch.optim.Adam(tensors, lr=kw["lr"], betas=(kw["beta1"], kw["beta2"]), eps=1e-7)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@settings(max_examples=10)
@given(seed=st.integers(0, 2**32 - 1), steps=st.integers(1, 12))
def test_matches_torch_optim(name, seed, steps):
    import torch

    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (4,)]
    start = [rng.standard_normal(s) for s in shapes]
    params = {f"p{i}": a.copy() for i, a in enumerate(start)}
    tensors = [torch.tensor(a.copy(), requires_grad=True) for a in start]
    ours, theirs = OPTIMIZERS[name](**SETTINGS[name]), torch_optimizer(name, tensors, SETTINGS[name])
    for _ in range(steps):
        # |g| >= 0.1, so Adam's eps (1e-7 added to sqrt(v) here, to sqrt(v_hat) in PyTorch:
        # eps / sqrt(1 - b2^t) <= 4.5e-7 against 1e-7 on sqrt(v_hat) >= ~0.1) moves a step
        # of lr = 0.01 by about 0.01 * 3.5e-7 / 0.1 = 3.5e-8 at most: under 1e-6 in 12 steps.
        grads = [rng.uniform(0.1, 2, s) * rng.choice([-1, 1], s) for s in shapes]
        ours.update(params, {f"p{i}": g for i, g in enumerate(grads)})
        for t, g in zip(tensors, grads):
            t.grad = torch.tensor(g)
        theirs.step()
    tol = 1e-6 if name == "Adam" else 1e-12
    for i, t in enumerate(tensors):
        np.testing.assert_allclose(params[f"p{i}"], t.detach().numpy(), rtol=0, atol=tol)
