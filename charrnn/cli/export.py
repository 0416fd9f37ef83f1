"""`charrnn export`: a web page that runs the model, written to one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path

import click

from charrnn.cli.common import Command, output_to, refuse_same_files
from charrnn.cli.options import checkpoint_option


@click.command(cls=Command, short_help="Write a web page that runs the model in the browser.")
@checkpoint_option()
@click.argument("out", metavar="OUT.html", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--float16",
    is_flag=True,
    help="Store the weights as float16: half the page, for a few thousandths of a bit per character.",
)
@click.option("--prime", default="", help="Text to put in the page's prime box.")
@click.option("--title", show_default="the checkpoint's name", help="The page's title.")
def export(checkpoint, out, float16, prime, title):
    """Write OUT.html: one file, no network, holding the weights, the vocabulary and a small
    JavaScript RNN/LSTM/GRU that writes as you watch, with temperature and top-k controls and the
    next character's probabilities as bars. Scripts can call window.charrnn.generate(prime,
    length, {temperature, topK, argmax, seed}) and window.charrnn.logProb(text) on it.

    \b
    Examples:
      charrnn export page.html
      charrnn export -c code.npz code.html --float16 --prime "def "
    """
    from charrnn import files
    from charrnn.chars import list_chars
    from charrnn.cli import console
    from charrnn.errors import UnknownCharacters
    from charrnn.language_model import LanguageModel
    from charrnn.web import page

    refuse_same_files([("the -c checkpoint", checkpoint)], [("OUT.html", "the page", out)])
    model = LanguageModel.load(checkpoint)
    try:
        model.vocab.check(prime, "the prime text", "prime")
    except UnknownCharacters as e:  # no --skip-unknown here: a bad value of --prime
        raise click.BadParameter(f"the model never saw {list_chars(e.chars)}", param_hint="--prime") from None
    title = title or f"charrnn: {checkpoint.name}"  # shown escaped by the page (web.text_page.named)
    dtype = "float16" if float16 else "float32"
    text = page.page(model, title, prime, dtype)
    with output_to("OUT.html"):
        files.write_text(out, text)
    console.message(f"wrote {files.display(out)} ({len(text.encode('utf-8')) / 1e6:.2f} MB, {dtype} weights)")
