"""Characters as messages and tables show them: whitespace and controls escaped, long lists cut.

Below everything else (errors.py names characters with it), so it imports nothing of charrnn.
"""

from __future__ import annotations

WHITESPACE_NAMES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", " ": "␠"}


def show_char(ch: str) -> str:
    """A character as it can be read in a list: whitespace and controls escaped."""
    if ch in WHITESPACE_NAMES:
        return WHITESPACE_NAMES[ch]
    if not ch.isprintable():
        return ch.encode("unicode_escape").decode("ascii")
    return ch


def list_chars(chars: list[str], limit: int = 10, show=repr, sep: str = ", ") -> str:
    """Characters for a message: the first `limit`, then how many more."""
    shown = sep.join(show(c) for c in chars[:limit])
    return shown + (f" and {len(chars) - limit} more" if len(chars) > limit else "")
