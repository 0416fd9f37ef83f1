"""`charrnn inspect gradients TEXT -c A -c B`: how far back the loss on a text reaches."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from charrnn.cli.inspect import view
from charrnn.cli.options import config_options
from charrnn.cli.views import GradientsView, ModelCurve
from charrnn.config import ReachConfig

if TYPE_CHECKING:
    from charrnn.analysis.gradient_reach import GradientCurve


@click.command(
    "gradients", cls=view.View, short_help="Gradient norm against steps back: how far the loss on a text reaches."
)
@view.text_argument
@view.several_checkpoints
@config_options(ReachConfig)
@view.json_option
def gradients(text_path, encoding, decode_errors, checkpoints, span, positions, as_json):
    """How far back the loss on TEXT (- for standard input) reaches: the norm of its gradient
    with respect to the input k steps back, for each checkpoint (repeat -c to compare them).

    \b
    Example:
      charrnn inspect gradients held_out.txt -c rnn.npz -c lstm.npz
    """
    from charrnn.analysis import gradient_reach
    from charrnn.cli.render.gradients import render

    models = view.load_models(checkpoints)
    text = view.text_from(text_path, encoding, decode_errors)
    curves = []
    for name, model in models:
        curve = gradient_reach.gradient_curve(model, text, span, positions)
        curves.append(ModelCurve(name, model.cfg.describe(), curve))
    _fewer_positions(curves[0].curve, span)
    view.show(GradientsView(text_path, curves), as_json, render)


def _fewer_positions(curve: GradientCurve, span: int) -> None:
    """Say so when the text has room for fewer positions than asked (each needs `span` characters
    before it and one after): the curve is their mean, and a mean of few is noisy."""
    from charrnn.cli import console
    from charrnn.cli.options import flag

    if curve.positions < curve.asked:
        console.warning(
            f"the text has room for {curve.positions:,} positions {span:,} steps back, so the curve is their "
            f"mean, not that of the {curve.asked:,} asked for ({flag('positions')}); a longer text has room for more"
        )
