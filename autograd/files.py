"""Writing a file whole or not at all: the project's one atomic writer.  ``DIR/NAME`` is
written to ``DIR/.NAME.PID.RANDOM.SUFFIX`` (PID: for ``nn.data.files.remove_stale``), which
then replaces it in one step (``os.replace``), with ``open()``'s mode (0644 usually).
"""
import contextlib
import os
import secrets
import stat
from pathlib import Path


def temporary_name(path, suffix=".tmp"):
    """The temporary file ``atomic_write`` writes before replacing ``path``."""
    path = Path(path)
    return path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{suffix}"


def check_target(path):
    """Raise unless ``path`` is missing or a regular file (or a link to one): ``os.replace``
    would swap whatever is there, a folder, a FIFO, even ``/dev/null``."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"cannot write {str(path)!r}: it is a folder; give a file name")
    if not stat.S_ISREG(mode):
        raise FileExistsError(f"cannot write {str(path)!r}: it exists and is not a regular file "
                              "(a FIFO, socket or device); it is left alone; pick another path")


@contextlib.contextmanager
def atomic_write(path, suffix=".tmp"):
    """``with atomic_write(path) as f: f.write(b"...")``: ``path`` is replaced only if the
    block succeeds, else (KeyboardInterrupt too) the temporary file is removed.  ``f`` is a
    binary file on it (``f.name``: its path, readable after ``f.flush()``), fsynced before.
    """
    path = Path(os.fspath(path))
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {str(path)!r}: the folder {str(path.parent)!r} "
                                "does not exist; create it first or pick another path")
    check_target(path)
    tmp = temporary_name(path, suffix)
    try:
        with open(tmp, "xb") as f:  # "x": never reuse a file that exists
            yield f
            f.flush()
            os.fsync(f.fileno())
        check_target(path)  # again: it may have been made while we wrote
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):  # already renamed, or never made
            os.remove(tmp)


def write_text(path, text):
    """Write ``text`` (UTF-8) to ``path`` through ``atomic_write``; returns ``str(path)``."""
    with atomic_write(path) as f:
        f.write(text.encode("utf-8"))
    return str(path)
