"""`charrnn inspect score TEXT`: how surprising each character of a text was to the model."""

from __future__ import annotations

import click

from charrnn.cli.inspect import view
from charrnn.cli.views import ScoreView


@click.command("score", cls=view.View, short_help="Bits per character of a text, each character coloured by surprise.")
@view.text_argument
@view.one_checkpoint
@view.shown_options
@view.html_option
@view.json_option
def score(text_path, encoding, decode_errors, checkpoint, show, show_all, html_path, as_json):
    """Score TEXT (- for standard input): how many bits per character the model needs for it,
    each character coloured by how surprising it was (given both sides, for a model trained
    with --bidirectional). The text is read as it comes, in memory that does not grow with it
    (--all and a model of both sides hold it), with a progress bar; an endless pipe is scored
    until Ctrl-C, which shows what was scored. Its first --show characters are shown, then its
    most and least surprising lines.

    \b
    Examples:
      echo "To be, or not to be" | charrnn inspect score -
      head -c 20000 corpora/shakespeare.txt | charrnn inspect score - --json | jq .score.bits_per_char
      charrnn inspect score passage.txt --html page.html
    A whole 1 MB corpus takes minutes with the default model.
    """
    from charrnn import checkpoint as ckpt_io
    from charrnn.analysis import scoring
    from charrnn.analysis.passages import Passages
    from charrnn.cli.render.score import render
    from charrnn.language_model import LanguageModel
    from charrnn.web import text_page

    ckpt = ckpt_io.load(checkpoint)
    model = LanguageModel.of(ckpt)
    first = scoring.first_predicted(model)
    passages = Passages()
    top = text_page.MAX_CHARS if html_path else 0
    text = view.TextRead(text_path, encoding, decode_errors, show, show_all, html_path, first=first)
    view.check_page(html_path)  # after the text is known as an input: no page is written over it
    with text:
        reading = scoring.read(model, text.source, keep=text.keep, top=top, observe=(passages.add, *text.observers))
    if not reading.score.chars:
        text.say_stopped(reading)
    passages.finish()
    shown = text.shown()
    result = ScoreView(str(checkpoint), text_path, shown, reading.score.first(len(shown) - first), passages)
    if html_path:
        result.html = view.write_page(html_path, str(checkpoint), ckpt, text.first, text_path, reading)
    view.show(result, as_json, render, html_path)
    text.say_stopped(reading)
