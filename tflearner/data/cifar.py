"""CIFAR-10 loading without surprises: local copies first, safe unpickling, clear errors.

``load_cifar10()`` returns ``(x_train, y_train), (x_test, y_test)`` with ``x`` as ``uint8``
``(N, 32, 32, 3)`` (channels-last) and ``y`` as ``int64`` ``(N,)``.

Where the data comes from, in order:

1. ``path=``: a ``cifar-10-batches-py`` folder, a folder that contains one (or that contains
   ``cifar-10-python.tar.gz``), or a tar archive in the official layout (any compression
   ``tarfile`` reads: gzip, bzip2, xz or none).
2. The environment variable ``TFLEARNER_DATA`` (same forms).
3. The Keras cache (``$KERAS_HOME`` or ``~/.keras``, under ``datasets/``), as left behind by
   ``keras.datasets.cifar10.load_data()`` (Keras 3: ``cifar-10-batches-py-target/
   cifar-10-batches-py/``; older Keras: ``cifar-10-batches-py/``).
4. Keras' own download.

``sample=True`` instead loads the small pixel-exact sample shipped in ``tflearner/_data/``.

Archives are read in memory: nothing is ever extracted to disk, only regular members whose
base name is one of the CIFAR batch files are read, and links or paths that leave the archive
(``../x``, ``/x``) are never used. Pickles are read with an unpickler that only allows the
three numpy globals an array needs, so a tampered file cannot run code. Any truncated or
corrupt copy raises :class:`CifarFormatError` naming the file, never a raw pickle/zlib/tar
traceback, and advising a fresh download; a file that is no dataset at all (not a tar archive,
compressed or not, or an intact archive without any CIFAR batch file) raises it too, but with the
forms ``path=`` accepts instead of download advice.

This module needs only numpy and the standard library; Keras is imported only to download.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import pickle
import tarfile
from pathlib import Path, PurePosixPath
from typing import IO, Any

import numpy as np

__all__ = [
    "CIFAR10_CLASSES",
    "ENV_VAR",
    "SAMPLE_PATH",
    "CifarFormatError",
    "CifarNotFoundError",
    "find_cifar10",
    "load_cifar10",
]

ENV_VAR = "TFLEARNER_DATA"
#: CIFAR-10's class names, in label order (label 0 is "airplane").
CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
SAMPLE_PATH: Path = Path(__file__).resolve().parent.parent / "_data" / "cifar10_sample.tar.xz"

BATCHES_DIR = "cifar-10-batches-py"
ARCHIVE_NAME = "cifar-10-python.tar.gz"
_ORIGIN_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
_TRAIN_NAMES = tuple(f"data_batch_{i}" for i in range(1, 6))
_TEST_NAME = "test_batch"
_META_NAME = "batches.meta"
_WANTED = frozenset((*_TRAIN_NAMES, _TEST_NAME, _META_NAME))
_IMAGE_BYTES = 32 * 32 * 3
_MAX_MEMBER_BYTES = 256 * 2**20  # an official batch is ~31 MB
_FIX_CORRUPT = "delete it and download it again, or pass path= to a good copy"
_FIX_NOT_CIFAR = (f"pass a {BATCHES_DIR} folder, the folder that contains it, or "
                  f"{ARCHIVE_NAME} (the file from {_ORIGIN_URL})")
# How compressed files start; an uncompressed (POSIX/GNU) tar has b"ustar" at offset 257.
_COMPRESSION_MAGIC = (("gzip", b"\x1f\x8b"), ("bzip2", b"BZh"), ("xz", b"\xfd7zXZ\x00"))
_OPENERS = {"gzip": gzip.open, "bzip2": bz2.open, "xz": lzma.open}

Arrays = tuple[np.ndarray, np.ndarray]
CifarData = tuple[Arrays, Arrays]


#: The line that starts the not-found message's fixes (:func:`not_found_fixes`).
FIX_HEADER = "How to fix it (any one):"


class CifarNotFoundError(FileNotFoundError):
    """No usable CIFAR-10 copy was found (and, where tried, the download failed)."""


class CifarFormatError(ValueError):
    """A CIFAR-10 copy was found but is truncated, corrupt, incomplete or not CIFAR-10."""


# --------------------------------------------------------------------------- safe unpickling


def _reconstruct_func() -> Any:
    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


# Exactly what the official CIFAR-10 pickles reference (checked with pickletools): an ndarray
# is rebuilt from ``multiarray._reconstruct``, ``numpy.ndarray`` and ``numpy.dtype``. Both the
# numpy 1 and numpy 2 module spellings are accepted; everything else is refused.
_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct_func(),
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct_func(),
}


class _SafeUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the numpy globals a CIFAR batch needs."""

    def __init__(self, file: IO[bytes], source: str) -> None:
        super().__init__(file, encoding="bytes")
        self._source = source

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise CifarFormatError(
                f"{self._source}: refusing to unpickle: it references {module}.{name}, which a "
                "CIFAR-10 batch never contains (only numpy arrays, lists, ints and bytes). The "
                f"file is corrupt or was tampered with; {_FIX_CORRUPT}."
            ) from None


