"""Tests for tflearner.cifar: sources, safe reading, clear errors (fake data built in tmp_path)."""

from __future__ import annotations

import builtins
import gzip
import io
import os
import pickle
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest

from tflearner.data import cifar
from tflearner.data.cifar import (
    CIFAR10_CLASSES,
    ENV_VAR,
    SAMPLE_PATH,
    CifarFormatError,
    CifarNotFoundError,
    find_cifar10,
    load_cifar10,
)

ROOT = Path(__file__).resolve().parents[1]
REAL_ARCHIVE = ROOT.parent / "shared" / "datasets" / "cifar-10-python.tar.gz"
BATCH_NAMES = [f"data_batch_{i}" for i in range(1, 6)]


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory, monkeypatch):
    """No test may see the developer's own TFLEARNER_DATA or Keras cache."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path_factory.mktemp("empty_keras_home")))


# --------------------------------------------------------------------------- fake data helpers


def batch_bytes(rows: np.ndarray, labels, protocol: int = 4) -> bytes:
    return pickle.dumps(
        {b"batch_label": b"fake", b"labels": list(labels), b"data": rows, b"filenames": []},
        protocol=protocol,
    )


def meta_bytes(names=CIFAR10_CLASSES) -> bytes:
    return pickle.dumps({b"label_names": [n.encode() for n in names], b"num_vis": 3072}, protocol=4)


def fake_files(n: int = 3, n_train_batches: int = 5, seed: int = 0):
    """Files of a tiny CIFAR-10 copy and the (x_train, y_train, x_test, y_test) they hold."""
    rng = np.random.default_rng(seed)
    files, rows, labels = {}, [], []
    for name in [*BATCH_NAMES[:n_train_batches], "test_batch"]:
        r = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        y = rng.integers(0, 10, size=n)
        files[name] = batch_bytes(r, y.tolist())
        rows.append(r)
        labels.append(y)
    files["batches.meta"] = meta_bytes()
    hwc = [r.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1) for r in rows]
    expected = (np.concatenate(hwc[:-1]), np.concatenate(labels[:-1]), hwc[-1], labels[-1])
    return files, expected


def write_dir(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def write_tar(
    path: Path, files: dict[str, bytes], mode: str = "w:gz", prefix="cifar-10-batches-py/"
):
    with tarfile.open(path, mode) as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(prefix + name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def assert_same(got, expected):
    (x_tr, y_tr), (x_te, y_te) = got
    ex_tr, ey_tr, ex_te, ey_te = expected
    assert x_tr.dtype == np.uint8 and x_te.dtype == np.uint8
    assert y_tr.dtype == np.int64 and y_te.dtype == np.int64
    assert x_tr.shape == ex_tr.shape and x_tr.shape[1:] == (32, 32, 3)
    np.testing.assert_array_equal(x_tr, ex_tr)
    np.testing.assert_array_equal(y_tr, ey_tr)
    np.testing.assert_array_equal(x_te, ex_te)
    np.testing.assert_array_equal(y_te, ey_te)


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


# --------------------------------------------------------------------------- the shipped sample


def test_sample_loads_with_right_shapes_dtypes_and_labels():
    assert SAMPLE_PATH.is_file() and SAMPLE_PATH.stat().st_size <= 5_000_000
    (x_tr, y_tr), (x_te, y_te) = load_cifar10(sample=True)
    assert x_tr.shape == (1900, 32, 32, 3) and x_te.shape == (400, 32, 32, 3)
    assert x_tr.dtype == x_te.dtype == np.uint8
    assert y_tr.shape == (1900,) and y_te.shape == (400,)
    assert y_tr.dtype == y_te.dtype == np.int64
    for y in (y_tr, y_te):
        counts = np.bincount(y, minlength=10)
        assert len(counts) == 10 and counts.min() >= 0.6 * len(y) / 10
    assert x_tr.std() > 30  # real images, not zeros
    assert load_cifar10(path=SAMPLE_PATH)[0][0].shape == (1900, 32, 32, 3)


@pytest.mark.skipif(not REAL_ARCHIVE.is_file(), reason=f"{REAL_ARCHIVE} not available")
def test_sample_equals_pixel_exact_slice_of_real_data():
    (x_tr, y_tr), (x_te, y_te) = load_cifar10(path=REAL_ARCHIVE)
    assert x_tr.shape == (50000, 32, 32, 3) and x_te.shape == (10000, 32, 32, 3)
    (s_tr, sy_tr), (s_te, sy_te) = load_cifar10(sample=True)
    np.testing.assert_array_equal(s_tr, x_tr[:1900])
    np.testing.assert_array_equal(sy_tr, y_tr[:1900])
    np.testing.assert_array_equal(s_te, x_tr[1900:2300])
    np.testing.assert_array_equal(sy_te, y_tr[1900:2300])


def test_sample_and_path_together_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="not both"):
        load_cifar10(tmp_path, sample=True)


# --------------------------------------------------------------------------- sources


def test_pixel_layout_planes_to_hwc(tmp_path):
    idx = np.arange(1024)
    r, g, b = idx % 256, (idx * 7) % 256, 255 - idx // 4
    row = np.concatenate([r, g, b]).astype(np.uint8)[None]
    files = {"data_batch_1": batch_bytes(row, [3]), "test_batch": batch_bytes(row, [9])}
    (x, y), _ = load_cifar10(write_dir(tmp_path / "cifar-10-batches-py", files))
    assert x.shape == (1, 32, 32, 3) and y.tolist() == [3]
    # pixel (row 2, column 5) is index 2*32+5 of each plane
    assert x[0, 2, 5].tolist() == [r[69], g[69], b[69]]
    assert x[0, 31, 0].tolist() == [r[992], g[992], b[992]]
    expected = np.stack([p.reshape(32, 32) for p in (r, g, b)], axis=-1)
    np.testing.assert_array_equal(x[0], expected)


def test_batches_folder_and_parent_folder(tmp_path):
    files, expected = fake_files()
    folder = write_dir(tmp_path / "cifar-10-batches-py", files)
    assert_same(load_cifar10(folder), expected)
    assert_same(load_cifar10(str(tmp_path)), expected)  # parent folder, as str
    assert find_cifar10(tmp_path) == folder


@pytest.mark.parametrize("mode", ["w:gz", "w:bz2", "w:xz", "w"])
def test_tar_archive_any_compression(tmp_path, mode):
    files, expected = fake_files()
    archive = write_tar(tmp_path / "cifar-10-python.tar.gz", files, mode)
    assert_same(load_cifar10(archive), expected)
    assert not (tmp_path / "cifar-10-batches-py").exists()  # nothing extracted


def test_folder_holding_the_archive(tmp_path):
    files, expected = fake_files()
    write_tar(tmp_path / "cifar-10-python.tar.gz", files)
    assert_same(load_cifar10(tmp_path), expected)


def test_training_batches_may_be_fewer_than_five(tmp_path):
    files, expected = fake_files(n=2, n_train_batches=2)
    got = load_cifar10(write_dir(tmp_path / "b", files))
    assert got[0][0].shape == (4, 32, 32, 3)
    assert_same(got, expected)


def test_missing_path_names_it(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(CifarNotFoundError, match="nowhere") as info:
        load_cifar10(missing)
    assert isinstance(info.value, FileNotFoundError)


def test_folder_without_cifar_files_is_not_found(tmp_path):
    (tmp_path / "unrelated.txt").write_text("hi")
    with pytest.raises(CifarNotFoundError, match="no CIFAR-10 batch files"):
        load_cifar10(tmp_path)


def test_env_var_used_when_no_path(tmp_path, monkeypatch):
    files, expected = fake_files(seed=1)
    archive = write_tar(tmp_path / "c.tar.gz", files)
    monkeypatch.setenv(ENV_VAR, str(archive))
    assert find_cifar10() == archive
    assert_same(load_cifar10(), expected)
    other, expected2 = fake_files(seed=2)
    assert_same(load_cifar10(write_dir(tmp_path / "x", other)), expected2)  # path= wins


def test_env_var_pointing_nowhere_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "gone"))
    with pytest.raises(CifarNotFoundError, match=f"{ENV_VAR}.*gone"):
        load_cifar10()


@pytest.mark.parametrize(
    "layout",
    ["datasets/cifar-10-batches-py-target/cifar-10-batches-py", "datasets/cifar-10-batches-py"],
)
def test_keras_cache_layouts(tmp_path, monkeypatch, layout):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    files, expected = fake_files(seed=3)
    folder = write_dir(tmp_path / layout, files)
    assert find_cifar10() == folder
    assert_same(load_cifar10(download=False), expected)


def test_keras3_cache_matches_keras_own_layout(tmp_path, monkeypatch):
    """Where our candidates point equals where Keras' get_file would put the data."""
    file_utils = pytest.importorskip("keras.src.utils.file_utils")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    seen = {}

    def fake_extract(archive, target, fmt):
        seen["archive"], seen["target"] = archive, target
        return True

    monkeypatch.setattr(file_utils, "extract_archive", fake_extract)
    (tmp_path / "datasets").mkdir()
    # A present download target skips the network (and the hash check when none is given).
    (tmp_path / "datasets" / "cifar-10-batches-py-target_archive").write_bytes(b"x")
    target = file_utils.get_file(
        fname="cifar-10-batches-py-target",
        origin="https://example.invalid/c.tar.gz",
        extract=True,
        cache_dir=str(tmp_path),
    )
    cands = [str(p) for p in cifar._keras_cache_candidates()]
    assert os.path.join(target, "cifar-10-batches-py") == cands[0]
    assert seen["archive"] in cands


