"""What every `inspect` view shares: its options, the text it reads, and showing its result.

A view's command reads its checkpoint(s) and its text, computes its result as a dataclass with
one `to_dict()` (its JSON, documented in docs/json.md) and hands it to `show` with the
renderer that draws it in the terminal (cli/render/). The results are cli/views.py's, which
the renderers import too.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from charrnn.cli import streams
from charrnn.cli.common import VIEW, HelpOnStdout, file_option, output_to, quiet_broken_pipe
from charrnn.cli.options import checkpoint_option, config_options, read_options

if TYPE_CHECKING:
    from charrnn.cli.views import Result


class View(HelpOnStdout, click.Command):
    """A view's command. `charrnn inspect -c m.npz score T` is `charrnn inspect score T -c m.npz`:
    an option of the group given before the view's name is the view's too (a view of several
    checkpoints takes every -c given before its name, then those after it). Merged once every option is parsed: click sets where a value came
    from only after the option's callback (before 8.5), so a callback cannot ask."""

    def invoke(self, ctx: click.Context) -> Any:
        ctx.meta[VIEW] = self.name
        parent = ctx.parent
        if parent is not None:
            for name in ("as_json", "checkpoint", "checkpoints"):
                if name in ctx.params:
                    _given_before_the_view(ctx, parent, name)
        return super().invoke(ctx)


def _given_before_the_view(ctx: click.Context, parent: click.Context, name: str) -> None:
    group_name = "checkpoints" if name.startswith("checkpoint") else name
    if parent.get_parameter_source(group_name) is not ParameterSource.COMMANDLINE:
        return
    given_here = ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE
    if name == "as_json":
        ctx.params[name] = True
        return
    here = () if not given_here else ctx.params[name] if name == "checkpoints" else (ctx.params[name],)
    paths = (*parent.params[group_name], *here)
    if name == "checkpoints":
        ctx.params[name] = paths
    elif len(paths) > 1:
        raise click.UsageError("this view reads one checkpoint: give -c once, before or after the view's name", ctx)
    else:
        ctx.params[name] = paths[0]


json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print the result as one JSON object (its fields: docs/json.md)."
)
one_checkpoint = checkpoint_option()
several_checkpoints = checkpoint_option("A checkpoint to read; repeat it for each model.", multiple=True)
html_option = file_option(
    "--html",
    "PAGE",
    "Also write a self-contained HTML page of the text: its colours, and hover for the model's alternatives.",
    name="html_path",
)


PROGRESS_FROM = 100_000  # characters: a shorter text is read in seconds, without a bar


def shown_options(command: Callable) -> Callable:
    """--show N and --all: how much of the text a view shows (and gives one by one in --json)."""
    from charrnn.config import ShowConfig

    return config_options(ShowConfig)(command)


def chars_kept(
    text: str, show: int, show_all: bool, html_path: Path | None, numbers: int = 1, first: int = 1
) -> int | None:
    """The characters whose numbers one pass keeps: those shown, and those the page shows, from
    position `first` on (scoring.first_predicted); refused first if `numbers` for each of them
    (surprisal, a unit's value) would not fit."""
    from charrnn import budget
    from charrnn.web import text_page

    n = len(text) if show_all else min(len(text), max(show, text_page.MAX_CHARS if html_path else 0))
    budget.check_kept(len(text), n, numbers, {"show_all": True} if show_all else {"show": show})
    return None if show_all else n - first


@contextmanager
def progress(text: str):
    """The observers that draw a progress bar on stderr while a long text is read (none for a
    short text, and the bar is off when stderr is not a terminal)."""
    from charrnn.cli import console

    if len(text) < PROGRESS_FROM:
        yield ()
        return
    with console.progress_bar(len(text), 0, " chars", quiet=False, desc="reading") as bar:
        yield (lambda first, surprisal: bar.update(first + len(surprisal) - bar.n),)


def text_argument(command: Callable) -> Callable:
    """TEXT, and how to decode it."""
    for decorator in reversed(
        [
            click.argument("text_path", metavar="TEXT", type=click.Path(exists=True, dir_okay=False, allow_dash=True)),
            read_options,
        ]
    ):
        command = decorator(command)
    return command


