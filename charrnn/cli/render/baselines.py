"""The baselines (uniform, unigram, n-gram bits/char) in words: what a model's figure means.

`charrnn inspect` shows them among a checkpoint's facts, and `train` as it starts and ends.
The n-gram reads only the characters before the one it predicts: a bar for a left-to-right
model, not for one that reads both sides (it sees the right side too, which no baseline here
does), so for that model the n-gram is named as reading one side and no gap to it is given.
"""

from __future__ import annotations


def baselines_line(b: dict, both_sides: bool = False) -> str:
    """The three baselines in one line, and how much training text the n-gram model counted."""
    counted = (
        f"counted on the first {b['train_chars']:,} of {b['train_total']:,} training characters"
        if b["train_chars"] < b["train_total"]
        else f"counted on {b['train_chars']:,} training characters"
    )
    ngram = "left-to-right n-gram" if both_sides else "n-gram"
    return (
        f"uniform {b['uniform']:.3f}, unigram {b['unigram']:.3f}, {ngram} {b['ngram']:.3f} bits/char "
        f"(order {b['order']}, {counted}; {b['val_chars']:,} validation characters)"
        + ("; none reads the right side, as this model does" if both_sides else "")
    )


def below_baseline(value: float, b: dict, both_sides: bool = False) -> str:
    """'0.37 below the best n-gram (order 5, 2.36)', or above it; for a model of both sides, what
    the n-gram reads instead (no baseline reads both sides)."""
    if both_sides:
        return f"no baseline reads both sides (the left-to-right n-gram, order {b['order']}: {b['ngram']:.2f})"
    gap = b["ngram"] - value
    return f"{abs(gap):.2f} {'below' if gap >= 0 else 'above'} the best n-gram (order {b['order']}, {b['ngram']:.2f})"
