"""`charrnn fill TEXT`: the text on stdout with every gap filled (generation/fill.py)."""

from __future__ import annotations

import sys

import click

from charrnn.cli.common import Command, quiet_broken_pipe
from charrnn.cli.options import checkpoint_option, config_options, read_options
from charrnn.config import FillConfig


@click.command(cls=Command, short_help="Fill the gaps of a text, each with its likeliest character.")
@click.argument("text_path", metavar="TEXT", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@checkpoint_option()
@config_options(FillConfig)
@read_options
@click.option(
    "--json", "as_json", is_flag=True, help="Print the filled text and each gap's choice as JSON (docs/json.md)."
)
def fill(text_path, checkpoint, gap, beam, encoding, decode_errors, as_json):
    """Write TEXT (- for standard input) with every gap filled: each gap character (_ unless
    --gap says another) stands for one missing character, and a run of gaps is filled jointly,
    by beam search over the run. Nothing outside the gaps changes, and no gap becomes a line
    break. A model trained with --bidirectional reads both sides of each gap in one pass; a
    left-to-right model ranks its candidates by the probability of the text after them too,
    reading that text once for each (docs/bidirectional.md).

    \b
    Examples:
      echo "To be, or not to b_, that is the qu_stion" | charrnn fill - -c both.npz
      charrnn fill damaged.txt --gap '#' --json | jq '.gaps[] | [.position, .char, .probability]'
    """
    from charrnn.cli.inspect import view
    from charrnn.cli.streams import json_line
    from charrnn.generation import fill as filling
    from charrnn.language_model import LanguageModel

    cfg = FillConfig(gap=gap, beam=beam)
    model = LanguageModel.load(checkpoint)
    text = view.text_from(text_path, encoding, decode_errors)
    result = filling.fill(model, text, cfg.gap, cfg.beam)
    with quiet_broken_pipe():
        if as_json:
            gaps = [g.to_dict() for g in result.gaps]
            kind = "both sides" if model.cfg.bidirectional else "left to right"
            record = {"checkpoint": str(checkpoint), "text": text_path, "gap": cfg.gap, "reads": kind}
            sys.stdout.write(json_line({**record, "filled": result.text, "gaps": gaps}) + "\n")
        else:
            sys.stdout.write(result.text)
        sys.stdout.flush()
