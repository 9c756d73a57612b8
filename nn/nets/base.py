"""The network base (ネットワーク): a net is its ordered layers plus a last layer.

A net's ``__init__`` calls ``super().__init__(dtype, rng)``, fills ``self.layers`` (an
OrderedDict, as in the book) using ``self.weights(std, *shape)`` and ``self.zeros(n)``, and
ends with ``self.link_params()`` (see ``TwoLayerNet``); everything else is here.  Weight decay
(荷重減衰, ``weight_decay_lambda``) adds (lambda / 2) ||W||^2 per weight W to the loss and lambda W
to its gradient (the ``l2_penalty`` row); biases, gamma and beta are not decayed, as in the
book.  Weights are saved as .npz, never pickle: a pickle can run code when loaded.
"""
import os
import zipfile
from collections import OrderedDict

import numpy as np

from autograd.ops import l2_penalty

from ..data.files import atomic_write
from ..gradient import numerical_gradient
from ..layers import BatchNormalization, Dropout, SoftmaxWithLoss
from ..layers.functions import batch_targets

TRAIN_FLG_LAYERS = (BatchNormalization, Dropout)  # layers that train and test differently


class Params(dict):
    """A network's ``params``: a dict whose entries stay the arrays its layers use.

    ``links`` maps each name to ``(layer, attribute)``, e.g. ``"W1": (affine1, "W")``.
    In-place updates (the book's ``params[key] -= lr * grad[key]``) change the layer's array
    itself.  Assigning another array, ``params["W1"] = W`` (or ``update``), also sets
    ``affine1.W = W``, which must be a numpy array of the shape and dtype it replaces.
    """

    def __init__(self, links):
        super().__init__((key, getattr(layer, attr)) for key, (layer, attr) in links.items())
        self.links = links

    def __setitem__(self, key, value):
        old = dict.get(self, key)
        if value is not old and key in self.links:  # `-=` gives back the same array
            # (old is None only while copy.deepcopy refills the dict: nothing to compare with)
            if old is not None and (not isinstance(value, np.ndarray) or value.shape != old.shape
                                    or value.dtype != old.dtype):
                raise ValueError(
                    f"params[{key!r}]: the network's {key} is a {old.dtype} array of shape "
                    f"{old.shape}, got {type(value).__name__} {getattr(value, 'dtype', '')} of shape "
                    f"{np.shape(value)}; give an array like it (np.asarray(value, "
                    f"dtype=np.{old.dtype}).reshape{old.shape}), or change it in place "
                    f"(params[{key!r}][...] = value)")
            layer, attr = self.links[key]
            setattr(layer, attr, value)
        dict.__setitem__(self, key, value)

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __ior__(self, other):
        self.update(other)
        return self


