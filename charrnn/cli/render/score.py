"""`inspect score`: the text coloured by how surprising each character was, its most and least
surprising lines, and the totals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from charrnn.cli.render import drawing

if TYPE_CHECKING:
    from rich.console import Console

    from charrnn.cli.views import ScoreView

SURPRISE_COLOURS = ["green", "green_yellow", "yellow", "orange1", "red", "bright_red"]  # 2 bits each
SURPRISE_MARKS = [" ", " ", "-", "-", "^", "^"]  # the same bands, without colour


def surprise_level(bits: float) -> int:
    return min(int(bits // 2), len(SURPRISE_COLOURS) - 1)


def counts(score) -> str:
    """How many characters a Score covers, as the terminal and the page both say it."""
    return f"{score.chars:,} characters scored of {score.length:,}"


def render(view: ScoreView, out: Console) -> None:
    """The scored text (a ScoreView), each character coloured by how surprising it was; for a long
    text its first characters and its most and least surprising lines; then the totals."""
    s = view.score
    surprisal_text(out, view.shown, s.surprisal_bits)
    if view.cut:
        drawing.more(out, view)
        for title, passages in (("most", view.passages.most), ("least", view.passages.least)):
            if passages:
                out.print(f"\nthe {title} surprising lines:")
            for p in passages:
                out.print(f"line {p.line:,}, {p.bits_per_char:.2f} bits/char:", style="bold")
                surprisal_text(out, p.text, p.surprisal_bits)
    out.print(f"\n{counts(s)}: {s.total_bits:,.1f} bits in total, {s.bits_per_char:.4f} bits/char")
    legend(out)


def surprisal_text(out: Console, text: str, bits) -> None:
    """text coloured (or marked) by the surprisal `bits` of its last len(bits) characters."""
    offset = len(text) - len(bits)  # 1 where the text's first character, never predicted, is in it
    levels = [None] * offset + [surprise_level(b) for b in bits.tolist()]
    styles = [None if lv is None else SURPRISE_COLOURS[lv] for lv in levels]
    marks = [" " if lv is None else SURPRISE_MARKS[lv] for lv in levels]

    def line_label(start: int, stop: int) -> str:
        scored = bits[max(start - offset, 0) : max(stop - offset, 0)]
        return f"{scored.mean():.2f}" if len(scored) else ""

    drawing.draw(out, text, styles, marks, line_label)


def legend(out: Console) -> None:
    """The colour of each band of 2 bits; without colour, what the marks mean."""
    last = len(SURPRISE_COLOURS) - 1
    bands = [f"< {2 * (i + 1)}" if i < last else f">= {2 * i}" for i in range(len(SURPRISE_COLOURS))]
    drawing.legend(
        out,
        [(f"{band} bits", colour) for band, colour in zip(bands, SURPRISE_COLOURS)],
        "each line after its bits/char; under it, - marks a character of 4 to 8 bits, ^ one of 8 bits or more",
    )