def _unpickle(raw: bytes, source: str) -> Any:
    try:
        return _SafeUnpickler(io.BytesIO(raw), source).load()
    except CifarFormatError:
        raise
    except Exception as e:  # pickle/numpy raise many types on garbage input
        raise CifarFormatError(
            f"{source}: not a readable CIFAR-10 pickle ({type(e).__name__}: {e}); the file is "
            f"truncated or corrupt; {_FIX_CORRUPT}."
        ) from None


def _get(d: dict[Any, Any], key: str) -> Any:
    return d.get(key.encode(), d.get(key))


def _parse_batch(raw: bytes, source: str) -> Arrays:
    """Unpickle one ``data_batch_*``/``test_batch`` and return validated (x, y)."""
    obj = _unpickle(raw, source)
    if not isinstance(obj, dict):
        raise CifarFormatError(
            f"{source}: expected a dict with b'data' and b'labels', got {type(obj).__name__}; "
            f"{_FIX_CORRUPT}."
        )
    data, labels = _get(obj, "data"), _get(obj, "labels")
    if not isinstance(data, np.ndarray) or labels is None:
        raise CifarFormatError(
            f"{source}: expected b'data' (a numpy array) and b'labels', found keys "
            f"{sorted(map(repr, obj))}; {_FIX_CORRUPT}."
        )
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != _IMAGE_BYTES:
        raise CifarFormatError(
            f"{source}: b'data' should be uint8 of shape (N, {_IMAGE_BYTES}), got "
            f"{data.dtype} {data.shape}; {_FIX_CORRUPT}."
        )
    try:
        y = np.asarray(labels)
    except Exception as e:
        raise CifarFormatError(f"{source}: unreadable b'labels' ({e}); {_FIX_CORRUPT}.") from None
    if y.ndim != 1 or y.dtype.kind not in "iu" or len(y) != len(data):
        raise CifarFormatError(
            f"{source}: b'labels' should be {len(data)} integers (one per image), got "
            f"{y.dtype} {y.shape}; {_FIX_CORRUPT}."
        )
    if len(y) and (y.min() < 0 or y.max() > 9):
        raise CifarFormatError(
            f"{source}: labels must lie in 0..9, found {y.min()}..{y.max()}; {_FIX_CORRUPT}."
        )
    return _rows_to_hwc(data), y.astype(np.int64)


def _rows_to_hwc(data: np.ndarray) -> np.ndarray:
    """CIFAR rows (R plane, G plane, B plane; each 32x32 row-major) -> (N, 32, 32, 3)."""
    return np.ascontiguousarray(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))


