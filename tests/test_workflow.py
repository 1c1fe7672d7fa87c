"""The whole project on files written to disk: from_folder -> lr_find -> fit_one_cycle ->
get_preds -> interpretation -> export -> load_learner -> predict, and its three clear errors."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from _images import CLASSES, write_tree
from PIL import Image

from tflearner import (
    BadImageError,
    ClassificationInterpretation,
    DataBundle,
    Learner,
    LeNet,
    aug_transforms,
    load_learner,
)


@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    images = write_tree(root, per_class=24)  # PNG and JPEG
    keras.utils.set_random_seed(0)
    data = DataBundle.from_folder(root, valid_pct=0.25, img_size=32, batch_size=16, seed=0,
                                  augment=aug_transforms())
    learn = Learner(LeNet(num_classes=3), data, opt="adam", quiet=True)
    return root, images, data, learn


def test_the_whole_flow_on_files(flow, tmp_path):
    root, images, data, learn = flow
    assert data.classes == CLASSES and data.meta["n_valid"] == 18
    epoch0 = int(data.rng_state[0].numpy())
    found = learn.lr_find(num_it=30)
    assert int(data.rng_state[0].numpy()) == epoch0  # lr_find left the data order alone
    learn.fit_one_cycle(3, found.robust or 3e-3)

    probs, targets, decoded, losses = learn.get_preds(with_decoded=True, with_loss=True)
    files = data.meta["files"]["valid"]
    want = np.array([CLASSES.index(f.split("/")[-2]) for f in files])
    np.testing.assert_array_equal(targets, want)  # labels come from the folder names
    assert probs.shape == (18, 3) and np.allclose(probs.sum(1), 1, atol=1e-5)

    interp = ClassificationInterpretation.from_learner(learn)
    cm = np.zeros((3, 3), int)
    for t, d in zip(targets, decoded, strict=True):
        cm[t, d] += 1
    np.testing.assert_array_equal(interp.confusion_matrix(), cm)
    np.testing.assert_allclose(interp.losses, losses)
    top_vals, top_idx = interp.top_losses(4)
    assert top_vals[0] == pytest.approx(losses.max())

    # plots are real figures with the items they claim
    axes = interp.plot_top_losses(4)
    got = axes.flat[0].images[0].get_array()
    np.testing.assert_allclose(got, data.preprocess.load(files[top_idx[0]]), atol=1e-6)
    assert axes.flat[0].get_title().startswith(CLASSES[decoded[top_idx[0]]] + "/")
    ax = interp.plot_confusion_matrix()
    ax.figure.savefig(tmp_path / "cm.png")
    axes = learn.show_results(6)
    axes.flat[0].figure.savefig(tmp_path / "results.png")
    colors = {a.title.get_color() for a in axes.flat[:6]}
    assert colors <= {"green", "red"}
    assert (tmp_path / "cm.png").stat().st_size > 5_000
    assert (tmp_path / "results.png").stat().st_size > 5_000

    # TTA reuses the folder's augmentation
    tta_probs, tta_targets = learn.tta(n=2)
    np.testing.assert_array_equal(tta_targets, targets)
    assert tta_probs.shape == probs.shape and not np.allclose(tta_probs, probs)

    # export -> load_learner -> predict: the same answers from a path, a PIL image, raw pixels
    inf = load_learner(learn.export(tmp_path / "export"))
    png = next(f for f in files if f.endswith(".png"))
    jpg = next(f for f in files if f.endswith(".jpg"))
    for f in (png, jpg):
        label, index, p = learn.predict(f)
        assert inf.predict(f)[:2] == (label, index)
        np.testing.assert_array_equal(inf.predict(f)[2], p)
    raw = images[png.split("/")[-2]][int(png.split("/")[-1][:3])]
    np.testing.assert_array_equal(inf.predict(raw)[2], learn.predict(png)[2])  # lossless PNG
    np.testing.assert_array_equal(inf.predict(Image.open(png))[2], learn.predict(png)[2])
    np.testing.assert_allclose(inf.get_preds(files)[0], probs, rtol=1e-5, atol=1e-6)


def test_clear_errors_for_a_corrupt_image_a_wrong_folder_and_a_bad_export_path(flow,
                                                                               tmp_path):
    root, _, _, learn = flow
    with pytest.raises(FileNotFoundError, match="does not exist"):
        DataBundle.from_folder(tmp_path / "no-such-folder")
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.png").write_bytes((root / "bird" / "001.png").read_bytes())
    with pytest.raises(ValueError, match="one sub-folder per class"):
        DataBundle.from_folder(tmp_path / "flat")
    bad = tmp_path / "broken.jpg"
    bad.write_bytes((root / "bird" / "000.jpg").read_bytes()[:40])
    with pytest.raises(BadImageError, match="broken.jpg"):
        learn.predict(bad)
    with pytest.raises(FileNotFoundError, match="missing.png"):
        learn.predict(tmp_path / "missing.png")
    with pytest.raises(FileNotFoundError, match="learn.export"):
        load_learner(tmp_path / "no-export")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        learn.export(tmp_path / "file")
