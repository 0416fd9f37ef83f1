"""Which element-wise kernels training runs: NumPy's (the reference) or the fused ones numba compiles.

The one place that decides; the Trainer asks once and passes the answer to the model, validation
and Adam (the `kernels` argument, "numpy" by default everywhere else). The fused kernels
(charrnn/nn/jit.py, cells/fused.py, optim._fused_adam) run when numba is installed
(`pip install 'charrnn[fast]'`), unless the environment variable CHARRNN_KERNELS says `numpy`;
`numba` insists on them (an error where numba is missing). The two give the same numbers up to
float32 rounding, so a checkpoint trained with one resumes with the other, though not bit for bit.
Sampling and inspect keep NumPy's: they read a character at a time or one text, where the second
numba's compiled code takes to load would cost more than it saves.
"""

from __future__ import annotations

import os
from functools import lru_cache

from charrnn.errors import KernelError

VARIABLE = "CHARRNN_KERNELS"
CHOICES = ("numba", "numpy")


@lru_cache(maxsize=1)
def numba_error() -> str | None:
    """Why numba cannot be used here (its import's error, in one line), or None if it can."""
    try:
        import numba  # noqa: F401
    except Exception as e:  # not installed, or built for another NumPy
        return " ".join(str(e).split()) or type(e).__name__
    return None


def kernels_in_use() -> str:
    """'numba' or 'numpy': the kernels in use now (read afresh, so that the variable can be set
    after import)."""
    asked = os.environ.get(VARIABLE, "").strip().lower()
    if asked and asked not in CHOICES:
        raise KernelError(f"{VARIABLE} must be one of {', '.join(CHOICES)}, not {asked!r}", asked)
    if asked == "numpy":
        return "numpy"
    if numba_error() is None:
        return "numba"
    if asked == "numba":
        raise KernelError(f"{VARIABLE}=numba, but numba cannot be imported: {numba_error()}", asked)
    return "numpy"
