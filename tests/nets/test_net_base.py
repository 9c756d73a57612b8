"""The network base (nn/nets/base.py) that every net is written on: params linked to the
layers, one accuracy (the loss's label check, one empty-batch policy) for every net, and
weight files (npz only, checked before their data is read, all or nothing)."""
import io
import itertools
import os
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd.testing import close
from nn import MultiLayerNetExtend, SimpleConvNet, TwoLayerNet
from nn.layers import Affine, Sigmoid
from nn.nets.base import Net, load_params, save_params

SMALL_CONV = {"input_dim": (1, 6, 6), "hidden_size": 4, "output_size": 3,
              "conv_param": {"filter_num": 2, "filter_size": 3, "pad": 1, "stride": 1}}


def small_nets():
    """One of each net, with 3 classes, and an input batch of 5 for it."""
    rng = np.random.default_rng(0)
    flat = rng.standard_normal((5, 4))
    return [(TwoLayerNet(4, 3, 3, rng=0), flat),
            (MultiLayerNetExtend(4, [3, 3], 3, use_batchnorm=True, weight_decay_lambda=0.1,
                                 rng=0), flat),
            (SimpleConvNet(**SMALL_CONV, rng=0), rng.standard_normal((5, 1, 6, 6)))]


class AffineSigmoidNet(Net):
    """A new net is one short class: its layers, then link_params."""

    def __init__(self, sizes, *, dtype=np.float64, rng=None):
        super().__init__(dtype, rng)
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes), start=1):
            self.layers[f"Affine{i}"] = Affine(self.weights(1.0, n_in, n_out), self.zeros(n_out))
            if i < len(sizes) - 1:
                self.layers[f"Sigmoid{i}"] = Sigmoid()
        self.link_params()


@settings(max_examples=15)
@given(seed=st.integers(0, 2**32 - 1), sizes=st.lists(st.integers(1, 4), min_size=2, max_size=4))
def test_a_net_of_a_few_lines_gets_the_whole_base(seed, sizes):
    sizes[-1] = max(sizes[-1], 2)
    net = AffineSigmoidNet(sizes, rng=seed)
    rng = np.random.default_rng(seed)
    x, t = rng.standard_normal((3, sizes[0])), rng.integers(0, sizes[-1], 3)
    assert list(net.params) == [f"{k}{i}" for i in range(1, len(sizes)) for k in "Wb"]
    grads = net.gradient(x, t)
    numerical = net.numerical_gradient(x, t)
    for key in net.params:
        close(grads[key], numerical[key], 1e-6, atol=1e-8)
    assert net.layers["Affine1"].input_grad is False  # the data needs no gradient


def test_a_net_that_forgets_link_params_says_so():
    class Unlinked(Net):
        def __init__(self):
            super().__init__()
            self.layers["Affine1"] = Affine(np.ones((2, 2)), np.zeros(2))

    with pytest.raises(RuntimeError, match=r"Unlinked: its __init__ must end with self.link_params\(\)"):
        _ = Unlinked().params


@pytest.mark.parametrize("index", [0, 1, 2])
def test_every_net_has_its_layers_arrays_as_params_and_their_gradients(index):
    net, x = small_nets()[index]
    grads = net.gradient(x, np.arange(5) % 3)
    assert list(grads) == list(net.params)
    for key, (layer, attr) in net.params.links.items():
        assert net.params[key] is getattr(layer, attr)
        if not (key.startswith("W") and net.weight_decay_lambda):
            assert grads[key] is getattr(layer, "d" + attr)
    assert net.last_layer is net.lastLayer


@pytest.mark.parametrize("index", [0, 1, 2])
def test_every_net_refuses_an_empty_batch_the_same_way(index):
    net, x = small_nets()[index]
    with pytest.raises(ValueError, match=r"accuracy: no samples \(x is empty\)"):
        net.accuracy(x[:0], np.zeros(0, dtype=int))