class Net:
    """The base of every net: ``layers``, ``lastLayer`` (softmax with loss) and ``params``.

    ``dtype``: float64 (the default, as the book; what gradient checks need) or float32 (the
    speed path); params, gradients and loss stay in it, and inputs are converted to it.
    ``rng``: None draws from numpy's global generator as the book does (``np.random.seed``
    repeats it); a ``np.random.RandomState`` draws what the global generator would after the
    same seed, without touching it; an int seed or a ``np.random.Generator`` uses numpy's newer
    generator.  Dropout masks come from it too.  ``weight_decay_lambda``: see the module.
    """

    eval_batch_size = 10000  # accuracy's rows at a time: bounded memory on the whole set
    dtypes = ("float32", "float64")  # a net that may also run in float16 (inference) adds it

    def __init__(self, dtype=np.float64, rng=None, weight_decay_lambda=0):
        if not weight_decay_lambda >= 0:
            raise ValueError(f"weight_decay_lambda must be >= 0, got {weight_decay_lambda}")
        self.dtype = np.dtype(dtype)
        if self.dtype.name not in self.dtypes:
            raise ValueError(f"dtype must be {' or '.join(self.dtypes)}, got {self.dtype}")
        self.rng = rng if rng is None or isinstance(rng, np.random.RandomState) \
            else np.random.default_rng(rng)
        self.weight_decay_lambda = float(weight_decay_lambda)
        self.layers = OrderedDict()
        self.lastLayer = SoftmaxWithLoss()
        self._params = None

    def weights(self, std, *shape):
        """``std`` times standard normal draws of ``shape`` from the net's rng, in its dtype."""
        draw = np.random.standard_normal if self.rng is None else self.rng.standard_normal
        return (std * draw(shape)).astype(self.dtype)

    def zeros(self, *shape):
        return np.zeros(shape, dtype=self.dtype)

    def link_params(self):
        """Name the layers' parameters (W1, b1, ...; then gamma1, beta1, ...) into ``params``.

        The first layer's input is the data: its gradient is never needed, so it is not
        computed (``input_grad = False``; it is the largest product of the backward pass).
        """
        links, norms = {}, {}
        for layer in self.layers.values():
            if hasattr(layer, "W"):
                n = len(links) // 2 + 1
                links[f"W{n}"], links[f"b{n}"] = (layer, "W"), (layer, "b")
            elif hasattr(layer, "gamma"):
                n = len(norms) // 2 + 1
                norms[f"gamma{n}"], norms[f"beta{n}"] = (layer, "gamma"), (layer, "beta")
        first = next(iter(self.layers.values()))
        if hasattr(first, "input_grad"):
            first.input_grad = False
        self._params = Params({**links, **norms})

    @property
    def params(self):
        """The parameters W1, b1, ...: the layers' own arrays (a ``Params`` dict)."""
        if self._params is None:
            raise RuntimeError(f"{type(self).__name__}: its __init__ must end with "
                               f"self.link_params(), which names the layers' parameters")
        return self._params

    @params.setter
    def params(self, new):
        # `net.params = {...}` would disconnect the layers from a plain attribute: assign each.
        self.params.update(new)

    @property
    def last_layer(self):  # the book's name in chapters 6 to 8 (chapter 5's is lastLayer)
        return self.lastLayer

    def predict(self, x, train_flg=False):
        """Scores (N, classes), no softmax (it keeps the argmax); ``train_flg`` switches
        Batch Norm and Dropout to training."""
        for layer in self.layers.values():
            if isinstance(layer, TRAIN_FLG_LAYERS):
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)
        return x

    def loss(self, x, t, train_flg=False):
        """Mean cross-entropy of the batch, plus weight decay; ``t`` one-hot (N, C) or
        class indices (N,).  The cross-entropy alone stays in ``lastLayer.loss``."""
        loss = self.lastLayer.forward(self.predict(x, train_flg), t)
        lam = self.weight_decay_lambda
        if lam:
            loss = loss + float(sum(l2_penalty(p, lam=lam) for key, p in self.params.items()
                                    if self.params.links[key][1] == "W"))
        return loss

    def accuracy(self, x, t, batch_size=None):
        """Fraction of samples whose highest score is the label's class (a Python float).

        ``t`` one-hot (N, C) or class indices (N,), checked as ``loss`` checks it.  Runs
        ``batch_size`` rows at a time (default ``eval_batch_size``) in test mode: bounded
        memory on the whole training set.  ValueError for no samples (undefined).
        """
        batch_size = self.eval_batch_size if batch_size is None else batch_size
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"accuracy: batch_size must be an integer >= 1, got {batch_size!r}")
        t, n = np.asarray(t), len(x)
        if t.shape[:1] != (n,):
            raise ValueError(f"accuracy: {n} inputs (shape {np.shape(x)}) but labels of shape "
                             f"{t.shape}; they must have one label per input")
        if n == 0:
            raise ValueError("accuracy: no samples (x is empty); the accuracy of nothing is undefined")
        correct = 0
        for start in range(0, n, batch_size):
            scores = self.predict(x[start:start + batch_size])
            _, labels = batch_targets(scores, t[start:start + batch_size], "accuracy")
            if labels.ndim == 2:
                labels = labels.argmax(axis=1)
            correct += int(np.count_nonzero(scores.argmax(axis=1) == labels))
        return correct / n

    def gradient(self, x, t):
        """Gradient of the loss by back-propagation (誤差逆伝播法), in training mode:
        {'W1': dW1, 'b1': db1, ...}.

        The arrays are the layers' own (plus lambda W with weight decay): the next call
        replaces them.  The loss of this forward pass stays in ``lastLayer.loss``.
        """
        self.loss(x, t, train_flg=True)
        dout = self.lastLayer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        grads = {key: getattr(layer, "d" + attr) for key, (layer, attr) in self.params.links.items()}
        lam = self.weight_decay_lambda
        if lam:
            for key, (_, attr) in self.params.links.items():
                if attr == "W":
                    grads[key] = grads[key] + l2_penalty.backward[0](1.0, None, self.params[key],
                                                                     lam=lam)
        return grads

    def numerical_gradient(self, x, t):
        """The loss's gradient by central differences (slow; to check ``gradient``).

        With Dropout the masks are redrawn at every forward pass, so this is only
        meaningful without it (or with the layers' generators re-seeded).
        """
        loss_W = lambda W: self.loss(x, t, train_flg=True)  # noqa: E731 -- the book's name
        return {key: numerical_gradient(loss_W, p) for key, p in self.params.items()}

    def set_params(self, params):
        """Copy ``params`` (name -> array) into the network's own arrays, all or nothing.

        Names and shapes must be this network's; values are cast to its dtype and must
        then be finite.  The arrays keep their identity (the layers hold them).
        """
        check_names("set_params", params, self.params)
        values = {}
        for key, own in self.params.items():
            value = np.asarray(params[key])
            check_fits("set_params", key, value.shape, value.dtype, own)
            with np.errstate(over="ignore", invalid="ignore"):  # checked just below
                value = value.astype(own.dtype)
            if not np.isfinite(value).all():
                raise ValueError(f"set_params: {key} holds values that are not finite in "
                                 f"{own.dtype} (nan, inf, or beyond its range); nothing was set")
            values[key] = value
        for key, value in values.items():
            self.params[key][...] = value

    def save_params(self, file_name="params.npz"):
        """Write the parameters to the .npz file ``file_name`` (see ``save_params``)."""
        save_params(file_name, self.params)

    def load_params(self, file_name="params.npz"):
        """Read parameters written by ``save_params`` into the network's own arrays (see
        ``load_params`` and ``set_params``); nothing changes unless every array fits."""
        self.set_params(load_params(file_name, like=self.params))


