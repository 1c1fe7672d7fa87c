"""The docs site builds with warnings as errors (mkdocs --strict), API pages included; every
cross-reference in the package and the docs resolves; every name and file the docs mention
exists."""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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


# ---- what the docs name exists -----------------------------------------------------------------
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_CODE = re.compile(r"`([^`\n]+)`")
_ATTR = re.compile(r"^(learn|data|[A-Z]\w+)\.([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?")
_SPAN_DOTTED = re.compile(r"^tflearner(?:\.[A-Za-z_]\w*)+")
_SPAN_PATH = re.compile(r"^([\w.\-]+)/([\w.\-]+/)*[\w.\-]+\.(?:py|md|txt|json|png|toml|yml)$")
#: Where a path the docs name must exist: the repository's folders and the package's subpackages
#: (the module map writes ``loop/steps.py`` for ``tflearner/loop/steps.py``).
_REPO_DIRS = {"tflearner", "benchmarks", "tests", "examples", "tools", "docs", ".ci"} | {
    p.name for p in (ROOT / "tflearner").iterdir() if p.is_dir()}
_IMPORT = re.compile(r"^\s*from (tflearner[\w.]*) import \(?([^)\n]*)", re.M)


def _spans(page: Path) -> list[str]:
    text = page.read_text()
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, re.S)
    inline = _CODE.findall(re.sub(r"```[a-z]*\n.*?```", "", text, flags=re.S))
    return inline + [ln.strip() for b in blocks for ln in b.splitlines()]


@pytest.fixture(scope="module")
def objects():
    import numpy as np

    import tflearner as tl
    x = np.random.default_rng(0).integers(0, 256, (16, 8, 8, 3), dtype=np.uint8)
    data = tl.DataBundle.from_arrays(x, np.arange(16) % 2, valid_pct=0.25, batch_size=8)
    import keras
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax")])
    return {"learn": tl.Learner(model, data, quiet=True), "data": data, "tl": tl}


def _has(obj, attr: str) -> bool:
    """An attribute, a dataclass field, or (for a class) one its methods assign to self."""
    if hasattr(obj, attr) or attr in getattr(obj, "__dataclass_fields__", {}):
        return True
    return isinstance(obj, type) and any(
        re.search(rf"self\.{attr}\b", inspect.getsource(k)) for k in obj.__mro__
        if k.__module__.startswith("tflearner"))


def _missing_names(page: Path, objects) -> list[str]:
    tl, learn, data = objects["tl"], objects["learn"], objects["data"]
    missing = []
    for span in _spans(page):
        for module, names in _IMPORT.findall(span):
            for name in filter(None, (n.strip() for n in names.split(","))):
                if name != "(" and not _resolves(f"{module}.{name.split(' as ')[0]}"):
                    missing.append(f"from {module} import {name}")
        for word in re.findall(r"[\w./\-]+", span):
            if _SPAN_DOTTED.match(word) and not word.endswith((".json", ".py")) and not _resolves(
                    _SPAN_DOTTED.match(word).group(0)):
                missing.append(word)
        m = _ATTR.match(span)
        if m:
            owner, attr, sub = m.groups()
            if owner == "learn":
                obj = learn
            elif owner == "data":
                obj = data
                if not hasattr(obj, attr) and _resolves(f"tflearner.data.{attr}"):
                    continue
            elif owner in tl.__all__:
                obj = getattr(tl, owner)
            else:
                continue
            if not _has(obj, attr):
                missing.append(span)
            elif sub and owner in ("learn", "data") and not callable(getattr(obj, attr)) and (
                    getattr(obj, attr) is not None and not hasattr(getattr(obj, attr), sub)):
                missing.append(span)
        path = _SPAN_PATH.match(span)
        if path and path.group(1) in _REPO_DIRS and not any(
                (base / span).exists() for base in (ROOT, ROOT / "tflearner")):
            missing.append(span)
    return missing


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_name_and_file_the_docs_mention_exists(page, objects):
    assert _missing_names(page, objects) == []


def test_no_page_points_outside_the_repository():
    for page in [*PAGES, ROOT / "README.md"]:
        assert "../shared" not in page.read_text(), page.name


def test_every_public_name_is_in_the_api_reference():
    import tflearner

    api = (ROOT / "docs" / "api.md").read_text()
    absent = [n for n in tflearner.__all__ if not re.search(rf"\b{re.escape(n)}\b", api)]
    assert absent == []
