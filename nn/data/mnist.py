"""MNIST loader: ``load_mnist`` from chapter 3 of the book, with verified data.

The four MNIST files use the IDX format: a big-endian header, then the raw uint8 values
in C order.

    bytes 0-3   magic number 0x00000803 (2051) for images, 0x00000801 (2049) for labels:
                two zero bytes, a type code (0x08 = uint8) and the number of dimensions
                (3 for images, 1 for labels)
    then        one big-endian uint32 per dimension: count (and 28, 28)
    then        count * 28 * 28 image bytes, or count label bytes (0..9)

Files are looked for, as ``NAME`` or ``NAME.gz``, in ``data_dir`` and then ``data_dir/mnist``
if given, else in ``$CHAINRULE_DATA`` and ``$CHAINRULE_DATA/mnist`` and then in the per-user
cache ``$XDG_CACHE_HOME/chainrule/mnist`` (default ``~/.cache/chainrule/mnist``): either folder
may be named, the one holding the files or the one above its ``mnist``.  Missing files are
downloaded from a mirror unless ``CHAINRULE_OFFLINE=1``.  Each file's decompressed content is
checked against its official sha256, and no file is read or decompressed beyond the size MNIST
has (a gzip bomb is refused, not unpacked).  Without ``data_dir`` the decoded arrays are cached
as ``.npy`` files in the per-user cache, so that every load after the first takes a fraction of
a second; each load checks a cached array against the same sha256 (the IDX header follows from
the shape) and rebuilds it if it differs or is not a plain ``.npy`` file of the right shape.
With ``data_dir`` the files in that folder are read and checked every time; no cache is used.
"""

import gzip
import hashlib
import os
import stat
import struct
import sys
import urllib.request
import warnings
import zlib
from pathlib import Path

import numpy as np

from .files import atomic_write, remove_stale

