"""``tflearner fit / lr-find --data FOLDER`` and ``tflearner predict``, in-process.

One small image-folder tree (3 classes × 12 images, PNG and JPEG) is trained on once; the
predict tests share its export.
"""

from __future__ import annotations

import contextlib
import io
import json

import pytest
from _images import cifar_images, write_image, write_tree

from tflearner import load_learner
from tflearner.cli import main

FIT = ["--epochs", "1", "--max-lr", "0.01", "--img-size", "32", "--batch-size", "16", "--quiet"]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> dict:
    """``fit`` on a folder tree: its root, out folder and captured stdout."""
    base = tmp_path_factory.mktemp("cli_folder")
    images = write_tree(base / "tree", per_class=12)
    out, buf = base / "run", io.StringIO()
    with contextlib.redirect_stdout(buf):  # capsys is per test; this fixture is per module
        code = main(["fit", "--data", str(base / "tree"), *FIT, "--out", str(out)])
    return {"tree": base / "tree", "out": out, "stdout": buf.getvalue(), "code": code,
            "images": images}


def test_fit_on_an_image_folder_reports_validation_and_exports(fitted):
    assert fitted["code"] == 0, fitted["stdout"]
    out, stdout = fitted["out"], fitted["stdout"]
    assert "n_train=29, n_valid=7" in stdout  # 36 images, --valid-pct 0.2 by default
    assert "valid: loss" in stdout and "(7 images)" in stdout and "test:" not in stdout
    assert f"exported: {out / 'export'}" in stdout
    assert (out / "export" / "model.keras").stat().st_size > 0
    meta = json.loads((out / "export" / "tflearner.json").read_text())
    assert meta["classes"] == ["airplane", "automobile", "bird"]
    assert meta["preprocess"]["img_size"] == [32, 32]
    history = json.loads((out / "history.json").read_text())
    assert 0 <= history["valid"]["accuracy"] <= 1 and "test" not in history
    assert not (out / "lr_find.png").exists()  # --max-lr given: no sweep


def test_predict_prints_what_load_learner_predicts(fitted, capsys):
    files = [fitted["tree"] / "bird" / "000.jpg", fitted["tree"] / "airplane" / "003.png"]
    capsys.readouterr()
    assert main(["predict", str(fitted["out"] / "export"), *map(str, files)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    inf = load_learner(fitted["out"] / "export")
    for line, file in zip(lines, files, strict=True):
        label, index, probs = inf.predict(file)
        assert line == f"{file}\t{label}\t{probs[index]:.4f}"


def test_predict_json_is_one_document(fitted, capsys):
    files = [str(fitted["tree"] / "automobile" / "001.png"),
             str(fitted["tree"] / "bird" / "002.jpg")]
    capsys.readouterr()
    assert main(["predict", "--json", str(fitted["out"] / "export"), *files]) == 0
    results = json.loads(capsys.readouterr().out)
    inf = load_learner(fitted["out"] / "export")
    assert [r["file"] for r in results] == files
    for r in results:
        label, index, probs = inf.predict(r["file"])
        assert (r["label"], r["index"]) == (label, index)
        assert r["probability"] == pytest.approx(float(probs[index]))
        assert list(r["probs"]) == ["airplane", "automobile", "bird"]
        assert sum(r["probs"].values()) == pytest.approx(1, abs=1e-5)


def test_predict_reports_bad_images_and_goes_on(fitted, tmp_path, capsys):
    good = fitted["tree"] / "bird" / "000.jpg"
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"not an image")
    missing = tmp_path / "missing.png"
    capsys.readouterr()
    code = main(["predict", str(fitted["out"] / "export"), str(missing), str(good), str(corrupt)])
    assert code == 3
    res = capsys.readouterr()
    assert res.out.splitlines()[0].startswith(f"{good}\t")  # the readable one is still predicted
    assert len(res.out.splitlines()) == 1
    assert f"IMAGE {str(missing)!r} does not exist" in res.err
    assert f"IMAGE {str(corrupt)!r} is not a readable jpeg/png/bmp/gif image" in res.err
    assert "2 of 3 images could not be predicted" in res.err
    assert "Traceback" not in res.err and "{{function_node" not in res.err


def test_predict_needs_an_export(fitted, tmp_path, capsys):
    image = str(fitted["tree"] / "bird" / "000.jpg")
    assert main(["predict", str(tmp_path / "nowhere"), image]) == 3
    err = capsys.readouterr().err
    assert f"EXPORT {str(tmp_path / 'nowhere')!r} does not exist" in err
    assert "tflearner fit (OUT/export)" in err
    assert main(["predict", str(fitted["tree"]), image]) == 3  # a folder, but no export
    assert "is not an export folder (it holds no tflearner.json)" in capsys.readouterr().err
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "tflearner.json").write_text("{not json")
    assert main(["predict", str(broken), image]) == 3
    err = capsys.readouterr().err
    assert "cannot be loaded" in err and "not valid JSON" in err
    model_file = fitted["out"] / "export" / "model.keras"
    assert main(["predict", str(model_file), image]) == 3
    err = capsys.readouterr().err
    assert (f"EXPORT {str(model_file)!r} is a file, not an export folder (its folder "
            f"{str(model_file.parent)!r} is one); pass the export folder") in err
    assert "JSON" not in err