def check_names(who, given, own):
    missing = [k for k in own if k not in given]
    unknown = [k for k in given if k not in own]
    if missing or unknown:
        raise ValueError(f"{who}: the network's parameters are {', '.join(own)}; missing "
                         f"{missing}, unknown {unknown}")


def check_fits(who, key, shape, dtype, own):
    """ValueError unless an array of ``shape`` and ``dtype`` can be the parameter ``own``."""
    if dtype.kind not in "fiu":
        raise ValueError(f"{who}: {key} has dtype {dtype}; parameters are numbers (floats)")
    if tuple(shape) != own.shape:
        raise ValueError(f"{who}: {key} has shape {tuple(shape)}, this network's has shape "
                         f"{own.shape}")


def save_params(path, params):
    """Write ``params`` (name -> array) to ``path`` in numpy's .npz format, atomically.

    The format is npz whatever the name: the book's scripts name the file params.pkl and get
    an npz that ``load_params`` reads back (chainrule writes no pickle).  ``path`` is never
    left half-written (``nn.data.files.atomic_write``).  Arrays holding nan or inf are
    refused (ValueError): they are no trained weights.
    """
    path = os.fspath(path)
    for key, value in params.items():  # weights of a diverged run are not a result
        if not np.isfinite(value).all():
            raise ValueError(f"save_params: {key} holds nan or inf; nothing was saved to {path}")
    with atomic_write(path, ".tmp") as f:  # a file object: np.savez adds no suffix
        np.savez(f, **params)


def load_params(path, like=None):
    """Read the .npz file ``path`` written by ``save_params`` (whatever its name): a dict
    name -> array.  A pickle (the book's own params.pkl) is refused by its content, never
    unpickled: loading a pickle can run code.

    Each member's header (shape, dtype) is read and checked before its data: numbers
    only (an object array would need pickle), and with ``like`` (name -> array, e.g. a
    net's ``params``) exactly its names and shapes, so a file announcing huge arrays is
    refused before anything is decompressed.  ValueError naming ``path`` otherwise.
    """
    path = os.fspath(path)
    who = f"load_params: {path}"
    with open(path, "rb") as f:
        if f.read(1) == b"\x80":  # how every pickle of protocol 2 and later begins
            raise ValueError(f"{who} is not a weights file: it is a pickle (like the book's "
                             f"params.pkl), and chainrule never unpickles: loading a pickle can "
                             f"run code.  Train and save with chainrule instead (save_params, or "
                             f"python -m nn.train --save FILE.npz) and load that")
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ValueError(f"{who} is not a weights file: it is not an .npz archive (a zip of "
                         f"arrays, what save_params writes)") from None
    arrays = {}
    with archive:
        members = {info.filename.removesuffix(".npy"): info for info in archive.infolist()}
        if like is not None:
            check_names(who, members, like)
        for key, info in members.items():
            try:
                with archive.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                                   (2, 0): np.lib.format.read_array_header_2_0}.get(version)
                    if read_header is None:
                        raise ValueError(f"npy format version {version}")
                    shape, _, dtype = read_header(f)
                    if dtype.hasobject:
                        raise ValueError(f"{who}: {key} holds Python objects, which only pickle "
                                         f"can read (np.load's allow_pickle, which can run code); "
                                         f"weights are numbers")
                    if like is not None:
                        check_fits(who, key, shape, dtype, like[key])
                    f.seek(0)
                    arrays[key] = np.lib.format.read_array(f, allow_pickle=False)
            except (ValueError, EOFError, zipfile.BadZipFile) as err:
                if str(err).startswith(who):
                    raise
                raise ValueError(f"{who} is not a weights file: its member {info.filename} is "
                                 f"not a whole numpy array ({err})") from None
    return arrays