# Decompressed file name -> (kind, number of items, sha256 of the decompressed bytes).
MNIST_FILES = {
    "train-images-idx3-ubyte": (
        "images", 60000, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    "train-labels-idx1-ubyte": (
        "labels", 60000, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    "t10k-images-idx3-ubyte": (
        "images", 10000, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    "t10k-labels-idx1-ubyte": (
        "labels", 10000, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
}

# Tried in order; each serves NAME.gz. (yann.lecun.com answers 403 nowadays.)
MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]

_MAGIC = {"images": 2051, "labels": 2049}
_FIX = "Delete the file so that it is downloaded again, or replace it with a good copy."


class MnistFormatError(ValueError):
    """A file is not a valid MNIST IDX file (truncated, wrong header, corrupt)."""


class MnistChecksumError(MnistFormatError):
    """A file parses, but its decompressed content is not the official one."""


class MnistNotFoundError(FileNotFoundError):
    """Some MNIST files are missing and could not be downloaded."""


class MnistDownloadError(OSError):
    """Every mirror failed for one file."""


def parse_idx(raw, name="<bytes>", *, kind=None, count=None):
    """Decode the bytes of an uncompressed IDX file.

    Returns a new, writable uint8 array: (N, 28, 28) for images, (N,) for labels. ``kind``
    ("images" or "labels") and ``count`` (N), when given, must match the header. ``name``
    (usually the path) is used in errors. Raises MnistFormatError.
    """
    def fail(problem):
        raise MnistFormatError(f"{name}: {problem}. {_FIX}")

    if len(raw) < 4:
        fail(f"file is truncated: expected an IDX header, found only {len(raw)} bytes")
    magic = int.from_bytes(raw[:4], "big")
    allowed = [_MAGIC[kind]] if kind else list(_MAGIC.values())
    if magic not in allowed:
        expected = " or ".join(f"{m} (0x{m:08x})" for m in allowed)
        fail(f"not an MNIST {kind or 'IDX'} file: expected magic number {expected}, "
             f"found {magic} (0x{magic:08x})")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        fail(f"file is truncated: expected a {header}-byte header, found only {len(raw)} bytes")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    if ndim == 3 and dims[1:] != (28, 28):
        fail(f"expected 28x28 images, found {dims[1]}x{dims[2]}")
    if count is not None and dims[0] != count:
        fail(f"its header announces {dims[0]} {kind or 'items'}, but this file must hold {count}")
    expected_size = int(np.prod(dims))
    size = len(raw) - header
    if size != expected_size:
        what = "file is truncated" if size < expected_size else "file has trailing bytes"
        fail(f"{what}: the header {dims} needs {expected_size} data bytes, found {size}")
    # Copy: frombuffer over bytes is read-only, and callers own what we return.
    array = np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims).copy()
    if ndim == 1 and array.size and array.max() > 9:
        fail(f"expected labels 0..9, found {array.max()}")
    return array


def read_idx(path, expected_sha256=None, *, kind=None, count=None):
    """Read an IDX file, gzipped or not, and decode it with ``parse_idx``.

    If ``expected_sha256`` is given, the decompressed bytes must have that sha256
    (MnistChecksumError otherwise). Returns a uint8 array.  At most the file's size (from
    ``kind`` and ``count``, else the largest MNIST file's) plus one byte is read or
    decompressed: anything longer is refused (MnistFormatError), so a gzip bomb is never
    unpacked.  Only regular files are read (a FIFO or a device is refused, without blocking).
    """
    limit = _largest_file if kind is None or count is None else _file_size(kind, count)
    f = _open_regular(path)
    if f is None:
        raise MnistFormatError(f"{path}: not a regular file. {_FIX}")
    with f:
        gzipped = f.peek(2)[:2] == b"\x1f\x8b"  # gzip magic: decide by content, not by file name
        try:
            # Never more than one byte past the size MNIST has: a gzip bomb is not unpacked.
            raw = (gzip.GzipFile(fileobj=f) if gzipped else f).read(limit + 1)
        except (OSError, EOFError, zlib.error) as err:
            raise MnistFormatError(f"{path}: cannot decompress ({err}). {_FIX}") from None
    if len(raw) > limit:
        expected = (f"an MNIST {kind} file of {count} items has {limit}" if limit != _largest_file
                    else f"the largest MNIST file has {limit}")
        # An IDX header announcing another count (the other split's file, say) says what it is.
        idx = int.from_bytes(raw[:4], "big") in _MAGIC.values()
        items = int.from_bytes(raw[4:8], "big") if idx else count
        announced = f"; its header announces {items} items" if items != count else ""
        raise MnistFormatError(f"{path}: {'decompresses to' if gzipped else 'has'} more than "
                               f"{limit} bytes{announced}, but {expected}. {_FIX}")
    # Parse before hashing: a truncated file gets a precise message, not just a bad hash.
    array = parse_idx(raw, str(path), kind=kind, count=count)
    if expected_sha256 is not None:
        found = hashlib.sha256(raw).hexdigest()
        if found != expected_sha256:
            raise MnistChecksumError(
                f"{path}: sha256 of the decompressed content is {found}, expected "
                f"{expected_sha256} (the official file); it is corrupt or not the "
                f"official MNIST file. {_FIX}")
    return array


def _file_size(kind, count):
    """Bytes in an uncompressed IDX file of ``count`` images or labels."""
    return 16 + count * 784 if kind == "images" else 8 + count


_largest_file = _file_size("images", 60000)


def _open_regular(path):
    """``path`` opened for binary reading, or None if it is not a regular file.

    The open does not block on a FIFO (O_NONBLOCK) and the check is made on the open
    file, so a special file swapped in meanwhile is refused too.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    if stat.S_ISREG(os.fstat(fd).st_mode):
        return open(fd, "rb")
    os.close(fd)
    return None


def cache_dir():
    """The per-user cache: ``$XDG_CACHE_HOME/chainrule/mnist`` or ``~/.cache/chainrule/mnist``."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says to ignore a relative XDG_CACHE_HOME.
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "chainrule" / "mnist"


def search_dirs(data_dir=None):
    """Directories searched for the files, in order of preference.

    ``data_dir`` if given, else ``$CHAINRULE_DATA`` (if set; a relative value is taken
    relative to the current directory), each followed by its ``mnist`` subfolder; then,
    without ``data_dir``, ``cache_dir()``.
    """
    root = (os.environ.get("CHAINRULE_DATA") or None) if data_dir is None else data_dir
    dirs = []
    if root is not None:
        root = Path(os.path.abspath(os.path.expanduser(root)))
        dirs += [root, root / "mnist"]
    return dirs if data_dir is not None else dirs + [cache_dir()]


def find_file(name, dirs):
    """The first existing ``DIR/NAME`` or ``DIR/NAME.gz``, ``dirs`` in order; None if none."""
    candidates = (Path(d) / n for d in dirs for n in (name, f"{name}.gz"))
    return next((path for path in candidates if path.is_file()), None)


def download(name, dest_dir, mirrors=None):
    """Download ``NAME.gz`` into ``dest_dir``, trying ``mirrors`` (default MIRRORS) in turn.

    The file is written to a temporary file in ``dest_dir``, verified against MNIST_FILES, then
    renamed into place, so a partial or corrupt download is never left behind (not even on
    KeyboardInterrupt), nor are folders it made for it. Returns the final path. Raises
    MnistDownloadError if every mirror fails.
    """
    if name not in MNIST_FILES:
        raise ValueError(f"download: {name!r} is not an MNIST file; expected one of "
                         f"{', '.join(MNIST_FILES)}")
    dest_dir = Path(dest_dir)
    created = [d for d in (dest_dir, *dest_dir.parents) if not d.exists()]  # innermost first
    dest_dir.mkdir(parents=True, exist_ok=True)
    final = dest_dir / f"{name}.gz"
    failures = []
    try:
        for mirror in MIRRORS if mirrors is None else mirrors:
            url = mirror + f"{name}.gz"
            try:
                _fetch_verified(url, name, final)
                return final
            except Exception as err:  # any failure: report it and try the next mirror
                failures.append(f"  {url}: {type(err).__name__}: {err}")
        raise MnistDownloadError(f"could not download {name}.gz:\n" + "\n".join(failures))
    finally:
        if not final.exists():  # failed or interrupted: take back the folders made for it
            for folder in created:
                try:
                    folder.rmdir()
                except OSError:  # not empty (another file landed there): keep it and its parents
                    break


def _fetch_verified(url, name, final):
    """Download ``url`` to a temporary file beside ``final`` (with a tqdm bar if tqdm is
    installed, else a stderr line), check it against MNIST_FILES[name], then rename it to
    ``final``; the temporary file is removed whatever happens."""
    kind, count, sha256 = MNIST_FILES[name]
    # A gzip file is never much larger than its content: stop a mirror that sends more.
    limit, label, done = _file_size(kind, count) + (1 << 16), f"{name}.gz", 0
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    with atomic_write(final, ".part") as out:
        with urllib.request.urlopen(url, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            bar = (tqdm(total=total, unit="B", unit_scale=True, desc=label, leave=False)
                   if tqdm else None)
            try:
                while chunk := response.read(1 << 16):
                    out.write(chunk)
                    done += len(chunk)
                    if done > limit:
                        raise MnistDownloadError(f"{label}: more than {limit} bytes sent, more "
                                                 f"than the file can be; not an MNIST file")
                    if bar is not None:
                        bar.update(len(chunk))
                    else:
                        of = f"{100 * done // total}% of {total}" if total else done
                        sys.stderr.write(f"\rdownloading {label}: {of} bytes")
            finally:
                if bar is not None:
                    bar.close()
                else:
                    sys.stderr.write("\n")
        out.flush()
        read_idx(out.name, sha256, kind=kind, count=count)


def _npy_path(name, sha256):
    # The hash in the name keeps data from another source from being mistaken for this one.
    return cache_dir() / f"{name}.{sha256[:16]}.npy"


def _read_npy(path, kind, count, sha256):
    """The cached uint8 array, or None if it is missing or not exactly the official content.

    Reads only a plain ``.npy`` file (no pickle, no npz, no FIFO) whose header
    announces the expected dtype and shape and whose size matches, and returns
    it only if sha256(IDX header + its bytes) is the official ``sha256``; in
    every other case None, and the caller rebuilds it.
    """
    shape = (count, 28, 28) if kind == "images" else (count,)
    try:
        f = _open_regular(path)
        if f is None:
            return None
        with f:
            version = np.lib.format.read_magic(f)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            if read_header(f) != (shape, False, np.dtype(np.uint8)):
                return None
            array = np.empty(shape, np.uint8)
            if (os.fstat(f.fileno()).st_size != f.tell() + array.nbytes
                    or f.readinto(array.reshape(-1)) != array.nbytes):
                return None
    except (OSError, ValueError, EOFError):
        return None
    digest = hashlib.sha256(struct.pack(f">I{len(shape)}I", 0x0800 | len(shape), *shape))
    digest.update(array)
    return array if digest.hexdigest() == sha256 else None


def _write_npy(path, array):
    """Save atomically; a cache that cannot be written is only a warning."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path, ".part") as f:
            np.save(f, array, allow_pickle=False)
    except OSError as err:
        warnings.warn(f"could not write the MNIST cache {path}: {err}", stacklevel=3)


def _not_found_message(missing, dirs, data_dir, reason):
    put = f"Put the four files ({', '.join(f'{n}.gz' for n in MNIST_FILES)}; gzipped or not) in"
    if data_dir is not None:
        where = (f"{put} {dirs[0]} or {dirs[1]}, or leave data_dir out to use "
                 f"CHAINRULE_DATA=DIR (files in DIR or DIR/mnist).")
    else:
        root = os.environ.get("CHAINRULE_DATA")
        where = (f"{put} DIR or DIR/mnist and set CHAINRULE_DATA=DIR (now "
                 f"{repr(root) if root else 'unset'}), or put them in {cache_dir()}, "
                 f"or pass load_mnist(data_dir=...).")
    searched = "\n".join(f"  {d}{'' if d.is_dir() else '  (no such folder)'}" for d in dirs)
    return (f"MNIST files not found: {', '.join(missing)}.\n"
            f"Searched (as NAME or NAME.gz):\n{searched}\n{reason}\n{where}")


def load_mnist(normalize=True, flatten=True, one_hot_label=False, *,
               dtype=np.float32, data_dir=None):
    """Load MNIST as ``(x_train, t_train), (x_test, t_test)``.

    Images: ``dtype`` values in [0, 1] if ``normalize``, else uint8 0..255; shape (N, 784) if
    ``flatten``, else (N, 1, 28, 28). Labels: (N, 10) one-hot rows in ``dtype`` if
    ``one_hot_label``, else uint8 (N,). N is 60000 for train, 10000 for test. ``data_dir``:
    folder holding the four files (``.gz`` or not), or the folder above its ``mnist``; see the
    module docstring for where they are looked for otherwise. The returned arrays are new:
    modifying them affects no cache.
    """
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"dtype must be a floating type, got {dtype}")
    dirs = search_dirs(data_dir)
    use_cache = data_dir is None  # an explicit folder is read itself, not a cache elsewhere
    npys = {name: _npy_path(name, sha) for name, (_, _, sha) in MNIST_FILES.items()}
    ours = [f"{n}.gz" for n in MNIST_FILES] + [path.name for path in npys.values()]
    for folder in {cache_dir(), *dirs}:  # temporary files of writers that were killed
        remove_stale(folder, ours, ".part")

    arrays = {name: _read_npy(npys[name], kind, count, sha) if use_cache else None
              for name, (kind, count, sha) in MNIST_FILES.items()}
    missing = [n for n, a in arrays.items() if a is None and find_file(n, dirs) is None]
    if missing:
        offline = os.environ.get("CHAINRULE_OFFLINE", "")
        if offline.strip().lower() not in ("", "0", "false", "no"):
            raise MnistNotFoundError(_not_found_message(
                missing, dirs, data_dir, f"Downloading is disabled (CHAINRULE_OFFLINE={offline})."))
        for name in missing:
            try:
                # Into data_dir's mnist/ if it has one (the other files are likely there).
                download(name, cache_dir() if data_dir is None else
                         dirs[1] if dirs[1].is_dir() else dirs[0])
            except MnistDownloadError as err:
                message = _not_found_message(missing, dirs, data_dir, str(err))
                raise MnistNotFoundError(message) from err

    sources = dict(npys)
    for name, (kind, count, sha) in MNIST_FILES.items():
        if arrays[name] is None:
            sources[name] = find_file(name, dirs)
            arrays[name] = read_idx(sources[name], sha, kind=kind, count=count)
            if use_cache:
                _write_npy(npys[name], arrays[name])

    result = []
    for split in ("train", "t10k"):
        images, labels = f"{split}-images-idx3-ubyte", f"{split}-labels-idx1-ubyte"
        x, t = arrays[images], arrays[labels]
        if len(x) != len(t):
            raise MnistFormatError(
                f"{sources[images]} has {len(x)} images but {sources[labels]} has "
                f"{len(t)} labels; they must agree. Replace the mismatched file.")
        if normalize:
            x = np.divide(x, 255, dtype=dtype)
        x = x.reshape(-1, 784) if flatten else x.reshape(-1, 1, 28, 28)
        if one_hot_label:
            t = np.eye(10, dtype=dtype)[t]
        result.append((x, t))
    return tuple(result)
