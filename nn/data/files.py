"""Atomic writes (``autograd.files``), and cleaning up after a writer that was killed.

A file ``DIR/NAME`` is written to a temporary file beside it, ``DIR/.NAME.PID.RANDOM.SUFFIX``
(PID: the writing process), which then replaces ``DIR/NAME`` in one step; on any error or
KeyboardInterrupt the temporary file is removed.  Only ``kill -9`` or a crash can leave one
behind; ``remove_stale`` deletes those whose process is gone, and every writer calls it
first, so the next run cleans up.  (On Windows no PID is judged ended.)
"""
import contextlib
import os
import re
from pathlib import Path

from autograd import files


def atomic_write(path, suffix=".tmp"):
    """``autograd.files.atomic_write`` after removing the stale temporary files of ``path``.

    ``with atomic_write(path) as f: f.write(...)``: ``path`` is replaced only if the block
    succeeds; ``f`` is a binary file (see ``autograd.files.atomic_write``).
    """
    path = Path(path)
    remove_stale(path.parent, [path.name], suffix)
    return files.atomic_write(path, suffix)


def probe_writable(path, suffix=".tmp"):
    """Check now that ``atomic_write(path, suffix)`` will be able to write ``path``.

    Removes stale temporary files of ``path``, then creates and removes a temporary file
    beside it.  Raises OSError saying why not (e.g. PermissionError, FileNotFoundError for
    a missing folder, IsADirectoryError, FileExistsError for a FIFO or device).
    """
    path = Path(path)
    files.check_target(path)
    remove_stale(path.parent, [path.name], suffix)
    tmp = files.temporary_name(path, suffix)
    open(tmp, "xb").close()
    os.remove(tmp)


def remove_stale(directory, names, suffix):
    """Delete ``directory/.NAME.PID.RANDOM.SUFFIX`` for each NAME in ``names`` whose PID has ended.

    Also deletes the names older versions of chainrule used (``.NAME.XXXXXXXX.part``
    from mkstemp, ``.NAME.PID.tmp``).  Files that cannot be read or removed are left.
    """
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        for name in names:
            prefix = f".{name}."
            if (entry.name.startswith(prefix) and entry.name.endswith(suffix)
                    and _is_stale(entry.name[len(prefix):len(entry.name) - len(suffix)])):
                with contextlib.suppress(OSError):
                    os.remove(entry.path)


def _is_stale(middle):
    """``middle`` is the PID.RANDOM part of a temporary file's name."""
    if re.fullmatch(r"[a-z0-9_]{8}", middle) and not middle.isdigit():
        return True  # mkstemp's name from an older version: no process to ask, and no longer made
    match = re.fullmatch(r"(\d+)(\.[0-9a-f]{8})?", middle)
    return match is not None and not process_exists(int(match.group(1)))


def process_exists(pid):
    """Whether process ``pid`` runs on this machine (always True where it can't be asked:
    on Windows, os.kill(pid, 0) would end the process)."""
    if os.name != "posix" or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, under another user
        pass
    return True