# --------------------------------------------------------------------------- offline / download


URL_ERROR = (
    "URL fetch failure on https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz: None -- "
    "[Errno -3] Temporary failure in name resolution"
)


def test_offline_with_nothing_local_gives_one_clear_error(tmp_path, monkeypatch):
    keras_cifar = pytest.importorskip("keras.src.datasets.cifar10")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def offline_get_file(*args, **kwargs):
        raise Exception(URL_ERROR)  # what Keras' get_file raises when offline

    monkeypatch.setattr(keras_cifar, "get_file", offline_get_file)
    start = time.perf_counter()
    with pytest.raises(CifarNotFoundError) as info:
        load_cifar10()
    assert time.perf_counter() - start < 5
    err = info.value
    msg = str(err)
    assert err.__cause__ is None and err.__suppress_context__
    places = [
        "path=",
        ENV_VAR,
        str(tmp_path / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py"),
        str(tmp_path / "datasets" / "cifar-10-batches-py") + ":",
        "keras.datasets.cifar10.load_data()",
    ]
    positions = [msg.find(p) for p in places]
    assert -1 not in positions, (positions, msg)
    assert positions == sorted(positions), msg
    assert URL_ERROR in msg
    assert "sample=True" in msg and "cifar10_data(sample=True)" in msg
    assert f"set the environment variable {ENV_VAR}" in msg


def test_download_false_never_calls_keras(monkeypatch):
    keras_cifar = pytest.importorskip("keras.datasets.cifar10")
    monkeypatch.setattr(keras_cifar, "load_data", lambda: pytest.fail("download attempted"))
    with pytest.raises(CifarNotFoundError, match="not attempted"):
        load_cifar10(download=False)
    with pytest.raises(CifarNotFoundError, match="never downloads"):
        find_cifar10()


@pytest.mark.parametrize("channels_first", [False, True])
def test_keras_download_result_converted(monkeypatch, channels_first):
    keras_cifar = pytest.importorskip("keras.datasets.cifar10")
    rng = np.random.default_rng(4)
    x = rng.integers(0, 256, size=(5, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, size=(5, 1), dtype=np.uint8)
    given = x.transpose(0, 3, 1, 2) if channels_first else x
    monkeypatch.setattr(keras_cifar, "load_data", lambda: ((given, y), (given[:2], y[:2])))
    (x_tr, y_tr), (x_te, y_te) = load_cifar10()
    np.testing.assert_array_equal(x_tr, x)
    assert y_tr.dtype == np.int64 and y_tr.shape == (5,)
    assert y_tr.tolist() == y[:, 0].tolist() and x_te.shape == (2, 32, 32, 3)


# --------------------------------------------------------------------------- corrupt copies


@pytest.mark.parametrize("keep", [0.05, 0.5, 0.97, -8])
def test_truncated_tar_gz(tmp_path, keep):
    files, _ = fake_files(n=20)
    good = write_tar(tmp_path / "good.tar.gz", files).read_bytes()
    cut = len(good) + keep if keep < 0 else int(len(good) * keep)
    bad = tmp_path / "cifar-10-python.tar.gz"
    bad.write_bytes(good[:cut])
    with pytest.raises(CifarFormatError) as info:
        load_cifar10(bad)
    assert str(bad) in str(info.value) and "download it again" in str(info.value)
    assert info.value.__cause__ is None


def test_not_a_tar_archive(tmp_path):
    bad = tmp_path / "c.tar.gz"
    bad.write_bytes(b"<html>404 not found</html>")
    with pytest.raises(CifarFormatError, match="c.tar.gz"):
        load_cifar10(bad)


BAD_BATCHES = {
    "garbage bytes": (b"\x00garbage\xff" * 50, "not a readable CIFAR-10 pickle"),
    "truncated pickle": (None, "not a readable CIFAR-10 pickle"),
    "not a dict": (pickle.dumps([1, 2, 3], protocol=4), "expected a dict"),
    "no data key": (pickle.dumps({b"labels": [1]}, protocol=4), "expected b'data'"),
    "wrong width": (
        pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [1, 2]}, protocol=4),
        "shape",
    ),
    "float data": (
        pickle.dumps({b"data": np.zeros((2, 3072), np.float32), b"labels": [1, 2]}, protocol=4),
        "uint8",
    ),
    "label count": (batch_bytes(np.zeros((2, 3072), np.uint8), [1]), "2 integers"),
    "label range": (batch_bytes(np.zeros((2, 3072), np.uint8), [1, 10]), "0..9"),
    "string labels": (batch_bytes(np.zeros((2, 3072), np.uint8), ["a", "b"]), "integers"),
}


