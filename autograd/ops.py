"""The op table: every operation declared once, with its forward and its derivative.

A row says everything there is to know about one operation (演算): its name, the
symbol the drawings put in its circle, its forward computation and its backward
rule (逆伝播).  The scalar engine (``autograd.Value``), the vectorised layers
(``nn.layers``), the drawings, the testing API and higher-order derivatives all
read this table; no derivative formula is written anywhere else.

The backward rule is one function per input (as HIPS autograd's ``defvjp``), all with
one signature::

    vjp(g, out, *inputs, **params) -> dL/d(that input), shaped like that input

``g`` is the upstream gradient dL/d(out) (the book's ``dout``), ``out`` the forward
result.  One function per input lets a caller skip a gradient nobody needs (the first
Affine layer never needs dL/dX, the engine the plain numbers of an expression); ``None``
marks an input that is data (class labels, a dropout mask).

The rules are written with operators and with the rows themselves (``exp``, ``log``,
``step`` ...), which dispatch on their argument: a float goes to ``math``, a numpy array
to numpy, a ``Value`` records a node.  So the very rule that back-propagates floats, run
on Values, records the backward pass as a graph, and derivatives differentiate again.

Declaring an operation of your own is one call::

    softplus = declare_op("softplus", symbol="softplus",
                          forward=lambda x: log(1 + exp(x)),
                          backward=(lambda g, out, x: g * sigmoid(x),))
    softplus(Value(0.5))   # a recorded node; softplus(np.ones(3)) runs forward

Array-only rows (``affine``, ``softmax_cross_entropy`` and those of the later
chapters) use numpy directly: they never see a Value.
"""
import functools
import inspect
import math
import numbers
import operator
import warnings

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

OPS = {}  # name -> Op: the table


class Op:
    """One row of the table.  Call it like a function: on Values it records a node,
    on floats or numpy arrays it runs ``forward``.

    ``name``      key in ``OPS``, shown as ``Value.op``
    ``symbol``    what a drawing writes in the op's circle
    ``forward``   ``forward(*inputs, **params)`` on floats and/or numpy arrays
    ``backward``  one ``vjp(g, out, *inputs, **params)`` per input (None: no gradient)
    ``arity``     the number of inputs
    ``kinks``     points where the op is not differentiable (relu: 0.0), for checks: a
                  tuple of points for every input, or one tuple per input
    ``domain``    where the op is defined, for checks: (low, high) for every input, or one
                  entry per input (None: all reals; (low, high); or a tuple of intervals,
                  e.g. ((-inf, 0.0), (0.0, inf)) for a denominator); see autograd.testing
    ``scalar``    True when the row works on Values (False: numpy arrays only)
    ``commutes``  x op y == y op x (+, *): drawings write a folded number after the symbol,
                  and a derivative graph shares x op y with y op x
    ``identity``  the number e with x op e == x (0 for + and -, 1 for *, / and **), or None
    ``absorbing`` the number z with x op z == z op x == z (0 for *), or None; with
                  ``identity`` it lets a derivative graph fold x * 1, x + 0, x * 0 away
    ``doc``       what it computes and its derivative, in words
    ``module``    the name of the module that declared the row (see ``declare_op``)
    """

    __slots__ = ("name", "symbol", "forward", "backward", "arity", "kinks", "domain", "scalar",
                 "doc", "on_floats", "commutes", "identity", "absorbing", "module")

    def __init__(self, name, symbol, forward, backward, arity, kinks, domain, scalar, doc,
                 commutes=False, identity=None, absorbing=None, module=None):
        self.commutes, self.identity, self.absorbing = commutes, identity, absorbing
        self.name, self.symbol, self.forward, self.backward = name, symbol, forward, backward
        # The forward for Python floats alone, which the scalar engine calls: ``forward``
        # itself, or its float half when it was made by ``elementwise``.
        self.on_floats = getattr(forward, "on_floats", forward)
        self.arity, self.kinks, self.domain, self.scalar = arity, kinks, domain, scalar
        self.doc, self.module = doc, module

    def __repr__(self):
        return f"<op {self.name!r} ({self.arity} input{'s' * (self.arity != 1)})>"

    def __call__(self, *inputs, **params):
        if len(inputs) != self.arity:
            raise TypeError(f"op {self.name!r} takes {self.arity} input(s), got {len(inputs)}")
        # The table knows no Value: an input with ``apply_op`` (a Value) records the row.
        for x in inputs:
            if hasattr(x, "apply_op"):
                return x.apply_op(self, *inputs, **params)
        return self.forward(*inputs, **params)

    def vjp(self, g, out, *inputs, needs=None, **params):
        """The gradient for each input: a tuple, None where ``needs[i]`` is false or the
        input is data.  Checks each gradient's shape against its input, naming the op."""
        grads = []
        for i, (rule, x) in enumerate(zip(self.backward, inputs)):
            if rule is None or (needs is not None and not needs[i]):
                grads.append(None)
                continue
            dx = rule(g, out, *inputs, **params)
            if np.shape(dx) != np.shape(x):
                raise ValueError(
                    f"op {self.name!r}: the backward rule for input {i} returned a gradient of "
                    f"shape {np.shape(dx)}, but that input has shape {np.shape(x)}; a rule must "
                    f"return dL/d(input) shaped like its input")
            grads.append(dx)
        return tuple(grads)


