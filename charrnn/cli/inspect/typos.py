"""`charrnn inspect typos TEXT`: the characters a model of both sides finds least likely where
they stand, each with the character it finds far more likely."""

from __future__ import annotations

import click

from charrnn.cli.inspect import view
from charrnn.cli.options import config_options
from charrnn.cli.views import TyposView
from charrnn.config import TyposConfig


@click.command("typos", cls=view.View, short_help="Characters that look wrong given both sides, and what fits.")
@view.text_argument
@view.one_checkpoint
@config_options(TyposConfig)
@view.html_option
@view.json_option
def typos(text_path, encoding, decode_errors, checkpoint, suspects, far, html_path, as_json):
    """Name the characters of TEXT (- for standard input) that a model trained with
    --bidirectional finds least likely where they stand, given everything before and after
    them, each with the character it finds far more likely there; most suspect first.

    \b
    Examples:
      charrnn inspect typos scanned.txt -c both.npz
      charrnn inspect typos scanned.txt -c both.npz --json | jq '.suspects[0]'
    """
    from charrnn import checkpoint as ckpt_io
    from charrnn.analysis import typos as finding
    from charrnn.cli.render.typos import render
    from charrnn.language_model import LanguageModel

    cfg = TyposConfig(suspects=suspects, far=far)
    ckpt = ckpt_io.load(checkpoint)
    text = view.text_from(text_path, encoding, decode_errors)
    view.check_page(html_path)
    found, reading = finding.suspects(LanguageModel.of(ckpt), text, cfg.suspects, cfg.far)
    result = TyposView(str(checkpoint), text_path, text, found, cfg.far)
    if html_path:
        result.html = view.write_page(html_path, str(checkpoint), ckpt, text, text_path, reading)
    view.show(result, as_json, render, html_path)
