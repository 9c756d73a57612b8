"""The book's layers (レイヤ) for back-propagation (誤差逆伝播法), vectorised with numpy.

Each layer has ``forward(...)``, which keeps what its backward needs, and ``backward(dout=1)``,
which takes dL/d(output) and returns dL/d(input).  The forward and the derivatives themselves
are rows of the op table (``autograd.ops``), the one place they are written, shared with the
scalar engine; a layer only keeps the right arrays and reshapes.

``dout=1`` (the default) means L = sum of the layer's outputs, so dL/d(output) is all ones;
for SoftmaxWithLoss, whose output is the loss itself, it is dL/dL = 1.

No layer changes an array its caller passed in: forward and backward return new arrays and
keep references to inputs only to read them.
"""
import math
import numbers
import warnings

import numpy as np

from autograd import ops

from . import functions


def hyperparameter(value, name, who, interval="> 0"):
    """``value`` (a real number, not a bool or a string) as a float, else an error naming
    ``who``'s argument ``name`` and what it must be.  ``interval``: "> 0", "in [0, 1)" or
    "in [0, 1]"."""
    real = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    v = float(value) if real else math.nan
    if not {"> 0": v > 0, "in [0, 1)": 0 <= v < 1, "in [0, 1]": 0 <= v <= 1}[interval]:
        raise (ValueError if real else TypeError)(
            f"{who}: {name} must be a number {interval}, got {value!r:.60}")
    return v


def upstream(dout, shape, dtype, who):
    """``dout`` as an array of the layer output's ``shape`` in the layer's float ``dtype`` (a
    layer's gradients keep its dtype); a number stands for that number everywhere.

    Anything but real numbers (None, strings, objects, complex) is refused: numpy would
    turn None into nan and give all-nan gradients without a word.
    """
    if type(dout) is np.ndarray and dout.shape == shape and dout.dtype == dtype:
        return dout  # the usual case: nothing to do
    dout = _real_numbers(dout, who)
    dtype = dtype if np.dtype(dtype).kind == "f" else np.float64  # int layers: 0.5 stays 0.5
    if dout.ndim == 0:
        return np.full(shape, dout, dtype=dtype)
    if dout.shape != shape:
        raise ValueError(f"{who}.backward: dout has shape {dout.shape}, but forward's output "
                         f"had shape {shape}; pass dL/d(output), shaped like the output")
    return dout.astype(dtype, copy=False)


def _real_numbers(dout, who):
    """``dout`` as an array of ints or floats, or TypeError naming the layer."""
    array = np.asarray(dout) if not isinstance(dout, (str, bytes)) else None
    if array is None or array.dtype.kind not in "iuf":
        raise TypeError(f"{who}.backward: dout must be real numbers (dL/d(output), a number or "
                        f"an array of floats), got {type(dout).__name__}"
                        f"{f' of dtype {array.dtype}' if array is not None else ''}: {dout!r:.60}")
    return array


def forward_first(state, who):
    """RuntimeError unless forward has run (``state``, what forward keeps, is not None)."""
    if state is None:
        raise RuntimeError(f"{who}.backward called before forward: call forward first")


class Relu:
    """ReLU layer: y = max(0, x) elementwise, any shape.

    Keeps its output ``out`` for backward: dL/dx = dout where x > 0, else 0 (the op table's
    ``relu`` row reads only the output).  ``mask`` is the book's: True where x <= 0.
    """

    def __init__(self):
        self.out = None

    @property
    def mask(self):
        return None if self.out is None else self.out <= 0

    def forward(self, x):
        self.out = functions.relu(x)
        return self.out

    def backward(self, dout=1):
        forward_first(self.out, "Relu")
        dout = upstream(dout, self.out.shape, self.out.dtype, "Relu")
        return ops.relu.backward[0](dout, self.out, None)


ReLU = Relu


class Sigmoid:
    """Sigmoid layer: y = 1 / (1 + exp(-x)) elementwise, any shape.

    Keeps its output ``out``: dL/dx = dout * y * (1 - y) (the ``sigmoid`` row).
    """

    def __init__(self):
        self.out = None

    def forward(self, x):
        self.out = functions.sigmoid(x)
        return self.out

    def backward(self, dout=1):
        forward_first(self.out, "Sigmoid")
        dout = upstream(dout, self.out.shape, self.out.dtype, "Sigmoid")
        return ops.sigmoid.backward[0](dout, self.out, None)


