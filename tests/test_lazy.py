"""``import tflearner`` is lazy (PEP 562): names load on first access, the command answers
``--help`` and argument errors without TensorFlow, and the static imports match the lazy map."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The checkout under test, not whatever tflearner is installed (an editable install elsewhere).
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
LAZY_PACKAGES = ("tflearner", "tflearner.data", "tflearner.inference")


def _run(code: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=ENV, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


_CLI = """
import contextlib, io, sys, time
t0 = time.perf_counter()
import tflearner.cli as c
for argv in {argvs!r}:
    err = io.StringIO()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = c.main(argv)
    except SystemExit as exc:
        code = exc.code
    assert code == {code}, (argv, code, err.getvalue())
assert c.__file__.startswith({root!r}), c.__file__
assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, argv
print(f"{{time.perf_counter() - t0:.3f}}")
"""


@pytest.mark.parametrize("argvs,code", [
    ([["--help"], ["fit", "--help"], ["lr-find", "--help"], ["predict", "--help"]], 0),
    ([["fit", "--epochs", "0"], ["teach"], ["fit", "--max-lr", "fast"], ["fit", "--seed", "-1"],
      ["lr-find", "--num-it", "1"]], 2),
    ([["lr-find", "--data", "/no/such/cifar"], ["predict", "/no/such/export", "a.png"]], 3),
], ids=["help", "argument-errors", "missing-paths"])
def test_cli_help_and_argument_errors_import_no_tensorflow(argvs, code):
    proc = _run(_CLI.format(argvs=argvs, code=code, root=str(ROOT)))
    print(f"import + {len(argvs)} parses: {proc.stdout.strip()} s")  # measured, not asserted


def test_console_help_in_a_subprocess_is_quick_and_tf_free():
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "tflearner.cli", "fit", "--help"],
                          capture_output=True, text=True, timeout=120, env=ENV, cwd=ROOT)
    print(f"python -m tflearner.cli fit --help: {time.perf_counter() - t0:.2f} s")
    assert proc.returncode == 0 and "--max-lr" in proc.stdout, proc.stderr[-2000:]


_BLOCKED = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("matplotlib", "tqdm") or name.startswith("scipy.signal"):
            raise ImportError("blocked for the test: " + name)
sys.meta_path.insert(0, Block())
import tflearner
assert 'tensorflow' not in sys.modules, 'eager'
from tflearner import Learner, schedules
print(Learner.__module__, schedules.__name__, 'tensorflow' in sys.modules)
tflearner.Recorder(), tflearner.ProgressCallback(), tflearner.LRFinder
print(sorted(m for m in sys.modules if m.startswith(("matplotlib", "scipy.signal", "tqdm"))))
"""


def test_import_loads_no_tensorflow_until_a_name_is_used_and_needs_no_plotting_module():
    # One TensorFlow start for two facts: `import tflearner` loads no TensorFlow until a name
    # is used; and with plotting (matplotlib), suggesting (scipy.signal) and progress (tqdm)
    # blocked, tflearner still imports and builds its callbacks (those load on first use).
    # TensorFlow and Keras cope without them too (Keras' image-gallery helper tries pyplot).
    lazy, blocked = _run(_BLOCKED).stdout.splitlines()
    assert lazy.split() == ["tflearner.learner", "tflearner.schedules", "True"]
    assert blocked.strip() == "[]"


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_public_name_resolves_to_its_module(package):
    mod = importlib.import_module(package)
    eager = {"__version__"}  # the one name imported with the package
    for name in set(mod.__all__) - eager:
        value = getattr(mod, name)
        assert value is getattr(importlib.import_module(mod._EXPORTS[name], package), name)
        assert name in dir(mod)
    assert set(mod.__all__) - eager == set(mod._EXPORTS)
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        mod.no_such_name  # noqa: B018


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_type_checking_imports_match_the_lazy_map(package):
    # griffe (the API docs) and type checkers read the TYPE_CHECKING imports; the lazy map is
    # what runs: they must name the same modules for the same names.
    mod = importlib.import_module(package)
    tree = ast.parse(Path(mod.__file__).read_text())
    block = next(n for n in tree.body if isinstance(n, ast.If)
                 and getattr(n.test, "id", "") == "TYPE_CHECKING")
    static = {a.asname or a.name: "." * n.level + (n.module or "")
              for n in block.body if isinstance(n, ast.ImportFrom) for a in n.names}
    assert static == mod._EXPORTS
