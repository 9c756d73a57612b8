"""nn.experiments: each chapter-6 figure's reduced run reproduces the book's qualitative
result (the check each experiment makes on its own numbers, asserted here), its figure is
drawn, and the command line fails cleanly.

These train real nets on MNIST for a few seconds each, at seed 0.
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nn import experiments

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def mnist(mnist_data, one_blas_thread):
    mnist_data()  # fails without CHAINRULE_DATA; warms the session cache


def run(name, tmp_path, **kwargs):
    outcome = experiments.run(name, quick=True, seed=0, progress=False, **kwargs)
    assert outcome.holds, f"{name}: {outcome.claim} -- not reproduced: {outcome.details}"
    path = tmp_path / f"{name}.png"
    experiments.plot(outcome, path)
    assert path.read_bytes().startswith(b"\x89PNG")
    return outcome


def test_optimizers_fig_6_9(mnist, tmp_path):
    out = run("optimizers", tmp_path)
    losses = out.data["losses"]
    assert set(losses) == {"SGD", "Momentum", "AdaGrad", "Adam"}
    assert all(np.isfinite(v).all() for v in losses.values())


def test_weight_init_fig_6_15(mnist, tmp_path):
    run("weight_init", tmp_path)


def test_activation_histograms_figs_6_10_to_6_14(tmp_path):
    out = run("activations", tmp_path)
    assert all(out.data["checks"])
    # the sigmoid nets' outputs stay in (0, 1), ReLU's are >= 0
    for acts in out.data["runs"].values():
        assert all(a.min() >= 0 for a in acts)


def test_batchnorm_figs_6_18_6_19(mnist, tmp_path):
    out = run("batchnorm", tmp_path)
    # one accuracy per epoch, as the book's; at scale 1 the plain net diverges, and says so
    assert all(len(c) == out.data["epochs"] for c in out.data["curves"].values())
    assert "1: " in out.details and "vs nan (the plain net diverged)" in out.details


def test_weight_decay_figs_6_20_6_21(mnist, tmp_path):
    run("weight_decay", tmp_path)


def test_dropout_fig_6_23(mnist, tmp_path):
    run("dropout", tmp_path)


def test_hyperparameter_search_fig_6_24(mnist, tmp_path):
    out = run("hyperparam", tmp_path, storage=str(tmp_path / "search.journal"))
    rows = out.data["rows"]
    assert len(rows) == 12
    assert all(1e-6 <= r["lr"] <= 1e-2 and 1e-8 <= r["weight_decay"] <= 1e-4 for r in rows)


def test_hyperparameter_search_never_sees_the_test_set(mnist, monkeypatch):
    from nn import hyperparam

    (x_train, _), (x_val, _) = hyperparam.split_data(500, 0)
    assert len(x_train) == 400 and len(x_val) == 100
    seen = experiments._mnist(500, 0)[0]
    rows = {r.tobytes() for r in seen}
    assert all(r.tobytes() in rows for r in np.concatenate([x_train, x_val]))


# ---------------------------------------------------------------- the command line

def cli(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "nn.experiments", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120)


def test_cli_runs_and_plots(tmp_path):
    out = cli("activations", "--quick", "--no-progress", "--plot", str(tmp_path / "h.png"))
    assert out.returncode == 0, out.stderr
    assert "reproduced: yes" in out.stdout
    assert (tmp_path / "h.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("args, message", [
    ([], "the following arguments are required: NAME"),
    (["nope"], "argument NAME: invalid choice: 'nope'"),
    (["activations", "--seed", "x"], "argument --seed: invalid int value: 'x'"),
    (["activations", "--plot", "/no/such/folder/x.png"], "the folder /no/such/folder does not exist"),
    (["activations", "--plot", "x.xyz"], "cannot write this file type"),
    (["activations", "--trials", "3"], "belong to the hyperparam experiment"),
    (["hyperparam", "--jobs", "0"], "--jobs must be >= 1, got 0"),
    (["hyperparam", "--storage", "/no/such/folder/s.journal"], "the folder /no/such/folder does not exist"),
])
def test_cli_errors_are_one_line_and_exit_2(args, message, tmp_path):
    out = cli(*args, cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.startswith("error: ") and message in out.stderr, out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert not list(tmp_path.iterdir())  # nothing left behind
