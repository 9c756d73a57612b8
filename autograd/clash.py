"""The import name ``autograd`` is shared: HIPS autograd (``pip install autograd``) uses it too.

chainrule keeps the book's layout, a top-level package ``autograd``; with HIPS autograd in
the same environment one hides the other.  Importing chainrule's warns when another is on
``sys.path``; ``nn`` refuses an ``autograd`` without the ``__chainrule__`` marker.
"""
import importlib.machinery
import os
import sys
import warnings

ADVICE = ("chainrule and HIPS autograd (the 'autograd' package on PyPI) both install a "
          "top-level package named autograd, so one hides the other. Uninstall HIPS autograd "
          "from this environment (pip uninstall autograd), or give chainrule a virtual "
          "environment of its own.")


def other_autograds(ours):
    """Paths of the ``autograd`` packages on ``sys.path`` that are not chainrule's (``ours``:
    chainrule's ``autograd/__init__.py``; copies of chainrule elsewhere are not counted)."""
    found = []
    for entry in sys.path:
        try:
            spec = importlib.machinery.PathFinder.find_spec("autograd", [entry or os.getcwd()])
        except Exception:  # an odd sys.path entry must not stop the import: skip it
            continue
        origin = getattr(spec, "origin", None)
        if origin is None or os.path.realpath(origin) == os.path.realpath(ours) or origin in found:
            continue
        try:
            with open(origin, encoding="utf-8", errors="replace") as f:
                if "__chainrule__" in f.read():  # another copy of chainrule (an older install)
                    continue
        except OSError:
            pass
        found.append(origin)
    return found


def warn_if_shadowed(ours):
    """Warn (once, UserWarning) if another package named autograd is on ``sys.path``."""
    others = other_autograds(ours)
    if others:
        warnings.warn(f"another package named autograd is installed ({', '.join(others)}) beside "
                      f"chainrule's ({os.path.dirname(ours)}): {ADVICE}", stacklevel=3)
