"""File names (and every other name from outside) shown as text: escaped, so that a name can never
act on the terminal that shows it (an escape sequence, a newline that starts a forged line, a
right-to-left override) nor fail to encode (undecodable bytes, which os.fsdecode turns into lone
surrogates). `encodable` is for content, which keeps its own layout: only the surrogates escaped."""

from __future__ import annotations

import os
import re

SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def display(text: str | os.PathLike) -> str:
    """A name as one line of plain text, as `ls -b` shows it: a control character as \\n, \\t, \\r
    or \\xNN (C1 controls and the characters that reorder text or break lines as \\uNNNN), an
    undecodable byte (a lone surrogate from os.fsdecode) as \\xNN, any other lone surrogate as
    \\uNNNN. Idempotent: what it returns holds none of them."""
    return _UNSHOWABLE.sub(_escape, os.fspath(text))


def encodable(text: str) -> str:
    """Text that any UTF-8 output can carry, its layout kept: only lone surrogates escaped."""
    return _SURROGATE.sub(_escape, text)


_SURROGATE = re.compile("[\ud800-\udfff]")
# C0 controls and DEL, C1 controls, the Arabic letter mark, the bidirectional marks, embeddings,
# overrides and isolates, the line and paragraph separators, and lone surrogates
_UNSHOWABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(m: re.Match) -> str:
    ch = m[0]
    code = ord(ch)
    if ch in SHORT:
        return SHORT[ch]
    if code < 0x80:
        return f"\\x{code:02x}"
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"