def text_from(text_path: str, encoding: str, decode_errors: str) -> str:
    from charrnn import budget, files
    from charrnn.data.corpus import read_text

    source = streams.stdin_bytes() if text_path == "-" else text_path
    text = read_text(source, budget.text_chars_max(), encoding, decode_errors)
    if not text:  # every view reads a text: none of them has anything to say of no text
        named = text_name(text_path, lambda p: f"the text {files.display(p)}")
        raise click.ClickException(f"{named} is empty: there is no text to read; give a text")
    return text


def load_models(paths) -> list[tuple[str, Any]]:
    """(name, LanguageModel) of each checkpoint, loaded one after another and refused (before the
    work) once the models held at once would not fit in memory: those loaded, and as many again
    of the last one's size for each still to load. A model keeps only its weights."""
    from charrnn import budget
    from charrnn.language_model import LanguageModel

    models, held = [], 0
    for k, path in enumerate(paths):
        model = LanguageModel.load(path)
        size = sum(a.nbytes for a in model.params.values())
        held += size
        budget.check_models(len(paths), held + (len(paths) - 1 - k) * size)
        models.append((str(path), model))
    return models


def text_name(text_path: str, named: Callable[[str], str] = str) -> str:
    """The text as the user knows it: standard input, or its file's path in the form `named` gives."""
    return "standard input" if text_path == "-" else named(text_path)


def show(result: Result, as_json: bool, render: Callable[[Any, Any], None], page: Path | None = None) -> None:
    """The result on stdout: as JSON, or drawn by its renderer (`render(result, console)`, one of
    cli/render/); then, on stderr, the page written."""
    from charrnn import files
    from charrnn.cli import console

    with quiet_broken_pipe():
        if as_json:
            write_json(result.to_dict(), sys.stdout.write)
            sys.stdout.write("\n")
            sys.stdout.flush()
        else:
            render(result, console.console())
    if page is not None:
        console.message(f"wrote {files.display(page)}")


def write_json(value: Any, write: Callable[[str], Any], chunk: int = 4096) -> None:
    """value as JSON (streams.json_line's strict JSON), a NumPy array a chunk at a time: a text's
    per-character numbers are written without first becoming a Python list as long as the text."""
    import numpy as np

    from charrnn.cli.streams import json_line

    if isinstance(value, np.ndarray):
        write("[")
        for i in range(0, len(value), chunk):
            write((", " if i else "") + json_line(value[i : i + chunk].tolist())[1:-1])
        write("]")
    elif isinstance(value, dict):
        write("{")
        for i, (key, item) in enumerate(value.items()):
            write(("" if i == 0 else ", ") + json_line(key) + ": ")
            write_json(item, write, chunk)
        write("}")
    elif isinstance(value, list):
        write("[")
        for i, item in enumerate(value):
            write("" if i == 0 else ", ")
            write_json(item, write, chunk)
        write("]")
    else:
        write(json_line(value))


def check_page(path: Path | None) -> None:
    """Refuse now, before the work, a page that would replace one of the command's inputs."""
    from charrnn import files

    if path is not None:
        with output_to("--html"):
            files.check_target(path, in_place=True)


def write_page(path: Path, name: str, ckpt, text: str, text_path: str, reading, neuron_label: str | None = None) -> str:
    """The HTML page of a text as one pass read it (`reading`, with predictions for the page's
    characters, and a unit's values when neuron_label names it); returns the path written."""
    from charrnn import files
    from charrnn.cli.render.score import counts
    from charrnn.nn.functional import bits
    from charrnn.nn.model import num_params
    from charrnn.web import text_page

    record, score = ckpt.record, reading.score
    best = record.best_val_loss
    rows = [
        ("checkpoint", name),
        ("model", ckpt.model.describe(num_params(ckpt.params))),
        (
            "trained on",
            f"{record.corpus.name or '?'}: {record.step:,} steps"
            + ("" if best is None else f", best validation {bits(best):.3f} bits/char"),
        ),
        ("this text", f"{text_name(text_path)}: {counts(score)}, {score.bits_per_char:.4f} bits/char"),
    ]
    neuron = None if neuron_label is None else text_page.NeuronColouring(neuron_label, reading.values)
    source = text_name(text_path, lambda p: Path(p).name)
    html_page = text_page.page(
        text,
        reading.predictions,
        ckpt.vocab.chars,
        title=f"charrnn: {Path(name).name} reads {source}",
        facts=rows,
        history=ckpt.to_dict(name)["history"],  # the learning curve in bits, as inspect --json gives it
        neuron=neuron,
    )
    with output_to("--html"):
        files.write_text(path, html_page)
    return str(path)