def _check_meta(raw: bytes, source: str) -> None:
    obj = _unpickle(raw, source)
    if not isinstance(obj, dict):
        raise CifarFormatError(f"{source}: expected a dict, got {type(obj).__name__}.")
    names = _get(obj, "label_names")
    if names is None:
        return
    try:
        decoded = tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)
    except Exception as e:
        raise CifarFormatError(f"{source}: unreadable label_names ({e}).") from None
    if decoded != CIFAR10_CLASSES:
        raise CifarFormatError(
            f"{source}: label_names {list(decoded)} are not CIFAR-10's {list(CIFAR10_CLASSES)}; "
            "is this CIFAR-100 or another dataset?"
        )


def _parse_member(name: str, raw: bytes, source: str) -> Arrays | None:
    if name == _META_NAME:
        _check_meta(raw, source)
        return None
    return _parse_batch(raw, source)


def _combine(found: dict[str, Arrays | None], where: str) -> CifarData:
    """Check that data_batch_1..k (k >= 1, no gaps) and test_batch are present; concatenate."""
    have = [n for n in _TRAIN_NAMES if n in found]
    last = int(have[-1].rsplit("_", 1)[1]) if have else 1
    missing = [n for n in _TRAIN_NAMES[:last] if n not in found]
    if _TEST_NAME not in found:
        missing.append(_TEST_NAME)
    if missing:
        raise CifarFormatError(
            f"{where}: incomplete CIFAR-10 copy, missing {', '.join(missing)} (found: "
            f"{', '.join(sorted(found)) or 'nothing'}). An interrupted download or extraction "
            f"leaves this behind; {_FIX_CORRUPT}."
        )
    train = [found[n] for n in have]
    x_train = np.concatenate([b[0] for b in train])  # type: ignore[index]
    y_train = np.concatenate([b[1] for b in train])  # type: ignore[index]
    x_test, y_test = found[_TEST_NAME]  # type: ignore[misc]
    return (x_train, y_train), (x_test, y_test)


# --------------------------------------------------------------------------- readers


def _read_dir(folder: Path) -> CifarData:
    found: dict[str, Arrays | None] = {}
    for name in sorted(_WANTED):
        p = folder / name
        if not p.is_file():
            continue
        size = p.stat().st_size
        if size > _MAX_MEMBER_BYTES:
            raise CifarFormatError(f"{p}: {size} bytes is far too large for a CIFAR-10 batch.")
        found[name] = _parse_member(name, p.read_bytes(), str(p))
    return _combine(found, str(folder))


def _member_name(member: tarfile.TarInfo) -> str | None:
    """The CIFAR file a member stands for, or None to skip it (unwanted or unsafe path)."""
    name = member.name.replace("\\", "/")
    pure = PurePosixPath(name)
    if name.startswith("/") or pure.is_absolute() or ".." in pure.parts:
        return None  # never follow a path out of the archive
    return pure.name if pure.name in _WANTED else None


def _sniff(archive: Path) -> str | None:
    """``"gzip"``, ``"bzip2"``, ``"xz"``, ``"tar"`` (uncompressed) or None, from the first bytes."""
    with open(archive, "rb") as f:
        head = f.read(tarfile.BLOCKSIZE)
    for kind, magic in _COMPRESSION_MAGIC:
        if head.startswith(magic):
            return kind
    return "tar" if head[257:262] == b"ustar" else None


def _decompresses(archive: Path, kind: str) -> bool:
    """Whether the first tar block's worth of a compressed file decompresses without error."""
    try:
        with _OPENERS[kind](archive, "rb") as f:
            f.read(tarfile.BLOCKSIZE)
    except Exception:  # noqa: BLE001 - EOFError, OSError, zlib/lzma errors: damaged stream
        return False
    return True


