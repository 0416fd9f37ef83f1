"""`charrnn inspect novelty TEXT`: how much of a text is copied verbatim from the training corpus."""

from __future__ import annotations

import click

from charrnn.cli.common import corpus_option
from charrnn.cli.inspect import view
from charrnn.cli.options import config_option
from charrnn.cli.views import NoveltyView
from charrnn.config import SampleConfig


@click.command("novelty", cls=view.View, short_help="How much of a text is copied verbatim from the training corpus.")
@view.text_argument
@view.one_checkpoint
@corpus_option
@config_option(SampleConfig, "min_copy")
@view.json_option
def novelty(text_path, encoding, decode_errors, checkpoint, corpus_path, min_copy, as_json):
    """Find the longest span of TEXT (- for standard input) that the training corpus has word
    for word, where the corpus has it, and the share of TEXT inside copied spans of at least
    --min-copy characters. The corpus is read from the path the checkpoint records (or
    --corpus) and must be the very file trained on (its SHA-256 is checked).

    \b
    Examples:
      charrnn sample -n 1000 --seed 1 > out.txt && charrnn inspect novelty out.txt
      charrnn inspect novelty out.txt --corpus ~/corpora/shakespeare.txt --min-copy 30 --json
    """
    from charrnn import checkpoint as ckpt_io
    from charrnn.cli.common import training_index
    from charrnn.cli.render.novelty import render

    ckpt = ckpt_io.load(checkpoint)
    text = view.text_from(text_path, encoding, decode_errors)
    index, corpus = training_index(ckpt, corpus_path)
    result = NoveltyView(str(checkpoint), text_path, corpus.meta(), text, index.novelty(text, min_copy))
    view.show(result, as_json, render)