class Affine:
    """Affine layer (アフィン変換): Y = X W + b.

    ``W`` (D, M) and ``b`` (M,) are kept by reference, not copied: updating them in place
    (``W -= lr * dW``) updates the layer.  The input is a batch of any shape (N, ...) whose
    samples flatten to D values, e.g. images (N, 1, 28, 28) with D = 784, or a single sample
    (D,), computed in W's dtype (converted if it differs).  The output is (N, M), or (M,)
    for a single sample.

    backward(dout) stores dW = X^T dY (D, M) and db = sum_n dY (M,) and returns dX = dY W^T
    in the input's shape (the ``affine`` row).  With ``input_grad=False`` it skips dX and
    returns None: the first layer of a network never needs it, and it is the largest
    product of the backward pass.
    """

    def __init__(self, W, b, input_grad=True):
        if not isinstance(W, np.ndarray) or W.ndim != 2:
            raise ValueError(f"Affine: W must be a 2-D numpy array (D, M), got "
                             f"{type(W).__name__} of shape {np.shape(W)}")
        if not isinstance(b, np.ndarray) or b.shape != W.shape[1:]:
            raise ValueError(f"Affine: b must be a numpy array of shape {W.shape[1:]} to match "
                             f"W of shape {W.shape}, got {type(b).__name__} of shape {np.shape(b)}")
        # Inputs are computed in W's dtype: an integer W would truncate them (0.7 -> 0).
        for name, array in (("W", W), ("b", b)):
            if array.dtype.kind != "f":
                raise TypeError(f"Affine: {name} must be floating point, got dtype {array.dtype}; "
                                f"convert it, e.g. {name}.astype(np.float64)")
        self.W = W
        self.b = b
        self.input_grad = input_grad
        self.x = None  # the input as (N, D)
        self.original_x_shape = None
        self.dW = self.db = None

    def forward(self, x):
        self.x = None  # let the previous input go before converting this one (memory peak)
        x, self.x = self._as_batch(x)
        self.original_x_shape = x.shape
        out = ops.affine.forward(self.x, self.W, self.b)
        return out[0] if x.ndim == 1 else out

    def _as_batch(self, x):
        """``x`` as an array in W's dtype, and that array as a batch (N, D)."""
        x = np.asarray(x)
        if x.dtype != self.W.dtype:
            x = x.astype(self.W.dtype)
        d = self.W.shape[0]
        if x.ndim == 1 and x.shape[0] == d:
            return x, x.reshape(1, d)
        if x.ndim >= 2 and math.prod(x.shape[1:]) == d:
            return x, x.reshape(x.shape[0], d)
        per_sample = x.shape[0] if x.ndim == 1 else math.prod(x.shape[1:])
        raise ValueError(
            f"Affine: input of shape {x.shape} has {per_sample} values per sample, but W has "
            f"shape {self.W.shape}, so each sample must have W.shape[0] = {d}; give a batch "
            f"of shape (N, {d}) (or (N, ...) flattening to {d}), or a W with {per_sample} rows")

    def backward(self, dout=1):
        forward_first(self.x, "Affine")
        n, m = self.x.shape[0], self.W.shape[1]
        single = len(self.original_x_shape) == 1
        dout = upstream(dout, (m,) if single else (n, m), self.W.dtype, "Affine")
        if single:
            dout = dout.reshape(1, m)
        # The row's three rules called one by one (the hot path of a training step):
        # dX only when asked for.
        d_x, d_W, d_b = ops.affine.backward
        dx = d_x(dout, None, self.x, self.W, self.b) if self.input_grad else None
        self.dW = d_W(dout, None, self.x, self.W, self.b)
        self.db = d_b(dout, None, self.x, self.W, self.b)
        if dx is None or dx.shape == self.original_x_shape:
            return dx
        return dx.reshape(self.original_x_shape)


class SoftmaxWithLoss:
    """Softmax-with-Loss layer: softmax of the scores, then the mean cross-entropy error.

    forward(x, t): ``x`` scores (N, C), or (C,) for one sample; ``t`` one-hot rows shaped
    like ``x``, or class indices (N,) or (N, 1) (a scalar for one sample).  Returns the loss
    L = -(1/N) sum_n log y[n, t_n], computed from log_softmax(x) = x - max - log(sum(exp(x -
    max))): stable, and exact, so that backward's (y - t) / N is its true derivative (the
    ``softmax_cross_entropy`` row).  Index targets are used as they are; no one-hot matrix
    is built.

    Keeps ``loss``, ``y`` = softmax(x) (N, C) and ``t`` (indices (N,) or one-hot (N, C)).
    """

    def __init__(self):
        self.loss = None
        self.y = None
        self.t = None
        self.x_shape = None

    def forward(self, x, t):
        x2, self.t = functions.batch_targets(x, t, "SoftmaxWithLoss")
        self.loss, self.y = ops.softmax_cross_entropy.forward(x2, t=self.t)
        self.x_shape = np.shape(x)
        return self.loss

    def backward(self, dout=1):
        forward_first(self.y, "SoftmaxWithLoss")
        if type(dout) not in (int, float):  # the usual dout=1 skips the checks (np.ndim(1) is slow)
            dout = _real_numbers(dout, "SoftmaxWithLoss")
            if dout.ndim != 0:
                raise ValueError(f"SoftmaxWithLoss.backward: dout must be a number (dL/dloss, the "
                                 f"loss is a scalar), got an array of shape {dout.shape}")
            dout = dout[()]
        dx = ops.softmax_cross_entropy.backward[0](dout, (self.loss, self.y), None, t=self.t)
        return dx if dx.shape == self.x_shape else dx.reshape(self.x_shape)


