"""The README's main job and the ``tflearner`` command, offline on the shipped sample."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import matplotlib.image as mpimg
import pytest

from tflearner.cli import main

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}


def test_demo_runs_offline_and_writes_its_outputs(tmp_path, capsys):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["demo", "--epochs", "1", "--out", str(tmp_path), "--quiet"]) == 0
    # no greeting about its own defaults (it was "the loss was still falling ... end_lr");
    # Keras' and NumPy's own deprecation notices are theirs; a one-epoch race may say it is
    # not sure (its trials are 8 steps long), which is the race's verdict, not a default's
    assert [str(w.message) for w in caught if not issubclass(w.category, DeprecationWarning)
            and not str(w.message).startswith("lr_find: the verified LR")] == []
    out = capsys.readouterr().out
    assert "lr_find: SuggestedLRs(verified=" in out and "race: verified max_lr " in out
    assert "one-cycle: 1 epochs, max_lr" in out and "test: loss" in out
    for name in ("lr_find.png", "race.png", "loss.png", "sched.png"):
        image = mpimg.imread(tmp_path / name)
        assert image.shape[0] > 200 and image.shape[1] > 300  # a real figure, not an empty file
    assert (tmp_path / "weights.npz").stat().st_size > 62006 * 4
    assert (tmp_path / "export" / "model.keras").is_file()  # fit / demo export for predict
    assert f"exported: {tmp_path / 'export'}" in out
    history = json.loads((tmp_path / "history.json").read_text())
    assert len(history["fit"]["losses"]) == len(history["fit"]["lrs"]) > 0
    assert history["lr_find"]["suggestions"]["robust"]["lr"] > 0
    race = history["race"]
    assert race["lr"] > 0 and race["updates"] == 27  # one epoch: 1,710 images in batches of 64
    assert all(len(t["curve"]) <= t["steps"] for r in race["rounds"] for t in r)
    assert 0 <= history["test"]["accuracy"] <= 1


def _cli(*args: str, timeout: float = 300, env: dict | None = None
         ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tflearner.cli", *args], capture_output=True,
                          text=True, timeout=timeout, env={**ENV, **(env or {})})


def _in_process(capsys, *args: str) -> tuple[int, str, str]:
    """``tflearner ARGS`` through ``main`` in this process: (exit code, stdout, stderr), with
    argparse's ``SystemExit`` as the exit code (what ``sys.exit(main())`` would exit with)."""
    capsys.readouterr()
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = exc.code
    res = capsys.readouterr()
    return code, res.out, res.err


def test_cli_lr_find_and_fit_through_a_subprocess(tmp_path, capsys):
    # lr-find through main in this process (the demo test above runs main too); fit through
    # `python -m tflearner.cli`, the real entry point in a fresh process.
    code, _, err = _in_process(capsys, "lr-find", "--data", "cifar10-sample", "--out",
                               str(tmp_path / "a"), "--quiet", "--num-it", "40")
    assert code == 0, err[-2000:]
    assert (tmp_path / "a" / "lr_find.png").exists()
    assert "robust" in json.loads((tmp_path / "a" / "history.json").read_text())["lr_find"][
        "suggestions"]
    res = _cli("fit", "--data", "cifar10-sample", "--epochs", "1", "--max-lr", "0.05",
               "--opt", "adam", "--batch-size", "64", "--out", str(tmp_path / "b"), "--quiet")
    assert res.returncode == 0, res.stderr[-2000:]
    assert "one-cycle: 1 epochs, max_lr 0.05" in res.stdout
    assert not (tmp_path / "b" / "lr_find.png").exists()  # a given max_lr needs no sweep
    assert (tmp_path / "b" / "weights.npz").exists()


