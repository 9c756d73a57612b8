"""The command-line tools as a user meets them: every mistake is one ``error: ...`` line and
exit status 2, never a traceback; Ctrl-C is one line; a diverged run saves nothing; an output
that cannot be written is refused before training; notebook 04's check repeats on the command line.

Most cases run the real command in a subprocess, as a user would.
"""
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nn.train
from nn import TwoLayerNet
from nn.gradcheck import book_batch, book_network

REPO = Path(__file__).resolve().parent.parent


def command(module, *args, timeout=120):
    """Run ``python -m module args`` from the repository; the CompletedProcess."""
    env = dict(os.environ)
    if env.get("CHAINRULE_DATA"):
        env["CHAINRULE_DATA"] = os.path.abspath(env["CHAINRULE_DATA"])
    return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def assert_one_error_line(run, *fragments, status=2):
    assert run.returncode == status, (run.returncode, run.stderr)
    assert "Traceback" not in run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.mark.parametrize("module, args, fragments", [
    ("nn.train", ["--seed", "-1"], ["--seed must be in 0..4294967295, got -1"]),
    ("nn.train", ["--weight-init-std", "nan"], ["--weight-init-std must be a finite number > 0"]),
    ("nn.train", ["--lr", "inf"], ["--lr must be a finite number > 0, got inf"]),
    ("nn.train", ["--hidden-size", "0"], ["--hidden-size must be >= 1, got 0"]),
    ("nn.train", ["--iters", "ten"], ["--iters", "invalid int value: 'ten'"]),
    ("nn.gradcheck", ["--h", "0"], ["--h must be a finite number > 0, got 0.0"]),
    ("nn.gradcheck", ["--hidden-size", "-1"], ["--hidden-size must be >= 1, got -1"]),
    ("nn.gradcheck", ["--seed", "-1"], ["--seed must be in 0..4294967295, got -1"]),
    ("nn.gradcheck", ["--tol", "nan"], ["--tol must be a finite number >= 0, got nan"]),
    ("nn.gradcheck", ["--bogus"], ["unrecognized arguments: --bogus"]),
])
def test_bad_options_are_one_error_line(module, args, fragments):
    run = command(module, *args)
    assert_one_error_line(run, *fragments)
    assert run.stdout == ""  # refused before anything started


def write_junk_set(folder):
    folder.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (folder / f"{name}.gz").write_bytes(b"\x1f\x8b junk, not gzip")


@pytest.mark.parametrize("module", ["nn.train", "nn.gradcheck"])
def test_a_corrupt_data_file_is_one_error_line(module, tmp_path):
    write_junk_set(tmp_path / "junk")
    run = command(module, "--data-dir", str(tmp_path / "junk"), "--seed", "0")
    assert_one_error_line(run, "cannot decompress", str(tmp_path / "junk"))


