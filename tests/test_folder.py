"""DataBundle.from_folder / from_csv on image files written to disk (PNG and JPEG), show_batch."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from _images import CLASSES, write_image, write_tree

from tflearner import BadImageError, DataBundle, ImagePreprocessing, Learner

KW = {"img_size": (32, 32), "batch_size": 16}


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> tuple[Path, dict[str, np.ndarray]]:
    root = tmp_path_factory.mktemp("imgs")
    return root, write_tree(root)


def epoch(ds: tf.data.Dataset) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds], strict=True)
    return np.concatenate(xs), np.concatenate(ys)


def label_of(path: str) -> int:
    return CLASSES.index(Path(path).parent.name)


def test_classes_split_and_labels(tree):
    root, _ = tree
    data = DataBundle.from_folder(root, valid_pct=0.2, seed=0, **KW)
    assert data.classes == CLASSES and data.c == 3 and data.task == "sparse_categorical"
    assert data.input_shape == (32, 32, 3) and data.batch_size == 16
    files = data.meta["files"]
    assert (len(files["train"]), len(files["valid"])) == (72, 18)
    assert not set(files["train"]) & set(files["valid"])  # no leak
    assert data.train.element_spec[0].dtype == tf.float32
    x, y = epoch(data.valid)  # valid keeps file order: labels come from the folder names
    assert y.tolist() == [label_of(f) for f in files["valid"]]
    assert x.shape == (18, 32, 32, 3) and 0.0 <= x.min() and x.max() <= 1.0
    _, yt = epoch(data.train)
    assert sorted(yt.tolist()) == sorted(label_of(f) for f in files["train"])
    again = DataBundle.from_folder(root, valid_pct=0.2, seed=0, **KW)
    other = DataBundle.from_folder(root, valid_pct=0.2, seed=1, **KW)
    assert again.meta["files"] == files and other.meta["files"]["valid"] != files["valid"]


def test_png_pixels_arrive_exactly_scaled(tree):
    root, images = tree
    data = DataBundle.from_folder(root, valid_pct=0.5, seed=0, **KW)
    x, _ = epoch(data.valid)
    for k, f in enumerate(data.meta["files"]["valid"]):
        if f.endswith(".png"):  # lossless: the file's pixels / 255, bit for bit
            raw = images[Path(f).parent.name][int(Path(f).stem)]
            np.testing.assert_array_equal(x[k], raw.astype(np.float32) * np.float32(1 / 255))


def test_resize_to_img_size(tree):
    root, _ = tree
    data = DataBundle.from_folder(root, img_size=(20, 24), batch_size=8)
    xb, _ = next(iter(data.train))
    assert xb.shape == (8, 20, 24, 3) and data.input_shape == (20, 24, 3)
    assert DataBundle.from_folder(root, img_size=12, batch_size=8).input_shape == (12, 12, 3)


def test_train_valid_subtrees_are_used_as_given(tmp_path):
    write_tree(tmp_path / "train", per_class=6)
    write_tree(tmp_path / "valid", per_class=2, classes=CLASSES[:2])
    data = DataBundle.from_folder(tmp_path, valid_pct=0.5, **KW)
    assert data.classes == CLASSES and data.meta["layout"] == "train/ + valid/"
    assert (data.meta["n_train"], data.meta["n_valid"]) == (18, 4)
    assert all("/valid/" in f for f in data.meta["files"]["valid"])
    _, y = epoch(data.valid)
    assert y.tolist() == [0, 0, 1, 1]
    write_image(tmp_path / "valid" / "cat" / "0.png", np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match=r"class folders \['cat'\] that the training folder"):
        DataBundle.from_folder(tmp_path, **KW)


def test_train_order_is_a_restorable_state(tree):
    root, _ = tree
    data = DataBundle.from_folder(root, **KW)
    (counter,) = data.rng_state
    e1, e2 = epoch(data.train), epoch(data.train)
    assert int(counter.numpy()) == 2
    assert not np.array_equal(e1[1], e2[1])  # reshuffled
    counter.assign(0)
    r1 = epoch(data.train)
    np.testing.assert_array_equal(r1[0], e1[0])
    np.testing.assert_array_equal(r1[1], e1[1])


def test_lr_find_then_fit_equals_fit_alone_on_a_folder(tree):
    """In a fresh process with op determinism: lr_find on an augmented folder bundle leaves
    nothing that fit sees (order, augmentation, weights)."""
    root, _ = tree
    script = textwrap.dedent(f"""
        import numpy as np, keras, tensorflow as tf
        tf.config.experimental.enable_op_determinism()
        from tflearner import DataBundle, Learner, aug_transforms
        def run(with_lr_find):
            data = DataBundle.from_folder({str(root)!r}, img_size=(32, 32), batch_size=16,
                                          augment=aug_transforms())
            keras.utils.set_random_seed(1)
            model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(),
                                      keras.layers.Dense(3, activation="softmax")])
            learn = Learner(model, data, opt="adam", quiet=True)
            if with_lr_find:
                learn.lr_find(num_it=8)
            learn.fit(2, lr=1e-3)
            return [v.numpy() for v in learn.model.variables], data.rng_state[0].numpy()
        (a, ea), (b, eb) = run(True), run(False)
        assert ea == eb == 2, (ea, eb)
        assert all(np.array_equal(u, v) for u, v in zip(a, b)), "weights differ"
        print("IDENTICAL", len(a))
    """)
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300, cwd=str(Path(__file__).parents[1]))
    assert res.returncode == 0, res.stderr[-3000:]
    assert "IDENTICAL 2" in res.stdout


def test_preprocess_matches_the_pipeline(tree):
    root, images = tree
    data = DataBundle.from_folder(root, valid_pct=0.5, **KW)
    prep = data.preprocess
    assert isinstance(prep, ImagePreprocessing)
    assert prep.as_dict() == {"kind": "image", "img_size": [32, 32], "channels": 3,
                              "scale": 1 / 255, "interpolation": "bilinear"}
    x, _ = epoch(data.valid)
    files = data.meta["files"]["valid"]
    for k in (0, 1):  # a file through load() is bitwise the pipeline's (jpeg and png alike)
        np.testing.assert_array_equal(prep.load(files[k]), x[k])
    png = next(k for k, f in enumerate(files) if f.endswith(".png"))
    raw = images[Path(files[png]).parent.name][int(Path(files[png]).stem)]
    np.testing.assert_array_equal(prep(raw)[0], x[png])
    with pytest.raises(TypeError, match="x must be raw integer pixels"):
        prep(raw.astype(np.float32) / 255)
    with pytest.raises(ValueError, match=r"x must have shape \(h, w, 3\)"):
        prep(raw[..., :1])
    # Learner.predict on raw uint8 pixels applies it: never a silently unscaled input
    import keras
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    learn = Learner(model, data, quiet=True)
    ready = tf.data.Dataset.from_tensor_slices(x[png:png + 1]).batch(1)
    label, index, probs = learn.predict(raw)
    np.testing.assert_allclose(probs, learn.get_preds(ready)[0][0], rtol=1e-6, atol=1e-7)
    assert label == data.classes[index] and index == int(np.argmax(probs))


def test_corrupt_image_raises_naming_the_file(tmp_path):
    write_tree(tmp_path, per_class=5)
    bad = tmp_path / "bird" / "zz_truncated.jpg"
    bad.write_bytes((tmp_path / "bird" / "000.jpg").read_bytes()[:40])
    (tmp_path / "automobile" / "notes.txt").write_text("not an image, ignored")
    (tmp_path / "automobile" / "fake.png").write_text("text named .png")
    with pytest.raises(BadImageError, match=r"2 of 17 training image files cannot be read") as e:
        DataBundle.from_folder(tmp_path, valid_pct=0, **KW)
    assert sorted(Path(f).name for f in e.value.files) == ["fake.png", "zz_truncated.jpg"]
    assert "zz_truncated.jpg" in str(e.value) and "on_bad_image='skip'" in str(e.value)


def test_skipped_bad_images_keep_every_label(tmp_path):
    write_tree(tmp_path, per_class=5)
    (tmp_path / "airplane" / "001.png").write_bytes(b"\x89PNG broken")
    with pytest.warns(UserWarning, match=r"skipped 1 of 15 training image files.*001\.png"):
        data = DataBundle.from_folder(tmp_path, valid_pct=0, on_bad_image="skip", **KW)
    assert data.meta["n_train"] == 14 and Path(data.meta["skipped"][0]).name == "001.png"
    _, y = epoch(data.train)
    assert np.bincount(y).tolist() == [4, 5, 5]


@pytest.mark.parametrize("make,err,words", [
    (lambda p: p / "missing", FileNotFoundError, "path must be an existing folder"),
    (lambda p: (p / "f.txt").write_text("x") and p / "f.txt", NotADirectoryError,
     "which is a file"),
    (lambda p: p, ValueError, "has no sub-folders"),
    (lambda p: (p / "cat").mkdir() or p, ValueError, "hold none"),
])
def test_wrong_folder_is_a_clear_error(tmp_path, make, err, words):
    with pytest.raises(err, match=words):
        DataBundle.from_folder(make(tmp_path), **KW)


def test_loose_images_without_class_folders_are_explained(tmp_path):
    write_image(tmp_path / "a.png", np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="holds 1 images directly, but each class needs"):
        DataBundle.from_folder(tmp_path, **KW)


@pytest.mark.parametrize("kwargs,err,words", [
    ({"img_size": (32,)}, TypeError, "img_size must be an int or a pair"),
    ({"img_size": (0, 32)}, ValueError, "img_size[0] must be"),
    ({"batch_size": 0}, ValueError, "batch_size must be an int >= 1, got 0"),
    ({"augment": "flip"}, TypeError, "augment must be None or a callable"),
    ({"channels": 2}, ValueError, "channels must be one of"),
    ({"on_bad_image": "ignore"}, ValueError, "on_bad_image must be one of"),
    ({"valid_pct": 1.0}, ValueError, "valid_pct must be a finite number in [0, 1)"),
])
def test_argument_errors_come_before_any_work(tree, kwargs, err, words):
    root, _ = tree
    with pytest.raises(err) as e:
        DataBundle.from_folder(root, **{**KW, **kwargs})
    assert words in str(e.value)


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n")
    return path


def test_from_csv(tmp_path):
    write_tree(tmp_path / "img", per_class=4)
    rows = ["file,label,is_valid"]
    for name in CLASSES:
        for i in range(4):
            ext = "png" if i % 2 else "jpg"
            rows.append(f"{name}/{i:03d}.{ext},{name.upper()},{int(i == 0)}")
    csv = write_csv(tmp_path / "labels.csv", rows)
    data = DataBundle.from_csv(csv, tmp_path / "img", "file", "label", valid_col="is_valid",
                               **KW)
    assert data.classes == ("AIRPLANE", "AUTOMOBILE", "BIRD")
    assert (data.meta["n_train"], data.meta["n_valid"]) == (9, 3)
    _, y = epoch(data.valid)
    assert y.tolist() == [0, 1, 2]
    split = DataBundle.from_csv(csv, tmp_path / "img", 0, 1, valid_pct=0.25, **KW)
    assert (split.meta["n_train"], split.meta["n_valid"]) == (9, 3)
    folder = DataBundle.from_folder(tmp_path / "img", valid_pct=0.25, **KW)
    x_csv, _ = epoch(split.train)
    x_dir, _ = epoch(folder.train)  # same sorted files, same split and order: same pixels
    np.testing.assert_array_equal(x_csv, x_dir)


def test_from_csv_numeric_labels_sort_numerically(tmp_path):
    write_tree(tmp_path, per_class=2)
    rows = [f"{n}/{i:03d}.{'png' if i % 2 else 'jpg'},{lab}"
            for n, lab in zip(CLASSES, ("10", "2", "1"), strict=True) for i in range(2)]
    data = DataBundle.from_csv(write_csv(tmp_path / "l.csv", rows), tmp_path, header=False,
                               valid_pct=0, **KW)
    assert data.classes == ("1", "2", "10")


def test_from_csv_errors(tmp_path):
    write_tree(tmp_path, per_class=1)
    csv = write_csv(tmp_path / "l.csv", ["fn,label", "airplane/000.jpg,a", "nope/9.png,b"])
    with pytest.raises(FileNotFoundError, match=r"1 of 2 files named in .* do not exist.*9\.png"):
        DataBundle.from_csv(csv, tmp_path, **KW)
    with pytest.raises(ValueError, match=r"label_col must be a column of the CSV header"):
        DataBundle.from_csv(csv, tmp_path, "fn", "class", **KW)
    with pytest.raises(FileNotFoundError, match="csv must be an existing CSV file"):
        DataBundle.from_csv(tmp_path / "none.csv", tmp_path, **KW)
    empty = write_csv(tmp_path / "e.csv", ["fn,label"])
    with pytest.raises(ValueError, match="at least one data row"):
        DataBundle.from_csv(empty, tmp_path, **KW)


def test_show_batch_titles_and_leaves_the_order_alone(tree, tmp_path):
    root, _ = tree
    data = DataBundle.from_folder(root, **KW)
    epoch(data.train)
    before = int(data.rng_state[0].numpy())
    axes = data.show_batch(n=7)
    assert int(data.rng_state[0].numpy()) == before
    assert axes.shape == (3, 3)
    titled = [ax for ax in axes.flat if ax.get_title()]
    assert len(titled) == 7 and all(ax.get_title() in CLASSES for ax in titled)
    assert all(len(ax.images) == 1 for ax in titled)
    assert not any(ax.images for ax in axes.flat[7:])
    img = titled[0].images[0].get_array()
    assert img.shape == (32, 32, 3) and 0.0 <= img.min() and img.max() <= 1.0
    xv, yv = epoch(data.valid)
    axes = data.show_batch(n=4, ds="valid", ncols=4)
    assert axes.shape == (1, 4)
    assert [ax.get_title() for ax in axes.flat] == [CLASSES[i] for i in yv[:4]]
    np.testing.assert_array_equal(axes[0, 0].images[0].get_array(), xv[0])
    axes.flat[0].figure.savefig(tmp_path / "show_batch_valid.png")
    assert (tmp_path / "show_batch_valid.png").stat().st_size > 1_000
    import matplotlib.pyplot as plt
    plt.close("all")


def test_show_batch_refuses_non_images(blob_data):
    with pytest.raises(ValueError, match="show_batch needs image inputs"):
        blob_data.show_batch()
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        blob_data.show_batch(n=0)


def test_write_image_folder_writes_what_from_folder_reads(tmp_path):
    from tflearner.data.folder import write_image_folder

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (12, 16, 16, 3), dtype=np.uint8)
    y = np.arange(12) % 3
    root = write_image_folder(tmp_path / "tree", x, y, ("a", "b", "c"))
    names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.*"))
    assert names[:2] == ["a/00000.jpg", "a/00003.png"] and len(names) == 12
    data = DataBundle.from_folder(root, valid_pct=0.0, img_size=16, batch_size=12, seed=0)
    assert data.classes == ("a", "b", "c") and data.meta["n_train"] == 12
    prep = data.preprocess
    np.testing.assert_array_equal(prep.load(root / "a" / "00003.png"), prep(x[3])[0])


# ---- files reached twice, one class, CSV rows that would mislabel or leak ----------------------
def test_symlink_loop_lists_every_file_once_and_never_in_both_splits(tmp_path):
    write_tree(tmp_path, per_class=10)
    (tmp_path / "bird" / "loop").symlink_to(tmp_path / "bird", target_is_directory=True)
    with pytest.warns(UserWarning, match="a second time through symlinks"):
        data = DataBundle.from_folder(tmp_path, valid_pct=0.3, **KW)
    files = data.meta["files"]["train"] + data.meta["files"]["valid"]
    assert len(files) == 30 == len({Path(f).resolve() for f in files})
    assert (data.meta["n_train"], data.meta["n_valid"]) == (21, 9)


def test_one_file_in_two_class_folders_is_refused(tmp_path):
    write_tree(tmp_path, per_class=3)
    (tmp_path / "bird" / "plane.png").symlink_to(tmp_path / "airplane" / "001.png")
    with pytest.raises(ValueError, match=r"is in two classes, 'airplane' .* and 'bird'"):
        DataBundle.from_folder(tmp_path, valid_pct=0, **KW)


def test_valid_tree_linked_to_the_train_tree_is_refused(tmp_path):
    write_tree(tmp_path / "train", per_class=3)
    (tmp_path / "valid").mkdir()
    for name in CLASSES:
        (tmp_path / "valid" / name).symlink_to(tmp_path / "train" / name)
    with pytest.raises(ValueError, match="9 files of .* are in both the training and the valid"):
        DataBundle.from_folder(tmp_path, **KW)


def test_one_class_is_refused_like_the_cli(tmp_path):
    write_tree(tmp_path, per_class=4, classes=("bird",))
    with pytest.raises(ValueError, match=r"has 1 class folder \(bird\); a classifier needs at "
                                         r"least 2 classes"):
        DataBundle.from_folder(tmp_path, **KW)
    csv = write_csv(tmp_path / "l.csv", ["fn,label"] + [f"bird/00{i}.{'png' if i % 2 else 'jpg'},b"
                                                        for i in range(4)])
    with pytest.raises(ValueError, match=r"has 1 label \(b\); a classifier needs at least 2"):
        DataBundle.from_csv(csv, tmp_path, **KW)


def _rows(n: int = 2) -> list[str]:
    return [f"{c}/{i:03d}.{'png' if i % 2 else 'jpg'},{c}" for c in CLASSES for i in range(n)]


def test_csv_without_a_header_is_not_read_as_one(tmp_path):
    write_tree(tmp_path, per_class=2)
    csv = write_csv(tmp_path / "l.csv", _rows())
    with pytest.raises(ValueError, match=r"header must be False for .*, whose first row .* "
                                         r"names the image 'airplane/000.jpg': it is data"):
        DataBundle.from_csv(csv, tmp_path, **KW)
    data = DataBundle.from_csv(csv, tmp_path, header=False, valid_pct=0, **KW)
    assert data.meta["n_train"] == 6


def test_csv_empty_label_is_refused(tmp_path):
    write_tree(tmp_path, per_class=2)
    rows = ["fn,label"] + _rows()
    rows[3] = rows[3].split(",")[0] + ", "
    with pytest.raises(ValueError, match=r"label_col must hold a label on every row, got an "
                                         r"empty one on line\(s\) \[4\]"):
        DataBundle.from_csv(write_csv(tmp_path / "l.csv", rows), tmp_path, **KW)


def test_csv_file_with_two_labels_is_refused(tmp_path):
    write_tree(tmp_path, per_class=2)
    rows = ["fn,label"] + _rows() + ["airplane/000.jpg,bird"]
    with pytest.raises(ValueError, match=r"gives the file .*airplane/000.jpg' two labels, "
                                         r"'airplane' \(line 2\) and 'bird' \(line 8\)"):
        DataBundle.from_csv(write_csv(tmp_path / "l.csv", rows), tmp_path, **KW)


def test_csv_duplicate_rows_are_used_once_never_in_both_splits(tmp_path):
    write_tree(tmp_path, per_class=4)
    rows = ["fn,label,valid"] + [r + ",0" for r in _rows(4)]
    rows += [r + ",1" for r in _rows(4)]  # every row again, flagged for validation
    with pytest.warns(UserWarning, match="lists 12 file.* again with the same label"):
        data = DataBundle.from_csv(write_csv(tmp_path / "l.csv", rows), tmp_path,
                                   valid_col="valid", **KW)
    assert (data.meta["n_train"], data.meta["n_valid"]) == (12, 0)
    with pytest.warns(UserWarning, match="again with the same label"):
        split = DataBundle.from_csv(write_csv(tmp_path / "m.csv", ["fn,label"] + _rows(4) * 2),
                                    tmp_path, valid_pct=0.25, **KW)
    train, valid = split.meta["files"]["train"], split.meta["files"]["valid"]
    assert len(train) + len(valid) == 12 and not set(train) & set(valid)


def test_truncated_jpeg_is_caught_up_front(tmp_path):
    images = write_tree(tmp_path, per_class=4)
    for i, img in enumerate(images["bird"]):
        data = tf.io.encode_jpeg(img, quality=90 + i).numpy()
        (tmp_path / "bird" / f"cut{i}.jpg").write_bytes(data[:int(len(data) * 0.98)])
    with pytest.raises(BadImageError) as e:
        DataBundle.from_folder(tmp_path, valid_pct=0, **KW)
    assert sorted(Path(f).name for f in e.value.files) == [f"cut{i}.jpg" for i in range(4)]


@pytest.mark.parametrize("fmt,channels", [("BMP", 1), ("GIF", 1), ("JPEG", 4), ("GIF", 4)])
def test_channels_the_format_cannot_decode_to_are_converted(tmp_path, fmt, channels):
    from PIL import Image

    rgb = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    path = tmp_path / f"img.{fmt.lower()}"
    Image.fromarray(rgb).save(path, format=fmt)
    x = ImagePreprocessing((8, 8), channels=channels, scale=1.0).load(path)
    decoded = tf.io.decode_image(path.read_bytes(), channels=3, expand_animations=False)
    want = (tf.image.rgb_to_grayscale(decoded) if channels == 1 else
            tf.concat([decoded, tf.fill([8, 8, 1], tf.constant(255, tf.uint8))], -1))
    np.testing.assert_array_equal(x, tf.cast(want, tf.float32).numpy())


def test_predicting_16_bit_pixels_is_refused_not_misscaled():
    prep = ImagePreprocessing((4, 4), channels=3)
    pixels = np.random.default_rng(0).integers(0, 256, (4, 4, 3))
    np.testing.assert_array_equal(prep(pixels), prep(pixels.astype(np.uint8)))
    with pytest.raises(ValueError, match=r"values in \[0, 255\], got dtype uint16 with values "
                                         r"in \[65535, 65535\].*\(x // 257\)"):
        prep(np.full((4, 4, 3), 65535, np.uint16))