@pytest.mark.parametrize("args,code,words", [
    (["fit", "--max-lr", "fast"], 2, "--max-lr must be a positive number, 'auto' or 'suggest'"),
    (["fit", "--max-lr", "-1"], 2, "--max-lr must be a positive number"),
    (["fit", "--epochs", "0"], 2, "expected a positive integer"),
    (["teach"], 2, "invalid choice"),
    (["lr-find", "--data", "/no/such/cifar"], 3, "does not exist"),
    (["fit", "--data", "cifar10-sample", "--opt", "sgdd", "--max-lr", "0.1"], 2,
     "--opt must be one of Keras' optimizer names"),
])
def test_cli_bad_arguments_exit_nonzero_with_a_message(tmp_path, capsys, args, code, words):
    # in this process: what a fresh process adds (exit status from sys.exit(main()), no
    # TensorFlow for argument errors) is tested by test_lazy.py and the subprocesses here
    got, _, err = (_in_process(capsys, *args, "--out", str(tmp_path)) if args != ["teach"]
                   else _in_process(capsys, *args))
    assert got == code
    assert words in err


def test_cli_argument_error_exits_nonzero_from_a_fresh_process(tmp_path):
    # the exit status a shell sees, through `python -m tflearner.cli` (no TensorFlow loaded)
    res = _cli("fit", "--epochs", "0", "--out", str(tmp_path))
    assert res.returncode == 2 and "expected a positive integer" in res.stderr, res.stderr


def test_console_script_is_registered():
    from importlib.metadata import entry_points
    scripts = {ep.name: ep.value for ep in entry_points(group="console_scripts")}
    assert scripts.get("tflearner") == "tflearner.cli:main"


# Where the default --data cifar10 would look first: loading it fails (exit 3), so an argument
# error reported with exit 2 under this setting was found before any data was loaded.
NO_DATA = {"TFLEARNER_DATA": "/no/such/cifar/copy"}


@pytest.mark.parametrize("args,words", [
    (["--opt", "notanoptimizer"], ["--opt must be one of Keras' optimizer names (",
                                   "adam,", "sgd", "got 'notanoptimizer'; e.g. --opt adam"]),
    (["--seed", "-1"], ["--seed must be an integer in [0, 2**32), got -1"]),
    (["--out", "README.md"], ["--out must be a folder for the run's files, got 'README.md'",
                              "existing file"]),
])
def test_cli_checks_every_argument_before_loading_data(tmp_path, capsys, monkeypatch, args,
                                                       words):
    (tmp_path / "README.md").write_text("not a folder")
    monkeypatch.chdir(tmp_path)
    for k, v in NO_DATA.items():
        monkeypatch.setenv(k, v)
    code, out, err = _in_process(capsys, "fit", "--out", "run", *args)
    assert code == 2, err[-2000:]
    assert out == ""  # no "data: ..." line: nothing was loaded or built
    for w in words:
        assert w in err
    assert "keras.optimizers.Optimizer instance" not in err  # no advice a shell can't take
    assert "CIFAR-10 was not found" not in err
    assert not (tmp_path / "run").exists()


def test_cli_data_that_is_not_a_dataset_gets_no_download_advice(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("# tflearner\n\nA fastai-style Learner.\n")
    code, _, err = _in_process(capsys, "fit", "--data", str(readme), "--max-lr", "0.1", "--out",
                               str(tmp_path / "o"))
    assert code == 3, err[-2000:]
    assert f"{readme}: not a CIFAR-10 dataset" in err
    assert "neither a tar archive nor gzip/bzip2/xz-compressed" in err
    assert "download it again" not in err and "Traceback" not in err


def test_optimizer_names_are_what_get_optimizer_builds():
    import keras

    from tflearner.cli import optimizer_names
    from tflearner.optim.factory import get_optimizer

    names = optimizer_names()
    assert {"adam", "adamw", "sgd", "rmsprop", "nadam", "lion"} <= set(names)
    assert "optimizer" not in names and "lossscaleoptimizer" not in names  # base class, wrapper
    assert names == sorted(names)
    for name in names:
        assert isinstance(get_optimizer(name), keras.optimizers.Optimizer)
