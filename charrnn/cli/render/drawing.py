"""What the terminal views share: a text drawn character by character, its legend, a line plot.

In colour, each character of a text gets a style. Where there is no colour (NO_COLOR, a pipe, a
file) the same information is plain text: each line after a gutter that gives one number for the
line, and under it, where any, a line of marks under the characters that stand out. Lines are
drawn one at a time, so showing a whole long text never builds it in memory as one piece.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import Console

    from charrnn.cli.views import ShownText

GUTTER = 9  # columns of the plain view's per-line number
MARKERS = "*o+x"  # line_plot's marker of each series, in order (a view's table names its series by them)


def has_colour(out: Console) -> bool:
    """Whether a rich console shows colours (not for a pipe or file, nor under NO_COLOR)."""
    return out.color_system is not None and not out.no_color


def lines(text: str) -> Iterator[tuple[int, str]]:
    """(position of its first character, the line without its newline) for each line."""
    start = 0
    for line in text.split("\n"):
        if start == len(text) and start:  # the text ended with a newline: no line after it
            return
        yield start, line
        start += len(line) + 1


def draw(
    out: Console,
    text: str,
    styles: Sequence[str | None],
    marks: Sequence[str],
    line_label: Callable[[int, int], str],
) -> None:
    """text, with styles[i] for text[i] in colour; plain, each line labelled with
    line_label(start, stop) of its characters text[start:stop] and marks[i] under text[i]."""
    colour = has_colour(out)
    for start, line in lines(text):
        stop = start + len(line)
        if colour:
            rendered = Text()
            for ch, style in zip(line, styles[start:stop]):
                rendered.append(ch, style=style)
            out.print(rendered)
            continue
        out.print(f"{line_label(start, stop + 1):>{GUTTER}} | {line}", soft_wrap=True)
        under = "".join("\t" if ch == "\t" else m.ljust(cell_len(ch)) for ch, m in zip(line, marks[start:stop]))
        if under.strip():
            out.print(f"{'':>{GUTTER}} | {under.rstrip()}", soft_wrap=True)


def legend(out: Console, entries: Sequence[tuple[str, str]], plain: str) -> None:
    """In colour, each (label, style) drawn in its style; plain, the `plain` explanation."""
    if not has_colour(out):
        out.print(plain, soft_wrap=True)
        return
    rendered = Text("colour: ")
    for label, style in entries:
        rendered.append(f" {label} ", style=style)
    out.print(rendered)


def more(out: Console, view: ShownText) -> None:
    """Where a view shows only the text's first characters, how to see more."""
    if view.cut:
        out.print(
            f"\n... the first {len(view.shown):,} of {view.length:,} characters; --show N shows more, --all every one"
        )


def line_plot(
    series: dict[str, list[tuple[float, float]]], width: int = 60, height: int = 12, y_label=None
) -> list[str]:
    """A small text plot of (x, y) series, one marker character per series, y labelled.

    y_label turns a y value into its 6-character label (default: 2 decimals).
    """
    points = [p for s in series.values() for p in s]
    if not points:
        return []
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    grid = [[" "] * width for _ in range(height)]
    for marker, pts in zip(MARKERS, series.values()):
        for x, y in pts:
            col = 0 if x1 == x0 else round((x - x0) / (x1 - x0) * (width - 1))
            row = 0 if y1 == y0 else round((y1 - y) / (y1 - y0) * (height - 1))
            grid[row][col] = marker
    plot = []
    for r, row in enumerate(grid):
        label = y1 - (y1 - y0) * r / max(height - 1, 1)
        plot.append((y_label(label) if y_label else f"{label:6.2f}") + " |" + "".join(row))
    plot.append(" " * 7 + "+" + "-" * width)
    plot.append(" " * 8 + f"{x0:<.0f}".ljust(width - 8) + f"{x1:>8.0f}")
    return plot