def outcome(f):
    """('ok', value) or ('error', the message after its 'who: ' prefix)."""
    try:
        return "ok", f()
    except ValueError as err:
        return "error", str(err).split(": ", 1)[1]


@pytest.mark.parametrize("index", [0, 1, 2])
@pytest.mark.parametrize("labels", ["column of indices", "one-hot, 4 classes", "one-hot, 2 classes"])
def test_accuracy_checks_labels_as_the_loss_does(index, labels):
    net, x = small_nets()[index]
    t = np.array([0, 2, 1, 1, 0])
    t = {"column of indices": t[:, None], "one-hot, 4 classes": np.eye(4)[t],
         "one-hot, 2 classes": np.eye(2)[t % 2]}[labels]
    loss, accuracy = outcome(lambda: net.loss(x, t)), outcome(lambda: net.accuracy(x, t))
    assert accuracy[0] == loss[0]
    if loss[0] == "error":
        assert accuracy[1] == loss[1]
    else:  # accepted as labels: the same labels as indices
        assert accuracy[1] == net.accuracy(x, np.array([0, 2, 1, 1, 0]))


def test_one_hot_over_the_wrong_class_count_is_refused():
    net, x = small_nets()[0]
    with pytest.raises(ValueError, match=r"accuracy: targets of shape \(5, 4\) do not fit scores of shape \(5, 3\)"):
        net.accuracy(x, np.eye(4)[[0, 1, 2, 3, 0]])


def test_save_and_load_params(tmp_path):
    net = TwoLayerNet(4, 3, 2, dtype=np.float32, rng=0)
    path = tmp_path / "w.npz"
    path.write_bytes(b"old")
    save_params(path, net.params)
    loaded = load_params(path)
    assert sorted(loaded) == sorted(net.params)
    for key in net.params:
        np.testing.assert_array_equal(loaded[key], net.params[key])
        assert loaded[key].dtype == np.float32
    assert os.listdir(tmp_path) == ["w.npz"]  # no temporary file left
    other = TwoLayerNet(4, 3, 2, dtype=np.float32, rng=1)
    other.set_params(loaded)
    np.testing.assert_array_equal(other.predict(np.ones((1, 4))), net.predict(np.ones((1, 4))))


def test_a_failed_save_leaves_the_old_file_alone(tmp_path, monkeypatch):
    path = tmp_path / "w.npz"
    save_params(path, {"W1": np.ones(2)})

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        save_params(path, {"W1": np.zeros(2)})
    assert os.listdir(tmp_path) == ["w.npz"]
    np.testing.assert_array_equal(load_params(path)["W1"], np.ones(2))


def test_any_name_gets_an_npz_and_load_refuses_pickles(tmp_path):
    # The book's scripts save to params.pkl and load it back: they get an npz, no pickle.
    save_params(tmp_path / "params.pkl", {"W1": np.ones(2)})
    assert zipfile.is_zipfile(tmp_path / "params.pkl")
    np.testing.assert_array_equal(load_params(tmp_path / "params.pkl")["W1"], np.ones(2))
    # A pickle's first byte (protocol 2 and later), written by hand: no pickle is made here.
    (tmp_path / "book.pkl").write_bytes(b"\x80\x04\x95junk")
    with pytest.raises(ValueError, match="it is a pickle .* never unpickles"):
        load_params(tmp_path / "book.pkl")
    # An npz whose W1 announces an object array (what numpy would pickle), written by hand
    # so that the test makes no pickle itself: the header alone must be refused.
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|O", "fortran_order": False,
                                                  "shape": (1,)})
    with zipfile.ZipFile(tmp_path / "p.npz", "w") as archive:
        archive.writestr("W1.npy", header.getvalue() + b"junk")
    with pytest.raises(ValueError, match="allow_pickle"):
        load_params(tmp_path / "p.npz")
