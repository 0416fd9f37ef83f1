"""Scratch arrays reused from one training step to the next.

A training step needs the same large arrays every time (gate activations, hidden states,
gradients of the same shapes). Allocating them afresh costs page faults on every step;
a Workspace hands back the same memory instead. Arrays taken from a workspace are valid
until the next call that uses the same workspace, so only the training loop, which owns its
workspace, passes one; everything else passes None and gets fresh arrays.
"""

from __future__ import annotations

import numpy as np


class Workspace:
    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}
        self._children: dict[str, Workspace] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        a = self._arrays.get(name)
        if a is None or a.shape != shape or a.dtype != dtype:
            a = self._arrays[name] = np.empty(shape, dtype)
        return a

    def child(self, name: str) -> Workspace:
        """A separate namespace, e.g. one per layer."""
        return self._children.setdefault(name, Workspace())


def empty(ws: Workspace | None, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """An uninitialised array: from the workspace when there is one, new otherwise."""
    return np.empty(shape, dtype) if ws is None else ws.get(name, shape, dtype)


def child(ws: Workspace | None, name: str) -> Workspace | None:
    return None if ws is None else ws.child(name)
