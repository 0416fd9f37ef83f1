"""`charrnn inspect find-neurons TEXT`: the units that track properties of a text."""

from __future__ import annotations

import click

from charrnn.cli.inspect import view
from charrnn.cli.views import FindNeuronsView


@click.command(
    "find-neurons", cls=view.View, short_help="Rank units by how well they track quotes, brackets, line position, ..."
)
@view.text_argument
@view.one_checkpoint
@view.json_option
def find_neurons(text_path, encoding, decode_errors, checkpoint, as_json):
    """Rank the units by how well their activation along TEXT (- for standard input) tracks
    simple properties of it: inside quotes, bracket depth, position in the line, ...

    \b
    Example:
      charrnn inspect find-neurons held_out.txt
    """
    from charrnn.analysis import neurons
    from charrnn.cli.render.find_neurons import render
    from charrnn.language_model import LanguageModel

    model = LanguageModel.load(checkpoint)
    text = view.text_from(text_path, encoding, decode_errors)
    search = neurons.find_neurons(model, text)
    view.show(FindNeuronsView(str(checkpoint), text_path, search), as_json, render)