@pytest.mark.parametrize("module", ["nn.train", "nn.gradcheck"])
def test_an_unreadable_data_file_is_one_error_line(module, monkeypatch, capsys):
    # As root every file is readable, so the refusal is simulated where load_mnist opens it.
    def unreadable(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/data/mnist/train-images-idx3-ubyte.gz")

    monkeypatch.setattr("nn.data.mnist.load_mnist", unreadable)
    main = __import__(module, fromlist=["main"]).main
    assert main(["--seed", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: [Errno 13] Permission denied")


def test_gradcheck_refuses_more_samples_than_mnist_has(mnist_data):
    mnist_data()  # the data must be there (the command loads it)
    run = command("nn.gradcheck", "--samples", "100000", "--seed", "0")
    assert_one_error_line(run, "--samples 100000", "has 60000 samples")


# ---------------------------------------------------------------- diverged runs save nothing

def test_training_that_diverges_on_the_last_update_reports_the_parameter():
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((20, 4)).astype(np.float32), rng.integers(0, 3, 20)
    net = TwoLayerNet(4, 5, 3, 0.1, dtype=np.float32, rng=0)
    with np.errstate(all="ignore"), pytest.raises(
            FloatingPointError, match=r"^W1 holds \d+ non-finite values .* after iteration 1 of 1: "
                                      r"training diverged; try a smaller learning rate than 1e\+39"):
        nn.train.train(net, x, t, x, t, iters_num=1, batch_size=10, lr=1e39,
                       progress=False, verbose=False)


def test_the_command_saves_no_diverged_weights(mnist_data, tmp_path):
    mnist_data()
    weights = tmp_path / "w.npz"
    run = command("nn.train", "--iters", "1", "--lr", "1e39", "--save", str(weights),
                  "--no-progress", "--seed", "0")
    assert run.returncode == 1, run.stderr  # the run failed: not a usage error
    assert "Traceback" not in run.stderr
    assert run.stderr.splitlines()[-1].startswith("error: W1 holds")
    assert "final:" not in run.stdout and "weights saved" not in run.stdout
    assert list(tmp_path.iterdir()) == []


def test_a_loss_that_is_nan_before_any_update_blames_the_initial_weights(mnist_data):
    mnist_data()
    run = command("nn.train", "--weight-init-std", "1e30", "--iters", "5", "--no-progress",
                  "--seed", "0")
    assert run.returncode == 1, run.stderr
    last = run.stderr.splitlines()[-1]
    assert last.startswith("error: the loss became nan at iteration 1 of 5, before any update: "
                           "the initial weights"), last
    assert "learning rate than" not in last


# ---------------------------------------------------------------- outputs checked before training

def unwritable_outputs(tmp_path):
    (tmp_path / "dir.npz").mkdir()
    (tmp_path / "dir.png").mkdir()
    return [["--save", str(tmp_path / "dir.npz")],  # a folder of that name
            ["--plot", str(tmp_path / "dir.png")],
            ["--save", "/proc/w.npz"],  # a folder nobody can create files in, not even root
            ["--plot", "/proc/c.png"]]


def test_unwritable_outputs_fail_before_training(tmp_path, capsys, no_training):
    for argv in unwritable_outputs(tmp_path):
        with pytest.raises(SystemExit) as exit_info:
            nn.train.main(argv)
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith(f"error: {argv[0]} {argv[1]}: cannot write"), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.npz", "dir.png"]  # no probe left


def test_a_read_only_folder_fails_before_training(tmp_path, capsys, no_training, monkeypatch):
    real_open = open

    def read_only(path, mode="r", *args, **kwargs):  # as root, chmod cannot make a folder read-only
        if str(path).startswith(str(tmp_path)) and "x" in mode:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", read_only)
    with pytest.raises(SystemExit) as exit_info:
        nn.train.main(["--save", str(tmp_path / "w.npz")])
    assert exit_info.value.code == 2
    assert "cannot write there (Permission denied)" in capsys.readouterr().err


def test_a_save_killed_mid_write_is_cleaned_by_the_next_run(tmp_path):
    target = tmp_path / "w.npz"
    code = ("import os, signal, sys\n"
            "from nn.nets.base import save_params\n"
            "import numpy as np\n"
            "np.savez = lambda f, **a: (f.write(b'half'), os.kill(os.getpid(), signal.SIGKILL))\n"
            "save_params(sys.argv[1], {'W1': np.ones(3)})\n")
    run = subprocess.run([sys.executable, "-c", code, str(target)], cwd=REPO)
    assert run.returncode == -signal.SIGKILL
    [left] = tmp_path.iterdir()
    assert left.name.startswith(".w.npz.") and left.name.endswith(".tmp")
    # The next run removes it while checking --save, before it even finds the data.
    write_junk_set(tmp_path / "junk")
    run = command("nn.train", "--save", str(target), "--data-dir", str(tmp_path / "junk"))
    assert run.returncode == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk"]


# ---------------------------------------------------------------- Ctrl-C

@pytest.mark.parametrize("module, args, started", [
    ("nn.train", ["--iters", "1000000", "--no-progress", "--seed", "0"], "TwoLayerNet("),
    ("nn.gradcheck", ["--seed", "0"], "gradient check:"),
])
def test_ctrl_c_is_one_line(module, args, started, mnist_data, tmp_path):
    mnist_data()
    env = dict(os.environ)
    if env.get("CHAINRULE_DATA"):
        env["CHAINRULE_DATA"] = os.path.abspath(env["CHAINRULE_DATA"])
    child = subprocess.Popen(
        [sys.executable, "-m", module, *args], cwd=REPO, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        # Python ignores SIGINT if it starts ignored (as in a shell's background job).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        first = child.stdout.readline()
        assert first.startswith(started), first
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == 130
    assert err == "interrupted\n"


# ---------------------------------------------------------------- notebook 04 on the command line

def test_gradcheck_builds_the_network_of_np_random_seed():
    state = np.random.get_state()
    try:
        np.random.seed(4)
        book = TwoLayerNet(784, 50, 10)  # notebook 04: np.random.seed(4), then the book's call
    finally:
        np.random.set_state(state)
    ours = book_network(50, 4)
    for key in book.params:
        np.testing.assert_array_equal(ours.params[key], book.params[key])
    assert np.random.get_state()[1].tolist() == state[1].tolist()  # global generator untouched


def test_gradcheck_uses_the_images_load_mnist_gives(mnist_data):
    (x_float, t_onehot), _ = mnist_data(one_hot_label=True)  # as notebook 04 loads them
    (x_raw, t_raw), _ = mnist_data(normalize=False)
    x, labels = book_batch(x_raw, t_raw, 3)
    assert x.dtype == np.float64
    np.testing.assert_array_equal(x, x_float[:3].astype(np.float64))
    np.testing.assert_array_equal(labels, t_onehot[:3].argmax(axis=1))


def test_gradcheck_seed_4_repeats_notebook_04(mnist_data):
    """The notebook's seed-4 table leaves out 131 W1 and 1 b1 coordinates; so must the command.

    A tolerance of 0 also shows that a failed check is status 1, not the usage error's 2.
    """
    mnist_data()
    run = command("nn.gradcheck", "--seed", "4", "--tol", "0", timeout=300)
    assert run.returncode == 1, run.stderr
    one_hot = run.stdout.split("one-hot labels")[1].split("index labels")[0]
    assert "W1:" in one_hot and "(131 of 39200 coordinates left out" in one_hot
    assert "(1 of 50 coordinates left out" in one_hot
    assert "FAILED" in run.stdout


def test_sizes_too_large_for_memory_are_one_error_line(mnist_data):
    mnist_data()
    run = command("nn.train", "--hidden-size", str(10**12), "--seed", "0")
    assert_one_error_line(run, "not enough memory", "--hidden-size 1000000000000")
    run = command("nn.train", "--batch-size", str(10**13), "--iters", "1", "--seed", "0",
                  "--no-progress")
    assert_one_error_line(run, "not enough memory", "--batch-size 10000000000000")


def test_save_params_refuses_non_finite_weights(tmp_path):
    from nn.nets.base import save_params
    with pytest.raises(ValueError, match=r"save_params: b1 holds nan or inf; nothing was saved"):
        save_params(tmp_path / "w.npz", {"W1": np.ones(2), "b1": np.array([0.0, np.inf])})
    assert list(tmp_path.iterdir()) == []
