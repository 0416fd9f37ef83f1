"""What every `inspect` view shares: its options, the text it reads, and showing its result.

A view's command reads its checkpoint(s) and its text, computes its result as a dataclass with
one `to_dict()` (its JSON, documented in docs/json.md) and hands it to `show` with the
renderer that draws it in the terminal (cli/render/). The results are cli/views.py's, which
the renderers import too.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
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


class TextRead:
    """The text of a view that shows it character by character (score, neurons), as one pass
    reads it. With --all every character's numbers are kept, and so the text is: it is read
    whole (text_from, up to what memory can hold). Otherwise it is read as it comes (TextStream),
    keeping only its first characters (those shown and those a page shows), in memory that does
    not grow with it, and an endless pipe is read until it ends or a signal stops it. Ctrl-C,
    SIGTERM or SIGHUP then ends the pass between two windows, or at once while it waits for a
    pipe (`stopped` is the signal); a second one stops at once.

        with view.TextRead(text_path, encoding, decode_errors, show, show_all, html_path) as t:
            reading = scoring.read(model, t.source, keep=t.keep, observe=(*t.observers, ...))
        view.show(...); t.say_stopped(reading)
    """

    def __init__(self, text_path, encoding, decode_errors, show, show_all, html_path, numbers=1, first=1):
        from charrnn import budget
        from charrnn.data.corpus import TextStream
        from charrnn.web import text_page

        self.text_path, self.show, self.show_all = text_path, show, show_all
        self.stopped, self.stream, self._bar, self._old = None, None, None, {}
        if show_all:
            self.source = text_from(text_path, encoding, decode_errors)
            self.keep = chars_kept(self.source, show, show_all, html_path, numbers, first)
            self.wanted = self._have = len(self.source)
            self._first = [self.source]
            return
        self.wanted = max(show, text_page.MAX_CHARS if html_path else 0)  # the first characters kept
        budget.check_kept(self.wanted, self.wanted, numbers, {"show": show})
        self.stream = TextStream(streams.stdin_bytes() if text_path == "-" else text_path, encoding, decode_errors)
        self.source, self.keep, self._first, self._have = self._pieces(), self.wanted - first, [], 0

    def _pieces(self):
        """The stream's pieces, until a signal stops the pass; an empty one is said to be empty,
        as text_from says it."""
        from charrnn.analysis.scoring import Enough

        empty = True
        for piece in self.stream:
            empty = False
            yield piece
            if self.stopped is not None:  # a model of both sides reads it all before its first window
                raise Enough
        if empty:
            raise click.ClickException(_empty(self.text_path))

    def __enter__(self) -> TextRead:
        from charrnn.cli.interrupts import SIGNAL_EXIT

        if self.stream is not None:
            for s in SIGNAL_EXIT:
                if signal.getsignal(s) is not signal.SIG_IGN:  # ignored when charrnn started (nohup): still ignored
                    self._old[s] = signal.signal(s, self._on_signal)
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.close()
        for s, h in self._old.items():
            signal.signal(s, h)

    def _on_signal(self, signum, frame) -> None:
        from charrnn.analysis.scoring import Enough

        if self.stopped is not None:
            raise KeyboardInterrupt  # the user insists
        self.stopped = signum
        # stop now while waiting for a pipe's bytes, or while nothing is scored yet, so nothing
        # kept is half-updated (a model of both sides reads the whole text before its first window)
        if self.stream.waiting or not self._have:
            raise Enough

    @property
    def observers(self) -> tuple:
        """Those that keep the first characters, draw the bar and end the pass on a signal."""
        return (self._keep_first, self._draw, self._stop)

    def _keep_first(self, first: int, surprisal, chars: str) -> None:
        begin = first + len(surprisal) - len(chars)  # chars is text[begin : first + len(surprisal)]
        if self._have < self.wanted:
            self._first.append(chars[self._have - begin : self.wanted - begin])
            self._have += len(self._first[-1])

    def _draw(self, first: int, surprisal, chars: str) -> None:
        from charrnn.cli import console

        if self.stream is None:
            done, total, unit = first + len(surprisal), len(self.source), " chars"
        else:
            done, total, unit = self.stream.n_bytes, self.stream.size, " bytes"
        if self._bar is None and done >= PROGRESS_FROM and (total is None or total >= PROGRESS_FROM):
            self._bar = console.progress_bar(total, 0, unit, quiet=False, desc="reading")
        if self._bar is not None:
            self._bar.update(done - self._bar.n)

    def _stop(self, *window) -> None:
        from charrnn.analysis.scoring import Enough

        if self.stopped is not None:
            raise Enough

    @property
    def first(self) -> str:
        """The text's first characters: those shown and those a page shows (all of them, --all)."""
        return "".join(self._first)

    def shown(self) -> str:
        """The characters shown: all of them with --all, else the first --show."""
        return self.first if self.show_all else self.first[: self.show]

    def say_stopped(self, reading) -> None:
        """On a signal, say how far the pass went and stop the shell's way (after the result is
        shown, or before, when no character was scored: then there is none)."""
        from charrnn.cli.interrupts import interrupted

        score = reading.score
        if self.stopped is None:
            return
        if score.chars:
            interrupted(self.stopped, f"Interrupted: the totals are those of the first {score.length:,} characters.")
        if score.first_scored == 0:  # a model of both sides
            interrupted(
                self.stopped,
                "Interrupted before any character was scored: a model of both sides reads the whole text, "
                "from its end too, before it scores its first character.",
            )
        interrupted(self.stopped, "Interrupted before any character was scored.")


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
    """The whole text, up to what this machine's memory can hold (a view that holds its text)."""
    from charrnn import budget
    from charrnn.data.corpus import read_text

    source = streams.stdin_bytes() if text_path == "-" else text_path
    text = read_text(source, budget.text_chars_max(), encoding, decode_errors)
    if not text:  # every view reads a text: none of them has anything to say of no text
        raise click.ClickException(_empty(text_path))
    return text


def _empty(text_path: str) -> str:
    from charrnn import files

    named = text_name(text_path, lambda p: f"the text {files.display(p)}")
    return f"{named} is empty: there is no text to read; give a text"


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
    characters, and a unit's values when neuron_label names it; `text`: at least the page's
    characters, the text's first); returns the path written."""
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
        length=score.length,
    )
    with output_to("--html"):
        files.write_text(path, html_page)
    return str(path)
