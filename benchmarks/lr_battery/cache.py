"""The battery's cache: every finished run, keyed by what determines it, in one JSON file.

Keys (``|``-separated): ``fit|problem|seed|variant|lr=…|ep=…`` for a final fit at an LR (the
grid's, a method's, a ladder's: one run however many ask for it) and
``choose|problem|seed|variant|method@version`` for a method's choice (with a peer's own
scores). A re-run with a new method or version trains only what is new.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["Cache", "fit_key", "choose_key"]


def _lr(lr: float) -> str:
    return f"{lr:.6g}"


def fit_key(problem: str, seed: int, variant: str, lr: float, epochs: int) -> str:
    return f"fit|{problem}|{seed}|{variant}|lr={_lr(lr)}|ep={epochs}"


def choose_key(problem: str, seed: int, variant: str, method_key: str) -> str:
    return f"choose|{problem}|{seed}|{variant}|{method_key}"


class Cache:
    """A dict of finished runs, saved atomically (``save``) and re-read (``reload``) so that a
    child process for a numerics variant can add to the same file in between."""

    def __init__(self, path: str | os.PathLike | None) -> None:
        self.path = None if path is None else Path(path)
        self.runs: dict[str, Any] = {}
        self.reload()

    def reload(self) -> None:
        if self.path is not None and self.path.exists():
            self.runs = json.loads(self.path.read_text())

    def save(self) -> None:
        if self.path is None:
            return
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.runs, sort_keys=True))
        os.replace(tmp, self.path)

    def __contains__(self, key: str) -> bool:
        return key in self.runs

    def __getitem__(self, key: str) -> Any:
        return self.runs[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.runs[key] = value
