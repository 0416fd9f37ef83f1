"""`inspect compare`: checkpoints ranked by bits per character on one text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from charrnn.chars import list_chars, show_char

if TYPE_CHECKING:
    from rich.console import Console

    from charrnn.cli.views import CompareView

COLUMNS = (
    ("rank", "right"),
    ("checkpoint", "left"),
    ("bits/char", "right"),
    ("own bits/char", "right"),
    ("scored", "right"),
    ("skipped", "right"),
)


def render(view: CompareView, out: Console) -> None:
    """Checkpoints ranked (a CompareView) by bits per character on the characters all of them could score."""
    ranking = view.ranking
    table = Table(
        title=f"which model finds the text least surprising ({ranking.comparable_chars:,} of "
        f"{ranking.chars:,} characters comparable)",
        title_justify="left",
    )
    for name, justify in COLUMNS:
        table.add_column(name, justify=justify)
    for rank, s in enumerate(ranking.scores, 1):
        table.add_row(
            str(rank),
            s.name,
            f"{ranking.bits_per_char(s):.4f}",
            f"{s.own_bits_per_char:.4f}",
            f"{s.scored:,}",
            f"{s.skipped:,}",
        )
    out.print(table)
    for s in ranking.scores:
        if s.skipped:
            out.print(
                f"{s.name} never saw {list_chars(s.missing, show=show_char, sep=' ')}: it read the text without those "
                f"{s.skipped:,} characters and was not scored on them"
            )
    out.print("bits/char: over the characters every model scored (the ranking); own: over all it scored")