def test_cifar_not_found_hint_is_in_command_line_terms(tmp_path, monkeypatch, capsys):
    keras_cifar = pytest.importorskip("keras.src.datasets.cifar10")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.delenv("TFLEARNER_DATA", raising=False)

    def offline_get_file(*args, **kwargs):
        raise Exception("URL fetch failure: offline")

    monkeypatch.setattr(keras_cifar, "get_file", offline_get_file)
    assert main(["lr-find", "--data", "cifar10", "--out", str(tmp_path / "o"), "--quiet"]) == 3
    err = capsys.readouterr().err
    assert "CIFAR-10 was not found. Places tried" in err
    assert "pass a local copy: --data a cifar-10-batches-py folder" in err
    assert "--data cifar10-sample." in err
    assert "load_cifar10(" not in err and "sample=True" not in err


@pytest.mark.filterwarnings("ignore:.*no suggestion:UserWarning")  # 24 images, 10 steps
def test_lr_find_on_train_and_valid_trees(tmp_path, capsys):
    write_tree(tmp_path / "tree" / "train", per_class=8)
    write_tree(tmp_path / "tree" / "valid", per_class=2)
    assert main(["lr-find", "--data", str(tmp_path / "tree"), "--num-it", "10", "--img-size", "24",
                 "--batch-size", "8", "--no-augment", "--quiet", "--start-lr", "1e-4",
                 "--end-lr", "1e-2", "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "input_shape=(24, 24, 3)" in out and "n_train=24, n_valid=6" in out
    assert (tmp_path / "run" / "lr_find.png").exists()
    lrs = json.loads((tmp_path / "run" / "history.json").read_text())["lr_find"]["lrs"]
    assert len(lrs) == 10 and lrs[0] == pytest.approx(1e-4) and lrs[-1] == pytest.approx(1e-2)
    assert not (tmp_path / "run" / "export").exists()  # lr-find trains nothing to export


def test_a_folder_without_class_folders_is_refused_before_loading(tmp_path, capsys):
    (tmp_path / "flat").mkdir()
    write_image(tmp_path / "flat" / "a.png", cifar_images(1)["bird"][0])
    code = main(["fit", "--data", str(tmp_path / "flat"), *FIT, "--out", str(tmp_path / "run")])
    assert code == 3
    res = capsys.readouterr()
    assert res.out == "" and not (tmp_path / "run").exists()
    assert (f"--data {str(tmp_path / 'flat')!r} is neither a CIFAR-10 folder nor an image "
            "folder: it holds 1 file but no sub-folders; put each class's images") in res.err


def test_a_corrupt_training_image_exits_3_naming_it(tmp_path, capsys):
    write_tree(tmp_path / "tree", per_class=3)
    bad = tmp_path / "tree" / "bird" / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 truncated")
    code = main(["fit", "--data", str(tmp_path / "tree"), *FIT, "--out", str(tmp_path / "run")])
    assert code == 3
    err = capsys.readouterr().err
    assert f"--data {str(tmp_path / 'tree')!r}: 1 image files cannot be read" in err
    assert repr(str(bad)) in err and "remove or replace them" in err
    assert "on_bad_image" not in err  # no advice a shell cannot take


@pytest.mark.parametrize("args,words", [
    (["--data", "cifar10-sample", "--img-size", "64"], "--img-size must be 32 for CIFAR-10"),
    (["--data", "cifar10-sample", "--augment"], "--augment applies to image folders only"),
    (["--data", "TREE", "--img-size", "8"], "--img-size must be an integer >= 16, got 8"),
])
def test_folder_options_are_checked_first(tmp_path, capsys, args, words):
    (tmp_path / "tree" / "cat").mkdir(parents=True)  # checked before it is read: may be empty
    args = [str(tmp_path / "tree") if a == "TREE" else a for a in args]
    assert main(["fit", *args, "--max-lr", "0.1", "--out", str(tmp_path / "run")]) == 2
    res = capsys.readouterr()
    assert words in res.err and res.out == ""


def test_valid_pct_outside_0_1_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["fit", "--valid-pct", "1"])
    assert exc.value.code == 2
    assert "--valid-pct must be a number in [0, 1), got '1'" in capsys.readouterr().err


@pytest.mark.parametrize("args,words", [
    (["lr-find", "--end-lr", "1e-8"], "--end-lr must be a number > --start-lr 1e-07, got 1e-08"),
    (["fit", "--start-lr", "1", "--end-lr", "0.5"], "--end-lr must be a number > --start-lr 1"),
    (["fit", "--num-it", "1"], "--num-it must be an integer >= 2, got 1"),
    (["lr-find", "--num-it", "1"], "--num-it must be an integer >= 2, got 1"),
    (["fit", "--max-lr", "0.1", "--repeats", "3"],
     "--repeats sets the LR finder's sweep, which runs only with --max-lr auto or suggest"),
    (["fit", "--max-lr", "0.1", "--end-lr", "100"],
     "--end-lr sets the LR finder's sweep, which runs only with --max-lr auto or suggest, got "
     "--max-lr 0.1; leave it out, or pass --max-lr auto."),
    (["fit", "--schedule", "constant"],
     "--max-lr auto races short trial fits of the schedule you train with, and --schedule "
     "constant has no peak to race"),
])
def test_sweep_options_are_checked_before_loading(tmp_path, capsys, args, words):
    assert main([*args, "--data", "cifar10-sample", "--out", str(tmp_path / "run")]) == 2
    res = capsys.readouterr()
    assert words in res.err and res.out == "" and not (tmp_path / "run").exists()


def test_a_sweep_lr_that_is_not_positive_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["lr-find", "--start-lr", "0"])
    assert exc.value.code == 2
    assert "argument --start-lr: expected a positive number, got '0'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["lr-find", "--repeats", "0"])
    assert exc.value.code == 2
    assert "argument --repeats: expected a positive integer, got '0'" in capsys.readouterr().err


