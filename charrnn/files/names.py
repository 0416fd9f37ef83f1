"""File names shown as text: a name that is not UTF-8 is shown with its bytes escaped, never as an
encoding error (its undecodable bytes arrive from os.fsdecode as lone surrogates)."""

from __future__ import annotations

import os
import re


def display(text: str | os.PathLike) -> str:
    """A file name as text any UTF-8 output can carry: an undecodable byte (a lone surrogate from
    os.fsdecode) shown as \\xNN, as `ls -b` does; any other lone surrogate as \\uNNNN."""
    return _SURROGATE.sub(_escape, os.fspath(text))


_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(m: re.Match) -> str:
    code = ord(m[0])
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"