# ---------------------------------------------------------------- chapter 6: Batch Norm, Dropout

class BatchNormalization:
    """Batch Normalization (Batch Norm): y = gamma (x - mean) / sqrt(var + eps) + beta per feature.

    ``gamma``, ``beta``: one value per feature, kept by reference (update them in place).
    Input (N, D): D features, statistics over the batch.  Input (N, C, H, W) (or any (N, C,
    ...)): per channel by default, statistics over N, H and W, so gamma has C values (what a
    convolutional net needs, and what PyTorch's BatchNorm2d does); ``per_pixel=True`` is the
    book's behaviour: the image is flattened to (N, C*H*W), every pixel a feature of its own.

    forward(x, train_flg=True): in training, the batch's mean and biased variance, and the
    running averages running <- momentum * running + (1 - momentum) * batch (the book's,
    from 0); in testing (train_flg=False) the running averages, as constants.  Before the
    first training batch there are none: testing then uses mean 0 and variance 1 (y = gamma
    x / sqrt(1 + eps) + beta, not the book's x / sqrt(eps), 1000 x); the running averages
    still start from 0 as the book's (starting the variance at 1, PyTorch's choice, leaves a
    bias of momentum^k after k batches, which swamps the tiny variances of a net with small
    weights: the book's figure 6-19 is not reproduced).  A training batch of one sample per
    feature (N = 1 for (N, D) input) has variance 0: the output is beta and dx is 0, and a
    RuntimeWarning says so (not an error: the book's batch_norm_gradient_check.py runs on
    one sample).  backward(dout) returns dx and stores ``dgamma``, ``dbeta`` (shapes of
    gamma, beta); the rules are the op table's ``batchnorm`` (xhat = (x - mean) / std, the
    derivative through the batch statistics) and ``scale_shift`` (gamma xhat + beta) rows.
    eps > 0, default 1e-6 (the book's 10e-7).  Outputs and gradients have gamma's dtype;
    float16 is computed, and its statistics kept, in float32 (float16 squares overflow).
    """

    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None, *,
                 per_pixel=False, eps=1e-6):
        gamma, beta = np.asarray(gamma), np.asarray(beta)
        if gamma.shape != beta.shape:
            raise ValueError(f"BatchNormalization: gamma has shape {gamma.shape} but beta has "
                             f"shape {beta.shape}; give one value of each per feature")
        self.momentum = hyperparameter(momentum, "momentum", "BatchNormalization", "in [0, 1]")
        self.eps = hyperparameter(eps, "eps", "BatchNormalization")
        self.gamma, self.beta, self.per_pixel = gamma, beta, per_pixel
        self.running_mean, self.running_var = running_mean, running_var
        self.input_shape = None
        self._saved = None  # (x as reshaped, batchnorm row output, row params) for backward
        self.dgamma = self.dbeta = None

    def _dtypes(self):
        """The layer's dtype (gamma's, if float) and its statistics' (float32 for float16)."""
        dtype = self.gamma.dtype if self.gamma.dtype.kind == "f" else np.dtype(np.float64)
        return dtype, np.promote_types(dtype, np.float32)

    def _layout(self, x):
        """(x reshaped for the row, in the statistics' dtype; the axes to reduce over)."""
        x = np.asarray(x)
        if x.ndim < 2:
            raise ValueError(f"BatchNormalization: input must be a batch (N, D) or (N, C, ...), "
                             f"got shape {x.shape}")
        if x.size == 0:  # batch statistics of nothing would be nan
            raise ValueError(f"BatchNormalization: the batch needs at least one sample (the "
                             f"batch mean and variance come from it); got an empty batch of "
                             f"shape {x.shape}")
        x = x.astype(self._dtypes()[1], copy=False)
        if x.ndim == 2 or self.per_pixel:
            x, axes = x.reshape(len(x), -1), (0,)
        else:
            axes = (0,) + tuple(range(2, x.ndim))
        features = x.shape[1]
        if self.gamma.size != features:
            how = ("C*H*W pixels (per_pixel=True)" if self.per_pixel else
                   "D features" if x.ndim == 2 else "C channels (or per_pixel=True for C*H*W)")
            raise ValueError(f"BatchNormalization: input of shape {self.input_shape} has "
                             f"{features} features but gamma has {self.gamma.size} values; "
                             f"gamma and beta need one value per feature: {how}")
        return x, axes

    def forward(self, x, train_flg=True):
        self.input_shape = np.shape(x)
        x, axes = self._layout(x)
        features = self.gamma.size
        if self.running_mean is None and train_flg:  # the book's start
            self.running_mean = np.zeros(features, dtype=x.dtype)
            self.running_var = np.zeros(features, dtype=x.dtype)
        if train_flg:
            running = None
        elif self.running_mean is None:  # no training batch yet: mean 0, variance 1
            running = (np.zeros(features, x.dtype), np.ones(features, x.dtype))
        else:
            running = (self.running_mean, self.running_var)
        if train_flg and x.size == features:
            warnings.warn(f"BatchNormalization: a training batch of one sample (input of shape "
                          f"{self.input_shape}) has variance 0 per feature, so the output is "
                          f"beta and dx is 0; train on batches of 2 or more", RuntimeWarning,
                          stacklevel=2)
        params = dict(axes=axes, eps=self.eps, running=running)
        # The rows' functions called directly (no dispatch on Values): the step's hot path.
        normalised = ops.batchnorm.forward(x, **params)  # (xhat, mean, var, std)
        if train_flg:
            m, (_, mean, var, _) = self.momentum, normalised
            self.running_mean = m * self.running_mean + (1 - m) * mean.reshape(-1)
            self.running_var = m * self.running_var + (1 - m) * var.reshape(-1)
        self._saved = (x, normalised, params)
        out = ops.scale_shift.forward(normalised[0], self.gamma, self.beta, axes=axes)
        return out.astype(self._dtypes()[0], copy=False).reshape(self.input_shape)

    def backward(self, dout=1):
        forward_first(self._saved, "BatchNormalization")
        x, normalised, params = self._saved
        dout = upstream(dout, self.input_shape, x.dtype, "BatchNormalization").reshape(x.shape)
        inputs, axes = (normalised[0], self.gamma, self.beta), params["axes"]
        dtype = self._dtypes()[0]
        dxhat, dgamma, dbeta = (rule(dout, None, *inputs, axes=axes)
                                for rule in ops.scale_shift.backward)
        self.dgamma, self.dbeta = dgamma.astype(dtype, copy=False), dbeta.astype(dtype, copy=False)
        dx = ops.batchnorm.backward[0](dxhat, normalised, x, **params)
        return dx.astype(dtype, copy=False).reshape(self.input_shape)