def npz_with_member(path, name, header, data=b""):
    """An npz written by hand: one member whose header says header, then data."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{name}.npy", buffer.getvalue() + data)


def test_load_params_checks_each_header_before_reading_its_data(tmp_path, monkeypatch):
    net = TwoLayerNet(4, 3, 2, rng=0)
    path = tmp_path / "w.npz"
    net.save_params(path)
    with zipfile.ZipFile(path, "a") as archive:  # a W1 announcing 1 GiB replaces the real one
        names = [n for n in archive.namelist() if n != "W1.npy"]
        members = {n: archive.read(n) for n in names}
    npz_with_member(path, "W1", {"descr": "<f8", "fortran_order": False, "shape": (2**27,)})
    with zipfile.ZipFile(path, "a") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    reads = []
    real_read_array = np.lib.format.read_array
    monkeypatch.setattr(np.lib.format, "read_array",
                        lambda f, *a, **k: reads.append(f) or real_read_array(f, *a, **k))
    before = {k: v.copy() for k, v in net.params.items()}
    with pytest.raises(ValueError, match=r"W1 has shape \(134217728,\), this network's has shape \(4, 3\)"):
        net.load_params(path)
    assert reads == []  # refused on its header: no data was decompressed
    for key, value in before.items():
        np.testing.assert_array_equal(net.params[key], value)


def test_load_params_refuses_a_member_of_text(tmp_path):
    npz_with_member(tmp_path / "w.npz", "W1", {"descr": "<U3", "fortran_order": False,
                                               "shape": (4, 3)}, b"x" * 144)
    with pytest.raises(ValueError, match=r"W1 has dtype <U3; parameters are numbers"):
        load_params(tmp_path / "w.npz", like={"W1": np.zeros((4, 3))})


@pytest.mark.parametrize("content", [b"", b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01.",
                                     b"PK\x03\x04 a zip cut short"])
def test_a_file_that_is_not_an_npz_is_named_and_not_advised_to_unpickle(tmp_path, content):
    path = tmp_path / "w.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError) as err:
        TwoLayerNet(4, 3, 2, rng=0).load_params(path)
    message = str(err.value)
    assert str(path) in message and "is not a weights file" in message
    assert "unsafely" not in message and "allow_pickle=" not in message  # numpy's advice


def test_a_truncated_member_is_not_a_weights_file(tmp_path):
    npz_with_member(tmp_path / "w.npz", "W1", {"descr": "<f8", "fortran_order": False,
                                               "shape": (4, 3)}, b"\x00" * 40)
    with pytest.raises(ValueError, match=r"w.npz is not a weights file: its member W1.npy is not a whole"):
        load_params(tmp_path / "w.npz")


def test_finiteness_is_checked_after_the_cast_to_the_nets_dtype(tmp_path):
    wide = TwoLayerNet(4, 3, 2, dtype=np.float64, rng=0)
    wide.params["W1"][0, 0] = 1e300  # finite in float64, inf in float32
    path = tmp_path / "w.npz"
    wide.save_params(path)
    narrow = TwoLayerNet(4, 3, 2, dtype=np.float32, rng=1)
    before = {k: v.copy() for k, v in narrow.params.items()}
    with pytest.raises(ValueError, match=r"W1 holds values that are not finite in float32"):
        narrow.load_params(path)
    for key, value in before.items():  # all or nothing: b1 was not copied either
        np.testing.assert_array_equal(narrow.params[key], value)
    wide.load_params(path)  # in float64 it is a number
    assert wide.params["W1"][0, 0] == 1e300


def test_load_params_refuses_another_networks_names(tmp_path):
    path = tmp_path / "w.npz"
    MultiLayerNetExtend(4, [3], 2, use_batchnorm=True, rng=0).save_params(path)
    with pytest.raises(ValueError, match=r"missing \[\], unknown \['gamma1', 'beta1'\]"):
        MultiLayerNetExtend(4, [3], 2, rng=0).load_params(path)
