"""The docs site builds with warnings as errors (mkdocs --strict), API pages included."""

from __future__ import annotations

import ast
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mkdocs_build_strict(tmp_path):
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d",
                           str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    api = (tmp_path / "site" / "api" / "index.html").read_text()
    assert "fit_one_cycle" in api and "lr_find" in api  # generated from docstrings
    for page in ("lr_finder", "one_cycle", "keras", "distributed", "reliability", "results"):
        assert (tmp_path / "site" / page / "index.html").exists()


def test_ci_runs_the_readmes_test_command():
    # CI must run what the README tells a contributor to run, nothing less: the README's test
    # line is `pip install ... && ruff ... && python -m pytest ...`; .ci/run runs each part.
    readme = (ROOT / "README.md").read_text()
    line = next(ln for ln in readme.splitlines() if "python -m pytest" in ln and "&&" in ln)
    install, lint, test = (part.strip() for part in line.split("&&"))
    ci = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()
          if ln.strip() and not ln.lstrip().startswith("#")]
    assert lint in ci and test in ci, (line, ci)
    extras = install.split()[-1]  # ".[cpu,dev]"
    assert any(ln.startswith("python -m pip install") and ln.endswith(extras) for ln in ci), ci


# ---- every cross-reference resolves -----------------------------------------------------------

_ROLE = re.compile(r":(?:func|class|mod|data|meth|attr|exc|obj):`~?([A-Za-z_][\w.]*)(?:\(\))?`")
_DOTTED = re.compile(r"`(tflearner(?:\.[A-Za-z_]\w*)+)`")  # `tflearner.x.y` in prose
_PATH = re.compile(r"`((?:[a-z_]+/)+[a-z_]+\.py)`")  # `loop/steps.py`, `benchmarks/x.py`
_FILE_SUFFIXES = (".json", ".npz", ".keras", ".md", ".py", ".txt", ".png")


def _resolves(name: str) -> bool:
    """Whether ``name`` is an importable module or an attribute path below one."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for part in parts[i:]:
                obj = getattr(obj, part)
        except AttributeError:
            return False
        return True
    return False


def _role_candidates(target: str, module: str, text: str) -> list[str]:
    """Where an unqualified ``:role:`target``` may point: the module, its package, its
    classes' members, the top-level package."""
    if target.startswith("tflearner"):
        return [target]
    classes = [n.name for n in ast.walk(ast.parse(text)) if isinstance(n, ast.ClassDef)]
    return [f"{module}.{target}", f"{module.rsplit('.', 1)[0]}.{target}", f"tflearner.{target}",
            *(f"{module}.{c}.{target}" for c in classes)]


#: Where a ```dir/file.py``` path is this repository's (others, e.g. ``keras/src/...``, are not)
_LOCAL_ROOTS = {"tflearner", "tests", "benchmarks", "docs", "examples",
                *(p.name for p in (ROOT / "tflearner").iterdir() if p.is_dir())}


def _path_resolves(path: str) -> bool:
    if path.split("/", 1)[0] not in _LOCAL_ROOTS:
        return True
    return any((base / path).exists() for base in (ROOT, ROOT / "tflearner"))


def _unresolved(text: str, where: str, module: str | None) -> list[str]:
    bad = []
    for m in _ROLE.finditer(text):
        found = (_resolves(m.group(1)) if module is None else
                 any(_resolves(c) for c in _role_candidates(m.group(1), module, text)))
        if not found:
            bad.append(f"{where}:{text[:m.start()].count(chr(10)) + 1}: {m.group(0)}")
    for m in _DOTTED.finditer(text):
        if not m.group(1).endswith(_FILE_SUFFIXES) and not _resolves(m.group(1)):
            bad.append(f"{where}:{text[:m.start()].count(chr(10)) + 1}: {m.group(0)}")
    for m in _PATH.finditer(text):
        if not _path_resolves(m.group(1)):
            bad.append(f"{where}:{text[:m.start()].count(chr(10)) + 1}: {m.group(0)}")
    return bad


def test_every_cross_reference_resolves():
    """Sphinx roles (``:func:`~tflearner.x.f```), ```tflearner.x.y``` names and ```dir/file.py```
    paths in the package's docstrings and comments, the docs and the README all name something
    that exists: a module moved or renamed fails here, not in a reader's hands."""
    bad = []
    for path in sorted((ROOT / "tflearner").rglob("*.py")):
        rel = path.relative_to(ROOT)
        module = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
        bad += _unresolved(path.read_text(), str(rel), module)
    for path in [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]:
        bad += _unresolved(path.read_text(), str(path.relative_to(ROOT)), None)
    assert bad == [], "unresolved cross-references:\n" + "\n".join(bad)


def test_the_cross_reference_check_fails_on_a_stale_name():
    text = ("See :class:`~tflearner.snapshot.Snapshot`, `tflearner.loop.rules` and "
            "`loop/contract.py`; :func:`tflearner.schedules.one_cycle` exists.")
    assert [line.split(": ", 1)[1] for line in _unresolved(text, "x", None)] == [
        ":class:`~tflearner.snapshot.Snapshot`", "`tflearner.loop.rules`", "`loop/contract.py`"]
