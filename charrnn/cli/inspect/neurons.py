"""`charrnn inspect neurons TEXT --unit L:U`: one unit's activation along a text."""

from __future__ import annotations

import re

import click

from charrnn.cli.inspect import view
from charrnn.cli.views import NeuronView


class UnitRef(click.ParamType):
    """LAYER:UNIT, both counted from 0, e.g. 0:42."""

    name = "LAYER:UNIT"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        match = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", str(value))
        if not match:
            self.fail(f"{value!r} is not LAYER:UNIT; write it like 0:42 (layers and units count from 0)", param, ctx)
        return int(match[1]), int(match[2])


@click.command("neurons", cls=view.View, short_help="Colour a text by one unit's activation after each character.")
@view.text_argument
@click.option("--unit", "unit_ref", type=UnitRef(), required=True, help="The unit to show, as LAYER:UNIT.")
@click.option("--cell-state", is_flag=True, help="An LSTM unit's cell state c rather than its hidden state h.")
@view.one_checkpoint
@view.shown_options
@view.html_option
@view.json_option
def neurons(text_path, encoding, decode_errors, unit_ref, cell_state, checkpoint, show, show_all, html_path, as_json):
    """Colour TEXT (- for standard input) by one unit's activation after each character: blue
    negative, red positive. `charrnn inspect find-neurons TEXT` suggests units worth a look.
    The text is read as it comes, as `score` reads it.

    \b
    Examples:
      charrnn inspect neurons held_out.txt --unit 0:42
      charrnn inspect neurons held_out.txt --unit 1:7 --cell-state --html page.html
    """
    from charrnn import checkpoint as ckpt_io
    from charrnn.analysis import neurons as analysis
    from charrnn.analysis import scoring
    from charrnn.analysis.neurons import Unit
    from charrnn.cli.render.neurons import render
    from charrnn.language_model import LanguageModel
    from charrnn.web import text_page

    ckpt = ckpt_io.load(checkpoint)
    unit = Unit(*unit_ref, "c" if cell_state else "h")
    probe = analysis.probe(ckpt.model, unit)
    top = text_page.MAX_CHARS if html_path else 0
    # two numbers a character kept: its surprisal and the unit's value
    text = view.TextRead(text_path, encoding, decode_errors, show, show_all, html_path, numbers=2)
    view.check_page(html_path)  # after the text is known as an input: no page is written over it
    with text:
        reading = scoring.read(
            LanguageModel.of(ckpt), text.source, keep=text.keep, top=top, probe=probe, observe=text.observers
        )
    if not reading.score.chars:
        text.say_stopped(reading)
    shown = text.shown()
    score = reading.score.first(len(shown) - 1)
    result = NeuronView(str(checkpoint), text_path, shown, score, unit, reading.values[: len(shown)])
    if html_path:
        result.html = view.write_page(html_path, str(checkpoint), ckpt, text.first, text_path, reading, unit.label)
    view.show(result, as_json, render, html_path)
    text.say_stopped(reading)