def _not_an_archive(archive: Path, kind: str | None) -> CifarFormatError:
    """The error for a file that is readable but is no tar archive (so not a bad download)."""
    with open(archive, "rb") as f:
        head = f.read(16)
    what = ("is neither a tar archive nor gzip/bzip2/xz-compressed" if kind is None
            else f"is {kind}-compressed but does not hold a tar archive")
    return CifarFormatError(
        f"{archive}: not a CIFAR-10 dataset: the file {what} (it starts with {head!r}); "
        f"{_FIX_NOT_CIFAR}.")


def _open_tar(archive: Path) -> tarfile.TarFile:
    """``tarfile.open`` that tells a file that is no archive from a damaged one."""
    kind = _sniff(archive)
    try:
        return tarfile.open(archive, "r:*")
    except Exception as e:  # tarfile, gzip, lzma, bz2, zlib all have their own errors
        if kind is None or (kind in _OPENERS and _decompresses(archive, kind)):
            raise _not_an_archive(archive, kind) from None
        raise CifarFormatError(
            f"{archive}: cannot read it as a CIFAR-10 tar archive ({type(e).__name__}: {e}). "
            f"It is truncated or corrupt; {_FIX_CORRUPT}."
        ) from None


def _read_tar(archive: Path) -> CifarData:
    found: dict[str, Arrays | None] = {}
    tf = _open_tar(archive)
    seen: list[str] = []  # the first few member names, for the "not CIFAR-10" message
    any_batch_name = False  # a member named like a batch, even one skipped as unsafe
    try:
        with tf:
            for member in tf:
                if len(seen) < 5:
                    seen.append(member.name)
                base = PurePosixPath(member.name.replace("\\", "/")).name
                any_batch_name |= base in (*_TRAIN_NAMES, _TEST_NAME)
                name = _member_name(member)
                if name is None:
                    continue
                source = f"{archive} (member {member.name})"
                if not member.isreg():
                    raise CifarFormatError(
                        f"{source}: is a link or special file, not a regular file; refusing it. "
                        f"The archive is not an official CIFAR-10 archive; {_FIX_CORRUPT}."
                    )
                if name in found:
                    raise CifarFormatError(
                        f"{source}: the archive holds {name} twice; refusing to guess which one "
                        f"to use; {_FIX_CORRUPT}."
                    )
                if member.size > _MAX_MEMBER_BYTES:
                    raise CifarFormatError(
                        f"{source}: {member.size} bytes is far too large for a CIFAR-10 batch."
                    )
                fobj = tf.extractfile(member)
                if fobj is None:  # pragma: no cover - isreg() members always have data
                    continue
                found[name] = _parse_member(name, fobj.read(), source)
            _check_tail(tf)
    except (CifarFormatError, PermissionError):
        raise
    except Exception as e:  # tarfile, gzip, lzma, bz2, zlib all have their own errors
        raise CifarFormatError(
            f"{archive}: cannot read it as a CIFAR-10 tar archive ({type(e).__name__}: {e}). "
            f"It is truncated or corrupt; {_FIX_CORRUPT}."
        ) from None
    if not any_batch_name:
        members = ", ".join(seen) + (", ..." if len(seen) == 5 else "") if seen else "nothing"
        raise CifarFormatError(
            f"{archive}: not a CIFAR-10 archive: it is a readable tar archive but holds none of "
            f"CIFAR-10's batch files (data_batch_1.., test_batch; it holds: {members}); "
            f"{_FIX_NOT_CIFAR}.")
    return _combine(found, str(archive))


def _check_tail(tf: tarfile.TarFile) -> None:
    """Read the archive to its end: makes gzip/xz verify their checksums and end markers,
    and catches a damaged header that made ``tarfile`` stop early (non-zero data after it)."""
    fileobj = tf.fileobj
    assert fileobj is not None
    while chunk := fileobj.read(1 << 20):
        if chunk.strip(b"\0"):
            raise tarfile.ReadError("damaged header: data follows the point where reading stopped")


def _load_source(src: Path) -> CifarData:
    return _read_dir(src) if src.is_dir() else _read_tar(src)