def declare_op(name, forward, backward, symbol=None, kinks=(), domain=None, scalar=True,
               doc=None, register=True, *, commutes=False, identity=None, absorbing=None):
    """Add a row to the table and return it (a callable ``Op``).

    The arguments are the row's attributes, described in ``Op``: ``forward``, ``backward``
    (one rule per input of ``forward``, None for data; a bare function for one input),
    ``symbol`` (the name by default), ``kinks``, ``domain``, ``scalar``, ``doc`` (forward's
    docstring by default) and the algebra ``commutes``, ``identity``, ``absorbing``.  Write
    the rules with operators and the rows of this module (``exp``, ``log``, ``step`` ...)
    so that they also run on Values: then the op differentiates to any order.
    ``register=False`` keeps the op out of ``OPS`` (a private op, e.g. a deliberately wrong
    rule in a test).  Declaring a name again replaces its row (a notebook cell run twice),
    with a warning when another module declared it; a library row is never replaced
    (ValueError).  A forward or rules that do not fit raise TypeError or ValueError.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"declare_op: name must be a non-empty string, got {name!r}")
    module = inspect.currentframe().f_back.f_globals.get("__name__")
    old = OPS.get(name) if register else None
    if old is not None and old.module == __name__:
        raise ValueError(f"declare_op: {name!r} is a library op; choose another name")
    if old is not None and old.module != module:
        warnings.warn(f"declare_op: {name!r} of {old.module} replaced by the one of {module}",
                      stacklevel=2)
    if not callable(forward):
        raise TypeError(f"declare_op({name!r}): forward must be a function, got {forward!r}")
    backward = (backward,) if callable(backward) else tuple(backward)  # one input: a bare function
    arity = _arity(getattr(forward, "on_floats", forward), name)
    if len(backward) != arity:
        raise ValueError(f"declare_op({name!r}): forward takes {arity} input(s), so backward "
                         f"needs {arity} function(s), one per input, each vjp(g, out, *inputs) "
                         f"-> dL/d(input); got {len(backward)}")
    for i, rule in enumerate(backward):
        if rule is not None and not callable(rule):
            raise TypeError(f"declare_op({name!r}): backward[{i}] must be a function "
                            f"vjp(g, out, *inputs) or None, got {rule!r}")
    if scalar and arity > 2:
        raise ValueError(f"declare_op({name!r}): an op on Values takes one or two inputs "
                         f"(got {arity}); declare it with scalar=False for numpy arrays")
    op = Op(name, symbol or name, forward, backward, arity, tuple(kinks), domain, scalar,
            doc or forward.__doc__ or None, commutes, identity, absorbing, module)
    if register:
        OPS[name] = op
    return op


def _arity(forward, name):
    """The number of positional inputs of ``forward`` (keyword-only ones are params)."""
    try:
        parameters = inspect.signature(forward).parameters.values()
    except (TypeError, ValueError):
        raise TypeError(f"declare_op({name!r}): cannot read forward's signature; give a "
                        f"Python function") from None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters):
        raise TypeError(f"declare_op({name!r}): forward must name its inputs, not take *args")
    return sum(p.kind in kinds and p.default is p.empty for p in parameters)


# -- floats and arrays ---------------------------------------------------------------
# A row's forward gets Python floats from the scalar engine and numpy arrays from the
# layers.  Floats go to ``math`` (exact, and it raises instead of returning inf or nan);
# the engine adds the op's name and inputs to the message.

def _is_float(x):
    # The ndarray test before the ABC one: isinstance against numbers.Real is slow.
    return type(x) is float or not isinstance(x, np.ndarray) and isinstance(x, numbers.Real)


def elementwise(on_floats, on_arrays):
    """A forward of one or two inputs that sends Python numbers to ``on_floats`` and arrays
    (a number with an array too) to ``on_arrays``."""
    def forward(*xs):
        return on_floats(*xs) if all(map(_is_float, xs)) else on_arrays(*xs)
    forward.on_floats = on_floats
    return forward


def _exp_float(x):
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(f"exp({x!r}) overflows a float (the limit is about 709.78)") from None


def _log_float(x):
    if not x > 0.0:
        raise ValueError(f"log: input must be > 0, got {x!r}")
    return math.log(x)


def _sigmoid_float(x):
    if x >= 0.0:  # two forms, so exp only ever sees a number <= 0 and never overflows
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _sigmoid_array(x):
    e = np.exp(-np.abs(x))  # in (0, 1]: no overflow for either sign
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _div_float(x, y):
    if y == 0.0:
        raise ZeroDivisionError(f"division by zero: {x!r} / {y!r}")
    return x / y


def _pow_float(x, y):
    if x == 0.0 and y < 0.0:
        raise ZeroDivisionError(f"pow: 0.0 to the negative power {y!r} is infinite")
    if x < 0.0 and not float(y).is_integer():
        raise ValueError(f"pow: negative base {x!r} to the fractional power {y!r} "
                         "is not a real number")
    try:
        return x ** y
    except OverflowError:
        raise OverflowError(f"pow: {x!r} ** {y!r} overflows a float") from None


# -- the scalar rows: elementwise, so they run on floats, arrays and Values -----------
# The names of the operators are the operators themselves, as Value.op shows them.
# On arrays the operands have one shape: broadcasting belongs to the layers (a rule
# returning a gradient of another shape is refused by Op.vjp).  + - * are Python's
# own operators (operator.add ...), which serve floats, arrays and Values alike.

add = declare_op("+", symbol="+", forward=operator.add, commutes=True, identity=0.0,
                 backward=(lambda g, out, x, y: g, lambda g, out, x, y: g),
                 doc="z = x + y; dz/dx = dz/dy = 1, so both inputs get g unchanged.")

sub = declare_op("-", symbol="−", forward=operator.sub, identity=0.0,
                 backward=(lambda g, out, x, y: g, lambda g, out, x, y: -g),
                 doc="z = x - y; dz/dx = 1, dz/dy = -1.")

mul = declare_op("*", symbol="×", forward=operator.mul, commutes=True, identity=1.0,
                 absorbing=0.0,
                 backward=(lambda g, out, x, y: g * y, lambda g, out, x, y: g * x),
                 doc="z = x * y; dz/dx = y, dz/dy = x: the inputs swap (the book's MulLayer).")

div = declare_op("/", symbol="÷", forward=elementwise(_div_float, np.divide), identity=1.0,
                 backward=(lambda g, out, x, y: g / y,
                           # -x/y**2 written as -(out / y): y**2 could overflow where out does not
                           lambda g, out, x, y: -g * out / y),
                 domain=(None, ((-math.inf, 0.0), (0.0, math.inf))),  # a pole at y = 0
                 doc="z = x / y; dz/dx = 1/y, dz/dy = -x/y**2 = -z/y.")


def _pow_dx(g, out, x, y):
    """d(x**y)/dx = y * x**(y-1); 0 for a constant y == 0 (x**0 is 1, even at x = 0)."""
    if (_is_float(y) or getattr(y, "is_constant", False)) and float(y) == 0.0:
        return 0.0 * g
    return g * y * pow_(x, y - 1)  # the row, not **: a float 0 ** -0.5 gets a named error


pow_ = declare_op("**", symbol="**", forward=elementwise(_pow_float, np.power), identity=1.0,
                  backward=(_pow_dx,
                            # d(x**y)/dy = x**y * ln(x), for x > 0 only (the engine refuses a
                            # Value exponent on a base <= 0)
                            lambda g, out, x, y: g * out * log(x)),
                  domain=((0.0, math.inf), None),  # x**y for any real y needs x > 0
                  doc="z = x ** y; dz/dx = y * x**(y-1), dz/dy = z * ln(x).")

exp = declare_op("exp", forward=elementwise(_exp_float, np.exp),
                 backward=(lambda g, out, x: g * out,),
                 doc="z = exp(x); dz/dx = exp(x) = z, so the result is reused.")

log = declare_op("log", forward=elementwise(_log_float, np.log),
                 backward=(lambda g, out, x: g / x,), domain=(0.0, math.inf),
                 doc="z = ln(x), x > 0; dz/dx = 1/x.")

tanh = declare_op("tanh", forward=elementwise(math.tanh, np.tanh),
                  backward=(lambda g, out, x: g * (1 - out * out),),
                  doc="z = tanh(x); dz/dx = 1 - z**2.")

sigmoid = declare_op("sigmoid", symbol="σ", forward=elementwise(_sigmoid_float, _sigmoid_array),
                     backward=(lambda g, out, x: g * out * (1 - out),),
                     doc="y = 1 / (1 + exp(-x)); dy/dx = y (1 - y), from the output alone.")


def step(x):
    """1 where x > 0, else 0: the derivative of ReLU, itself with derivative 0 everywhere.
    On a Value it returns a plain number, so nothing is recorded: relu'' = 0."""
    if isinstance(x, np.ndarray):
        return x > 0
    return 1.0 if (x if type(x) is float else getattr(x, "data", x)) > 0.0 else 0.0


def _relu_float(x):
    # `not x <= 0` keeps nan as nan, as numpy's maximum (and nn.functions.relu) does.
    return x if not x <= 0.0 else 0.0


relu = declare_op("relu", symbol="ReLU", kinks=(0.0,),
                  forward=elementwise(_relu_float, lambda x: np.maximum(x, 0)),
                  backward=(lambda g, out, x: g * step(out),),
                  doc="y = max(0, x); dy/dx = 1 where x > 0, else 0 (0 at x = 0, as in "
                      "PyTorch).  The rule reads the output: y > 0 exactly where x > 0.")


# -- array rows: the layers of chapter 5 (numpy arrays only) --------------------------

def _affine(x, W, b):
    out = x @ W
    out += b
    return out


affine = declare_op(
    "affine", symbol="Affine", forward=_affine, scalar=False,
    backward=(lambda g, out, x, W, b: g @ W.T,
              lambda g, out, x, W, b: x.T @ g,
              lambda g, out, x, W, b: g.sum(axis=0)),
    doc="Y = X W + b for X (N, D), W (D, M), b (M,); dX = dY W^T (N, D), "
        "dW = X^T dY (D, M), db = sum over the batch of dY (M,).")


def _softmax_cross_entropy(x, *, t):
    """``(loss, y)`` for scores ``x`` (N, C) and targets ``t`` (class indices (N,) as intp,
    or one-hot rows (N, C); nn.functions.batch_targets checks them).  With z = x minus each
    row's maximum (no overflow) and s = sum_k exp(z_k), log y = z - log s is exact even far
    from the answer, where y itself rounds to 0: (y - t) / N is the loss's true derivative.
    """
    # Row maxima of a transposed copy (C, N): numpy reduces along contiguous memory in one
    # pass, where short rows (a few classes each) would cost a reduction call per row.
    z = x - np.ascontiguousarray(x.T).max(axis=0)[:, None]
    y = np.exp(z)
    sums = y.sum(axis=1, keepdims=True)
    z -= np.log(sums)
    loss = mean_nll(z, t)
    y /= sums
    return loss, y


def mean_nll(logp, t):
    """-(1/N) sum_n sum_k t_nk logp_nk for one-hot ``t`` (N, C), or -(1/N) sum_n logp[n, t_n]
    for indices ``t`` (N,).  ``logp``: log-probabilities (N, C).
    """
    n = logp.shape[0]
    if t.ndim == 1:
        return -logp[np.arange(n), t].sum() / n
    # Only where t != 0: a class with probability 0 (logp = -inf) and t = 0 adds 0, not nan.
    used = t != 0
    return -(t[used] * logp[used]).sum() / n


def _softmax_cross_entropy_dx(g, out, x, *, t):
    y = out[1]
    n = y.shape[0]
    if t.ndim == y.ndim:
        dx = (y - t) / n
    else:
        dx = y / n
        dx[np.arange(n), t] -= 1.0 / n
    if g != 1:
        dx *= g
    return dx


softmax_cross_entropy = declare_op(
    "softmax_cross_entropy", symbol="Softmax-with-Loss", forward=_softmax_cross_entropy,
    backward=(_softmax_cross_entropy_dx,), scalar=False,
    doc="L = -(1/N) sum_n log y[n, t_n] with y = softmax(x) for scores x (N, C); its output "
        "is the pair (L, y).  dL/dx = (y - t) / N (the book's Softmax-with-Loss), t one-hot.")


# -- array rows: convolution and pooling, chapter 7 (numpy arrays only) --------------------
# Images are (N, C, H, W), filters (FN, C, FH, FW); a window of FH x FW slides over the
# input padded with P on each side, S pixels at a time:
#     OH = (H + 2P - FH) // S + 1,   OW = (W + 2P - FW) // S + 1.
# The rows assume shapes that fit; nn.conv's layers and functions check them first.

def image_windows(x, filter_h, filter_w, stride=1, pad=0, fill=0):
    """A strided view (N, C, OH, OW, FH, FW) of the padded input: [n, c, y, x, i, j] is
    padded x[n, c, y*S + i, x*S + j].  No copy, except for padding (with ``fill``)."""
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=fill)
    oh = (x.shape[2] - filter_h) // stride + 1
    ow = (x.shape[3] - filter_w) // stride + 1
    view = sliding_window_view(x, (filter_h, filter_w), axis=(2, 3))
    return view[:, :, :(oh - 1) * stride + 1:stride, :(ow - 1) * stride + 1:stride]


def add_image_windows(col, input_shape, stride, pad):
    """The transpose of ``image_windows``: ``col`` (N, C, OH, OW, FH, FW) -> (N, C, H, W) =
    ``input_shape``, each window added onto the place it was taken from, padding cut off."""
    n, c, oh, ow, fh, fw = col.shape
    h, w = input_shape[2:]
    img = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=col.dtype)
    for i in range(fh):
        rows = slice(i, i + (oh - 1) * stride + 1, stride)
        for j in range(fw):
            img[:, :, rows, j:j + (ow - 1) * stride + 1:stride] += col[:, :, :, :, i, j]
    return img[:, :, pad:pad + h, pad:pad + w]


def _im2col(x, *, filter_h, filter_w, stride=1, pad=0):
    """The book's im2col: (N, C, H, W) -> (N*OH*OW, C*FH*FW), one window per row, its
    values in (c, i, j) order; one copy of the strided view."""
    view = image_windows(x, filter_h, filter_w, stride, pad)
    n, _, oh, ow = view.shape[:4]
    return view.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, -1)


def _col2im(g, out, x, *, filter_h, filter_w, stride=1, pad=0):
    """d im2col: every row of g goes back onto its window; overlapping windows add up."""
    n, c = x.shape[:2]
    oh, ow = (x.shape[2] + 2 * pad - filter_h) // stride + 1, (x.shape[3] + 2 * pad - filter_w) // stride + 1
    col = g.reshape(n, oh, ow, c, filter_h, filter_w).transpose(0, 3, 1, 2, 4, 5)
    return add_image_windows(col, x.shape, stride, pad)


def columns(x, filter_h, filter_w, stride, pad):
    """im2col's rows as one matrix per sample, transposed: (N, C*FH*FW, OH*OW).

    In this layout a convolution is one (FN, C*FH*FW) @ (C*FH*FW, OH*OW) product per sample
    whose result is already (N, FN, OH*OW), the book's output layout: no transpose of the
    output, and the copy reads the image in its own order instead of across channels.
    """
    view = image_windows(x, filter_h, filter_w, stride, pad)  # (N, C, OH, OW, FH, FW)
    n, c, oh, ow = view.shape[:4]
    return view.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * filter_h * filter_w, oh * ow)


def _conv2d(x, W, b, *, stride=1, pad=0):
    """out[n, f] = W2 @ columns(x)[n] + b[f], W2 = W.reshape(FN, C*FH*FW): (N, FN, OH, OW)."""
    fn, _, fh, fw = W.shape
    col = columns(x, fh, fw, stride, pad)
    out = np.matmul(W.reshape(fn, -1), col)
    out += b[:, None]
    oh = (x.shape[2] + 2 * pad - fh) // stride + 1
    return out.reshape(len(x), fn, oh, out.shape[2] // oh)  # not -1: N may be 0


def _conv2d_dx(g, out, x, W, b, *, stride=1, pad=0):
    fn, c, fh, fw = W.shape
    # With stride 1 and a square filter, dx is the convolution of g (padded by FH - 1 - P)
    # with W turned by 180 degrees, channel axes swapped; for FN <= C its one im2col copy of
    # g moves less memory than col2im's FH*FW additions.
    if stride == 1 and fn <= c and fh == fw and pad < fh:
        turned = W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # (C, FN, FH, FW)
        return _conv2d(g, turned, np.zeros(c, g.dtype), pad=fh - 1 - pad)
    n, _, oh, ow = g.shape
    dcol = np.matmul(W.reshape(fn, -1).T, g.reshape(n, fn, oh * ow))  # (N, C*FH*FW, OH*OW)
    dcol = dcol.reshape(n, c, fh, fw, oh, ow).transpose(0, 1, 4, 5, 2, 3)
    return add_image_windows(dcol, x.shape, stride, pad)


def _conv2d_dW(g, out, x, W, b, *, stride=1, pad=0):
    fn, _, fh, fw = W.shape
    col = columns(x, fh, fw, stride, pad)
    dW = np.matmul(g.reshape(len(g), fn, col.shape[2]), col.transpose(0, 2, 1))  # G_n X_n^T
    return dW.sum(axis=0).reshape(W.shape)


def _conv2d_db(g, out, x, W, b, *, stride=1, pad=0):
    n, fn, oh, ow = g.shape
    return g.reshape(n, fn, oh * ow).sum(axis=2).sum(axis=0)  # the long, contiguous axis first


def _max_pool(x, *, pool_h, pool_w, stride=2, pad=0):
    """out[n, c, y, x] = max of the window; padding is -inf, so never the maximum."""
    view = image_windows(x, pool_h, pool_w, stride, pad, fill=-np.inf)
    out = view[..., 0, 0].copy()
    for i in range(pool_h):
        for j in range(pool_w):
            if i or j:
                np.maximum(out, view[..., i, j], out=out)
    return out


def _max_pool_dx(g, out, x, *, pool_h, pool_w, stride=2, pad=0):
    """The first maximum of a window, as the book's argmax and PyTorch's: one pass per offset
    (i, j), where the outputs whose maximum sits at (i, j) and was not found at an earlier
    offset send their gradient to that pixel; overlapping windows add up."""
    view = image_windows(x, pool_h, pool_w, stride, pad, fill=-np.inf)
    h, w = x.shape[2:]
    oh, ow = out.shape[2:]
    # Windows that tile the input exactly (the usual 2x2, stride 2, even size) write each
    # pixel once: straight into dx, with no zero-filling and no additions.
    tiles = pad == 0 and stride == pool_h == pool_w and h == oh * stride and w == ow * stride
    dx = (np.empty if tiles else np.zeros)((*x.shape[:2], h + 2 * pad, w + 2 * pad), dtype=g.dtype)
    free = np.ones(out.shape, dtype=bool)  # outputs whose maximum is not found yet
    hit = np.empty(out.shape, dtype=bool)
    part = None if tiles else np.empty(out.shape, dtype=g.dtype)
    last = (pool_h - 1, pool_w - 1)
    for i in range(pool_h):
        rows = slice(i, i + (oh - 1) * stride + 1, stride)
        for j in range(pool_w):
            if (i, j) == last:
                hit = free  # not found at any earlier offset: the maximum is here
            else:
                np.equal(view[..., i, j], out, out=hit)
                hit &= free
                free ^= hit
            target = dx[:, :, rows, j:j + (ow - 1) * stride + 1:stride]
            if tiles:
                np.multiply(g, hit, out=target)
            else:
                np.multiply(g, hit, out=part)
                target += part
    return dx[:, :, pad:pad + h, pad:pad + w]


im2col = declare_op(
    "im2col", symbol="im2col", forward=_im2col, backward=(_col2im,), scalar=False,
    doc="col = im2col(x): each FH x FW window of x (N, C, H, W) as a row of col "
        "(N*OH*OW, C*FH*FW); dx = col2im(dcol), which adds each row back onto its window.")

conv2d = declare_op(
    "conv2d", symbol="Convolution", forward=_conv2d, scalar=False,
    backward=(_conv2d_dx, _conv2d_dW, _conv2d_db),
    doc="out[n, f] = W2 X_n + b[f] for x (N, C, H, W), W (FN, C, FH, FW), b (FN,), with X_n "
        "the columns of sample n (C*FH*FW, OH*OW) and W2 = W as (FN, C*FH*FW); with G_n = "
        "dout[n] as (FN, OH*OW): dW = sum_n G_n X_n^T, db = sum of dout over n, y, x, "
        "dx = col2im(W2^T G_n).")

max_pool = declare_op(
    "max_pool", symbol="Pooling", forward=_max_pool, backward=(_max_pool_dx,), scalar=False,
    doc="out = the maximum of each pool_h x pool_w window of x (N, C, H, W); dx gets dout at "
        "the first maximum of each window (row by row), 0 elsewhere.")


# -- array rows of chapter 6: Batch Norm, Dropout, weight decay (numpy arrays only) ------
# (nn.layers.BatchNormalization, nn.layers.Dropout, nn.multi_layer_net's weight decay)

def _bn_shape(x, axes):
    """The shape a per-feature array (gamma, mean, ...) takes to broadcast against ``x``."""
    return tuple(1 if i in axes else n for i, n in enumerate(x.shape))


@functools.lru_cache(maxsize=64)  # a net uses a few batch sizes, again and again
def _ones(n, dtype, fill=1.0):
    """A read-only vector of ``n`` times ``fill``, shared between calls."""
    ones = np.full(n, fill, dtype)
    ones.flags.writeable = False
    return ones


def _feature_sum(a, axes, mean=False):
    """Sum (or mean) over ``axes``, the reduced axes kept with size 1 (broadcasts against ``a``)."""
    if axes == (0,) and a.ndim == 2 and (not mean or len(a) and a.dtype.kind == "f"):
        # Column sums as ones(N) @ a, or (1/N, ..., 1/N) @ a for the mean: one BLAS call,
        # where numpy's reduction walks the short rows one by one.
        return (_ones(len(a), a.dtype, 1.0 / len(a) if mean else 1.0) @ a)[None, :]
    total = a.sum(axis=axes, keepdims=True)
    return total / (a.size // total.size) if mean else total


def _batchnorm(x, *, axes=(0,), eps=1e-6, running=None):
    """Standardise ``x`` per feature: ``(xhat, mean, var, std)``, the last three broadcastable.

    Statistics over ``axes`` ((0,) for (N, D); (0, 2, 3) per channel for (N, C, H, W)):
    the batch's mean and biased variance, or with ``running`` = (mean, var) those given
    (test mode).  xhat = (x - mean) / std, std = sqrt(var + eps).
    """
    if running is None:
        mean = _feature_sum(x, axes, mean=True)
        xhat = x - mean
        var = _feature_sum(np.square(xhat), axes, mean=True)
    else:
        mean, var = (np.reshape(a, _bn_shape(x, axes)).astype(x.dtype, copy=False)
                     for a in running)
        xhat = x - mean
    std = np.sqrt(var + eps)
    xhat /= std
    return xhat, mean, var, std


def _batchnorm_dx(g, out, x, *, axes=(0,), eps=1e-6, running=None):
    # g = dL/dxhat (the mean and var outputs only feed the running averages).  m values per
    # feature; mean and var are functions of all of them: dmean/dx_i = 1/m and
    # dvar/dx_i = 2 (x_i - mean) / m.  The three paths from x_i to L (direct, through var,
    # through mean) sum to
    #     dx = (g - mean(g) - xhat * mean(g * xhat)) / std.
    # With running statistics (test mode) they are constants: dx = g / std.
    xhat, std = out[0], out[3]
    if running is not None:
        return g / std
    gx = g * xhat
    # gx is this rule's own array: dx is written into it once its mean is taken.
    dx = np.multiply(xhat, _feature_sum(gx, axes, mean=True), out=gx)
    dx += _feature_sum(g, axes, mean=True)
    np.subtract(g, dx, out=dx)
    dx /= std
    return dx


# Batch Normalization, the standardisation (the part whose derivative needs deriving).
batchnorm = declare_op(
    "batchnorm", symbol="BatchNorm", forward=_batchnorm, scalar=False,
    backward=(_batchnorm_dx,),
    doc="xhat = (x - mean) / sqrt(var + eps) per feature, the statistics over ``axes`` "
        "(biased variance); output (xhat, mean, var, std).  Training mode: dx = (g - mean(g) "
        "- xhat mean(g xhat)) / std; test mode (running statistics): dx = g / std.")


def _per_feature(v, xhat, axes):
    """``v`` (one value per feature) shaped to broadcast against ``xhat``."""
    if axes == (0,) and xhat.ndim == 2 and v.ndim == 1:
        return v  # (D,) already broadcasts against (N, D)
    return v.reshape(_bn_shape(xhat, axes))


def _scale_shift(xhat, gamma, beta, *, axes=(0,)):
    y = xhat * _per_feature(gamma, xhat, axes)
    y += _per_feature(beta, xhat, axes)
    return y


# Batch Normalization's second half.
scale_shift = declare_op(
    "scale_shift", symbol="γx+β", forward=_scale_shift, scalar=False,
    backward=(lambda g, out, xhat, gamma, beta, *, axes=(0,):
              g * _per_feature(gamma, xhat, axes),
              lambda g, out, xhat, gamma, beta, *, axes=(0,):
              _feature_sum(g * xhat, axes).reshape(gamma.shape),
              lambda g, out, xhat, gamma, beta, *, axes=(0,):
              _feature_sum(g, axes).reshape(beta.shape)),
    doc="y = gamma * xhat + beta, gamma and beta one value per feature (broadcast over "
        "``axes``); dxhat = g gamma, dgamma = sum(g xhat), dbeta = sum(g) over ``axes``.")


def _dropout_forward(x, mask, *, scale=1.0):
    y = x * scale if mask is None else x * mask
    if mask is not None and scale != 1.0:
        y *= scale
    return y


# Dropout: the mask (0/1, or any fixed multiplier) is data; mask None is the book's test-time
# form x * scale.  Training keeps each value with probability 1 - p, inverted dropout scales
# by 1 / (1 - p) then, the book's form by (1 - p) at test time instead.  Linear in x: dx is
# the same map applied to g.
dropout = declare_op(
    "dropout", symbol="Dropout", forward=_dropout_forward, scalar=False,
    backward=(lambda g, out, x, mask, *, scale=1.0: _dropout_forward(g, mask, scale=scale), None),
    doc="y = x * mask * scale (mask None: x * scale); dx = g * mask * scale, no gradient for "
        "the mask.")


# Weight decay (荷重減衰): the L2 penalty a net adds to its loss for each weight matrix.
l2_penalty = declare_op(
    "l2_penalty", symbol="L2", scalar=False,
    forward=lambda W, *, lam: 0.5 * lam * np.sum(W * W),
    backward=(lambda g, out, W, *, lam: (g * lam) * W,),
    doc="(lam / 2) * sum of W^2 over the array; d/dW = lam * W.")
