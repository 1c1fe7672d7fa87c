"""examples/lesson1_cifar_sample.ipynb runs in a fresh Jupyter kernel (nbclient + ipykernel, as
a user's Jupyter runs it): progress renders as notebook widgets, never as terminal bars (no
carriage-return redraws, no ANSI escape codes) nor as the plain per-epoch lines of a log, and
every plot comes back as an inline PNG.

nbclient, ipykernel and ipywidgets come with the dev extras; without them the module is skipped,
except in CI (``$CI`` set, as ``.ci/run`` does), where that is an error.
"""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import pytest

if os.environ.get("CI"):
    import nbclient
    import nbformat
    from ipykernel import kernelspec
else:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    kernelspec = pytest.importorskip("ipykernel.kernelspec")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOK = EXAMPLES / "lesson1_cifar_sample.ipynb"
WIDGET = "application/vnd.jupyter.widget-view+json"
TERMINAL = re.compile(r"\r|\x1b\[")  # a terminal bar's redraws and colours
PLAIN = re.compile(r"^(epoch \d+/\d+ |lr_find: \d+/\d+ iterations)", re.M)  # log mode's lines


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook after a run in a kernel of this interpreter (a kernelspec of its own, so no
    other installed "python3" kernel is picked up), with the environment a user has (no
    test-suite plotting backend, no forced progress mode)."""
    prefix = tmp_path_factory.mktemp("kernel")
    kernelspec.install(kernel_name="tflearner-test", prefix=str(prefix))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
        for var in ("MPLBACKEND", "TFLEARNER_PROGRESS", "TQDM_DISABLE"):
            mp.delenv(var, raising=False)
        nbclient.NotebookClient(nb, timeout=300, kernel_name="tflearner-test",
                                resources={"metadata": {"path": str(EXAMPLES)}}).execute()
    return nb


def outputs(nb, code: str) -> list:
    """The outputs of the one code cell whose source contains ``code``."""
    cells = [c for c in nb.cells if c.cell_type == "code" and code in c.source]
    assert len(cells) == 1, f"{len(cells)} cells contain {code!r}"
    return cells[0].outputs


def streams(outs: list) -> str:
    return "".join(o.text for o in outs if o.output_type == "stream")


@pytest.mark.parametrize("code, bars", [("learn.lr_find(", 1), ("learn.fit_one_cycle(5", 1 + 5)])
def test_progress_renders_as_widgets_not_terminal_bars(executed, code, bars):
    outs = outputs(executed, code)
    assert sum(WIDGET in o.get("data", {}) for o in outs) == bars  # fit: epoch bar + one per epoch
    text = streams(outs)
    assert not TERMINAL.search(text) and not PLAIN.search(text)
    if code.startswith("learn.fit"):  # the fastai-style table: a header and one row per epoch
        rows = [line for line in text.splitlines() if re.match(r"^\d+\s+\d\.\d{6}", line)]
        assert text.startswith("epoch     train_loss  valid_loss  accuracy") and len(rows) == 5


def test_no_cell_prints_terminal_redraws(executed):
    for cell in executed.cells:
        if cell.cell_type == "code":
            assert not TERMINAL.search(streams(cell.outputs)), cell.source


@pytest.mark.parametrize("code", ["data.show_batch(", "learn.recorder.plot(",
                                  "learn.recorder.plot_loss(", "learn.show_results("])
def test_plots_are_inline_images(executed, code):
    pngs = [o["data"]["image/png"] for o in outputs(executed, code) if "image/png" in
            o.get("data", {})]
    assert len(pngs) == 1
    png = base64.b64decode(pngs[0])
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