# --------------------------------------------------------------------------- locating


def _is_batches_dir(folder: Path) -> bool:
    return any((folder / n).is_file() for n in (*_TRAIN_NAMES, _TEST_NAME))


def _resolve(p: str | os.PathLike[str], origin: str) -> Path:
    """Turn a user-given path into a batches folder or an archive file."""
    path = Path(p).expanduser()
    if path.is_dir():
        if _is_batches_dir(path):
            return path
        if (path / BATCHES_DIR).is_dir():
            return path / BATCHES_DIR
        if (path / ARCHIVE_NAME).is_file():
            return path / ARCHIVE_NAME
        raise CifarNotFoundError(
            f"{origin} {path} is a folder but holds no CIFAR-10 batch files (data_batch_1.., "
            f"test_batch), no {BATCHES_DIR}/ folder and no {ARCHIVE_NAME}."
        )
    if path.exists():
        return path
    raise CifarNotFoundError(f"{origin} {path} does not exist.")


def _keras_cache_candidates() -> list[Path]:
    """Where ``keras.datasets.cifar10.load_data()`` leaves CIFAR-10 (newest layout first).

    Keras uses ``$KERAS_HOME``, else ``~/.keras`` (``/tmp/.keras`` when the home folder, or the
    chosen cache folder, is not writable). Keras 3 downloads to ``datasets/cifar-10-batches-py-
    target_archive`` and extracts into ``datasets/cifar-10-batches-py-target/``; Keras 2 used
    ``datasets/cifar-10-batches-py.tar.gz`` and ``datasets/cifar-10-batches-py/``.
    """
    home = os.environ.get("KERAS_HOME")
    if home:
        base = Path(home).expanduser()
    else:
        user_home = Path("~").expanduser()
        base = user_home / ".keras" if os.access(user_home, os.W_OK) else Path("/tmp/.keras")
    bases = [base]
    if not os.access(base, os.W_OK) and base != Path("/tmp/.keras"):
        bases.append(Path("/tmp/.keras"))
    out = []
    for b in bases:
        ds = b / "datasets"
        out += [
            ds / "cifar-10-batches-py-target" / BATCHES_DIR,
            ds / BATCHES_DIR,
            ds / "cifar-10-batches-py-target_archive",
            ds / "cifar-10-batches-py.tar.gz",
        ]
    return out


def _search(path: str | os.PathLike[str] | None) -> tuple[Path | None, list[str]]:
    """Sources 1-3. Returns (found or None, description of every place tried)."""
    if path is not None:
        return _resolve(path, "path="), []
    tried = ["path= argument: not given"]
    env = os.environ.get(ENV_VAR)
    if env:
        return _resolve(env, f"${ENV_VAR}="), tried
    tried.append(f"${ENV_VAR}: not set")
    for cand in _keras_cache_candidates():
        if cand.is_dir() if cand.name == BATCHES_DIR else cand.is_file():
            return cand, tried
        tried.append(f"Keras cache: {cand}: not there")
    return None, tried


def _not_found_message(tried: list[str], download: str) -> str:
    lines = ["CIFAR-10 was not found. Places tried, in order:"]
    steps = [
        *tried,
        f"Keras download (keras.datasets.cifar10.load_data() from {_ORIGIN_URL}): {download}",
    ]
    lines += [f"  {i}. {s}" for i, s in enumerate(steps, 1)]
    return "\n".join(lines + not_found_fixes(
        "load_cifar10(path=...) with", "load_cifar10(sample=True) / cifar10_data(sample=True)"))


def not_found_fixes(pass_path: str, sample: str) -> list[str]:
    """The fix lines of the not-found message, in the caller's terms (Python or the CLI):
    ``pass_path`` introduces a local copy, ``sample`` names the shipped sample."""
    return [
        FIX_HEADER,
        f"  - pass a local copy: {pass_path} a {BATCHES_DIR} folder, the folder that contains "
        f"it, or {ARCHIVE_NAME};",
        f"  - set the environment variable {ENV_VAR} to one of those;",
        f"  - go online so Keras can download it ({_ORIGIN_URL}, ~163 MB) into its cache;",
        f"  - for a quick offline run use the small sample shipped with tflearner: {sample}.",
    ]


