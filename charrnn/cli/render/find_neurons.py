"""`inspect find-neurons`: properties of the text and the units that track them best."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

if TYPE_CHECKING:
    from rich.console import Console

    from charrnn.cli.views import FindNeuronsView


def render(view: FindNeuronsView, out: Console, shown: int = 20) -> None:
    """Properties of the text (a FindNeuronsView) and the units that track them best, strongest
    first: the first `shown` properties."""
    search = view.search
    table = Table(title=f"units that track properties of the text ({search.chars:,} characters)", title_justify="left")
    table.add_column("property")
    table.add_column("best unit", justify="right")
    table.add_column("r", justify="right")
    table.add_column("runners-up")
    for name, (best, *rest) in list(search.best.items())[:shown]:
        table.add_row(name, str(best.unit), f"{best.r:+.2f}", ", ".join(f"{m.unit} {m.r:+.2f}" for m in rest))
    out.print(table)
    if search.constant:
        out.print("not in this text: " + ", ".join(search.constant))
    if search.best:
        strongest = next(iter(search.best.values()))[0].unit
        flag = " --cell-state" if strongest.state == "c" else ""
        out.print("r is the correlation over the text; to see the strongest unit along it:")
        out.print(f"  charrnn inspect neurons TEXT --unit {strongest.layer}:{strongest.unit}{flag}")