@pytest.mark.parametrize("case", sorted(BAD_BATCHES))
def test_bad_batch_file_in_folder(tmp_path, case):
    files, _ = fake_files()
    data, words = BAD_BATCHES[case]
    files["data_batch_3"] = files["data_batch_3"][:-40] if data is None else data
    folder = write_dir(tmp_path / "cifar-10-batches-py", files)
    with pytest.raises(CifarFormatError, match=words) as info:
        load_cifar10(folder)
    assert str(folder / "data_batch_3") in str(info.value)
    assert info.value.__cause__ is None


def test_bad_batch_inside_archive_names_member(tmp_path):
    files, _ = fake_files()
    files["test_batch"] = b"not a pickle"
    archive = write_tar(tmp_path / "a.tar.gz", files)
    with pytest.raises(
        CifarFormatError, match=r"a\.tar\.gz \(member cifar-10-batches-py/test_batch"
    ):
        load_cifar10(archive)


@pytest.mark.parametrize(
    "drop, words",
    [
        (["test_batch"], "missing test_batch"),
        (["data_batch_2"], "missing data_batch_2"),
        (["data_batch_1"], "missing data_batch_1"),
    ],
)
def test_missing_batches(tmp_path, drop, words):
    files, _ = fake_files()
    for name in drop:
        del files[name]
    with pytest.raises(CifarFormatError, match=words):
        load_cifar10(write_dir(tmp_path / "cifar-10-batches-py", files))
    with pytest.raises(CifarFormatError, match=words):
        load_cifar10(write_tar(tmp_path / "a.tar.gz", files))


