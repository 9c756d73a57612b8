"""Parameter updates (パラメータの更新): the book's common/optimizer.py, checked.

Every optimizer has the book's interface::

    optimizer = Adam(lr=0.001)
    for i in range(iters):
        grads = network.gradient(x_batch, t_batch)
        optimizer.update(network.params, grads)   # changes the arrays in params in place

``params`` and ``grads``: dicts of numpy arrays with the same keys and shapes (grads may
hold other keys too): writable float parameters, real-number gradients.  Every pair is
checked before any is changed, so an update changes all parameters or, raising an error
naming the key, none; ``grads`` is never changed.  A parameter may also be a real number
(not bool), as in the book's ch06/optimizer_compare_naive.py (``{'x': -7.0, 'y': 2.0}``):
it is updated as a 0-d float64 array and ``params[key]`` is rebound to the new float, as
the book's ``params[key] -= ...`` does.  State (velocity, squared-gradient sums, moments)
is kept per key in the parameter's dtype, made at the first ``update``.  Notation: W a
parameter, g = dL/dW, lr the learning rate (学習係数), all operations elementwise.

    SGD       W <- W - lr g
    Momentum  v <- mu v - lr g;  W <- W + v                       (v: velocity, 速度)
    Nesterov  v_new = mu v - lr g;  W <- W + mu v_new - lr g      (Bengio et al. 2012, eq. 7)
    AdaGrad   h <- h + g^2;  W <- W - lr g / (sqrt(h) + eps)
    RMSprop   h <- rho h + (1 - rho) g^2;  W <- W - lr g / (sqrt(h) + eps)
    Adam      m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  t <- t + 1
              W <- W - lr_t m / (sqrt(v) + eps),  lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)

Nesterov: the paper's step (gradient at the look-ahead point, re-parametrised so W is
that point) is W <- W + mu^2 v_old - (1 + mu) lr g, as PyTorch's ``SGD(nesterov=True)``
with v = -lr * buffer, and the book's repository since its 2021 fix (its earlier line
order applied mu^2 to the *updated* velocity).

Adam: the book's form, the paper's Algorithm 1 with the bias corrections folded into lr_t
(Kingma & Ba, end of section 2): lr m_hat / (sqrt(v_hat) + eps_hat) with eps_hat = eps /
sqrt(1 - b2^t), so it differs from PyTorch's Adam only in where the 1e-7 goes.
"""
import numpy as np

from ..layers.core import hyperparameter

EPS = 1e-7  # the book's guard against dividing by zero
REAL = (int, float, np.integer, np.floating)  # number parameters; bool, an int too, is not one


def _pairs(params, grads, who):
    """``([(key, p, g)], scalars)`` once every pair is checked: no half-done update.

    A number parameter comes as a 0-d float array ``p``, also listed in ``scalars``, so
    that ``params[key]`` is rebound to its value once the step is done.
    """
    pairs, scalars = [], []
    for key, p in params.items():
        g = grads.get(key)
        # The usual case first, with attribute reads only (this runs at every step).
        if not (type(p) is np.ndarray and type(g) is np.ndarray and g.shape == p.shape
                and p.dtype.kind == "f" and g.dtype.kind in "fiu" and p.flags.writeable):
            if isinstance(p, REAL) and not isinstance(p, bool):
                p = np.array(float(p))
                scalars.append((key, p))
            g = _checked(key, p, g, params, who)
        pairs.append((key, p, g))
    return pairs, scalars


