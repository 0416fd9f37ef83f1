"""`inspect gradients`: the gradient norm against steps back, one row and one curve per checkpoint."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich import box
from rich.table import Table

from charrnn.analysis.gradient_reach import THRESHOLD
from charrnn.cli.render import drawing

if TYPE_CHECKING:
    from rich.console import Console

    from charrnn.cli.views import GradientsView

STEPS_SHOWN = (1, 10, 50)  # the table's columns of k, those within the span


def render(view: GradientsView, out: Console, floor: float = 1e-8) -> None:
    """Gradient norm against steps back (a GradientsView): a table of each checkpoint's figures,
    then its curve on a log scale (figures below `floor` drawn at it)."""
    span = len(view.models[0].curve.norms)
    table(view, out, [k for k in STEPS_SHOWN if k < span])
    for marker, m in zip(drawing.MARKERS, view.models):  # below the table, where a long path cannot squeeze the figures
        out.print(f"{marker} {m.checkpoint}", soft_wrap=True)
    out.print(
        f"k at {THRESHOLD:.0%}: the first k where the gradient is below {THRESHOLD:.0%} of its size at k = 0; "
        f"far/step: how much it shrinks per step over k >= {span // 2}"
    )
    series = {
        m.checkpoint: [(k, math.log10(max(r, floor))) for k, r in enumerate(m.curve.relative.tolist())]
        for m in view.models
    }
    out.print(f"\nrelative gradient norm by steps back k (log scale, 1 at k = 0, floor {floor:.0e})")
    for line in drawing.line_plot(series, y_label=lambda y: f"{10**y:6.0e}"):
        out.print(line)


def table(view: GradientsView, out: Console, steps: list[int]) -> None:
    """One row per checkpoint: its relative norm at each of `steps`, where it fell below the
    threshold, and how fast it shrinks far back."""
    t = Table(
        title=f"gradient of the loss w.r.t. the input k steps back, mean of {view.models[0].curve.positions} positions",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    t.add_column("model", no_wrap=True)  # with the plot's marker, which the checkpoints below repeat
    for k in steps:
        t.add_column(f"k={k}", justify="right", no_wrap=True)
    t.add_column(f"k at {THRESHOLD:.0%}", justify="right", no_wrap=True)
    t.add_column("far/step", justify="right", no_wrap=True)
    for marker, m in zip(drawing.MARKERS, view.models):
        relative, below, far = m.curve.relative, m.curve.k_below(), m.curve.far_factor()
        t.add_row(
            f"{marker} {m.model}",
            *(f"{relative[k]:.1e}" for k in steps),
            f"> {len(relative) - 1}" if below is None else str(below),
            "-" if far is None else f"x {far:.3f}",
        )
    out.print(t)
