"""Smoke test of every example on the shipped sample (1 epoch): each runs end to end offline."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("name", ["fit_lenet_cifar10", "adam_one_cycle", "keras_model_fit",
                                  "transfer_learning", "own_images"])
def test_example_runs_on_the_sample(name, tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    module = importlib.import_module(name)
    args = ["--epochs", "1", "--batch-size", "64"]
    if name in ("fit_lenet_cifar10", "adam_one_cycle", "own_images"):
        args += ["--out", str(tmp_path)]
    if name == "own_images":
        args += ["--limit", "200", "--num-it", "30"]
    if name == "transfer_learning":
        args += ["--num-it", "20", "--pretrain-epochs", "1", "--per-class", "20"]
    try:
        acc = module.main(args)
    finally:
        sys.modules.pop(name, None)
        sys.modules.pop("_common", None)
    if name == "transfer_learning":  # fine_tune against scratch and chance (5 classes)
        assert set(acc) == {"fine_tune", "scratch", "chance"} and acc["chance"] == 0.2
        acc = acc["fine_tune"]
        # the group names README and docs/transfer.md quote are the ones the Learner prints
        printed = re.findall(r"Group\('([^']+)'", capsys.readouterr().out)
        for page in ("README.md", "docs/transfer.md"):
            line = next(ln for ln in (EXAMPLES.parent / page).read_text().splitlines()
                        if "learn.groups" in ln and "Group(" in ln)
            assert re.findall(r"Group\('([^']+)'", line) == printed == ["backbone", "head"]
    assert 0.0 <= acc <= 1.0
    if name == "fit_lenet_cifar10":
        assert (tmp_path / "lr_find.png").stat().st_size > 10_000
    if name == "adam_one_cycle":
        assert (tmp_path / "sched.png").stat().st_size > 10_000
    if name == "own_images":
        for png in ("show_batch", "confusion_matrix", "top_losses", "show_results"):
            assert (tmp_path / f"{png}.png").stat().st_size > 10_000
        assert (tmp_path / "export" / "model.keras").is_file()


def test_every_example_is_smoke_tested():
    scripts = {p.stem for p in EXAMPLES.glob("*.py") if not p.stem.startswith("_")}
    assert scripts == {"fit_lenet_cifar10", "adam_one_cycle", "keras_model_fit",
                       "transfer_learning", "own_images"}


@pytest.mark.parametrize("name", ["fit_lenet_cifar10", "adam_one_cycle", "keras_model_fit",
                                  "transfer_learning", "own_images"])
def test_example_help_is_whole_and_shows_every_default(name, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    module = importlib.import_module(name)
    try:
        with pytest.raises(SystemExit):
            module.main(["--help"])
    finally:
        sys.modules.pop(name, None)
        sys.modules.pop("_common", None)
    text = capsys.readouterr().out
    first = " ".join(module.__doc__.split("\n\n")[0].split())
    assert first in " ".join(text.split())  # the docstring's first paragraph, not its first line
    options = [ln for ln in text.split("options:")[1].splitlines()
               if ln.strip().startswith("--")]
    helped = " ".join(text.split("options:")[1].split())
    assert options and helped.count("(default:") == len(options), text