def _checked(key, p, g, params, who):
    """``g`` as an array fit to update ``p`` (an array, or a number's 0-d array), or the error
    saying what is wrong with the pair."""
    if g is None:
        raise ValueError(f"{who}.update: grads has no {key!r}; it needs one gradient per "
                         f"parameter (params keys: {', '.join(map(str, params))})")
    if not isinstance(p, np.ndarray) or p.dtype.kind != "f" or not p.flags.writeable:
        what = (f"a {type(p).__name__}, not a numpy array" if not isinstance(p, np.ndarray) else
                f"of dtype {p.dtype}" if p.dtype.kind != "f" else "read-only")
        raise ValueError(f"{who}.update: params[{key!r}] is {what}; it must be a writable "
                         f"float array, to be updated in place, or a real number (int or "
                         f"float, not bool), to be replaced by its updated value")
    array = np.asarray(g)
    if array.dtype.kind not in "fiu":
        raise TypeError(f"{who}.update: grads[{key!r}] must be real numbers (an array of "
                        f"floats), got {type(g).__name__} of dtype {array.dtype}")
    if array.shape != p.shape:
        raise ValueError(f"{who}.update: grads[{key!r}] has shape {array.shape} but "
                         f"params[{key!r}] has shape {p.shape}; they must match")
    return array


def _step_by_rms(p, numerator, squares, lr, tmp):
    """p <- p - lr numerator / (sqrt(squares) + 1e-7), the step AdaGrad, RMSprop and Adam
    share, computed in the scratch array ``tmp`` (p's shape and dtype)."""
    np.sqrt(squares, out=tmp)
    tmp += EPS
    np.divide(numerator, tmp, out=tmp)
    tmp *= lr
    p -= tmp


class Optimizer:
    """The update every optimizer shares: check every pair, make the state, step each key.

    An optimizer names its per-key state dicts in ``state`` (zero arrays like the parameters,
    made at the first update) and writes ``step(key, p, g, lr)``, which changes p in place.
    ``_scratch(p)``, an array of p's shape and dtype shared by the parameters of one shape,
    takes the temporaries of a step (lr * g, g^2 ...) through numpy's ``out=``, so the step
    touches less memory and more of it stays in cache (BENCHMARKS.md, chapter 6).
    """

    state = ()
    _tmp = None

    def update(self, params, grads):
        """Change each array of ``params`` in place by its gradient in ``grads`` (see the
        module); a number in ``params`` is rebound to its updated value."""
        who = type(self).__name__
        pairs, scalars = _pairs(params, grads, who)
        for name in self.state:
            self._state(name, pairs, who)
        lr, step = self.step_lr(), self.step
        for key, p, g in pairs:
            step(key, p, g, lr)
        for key, p in scalars:  # a number cannot change in place
            params[key] = float(p)

    def step_lr(self):
        """The learning rate of this update (Adam's lr_t)."""
        return self.lr

    def _state(self, name, pairs, who):
        """Give the state dict ``name`` a zero array for every key of ``pairs`` it lacks;
        ValueError if a parameter's shape changed since its state was made."""
        state = getattr(self, name)
        state = {} if state is None else state
        for key, p, _ in pairs:
            s = state.get(key)
            if s is None:
                state[key] = np.zeros_like(p)
            elif s.shape != p.shape:
                raise ValueError(f"{who}.update: params[{key!r}] has shape {p.shape}, but its "
                                 f"state was made for shape {s.shape}; use a new {who} for new "
                                 f"parameters")
        setattr(self, name, state)

    def _scratch(self, p):
        if self._tmp is None:
            self._tmp = {}
        tmp = self._tmp.get((p.shape, p.dtype))
        if tmp is None:
            tmp = self._tmp[(p.shape, p.dtype)] = np.empty_like(p)
        return tmp


class SGD(Optimizer):
    """Stochastic gradient descent (確率的勾配降下法): W <- W - lr g."""

    def __init__(self, lr=0.01):
        self.lr = hyperparameter(lr, "lr", "SGD")

    def step(self, key, p, g, lr):
        # A plain temporary rather than a scratch array: SGD has one temporary per key, freed
        # at once and its memory handed back by the allocator for the next.
        p -= lr * g


class Momentum(Optimizer):
    """Momentum SGD: v <- mu v - lr g;  W <- W + v.  ``v`` starts at zero."""

    state = ("v",)

    def __init__(self, lr=0.01, momentum=0.9):
        who = type(self).__name__
        self.lr = hyperparameter(lr, "lr", who)
        self.momentum = hyperparameter(momentum, "momentum", who, "in [0, 1)")
        self.v = None

    def step(self, key, p, g, lr):
        v = self.v[key]
        v *= self.momentum
        v -= np.multiply(g, lr, out=self._scratch(p))
        p += v


