"""Build ``tflearner/_data/cifar10_sample.tar.xz``, the small CIFAR-10 sample tflearner ships.

Usage (from the repository root)::

    python3 tools/make_cifar_sample.py                 # writes the sample and checks it
    python3 tools/make_cifar_sample.py --measure       # prints the size table below
    python3 tools/make_cifar_sample.py --source X.tar.gz --out Y.tar.xz

Source: ``../shared/datasets/cifar-10-python.tar.gz`` (full CIFAR-10 in the official python
layout, see its README). In that copy only the train images 0-3999 (``data_batch_1[0:4000]``)
are pixel-exact; all others were rebuilt from JPEG. The sample therefore uses only those
pixel-exact images, with their official labels:

- ``data_batch_1`` of the sample = ``data_batch_1[0:1900]``  (the sample's train set)
- ``test_batch``   of the sample = ``data_batch_1[1900:2300]`` (disjoint, right after it)
- ``batches.meta`` with the ten official label names.

Class counts (airplane..truck): train 192 186 194 184 200 170 197 188 193 196,
test 35 38 42 39 44 49 39 41 38 35 -- close enough to balanced for smoke tests and demos.

Layout and format: the official ``cifar-10-batches-py/`` folder layout inside one tar archive,
so ``load_cifar10(path=SAMPLE_PATH)`` goes through exactly the code that reads the real
archive. Each batch is a protocol-2 pickle written the way the original (Python 2) files are:
a dict with bytes keys, ``b"data"`` a plain ``uint8`` numpy array (N, 3072), ``b"labels"`` a
list of ints, ``b"filenames"`` a list of bytes, ``b"batch_label"`` bytes. Bytes are written
with the ``BINSTRING`` opcodes like Python 2 did (the stock Python 3 pickler would wrap them in
``_codecs.encode``), so the pickles reference only the three numpy globals the real files use
and exercise the same safe unpickler.

Size limit: at most 5,000,000 bytes on disk. Measured with ``--measure`` (bytes, whole tar;
images 0..n of data_batch_1)::

    n images   gzip -9     xz -9e      xz -9e + delta(32)
    2000       5,673,342   4,664,556   4,263,992
    2200       6,240,467   5,129,560   4,687,828
    2300       6,522,951   5,362,160   4,901,724   <- shipped (1900 train + 400 test)
    2400       6,805,397   5,594,496   5,114,312

CIFAR pixels barely compress with gzip; xz does better, and an xz delta filter with distance
32 bytes (the pixel one row above, in the same colour plane) does best. Python's ``tarfile``
(mode ``"r:*"``) and the ``xz`` tool both read it. The largest round split that fits is
1900 train + 400 test = 2300 images (2400 is over). The output is deterministic, so the
~100 KB margin is stable; ``main`` still refuses to write a file over the limit.

Deterministic: fixed member order, mtime, owner and mode; xz output depends only on its input.
"""

from __future__ import annotations

import argparse
import gzip
import io
import lzma
import pickle
import struct
import sys
import tarfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tflearner.data.cifar import (  # noqa: E402
    CIFAR10_CLASSES,
    SAMPLE_PATH,
    _unpickle,
    load_cifar10,
)

