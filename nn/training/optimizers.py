"""Parameter updates (パラメータの更新): the book's common/optimizer.py, checked.

Every optimizer has the book's interface::

    optimizer = Adam(lr=0.001)
    for i in range(iters):
        grads = network.gradient(x_batch, t_batch)
        optimizer.update(network.params, grads)   # changes the arrays in params in place

``params`` and ``grads`` are dicts of numpy arrays with the same keys and shapes
(grads may hold other keys too; only params' keys are used): writable float parameters,
real-number gradients.  Every pair is checked before any is changed, so an update
changes all parameters or, raising an error naming the key, none.  Each parameter array
is updated in place, so layers holding it see the change; ``grads`` is never
changed.  A parameter may also be a real number (int or float, not bool), as in the
book's ch06/optimizer_compare_naive.py (``{'x': -7.0, 'y': 2.0}``): it is updated as a
0-d float64 array and ``params[key]`` is rebound to the new value, a float, as the
book's ``params[key] -= ...`` does; its gradient may be a number too.  State (velocity,
squared-gradient sums, moments) is kept per key, in the parameter's dtype (float64 for
a number), created at the first ``update``.  Notation: W a parameter,
g = dL/dW, lr the learning rate (学習係数), all operations elementwise.

    SGD       W <- W - lr g
    Momentum  v <- mu v - lr g;  W <- W + v                       (v: velocity, 速度)
    Nesterov  v_new = mu v - lr g;  W <- W + mu v_new - lr g      (Bengio et al. 2012, eq. 7)
    AdaGrad   h <- h + g^2;  W <- W - lr g / (sqrt(h) + eps)
    RMSprop   h <- rho h + (1 - rho) g^2;  W <- W - lr g / (sqrt(h) + eps)
    Adam      m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  t <- t + 1
              W <- W - lr_t m / (sqrt(v) + eps),  lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)

Nesterov: the paper's step (gradient at the look-ahead point, re-parametrised so W is
that point) is W <- W + mu^2 v_old - (1 + mu) lr g, the same as PyTorch's
``SGD(nesterov=True)`` with v = -lr * buffer, and the same as the book's repository since
its 2021 fix (its earlier line order applied mu^2 to the *updated* velocity).

Adam: the book's form, which is the paper's Algorithm 1 with the bias corrections
folded into lr_t (Kingma & Ba, end of section 2).  It equals lr m_hat / (sqrt(v_hat) +
eps_hat) with eps_hat = eps / sqrt(1 - b2^t), so next to PyTorch's Adam (eps added to
sqrt(v_hat)) it differs only in where the 1e-7 goes.
"""
import numpy as np

from ..layers.core import hyperparameter

EPS = 1e-7  # the book's guard against dividing by zero
REAL = (int, float, np.integer, np.floating)  # number parameters; bool, an int too, is not one


def _pairs(params, grads, who):
    """``([(key, p, g)], scalars)`` once every pair is checked: no half-done update.

    A number parameter comes as a 0-d float array ``p``, also listed in ``scalars``:
    ``_put_back`` rebinds ``params[key]`` to its value once the step is done.
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


def _put_back(params, scalars):
    """Rebind each number parameter to its updated value: a number cannot change in place."""
    for key, p in scalars:
        params[key] = float(p)


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


def _zeros_like(pairs, state, who):
    """``state`` (a dict, or None at the first update) with a zero array for every key of
    ``pairs`` it lacks; ValueError if a parameter's shape changed since its state was made."""
    state = {} if state is None else state
    for key, p, _ in pairs:
        s = state.get(key)
        if s is None:
            state[key] = np.zeros_like(p)
        elif s.shape != p.shape:
            raise ValueError(f"{who}.update: params[{key!r}] has shape {p.shape}, but its state "
                             f"was made for shape {s.shape}; use a new {who} for new parameters")
    return state


def _step_by_rms(p, numerator, squares, lr, tmp):
    """p <- p - lr numerator / (sqrt(squares) + 1e-7), the step AdaGrad, RMSprop and Adam
    share, computed in the scratch array ``tmp`` (p's shape and dtype)."""
    np.sqrt(squares, out=tmp)
    tmp += EPS
    np.divide(numerator, tmp, out=tmp)
    tmp *= lr
    p -= tmp


class _Optimizer:
    """State shared by the optimizers: a scratch array per shape and dtype, reused at every step.

    The temporaries of an update (lr * g, g^2, the step) are written into it with numpy's
    ``out=`` instead of into new arrays.  Parameters of one shape share one scratch array
    (each key is done with it before the next starts), so the step touches less memory and
    more of it stays in cache (BENCHMARKS.md, chapter 6).
    """

    _tmp = None

    def _scratch(self, p):
        if self._tmp is None:
            self._tmp = {}
        tmp = self._tmp.get((p.shape, p.dtype))
        if tmp is None:
            tmp = self._tmp[(p.shape, p.dtype)] = np.empty_like(p)
        return tmp


class SGD:
    """Stochastic gradient descent (確率的勾配降下法): W <- W - lr g."""

    def __init__(self, lr=0.01):
        self.lr = hyperparameter(lr, "lr", "SGD")

    def update(self, params, grads):
        lr = self.lr
        pairs, scalars = _pairs(params, grads, "SGD")
        for _, p, g in pairs:
            # A plain temporary rather than a scratch array: SGD has one temporary per key,
            # freed at once and its memory handed back by the allocator for the next, so a
            # scratch array would save nothing and add its own calls.
            p -= lr * g
        _put_back(params, scalars)