def test_wrong_label_names_in_meta(tmp_path):
    files, _ = fake_files()
    files["batches.meta"] = meta_bytes(("apple",) * 10)
    with pytest.raises(CifarFormatError, match="not CIFAR-10's"):
        load_cifar10(write_dir(tmp_path / "b", files))


# --------------------------------------------------------------------------- hostile files


class _OpenGadget:
    """Unpickling this calls builtins.open(marker, "w"), which creates the marker file."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (builtins.open, (self.marker, "w"))


class _SystemGadget:
    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("gadget", [_OpenGadget, _SystemGadget])
@pytest.mark.parametrize("where", ["folder", "archive"])
def test_malicious_pickle_is_refused_without_running(tmp_path, gadget, where):
    # The payload really works with a plain pickle.loads (so this test can fail):
    control = tmp_path / "control_marker"
    obj = pickle.loads(pickle.dumps(_OpenGadget(control), protocol=2))
    obj.close()
    assert control.exists()

    marker = tmp_path / "pwned_marker"
    files, _ = fake_files()
    files["data_batch_1"] = pickle.dumps({b"data": gadget(marker), b"labels": [0]}, protocol=4)
    if where == "folder":
        src = write_dir(tmp_path / "cifar-10-batches-py", files)
    else:
        src = write_tar(tmp_path / "c.tar.gz", files)
    with pytest.raises(CifarFormatError, match="refusing to unpickle") as info:
        load_cifar10(src)
    func = gadget(marker).__reduce__()[0]
    assert f"{func.__module__}.{func.__name__}" in str(info.value)  # io.open / posix.system
    assert not marker.exists()


def test_unsafe_member_paths_are_never_used_or_written(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    files, expected = fake_files()
    outside = tmp_path / "abs_target"
    archive = tmp_path / "store" / "c.tar.gz"
    archive.parent.mkdir()
    write_tar(archive, files)
    # append hostile members: ../ escapes, an absolute path, a traversal named like a batch
    hostile = {
        "../escaped.txt": b"x",
        "../../escaped2.txt": b"x",
        str(outside / "abs.txt"): b"x",
        "cifar-10-batches-py/../../test_batch": b"garbage that would fail parsing",
        str(outside / "data_batch_1"): b"garbage that would fail parsing",
    }
    with tarfile.open(archive, "r:gz") as tf:
        members = [(m, tf.extractfile(m).read()) for m in tf.getmembers()]
    with tarfile.open(archive, "w:gz") as tf:
        for m, data in members:
            tf.addfile(m, io.BytesIO(data))
        for name, data in hostile.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    with tarfile.open(archive) as tf:
        assert {m.name for m in tf} >= set(hostile)  # really stored with those names
    before = tree(tmp_path)
    assert_same(load_cifar10(archive), expected)  # hostile members ignored
    assert tree(tmp_path) == before
    assert not outside.exists() and list(work.iterdir()) == []


def test_only_batch_behind_traversal_is_missing(tmp_path):
    files, _ = fake_files()
    archive = tmp_path / "store" / "c.tar.gz"
    archive.parent.mkdir()
    write_tar(archive, files, prefix="../")
    with pytest.raises(CifarFormatError, match="missing data_batch_1"):
        load_cifar10(archive)


def test_symlink_member_is_refused(tmp_path):
    files, _ = fake_files()
    del files["data_batch_1"]
    archive = tmp_path / "c.tar"
    write_tar(archive, files, mode="w")
    with tarfile.open(archive, "a") as tf:
        link = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
    with pytest.raises(CifarFormatError, match="link"):
        load_cifar10(archive)


# --------------------------------------------------------------------------- not a dataset at all


# Plain ids and a fixed gzip mtime: every pytest-xdist worker must collect the same test ids.
@pytest.mark.parametrize("name, data, words", [
    ("README.md", b"# tflearner\n\nA fastai-style Learner.\n",
     "neither a tar archive nor gzip/bzip2/xz-compressed"),
    ("c.tar.gz", b"<html>404 not found</html>", "neither a tar archive"),
    ("notes.txt.gz", gzip.compress(b"just some text, no tar inside\n" * 40, mtime=0),
     "is gzip-compressed but does not hold a tar archive"),
    ("empty.tar.gz", b"", "neither a tar archive"),
], ids=["readme", "html-page", "gzipped-text", "empty"])
def test_file_that_is_no_archive_is_told_apart_from_a_corrupt_one(tmp_path, name, data, words):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(CifarFormatError) as info:
        load_cifar10(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: not a CIFAR-10 dataset") and words in msg
    assert "download it again" not in msg  # that advice is for a damaged download
    assert "cifar-10-batches-py folder" in msg and "cifar-10-python.tar.gz" in msg


def test_intact_archive_without_cifar_batches_is_not_cifar(tmp_path):
    archive = write_tar(tmp_path / "project.tar.gz", {"README.md": b"hi", "setup.py": b"x"},
                        prefix="project/")
    with pytest.raises(CifarFormatError) as info:
        load_cifar10(archive)
    msg = str(info.value)
    assert "not a CIFAR-10 archive" in msg and "project/README.md, project/setup.py" in msg
    assert "download it again" not in msg


@pytest.mark.parametrize("cut", [2, 12, 200])
def test_damaged_start_of_a_compressed_archive_is_corrupt(tmp_path, cut):
    """A gzip cut inside its header or first tar block: a bad download, not a wrong file."""
    files, _ = fake_files()
    good = write_tar(tmp_path / "good.tar.gz", files).read_bytes()
    bad = tmp_path / "cifar-10-python.tar.gz"
    bad.write_bytes(good[:cut])
    with pytest.raises(CifarFormatError, match="truncated or corrupt") as info:
        load_cifar10(bad)
    assert "download it again" in str(info.value)
    assert "not a CIFAR-10" not in str(info.value)
