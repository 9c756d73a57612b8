"""HIPS autograd (``pip install autograd``) shares chainrule's top-level name ``autograd``:
``nn`` refuses the wrong one with advice, and chainrule's ``autograd`` warns when the other
is installed beside it.  Each case runs a fresh interpreter with a stand-in for HIPS autograd."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def hips(tmp_path):
    """A folder holding a stand-in for HIPS autograd: a package ``autograd`` without our marker."""
    package = tmp_path / "site" / "autograd"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("# stand-in for HIPS autograd\ndef grad(fun):\n    return fun\n")
    return tmp_path / "site"


def python(code, *path, cwd):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, path))}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60)


def test_nn_refuses_another_autograd_and_says_what_to_do(hips, tmp_path):
    run = python("import nn", hips, REPO, cwd=tmp_path)  # HIPS first on the path
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: nn needs chainrule's autograd")
    assert str(hips / "autograd" / "__init__.py") in last and "pip uninstall autograd" in last


def test_chainrule_autograd_warns_when_another_is_installed(hips, tmp_path):
    run = python("import autograd, nn; print(autograd.Value(2.0) * 3)", REPO, hips, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "UserWarning: another package named autograd is installed" in run.stderr
    assert str(hips / "autograd" / "__init__.py") in run.stderr
    assert "pip uninstall autograd" in run.stderr


def test_no_warning_without_a_clash(tmp_path):
    other_copy = tmp_path / "old" / "autograd"  # e.g. an older install of chainrule itself
    other_copy.mkdir(parents=True)
    (other_copy / "__init__.py").write_text("__chainrule__ = True\n")
    run = python("import autograd, nn", REPO, tmp_path / "old", cwd=tmp_path)
    assert run.returncode == 0 and run.stderr == ""
