"""The progress bar: tqdm's counting and timing, drawn to fit the terminal as it is at each refresh.

tqdm pads a shorter line with spaces up to the length of the last one and cuts a long one at the
terminal's width. After the terminal narrows, that padding wraps onto a new row and leaves the old
line behind, and at 50 columns the cut falls in the middle of a figure. This bar instead drops whole
fields, least useful first; it draws each line from column 0, erases everything after it (rows a
terminal re-wrapped on resizing included) and leaves the cursor at column 0 again; and it names
what the run is doing while it is not stepping ("validating", "saving").
"""

from __future__ import annotations

from tqdm import tqdm
from tqdm.std import Bar

MIN_BAR = 10  # a bar narrower than this says little; drop it for a figure instead
ERASE_BELOW = "\x1b[J"  # erase from the cursor to the end of the screen


def fit(
    head: str, fraction: float | None, count: str, time: str, figures: list[str], width: int, charset=Bar.UTF
) -> str:
    """The line `head |bar| count [time, figures...]` in at most `width` columns (no bar when
    `fraction` is None: a stream whose length is not known).

    Fields are dropped whole until the rest fits: the figures after the first, then the bar, the
    count, the time and the first figure; the bar takes whatever room is left (at least MIN_BAR).
    """
    fields = {"count": count, "time": time, **{f"figure {i}": f for i, f in enumerate(figures)}}
    drop_order = [f"figure {i}" for i in range(len(figures) - 1, 0, -1)] + ["bar", "count", "time", "figure 0"]
    kept = {name for name, text in fields.items() if text} | ({"bar"} if fraction is not None else set())
    for dropped in [None, *drop_order]:
        kept.discard(dropped)
        bar_width = MIN_BAR if "bar" in kept else 0
        line = _compose(head, fraction, {k: v for k, v in fields.items() if k in kept}, bar_width, charset)
        if len(line) <= width:
            if bar_width:
                line = _compose(
                    head,
                    fraction,
                    {k: v for k, v in fields.items() if k in kept},
                    width - len(line) + bar_width,
                    charset,
                )
            return line
    return head[:width]


def _compose(head: str, fraction: float, fields: dict[str, str], bar_width: int, charset) -> str:
    line = head
    if bar_width:
        line += "|" + format(Bar(min(max(fraction, 0.0), 1.0), bar_width, charset), "") + "|"
    if "count" in fields:
        line += " " + fields["count"]
    inside = [text for name, text in fields.items() if name != "count"]
    if inside:
        line += " [" + ", ".join(inside) + "]"
    return line


class ProgressBar(tqdm):
    """tqdm with `figures` (shown after the time, the first one kept longest) and a `status` word
    shown in place of the description while the run does something other than steps."""

    figures: list[str] = []
    status: str = ""

    def show(self, figures: list[str] | None = None, status: str | None = None) -> None:
        """Set the figures and/or the status; a new status is drawn at once (tqdm waits otherwise)."""
        if figures is not None:
            self.figures = figures
        if status is not None and status != self.status:
            self.status = status
            self.refresh()

    def __str__(self) -> str:
        d = self.format_dict
        n, total, elapsed = d["n"], d["total"], d["elapsed"]
        # one column short of the width: a character in the last column leaves the cursor pending
        # a wrap, and the erase that follows would take that character with it
        width = (d["ncols"] or 80) - 1
        if total is None:  # a stream of unknown length: how much, for how long, and no bar
            head, count = self.status or d["prefix"], f"{n:,.0f}{d['unit']}"
            return fit(head, None, count, self.format_interval(elapsed), self.figures, width)
        rate = d["rate"] or ((n - d["initial"]) / elapsed if elapsed else None)
        remaining = self.format_interval((total - n) / rate) if rate and total >= n else "?"
        head = f"{self.status or d['prefix']} {100 * n / total if total else 0:3.0f}%"
        count = f"{n:.0f}/{total:.0f}{d['unit']}"
        time = f"{self.format_interval(elapsed)}<{remaining}"
        charset = Bar.ASCII if d["ascii"] is True else Bar.UTF
        return fit(head, n / total if total else 0, count, time, self.figures, width, charset)

    @staticmethod
    def status_printer(file):
        def print_status(line: str) -> None:
            file.write(line + ERASE_BELOW + "\r")
            file.flush()

        return print_status