def find_cifar10(path: str | os.PathLike[str] | None = None) -> Path:
    """Return the local CIFAR-10 source (batches folder or archive) that ``load_cifar10`` uses.

    Tries ``path``, then ``$TFLEARNER_DATA``, then the Keras cache; never downloads.
    Raises :class:`CifarNotFoundError` listing the places tried when none has it.
    """
    found, tried = _search(path)
    if found is None:
        note = "not attempted (find_cifar10 never downloads)"
        raise CifarNotFoundError(_not_found_message(tried, note))
    return found


def _download_with_keras() -> CifarData:
    try:
        from keras.datasets import cifar10 as keras_cifar10
    except Exception as e:  # ImportError, or a broken backend install
        raise _DownloadFailed(f"could not import keras ({type(e).__name__}: {e})") from None
    try:
        (x_train, y_train), (x_test, y_test) = keras_cifar10.load_data()
    except Exception as e:  # offline: a bare Exception("URL fetch failure on ...")
        raise _DownloadFailed(f"{type(e).__name__}: {e}") from None
    return _from_keras(x_train, y_train, "train"), _from_keras(x_test, y_test, "test")


class _DownloadFailed(Exception):
    pass


def _from_keras(x: Any, y: Any, split: str) -> Arrays:
    x = np.asarray(x, dtype=np.uint8)
    if x.ndim == 4 and x.shape[1:] == (3, 32, 32):  # image_data_format() == "channels_first"
        x = x.transpose(0, 2, 3, 1)
    y = np.asarray(y).reshape(-1).astype(np.int64)
    if x.shape[1:] != (32, 32, 3) or len(x) != len(y):
        raise CifarFormatError(
            f"Keras returned unexpected CIFAR-10 {split} arrays: x {x.shape}, y {y.shape}."
        )
    return np.ascontiguousarray(x), y


def load_cifar10(
    path: str | os.PathLike[str] | None = None,
    *,
    sample: bool = False,
    download: bool = True,
) -> CifarData:
    """Load CIFAR-10 as ``(x_train, y_train), (x_test, y_test)``.

    ``x`` is ``uint8`` ``(N, 32, 32, 3)`` channels-last, ``y`` is ``int64`` ``(N,)`` in 0..9
    (names in :data:`CIFAR10_CLASSES`). ``path`` may be a ``cifar-10-batches-py`` folder, its
    parent folder, or a ``cifar-10-python.tar.gz``-style archive; without it ``$TFLEARNER_DATA``,
    then the Keras cache are tried, then (if ``download``) Keras' own download.
    ``sample=True`` loads the shipped pixel-exact sample instead (:data:`SAMPLE_PATH`).

    Raises :class:`CifarNotFoundError` (nothing found; the message lists where it looked and
    how to fix it) or :class:`CifarFormatError` (a copy was found but is corrupt or incomplete).
    """
    if sample:
        if path is not None:
            raise ValueError("pass either path= or sample=True, not both")
        if not SAMPLE_PATH.is_file():
            raise CifarNotFoundError(
                f"The CIFAR-10 sample shipped with tflearner is missing: {SAMPLE_PATH}. "
                "Reinstall tflearner (the file is package data)."
            )
        return _load_source(SAMPLE_PATH)
    found, tried = _search(path)
    if found is not None:
        return _load_source(found)
    if not download:
        raise CifarNotFoundError(_not_found_message(tried, "not attempted (download=False)"))
    try:
        return _download_with_keras()
    except _DownloadFailed as e:
        raise CifarNotFoundError(_not_found_message(tried, f"failed: {e}")) from None