class Nesterov(Momentum):
    """Nesterov's accelerated gradient (arXiv:1212.0901, eq. 7), written as the book writes it.

    W <- W + mu^2 v - (1 + mu) lr g;  then v <- mu v - lr g.
    Computed as v_new = mu v - lr g;  W <- W + mu v_new - lr g, which is the same step.
    """

    def step(self, key, p, g, lr):
        # As W <- W + mu v_new - lr g, the same step in six passes instead of seven:
        # v_new = mu v - lr g, and mu v_new - lr g = mu^2 v - (1 + mu) lr g.
        v, tmp = self.v[key], self._scratch(p)
        np.multiply(g, lr, out=tmp)
        v *= self.momentum
        v -= tmp
        p -= tmp
        p += np.multiply(v, self.momentum, out=tmp)


class AdaGrad(Optimizer):
    """AdaGrad: h <- h + g^2;  W <- W - lr g / (sqrt(h) + 1e-7).  Per-coordinate step sizes."""

    state = ("h",)

    def __init__(self, lr=0.01):
        self.lr = hyperparameter(lr, "lr", "AdaGrad")
        self.h = None

    def step(self, key, p, g, lr):
        h, tmp = self.h[key], self._scratch(p)
        h += np.multiply(g, g, out=tmp)
        _step_by_rms(p, g, h, lr, tmp)


class RMSprop(Optimizer):
    """RMSprop: h <- rho h + (1 - rho) g^2;  W <- W - lr g / (sqrt(h) + 1e-7); rho = decay_rate."""

    state = ("h",)

    def __init__(self, lr=0.01, decay_rate=0.99):
        self.lr = hyperparameter(lr, "lr", "RMSprop")
        self.decay_rate = hyperparameter(decay_rate, "decay_rate", "RMSprop", "in [0, 1)")
        self.h = None

    def step(self, key, p, g, lr):
        h, tmp = self.h[key], self._scratch(p)
        h *= self.decay_rate
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.decay_rate
        h += tmp
        _step_by_rms(p, g, h, lr, tmp)


class Adam(Optimizer):
    """Adam (arXiv:1412.6980): moments m, v of g and g^2, bias-corrected through lr_t.

    m <- m + (1 - b1)(g - m);  v <- v + (1 - b2)(g^2 - v);  iter <- iter + 1;
    W <- W - lr_t m / (sqrt(v) + 1e-7),  lr_t = lr sqrt(1 - b2^iter) / (1 - b1^iter).
    """

    state = ("m", "v")

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr = hyperparameter(lr, "lr", "Adam")
        self.beta1 = hyperparameter(beta1, "beta1", "Adam", "in [0, 1)")
        self.beta2 = hyperparameter(beta2, "beta2", "Adam", "in [0, 1)")
        self.iter = 0
        self.m = self.v = None

    def step_lr(self):
        """lr_t, counting this update in ``iter`` (called once every pair is checked)."""
        self.iter += 1
        return float(self.lr * np.sqrt(1.0 - self.beta2 ** self.iter)
                     / (1.0 - self.beta1 ** self.iter))

    def step(self, key, p, g, lr_t):
        m, v, tmp = self.m[key], self.v[key], self._scratch(p)
        b1, b2 = self.beta1, self.beta2
        m *= b1
        m += np.multiply(g, 1 - b1, out=tmp)
        v *= b2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - b2
        v += tmp
        _step_by_rms(p, m, v, lr_t, tmp)


OPTIMIZERS = {"SGD": SGD, "Momentum": Momentum, "Nesterov": Nesterov, "AdaGrad": AdaGrad,
              "RMSprop": RMSprop, "Adam": Adam}


def get_optimizer(name, **kwargs):
    """The optimizer called ``name`` (any case: 'sgd', 'adam', ...) built with ``kwargs``."""
    by_lower = {k.lower(): cls for k, cls in OPTIMIZERS.items()}
    cls = by_lower.get(str(name).lower())
    if cls is None:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    return cls(**kwargs)
