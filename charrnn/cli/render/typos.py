"""`inspect typos`: the text with its suspects marked, then each suspect and its replacement."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from charrnn.chars import show_char
from charrnn.cli.render import drawing

if TYPE_CHECKING:
    from rich.console import Console

    from charrnn.cli.views import TyposView

SUSPECT = "bold white on red"
SHOWN_LINES = 40  # of the text, around its suspects: a long text is not drawn whole


def render(view: TyposView, out: Console) -> None:
    """The lines that hold suspects, each suspect marked (^ under it without colour), then the table."""
    text, at = view.source, {s.position for s in view.suspects}
    if not view.suspects:
        out.print(f"no suspects: no character of the {len(text):,} has a replacement {view.far:g} bits likelier")
        return
    for start, line in [(s, ln) for s, ln in drawing.lines(text) if at & set(range(s, s + len(ln) + 1))][:SHOWN_LINES]:
        piece = text[start : start + len(line) + 1]
        styles = [SUSPECT if start + i in at else None for i in range(len(piece))]
        marks = ["^" if start + i in at else " " for i in range(len(piece))]
        drawing.draw(out, piece, styles, marks, lambda a, b, n=start: f"{n:,}")
    table = Table(title=f"{len(view.suspects)} suspects, most suspect first", title_justify="left")
    for name in ("position", "char", "suggestion", "bits", "suggestion bits"):
        table.add_column(name, justify="right" if name != "char" and name != "suggestion" else "left")
    for s in view.suspects:
        table.add_row(
            f"{s.position:,}", show_char(s.char), show_char(s.suggestion), f"{s.bits:.1f}", f"{s.suggestion_bits:.1f}"
        )
    out.print(table)
    out.print("each line after the position of its first character; bits: -log2 p given both sides")
