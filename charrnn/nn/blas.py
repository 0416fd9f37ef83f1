"""What NumPy's BLAS is, as threadpoolctl reads it from the loaded library itself.

Two choices in the core depend on it: whether the sampler pads a product up to OpenBLAS's
threading size (generation/stepper.py), and in which orientation the cells run their per-step
products (per_step below). The library is asked through threadpoolctl rather than by parsing
`numpy.show_config()` and environment variables, which say how NumPy was built and what a user
asked for, not what is running (the thread count can also be set through its own API).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

from charrnn.nn.workspace import Workspace, empty

# OpenBLAS kernels with AVX-512 small-matrix GEMM paths: there a product (G, K) @ (K, B) with a
# few columns B runs much faster than its transpose (B, K) @ (K, G) (see benchmarks/README.md).
WIDE_KERNELS = frozenset({"skylakex", "cooperlake", "sapphirerapids"})
FEATURE_MAJOR_MIN = 256  # below this many units, the row-major product was as fast or faster
FEATURE_MAJOR_MAX_ROWS = 64


def openblas() -> dict | None:
    """threadpoolctl's record of NumPy's BLAS if it is OpenBLAS (num_threads, architecture, ...),
    else None. Read afresh: the thread count can change while the process runs."""
    from threadpoolctl import threadpool_info

    for lib in threadpool_info():
        if lib.get("user_api") == "blas" and lib.get("internal_api") == "openblas":
            return lib
    return None


@lru_cache(maxsize=1)
def kernel() -> str:
    """The name of the OpenBLAS kernel in use, in lower case ('' for another BLAS)."""
    lib = openblas()
    return str(lib.get("architecture") or "").lower() if lib else ""


def feature_major(rows: int, W: np.ndarray) -> bool:
    """Whether x @ W for x (rows, K) is faster computed as W^T @ x^T on this BLAS."""
    return kernel() in WIDE_KERNELS and rows <= FEATURE_MAJOR_MAX_ROWS and min(W.shape) >= FEATURE_MAJOR_MIN


def per_step(
    W: np.ndarray, rows: int, ws: Workspace | None = None, name: str = "rec"
) -> tuple[np.ndarray, Callable[[np.ndarray], None]]:
    """A product x @ W run once per time step: (out, multiply), where multiply(x) writes
    x (rows, K) @ W (K, N) into out (rows, N). The numbers are the same either way; on the BLAS
    kernels where it is faster, out is a transposed view of an (N, rows) product W^T x^T (on
    them the two orientations gave the same numbers, bit for bit, in every shape measured)."""
    if not feature_major(rows, W):
        W = np.ascontiguousarray(W)  # a transposed view runs about a third slower, T times a window
        out = empty(ws, name, (rows, W.shape[1]), W.dtype)
        return out, lambda x: np.matmul(x, W, out=out)
    W_t = np.ascontiguousarray(W.T)  # a copy only if W is not already a transposed view
    out_t = empty(ws, name, (W.shape[1], rows), W.dtype)
    return out_t.T, lambda x: np.matmul(W_t, x.T, out=out_t)