class _Swept(Exception):
    pass


_AUTO = {"verify": True, "epochs": 10, "policy": "one_cycle"}


@pytest.mark.parametrize("command,flags,expected", [
    ("fit", ["--start-lr", "1e-5", "--end-lr", "3", "--num-it", "7", "--repeats", "3",
             "--max-lr", "suggest"], {"start_lr": 1e-5, "end_lr": 3.0, "num_it": 7, "repeats": 3}),
    ("fit", ["--max-lr", "suggest"],
     {"start_lr": 1e-7, "end_lr": 10.0, "num_it": 100, "repeats": 1}),  # lr_find's
    ("fit", [], {"start_lr": 1e-7, "end_lr": 10.0, "num_it": 100, "repeats": 1, **_AUTO}),
    ("fit", ["--schedule", "flat-cos", "--epochs", "4"],
     {"start_lr": 1e-7, "end_lr": 10.0, "num_it": 100, "repeats": 1, **_AUTO, "epochs": 4,
      "policy": "flat_cos"}),
    ("demo", [], {"start_lr": 1e-7, "end_lr": 100.0, "num_it": 200, "repeats": 1, **_AUTO,
                  "epochs": 20}),  # the demo's sweep, verified
])
def test_fit_max_lr_suggest_passes_the_sweep_options_to_lr_find(tmp_path, monkeypatch, capsys,
                                                                command, flags, expected):
    from tflearner import Learner

    seen = {}

    def lr_find(self, **kwargs):  # stands in for the sweep: records what it was asked
        seen.update(kwargs)
        raise _Swept

    monkeypatch.setattr(Learner, "lr_find", lr_find)
    with pytest.raises(_Swept):
        main([command, "--data", "cifar10-sample", *flags, "--out", str(tmp_path), "--quiet"])
    assert seen == expected