class Momentum(_Optimizer):
    """Momentum SGD: v <- mu v - lr g;  W <- W + v.  ``v`` starts at zero."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = hyperparameter(lr, "lr", "Momentum")
        self.momentum = hyperparameter(momentum, "momentum", "Momentum", "in [0, 1)")
        self.v = None

    def update(self, params, grads):
        pairs, scalars = _pairs(params, grads, "Momentum")
        self.v = _zeros_like(pairs, self.v, "Momentum")
        for key, p, g in pairs:
            v = self.v[key]
            v *= self.momentum
            v -= np.multiply(g, self.lr, out=self._scratch(p))
            p += v
        _put_back(params, scalars)


class Nesterov(_Optimizer):
    """Nesterov's accelerated gradient (arXiv:1212.0901, eq. 7), written as the book writes it.

    W <- W + mu^2 v - (1 + mu) lr g;  then v <- mu v - lr g.
    Computed as v_new = mu v - lr g;  W <- W + mu v_new - lr g, which is the same step.
    """

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = hyperparameter(lr, "lr", "Nesterov")
        self.momentum = hyperparameter(momentum, "momentum", "Nesterov", "in [0, 1)")
        self.v = None

    def update(self, params, grads):
        pairs, scalars = _pairs(params, grads, "Nesterov")
        self.v = _zeros_like(pairs, self.v, "Nesterov")
        mu, lr = self.momentum, self.lr
        for key, p, g in pairs:
            v, tmp = self.v[key], self._scratch(p)
            # As W <- W + mu v_new - lr g, the same step in six passes instead of seven:
            # v_new = mu v - lr g, and mu v_new - lr g = mu^2 v - (1 + mu) lr g.
            np.multiply(g, lr, out=tmp)
            v *= mu
            v -= tmp
            p -= tmp
            p += np.multiply(v, mu, out=tmp)
        _put_back(params, scalars)


class AdaGrad(_Optimizer):
    """AdaGrad: h <- h + g^2;  W <- W - lr g / (sqrt(h) + 1e-7).  Per-coordinate step sizes."""

    def __init__(self, lr=0.01):
        self.lr = hyperparameter(lr, "lr", "AdaGrad")
        self.h = None

    def update(self, params, grads):
        pairs, scalars = _pairs(params, grads, "AdaGrad")
        self.h = _zeros_like(pairs, self.h, "AdaGrad")
        for key, p, g in pairs:
            h, tmp = self.h[key], self._scratch(p)
            h += np.multiply(g, g, out=tmp)
            _step_by_rms(p, g, h, self.lr, tmp)
        _put_back(params, scalars)


class RMSprop(_Optimizer):
    """RMSprop: h <- rho h + (1 - rho) g^2;  W <- W - lr g / (sqrt(h) + 1e-7); rho = decay_rate."""

    def __init__(self, lr=0.01, decay_rate=0.99):
        self.lr = hyperparameter(lr, "lr", "RMSprop")
        self.decay_rate = hyperparameter(decay_rate, "decay_rate", "RMSprop", "in [0, 1)")
        self.h = None

    def update(self, params, grads):
        pairs, scalars = _pairs(params, grads, "RMSprop")
        self.h = _zeros_like(pairs, self.h, "RMSprop")
        rho = self.decay_rate
        for key, p, g in pairs:
            h, tmp = self.h[key], self._scratch(p)
            h *= rho
            np.multiply(g, g, out=tmp)
            tmp *= 1 - rho
            h += tmp
            _step_by_rms(p, g, h, self.lr, tmp)
        _put_back(params, scalars)


class Adam(_Optimizer):
    """Adam (arXiv:1412.6980): moments m, v of g and g^2, bias-corrected through lr_t.

    m <- m + (1 - b1)(g - m);  v <- v + (1 - b2)(g^2 - v);  iter <- iter + 1;
    W <- W - lr_t m / (sqrt(v) + 1e-7),  lr_t = lr sqrt(1 - b2^iter) / (1 - b1^iter).
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr = hyperparameter(lr, "lr", "Adam")
        self.beta1 = hyperparameter(beta1, "beta1", "Adam", "in [0, 1)")
        self.beta2 = hyperparameter(beta2, "beta2", "Adam", "in [0, 1)")
        self.iter = 0
        self.m = None
        self.v = None

    def update(self, params, grads):
        pairs, scalars = _pairs(params, grads, "Adam")
        self.m = _zeros_like(pairs, self.m, "Adam")
        self.v = _zeros_like(pairs, self.v, "Adam")
        self.iter += 1
        b1, b2 = self.beta1, self.beta2
        lr_t = float(self.lr * np.sqrt(1.0 - b2 ** self.iter) / (1.0 - b1 ** self.iter))
        for key, p, g in pairs:
            m, v, tmp = self.m[key], self.v[key], self._scratch(p)
            m *= b1
            m += np.multiply(g, 1 - b1, out=tmp)
            v *= b2
            np.multiply(g, g, out=tmp)
            tmp *= 1 - b2
            v += tmp
            _step_by_rms(p, m, v, lr_t, tmp)
        _put_back(params, scalars)


OPTIMIZERS = {"SGD": SGD, "Momentum": Momentum, "Nesterov": Nesterov, "AdaGrad": AdaGrad,
              "RMSprop": RMSprop, "Adam": Adam}


def get_optimizer(name, **kwargs):
    """The optimizer called ``name`` (any case: 'sgd', 'adam', ...) built with ``kwargs``."""
    by_lower = {k.lower(): cls for k, cls in OPTIMIZERS.items()}
    cls = by_lower.get(str(name).lower())
    if cls is None:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    return cls(**kwargs)
