"""`inspect neurons`: the text with each character's background coloured by one unit's activation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from charrnn.cli.render import drawing
from charrnn.web import colours

if TYPE_CHECKING:
    from rich.console import Console

    from charrnn.cli.views import NeuronView


def activation_style(value: float, scale: float) -> str:
    """Black or white, whichever reads better, on a background from blue (negative) through
    white (0) to red (positive): the page's colours (web/colours.py)."""
    background = colours.rgb(colours.activation(value, scale))
    return f"{colours.hex_code(colours.text_on(background))} on {colours.hex_code(background)}"


def render(view: NeuronView, out: Console) -> None:
    """The text (a NeuronView) with each character's background coloured by one unit's activation
    after it; plain, each line after its mean activation, + and - under strong values."""
    values = view.values  # one for each character of view.shown
    scale = float(abs(values).max()) if len(values) else 0.0
    styles = [activation_style(v, scale) for v in values.tolist()]
    marks = ["+" if v >= scale / 2 > 0 else "-" if v <= -scale / 2 < 0 else " " for v in values.tolist()]
    drawing.draw(out, view.shown, styles, marks, lambda start, stop: f"{values[start:stop].mean():+.2f}")
    drawing.more(out, view)
    lo, hi = (float(values.min()), float(values.max())) if len(values) else (0.0, 0.0)
    out.print(f"\n{view.unit.label}: from {lo:+.3f} to {hi:+.3f}")
    drawing.legend(
        out,
        [(f"{v:+.2f}", activation_style(v, scale)) for v in (-scale, -scale / 2, 0.0, scale / 2, scale)],
        f"each line after its mean value; under it, + marks a value of {scale / 2:+.3f} or more, - one of {-scale / 2:+.3f} or less",
    )
