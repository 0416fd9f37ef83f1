"""`charrnn inspect compare TEXT -c A -c B`: which model finds a text least surprising."""

from __future__ import annotations

import click

from charrnn.cli.inspect import view
from charrnn.cli.views import CompareView


@click.command("compare", cls=view.View, short_help="Rank several checkpoints by bits per character on one text.")
@view.text_argument
@view.several_checkpoints
@view.json_option
def compare(text_path, encoding, decode_errors, checkpoints, as_json):
    """Rank the checkpoints (repeat -c) by bits per character on TEXT (- for standard input),
    over the characters every one of them knows.

    \b
    Example:
      charrnn inspect compare passage.txt -c shakespeare.npz -c code.npz
    """
    from charrnn import budget
    from charrnn.analysis import ranking
    from charrnn.cli.render.compare import render

    if len(checkpoints) < 2:
        raise click.UsageError("compare ranks several checkpoints: pass -c at least twice")
    models = view.load_models(checkpoints)
    text = view.text_from(text_path, encoding, decode_errors)
    budget.check_ranking(len(text), len(models))
    scores = [ranking.score_known(name, model, text) for name, model in models]
    view.show(CompareView(text_path, ranking.rank(scores)), as_json, render)