DEFAULT_SOURCE = ROOT.parent / "shared" / "datasets" / "cifar-10-python.tar.gz"
N_TRAIN = 1900
N_TEST = 400
N_EXACT = 4000  # data_batch_1[0:4000] are the pixel-exact images of the source
MAX_BYTES = 5_000_000
MTIME = 1_262_304_000  # 2010-01-01, fixed for reproducible archives
XZ_FILTERS = [
    {"id": lzma.FILTER_DELTA, "dist": 32},
    {"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME},
]


class _Py2StylePickler(pickle._Pickler):  # type: ignore[name-defined]
    """Protocol-2 pickler that writes bytes as BINSTRING (Python 2 ``str``), like the originals."""

    dispatch = pickle._Pickler.dispatch.copy()  # type: ignore[attr-defined]

    def save_bytes(self, obj: bytes) -> None:
        n = len(obj)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", n) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_bytes


def py2_pickle(obj: object) -> bytes:
    buf = io.BytesIO()
    _Py2StylePickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def read_source_batch(source: Path) -> dict:
    """data_batch_1 of the source archive, read in memory with tflearner's safe unpickler."""
    with tarfile.open(source, "r:*") as tf:
        for member in tf:
            if member.isreg() and member.name == "cifar-10-batches-py/data_batch_1":
                fobj = tf.extractfile(member)
                assert fobj is not None
                return _unpickle(fobj.read(), f"{source}:{member.name}")
    raise SystemExit(f"{source}: no cifar-10-batches-py/data_batch_1 member")


def make_batch(src: dict, lo: int, hi: int, label: str) -> bytes:
    return py2_pickle(
        {
            b"batch_label": label.encode(),
            b"labels": [int(v) for v in src[b"labels"][lo:hi]],
            b"data": np.array(src[b"data"][lo:hi], dtype=np.uint8),
            b"filenames": list(src[b"filenames"][lo:hi]),
        }
    )


def build_tar(src: dict, n_train: int, n_test: int) -> bytes:
    assert n_train + n_test <= N_EXACT, "only data_batch_1[0:4000] is pixel-exact"
    end = n_train + n_test
    meta = py2_pickle(
        {
            b"num_cases_per_batch": n_train,
            b"label_names": [c.encode() for c in CIFAR10_CLASSES],
            b"num_vis": 3072,
        }
    )
    members = [
        ("batches.meta", meta),
        (
            "data_batch_1",
            make_batch(src, 0, n_train, f"tflearner sample: train = data_batch_1[0:{n_train}]"),
        ),
        (
            "test_batch",
            make_batch(
                src, n_train, end, f"tflearner sample: test = data_batch_1[{n_train}:{end}]"
            ),
        ),
    ]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        folder = tarfile.TarInfo("cifar-10-batches-py")
        folder.type, folder.mode, folder.mtime = tarfile.DIRTYPE, 0o755, MTIME
        tf.addfile(folder)
        for name, data in members:
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size, info.mode, info.mtime = len(data), 0o644, MTIME
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def xz(raw: bytes, filters: list[dict] | None = None) -> bytes:
    if filters is None:
        return lzma.compress(raw, format=lzma.FORMAT_XZ, preset=9 | lzma.PRESET_EXTREME)
    return lzma.compress(raw, format=lzma.FORMAT_XZ, filters=filters)


def measure(src: dict) -> None:
    print("n images   gzip -9     xz -9e      xz -9e + delta(32)")
    for n in (2000, 2200, 2300, 2400):
        raw = build_tar(src, n - N_TEST, N_TEST)
        sizes = (len(gzip.compress(raw, 9, mtime=0)), len(xz(raw)), len(xz(raw, XZ_FILTERS)))
        print((f"{n:<10} " + " ".join(f"{s:<11,}" for s in sizes)).rstrip())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    ap.add_argument("--out", type=Path, default=SAMPLE_PATH)
    ap.add_argument("--measure", action="store_true", help="print the size table and exit")
    args = ap.parse_args()

    src = read_source_batch(args.source)
    if args.measure:
        measure(src)
        return
    blob = xz(build_tar(src, N_TRAIN, N_TEST), XZ_FILTERS)
    if len(blob) > MAX_BYTES:
        raise SystemExit(f"sample is {len(blob):,} bytes > {MAX_BYTES:,}; lower N_TRAIN/N_TEST")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(blob)

    # Check: read back through the public loader; must equal the source slices exactly.
    (x_tr, y_tr), (x_te, y_te) = load_cifar10(path=args.out)
    x_src = np.asarray(src[b"data"][: N_TRAIN + N_TEST]).reshape(-1, 3, 32, 32)
    x_src = x_src.transpose(0, 2, 3, 1)
    y_src = np.asarray(src[b"labels"][: N_TRAIN + N_TEST])
    assert np.array_equal(x_tr, x_src[:N_TRAIN]) and np.array_equal(y_tr, y_src[:N_TRAIN])
    assert np.array_equal(x_te, x_src[N_TRAIN:]) and np.array_equal(y_te, y_src[N_TRAIN:])
    print(f"wrote {args.out} ({len(blob):,} bytes): train {len(y_tr)}, test {len(y_te)}")
    print("train class counts:", np.bincount(y_tr, minlength=10).tolist())
    print("test class counts: ", np.bincount(y_te, minlength=10).tolist())


if __name__ == "__main__":
    main()
