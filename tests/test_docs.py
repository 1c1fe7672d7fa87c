"""The docs site builds with warnings as errors (mkdocs --strict), API pages included."""

from __future__ import annotations

import os
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
