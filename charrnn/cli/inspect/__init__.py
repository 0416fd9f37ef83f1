"""`charrnn inspect`: what a checkpoint holds and, view by view, how its model reads a text.

`charrnn inspect` alone shows the checkpoint's facts (Checkpoint.to_dict()). Each view is a subcommand
in a module of its own here: its click command, its options, and the dataclass its result is,
with one `to_dict()` (its JSON, documented in docs/json.md); its terminal renderer is the module
of the same name in cli/render/ (the facts': cli/render/facts.py), and what the views share
(options, the text, showing a result, the fields their results begin with, the page) is in
view.py. To add a view: write its module on the pattern of score.py, its renderer on the
pattern of cli/render/score.py (`render(result, out)`), list its command in VIEWS below, and
document its JSON.
"""

from __future__ import annotations

import click

from charrnn.cli.common import HelpOnStdout
from charrnn.cli.inspect import compare, find_neurons, gradients, neurons, novelty, score, typos, view
from charrnn.cli.options import checkpoint_option

VIEWS = (
    score.score,
    typos.typos,
    neurons.neurons,
    find_neurons.find_neurons,
    gradients.gradients,
    compare.compare,
    novelty.novelty,
)


class Views(HelpOnStdout, click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # in VIEWS order, not alphabetical


@click.group(
    "inspect",
    cls=Views,
    invoke_without_command=True,
    short_help="Show what a checkpoint holds, or how its model reads a text.",
)
@checkpoint_option("Checkpoint file to read; the views that compare models take several.", multiple=True)
@click.option("--json", "as_json", is_flag=True, help="Print the facts as one JSON object (docs/json.md).")
@click.pass_context
def inspect(ctx, checkpoints, as_json):
    """Show a checkpoint's model, vocabulary, corpus and learning curve; its views (the commands
    below) show how the model reads a text. -c and --json given here apply to the view too.

    \b
    Examples:
      charrnn inspect
      charrnn inspect -c notes.npz --json | jq .training
      charrnn inspect score passage.txt
      echo "To be, or not to be" | charrnn inspect score -
      charrnn inspect neurons held_out.txt --unit 0:42 --cell-state
      charrnn inspect find-neurons held_out.txt
      charrnn inspect gradients held_out.txt -c rnn.npz -c lstm.npz
      charrnn inspect compare passage.txt -c shakespeare.npz -c code.npz
      charrnn inspect score passage.txt --html page.html
      charrnn inspect novelty sample.txt
    """
    if ctx.invoked_subcommand is not None:
        return
    from charrnn import checkpoint as ckpt_io
    from charrnn.cli.render.facts import render
    from charrnn.cli.views import Facts

    if len(checkpoints) > 1:
        raise click.UsageError("inspect alone shows one checkpoint: give -c once (compare and gradients take several)")
    ckpt = ckpt_io.load(checkpoints[0])
    view.show(Facts(ckpt.to_dict(checkpoints[0]), ckpt.model), as_json, render)


for command in VIEWS:
    inspect.add_command(command)
