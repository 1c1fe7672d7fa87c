"""Training state on disk: one ``.npz`` of variables plus JSON metadata, written atomically.

``state`` is a ``{group: [variables]}`` mapping such as ``Learner.state_variables()``. The file
holds one array per variable (``"<group>/<i>"``), and ``meta`` (JSON, stored as bytes) gets an
``index`` of every variable's path and shape, so a file can be checked against a Learner before
anything is assigned. No pickle: ``np.load(..., allow_pickle=False)``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["write_state", "read_state", "assign_state", "schedule_hash"]


def write_state(state: Mapping[str, list], path: Path, meta: dict[str, Any],
                override: Mapping[str, np.ndarray] | None = None) -> Path:
    """Write every variable of ``state`` and ``meta`` to ``path`` (temporary file, then
    ``os.replace``); ``override`` maps ``"group/i"`` keys to arrays saved instead of the
    variable's current value. Returns ``path``."""
    arrays, index = {}, {}
    for group, variables in state.items():
        index[group] = []
        for i, v in enumerate(variables):
            key = f"{group}/{i}"
            arrays[key] = (override or {}).get(key, np.asarray(v.numpy()))
            index[group].append([getattr(v, "path", v.name), list(v.shape)])
    arrays["meta"] = np.frombuffer(json.dumps({**meta, "index": index}).encode(), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def read_state(state: Mapping[str, list], path: Path, what: str,
               optimizer: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read what :func:`write_state` wrote and check it fits ``state`` and the ``optimizer``
    class name; returns ``(meta, arrays)`` without assigning. ``what`` names the file in errors."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
        meta = json.loads(arrays.pop("meta").tobytes().decode())
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same clear error
        raise ValueError(f"{path} is not a tflearner {what}: {exc}") from None
    if meta.get("optimizer") != optimizer:
        raise ValueError(f"{path} holds {meta.get('optimizer')} state but this Learner uses "
                         f"{optimizer}; build the Learner with the same opt.")
    for group, entries in meta["index"].items():
        mine = state.get(group, [])
        shapes = [list(v.shape) for v in mine]
        if [e[1] for e in entries] != shapes:
            raise ValueError(
                f"{path} does not match this Learner's {group} variables (saved "
                f"{len(entries)} with shapes {[e[1] for e in entries][:4]}..., here "
                f"{len(mine)} with {shapes[:4]}...). Load it into the same architecture.")
    return meta, arrays


def assign_state(state: Mapping[str, list], arrays: Mapping[str, np.ndarray]) -> None:
    """Assign the arrays :func:`read_state` returned to the variables of ``state``."""
    for group, variables in state.items():
        for i, v in enumerate(variables):
            v.assign(arrays[f"{group}/{i}"])


def schedule_hash(scheds: Mapping[str, np.ndarray] | None) -> str:
    """A short hash of per-step schedule arrays (empty: constant hyper-parameters)."""
    h = hashlib.sha256()
    for name in sorted(scheds or {}):
        h.update(name.encode())
        h.update(np.ascontiguousarray(scheds[name], dtype=np.float64).tobytes())
    return h.hexdigest()[:16]