class Dropout:
    """Dropout: in training, each value is kept with probability 1 - dropout_ratio, else zeroed.

    ``dropout_ratio``: a number in [0, 1).  ``inverted=True`` (default): kept values are scaled
    by 1 / (1 - dropout_ratio) during training and testing is the identity. ``inverted=False``
    is the book's form: training keeps values unscaled and testing multiplies by (1 -
    dropout_ratio).  Either way the expected training output equals the test output.  The mask
    (the book's ``mask``, True where kept) is drawn from ``rng``: None uses numpy's global
    generator (as the book's np.random.rand), an int seed or a Generator its own.  Rule: the op
    table's ``dropout`` row (the same mask times the same scale, applied to dout).
    """

    def __init__(self, dropout_ratio=0.5, *, inverted=True, rng=None):
        self.dropout_ratio = hyperparameter(dropout_ratio, "dropout_ratio", "Dropout", "in [0, 1)")
        self.inverted = inverted
        # None: numpy's global generator (the book's np.random); an int seed or Generator its own.
        self.rng = np.random if rng is None or rng is np.random else np.random.default_rng(rng)
        self.mask = None
        self._saved = None  # (multiplier or None, scale, shape, dtype)

    def forward(self, x, train_flg=True):
        x = np.asarray(x)
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
        keep = 1.0 - self.dropout_ratio
        if train_flg:
            draw = self.rng.random_sample if self.rng is np.random else self.rng.random
            self.mask = draw(x.shape) >= self.dropout_ratio
            scale = 1.0 / keep if self.inverted else 1.0
            multiplier = self.mask.astype(dtype)
        else:
            scale = 1.0 if self.inverted else keep
            multiplier = None
        self._saved = (multiplier, scale, x.shape, dtype)
        return ops.dropout(x, multiplier, scale=scale)

    def backward(self, dout=1):
        forward_first(self._saved, "Dropout")
        multiplier, scale, shape, dtype = self._saved
        dout = upstream(dout, shape, dtype, "Dropout")
        return ops.dropout.backward[0](dout, None, None, multiplier, scale=scale)
