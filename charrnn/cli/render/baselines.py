"""The baselines (uniform, unigram, n-gram bits/char) in words: what a model's figure means.

`charrnn inspect` shows them among a checkpoint's facts, and `train` as it starts and ends.
"""

from __future__ import annotations


def baselines_line(b: dict) -> str:
    """The three baselines in one line, and how much training text the n-gram model counted."""
    counted = (
        f"counted on the first {b['train_chars']:,} of {b['train_total']:,} training characters"
        if b["train_chars"] < b["train_total"]
        else f"counted on {b['train_chars']:,} training characters"
    )
    return (
        f"uniform {b['uniform']:.3f}, unigram {b['unigram']:.3f}, n-gram {b['ngram']:.3f} bits/char "
        f"(order {b['order']}, {counted}; {b['val_chars']:,} validation characters)"
    )


def below_baseline(value: float, b: dict) -> str:
    """'0.37 below the best n-gram (order 5, 2.36)', or above it."""
    gap = b["ngram"] - value
    return f"{abs(gap):.2f} {'below' if gap >= 0 else 'above'} the best n-gram (order {b['order']}, {b['ngram']:.2f})"
