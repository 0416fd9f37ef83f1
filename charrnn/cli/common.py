"""What the commands share: parameter types, exit codes for signals, and the guards around
writing files and the product on stdout. The options several commands share are in options.py."""

from __future__ import annotations

import math
import os
import re
import shlex
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import click

from charrnn.cli import streams
from charrnn.errors import one_line

DEFAULT_CHECKPOINT = "charrnn.npz"  # in the current directory, for all three commands
ARGV = "charrnn.argv"  # the key in click's ctx.meta under which the group keeps the arguments as typed
VIEW = "charrnn.view"  # ... and under which an inspect view keeps its name, for the messages said after it ends


class _SaysWhatIsNoNumber:
    """Click's range types say of what is no number "'x' is not a valid float range" (or integer
    range), which reads as if a range were asked: this says that it is no number of the kind wanted."""

    parse: Callable[[str], object]
    kind: str

    def convert(self, value, param, ctx):
        if isinstance(value, str):
            try:
                self.parse(value)
            except ValueError:
                self.fail(f"{value!r} is not {self.kind}", param, ctx)
        return super().convert(value, param, ctx)


class Real(_SaysWhatIsNoNumber, click.FloatRange):
    """A FloatRange that also refuses nan and inf (nan passes every range check)."""

    parse, kind = float, "a number"

    def convert(self, value, param, ctx):
        rv = super().convert(value, param, ctx)
        if not math.isfinite(rv):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return rv


class Whole(_SaysWhatIsNoNumber, click.IntRange):
    """An IntRange that says of what is no whole number ('1e3', '2.5') that it is none."""

    parse, kind = int, "a whole number"


class Duration(click.ParamType):
    """90s, 10m, 1h30m, 1.5h -> seconds. Every number needs its unit: a bare 10 could mean ten
    seconds or ten minutes, and guessing wrong wastes a run."""

    name = "duration"
    UNITS = {"h": 3600, "m": 60, "s": 1}
    EXAMPLES = "write it like 90s, 10m or 1h30m"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)):
            return float(value)
        text = str(value).strip().lower()
        parts = re.findall(r"(\d+(?:\.\d+)?)\s*([hms]?)", text)
        if not parts or re.sub(r"\d+(?:\.\d+)?\s*[hms]?", "", text).strip():
            self.fail(f"{value!r} is not a duration; {self.EXAMPLES}", param, ctx)
        if bare := [n for n, u in parts if not u]:
            where = "" if len(parts) == 1 else f" after {bare[0]}"
            self.fail(
                f"{value!r} has no unit{where}: write {bare[0]}s for seconds or {bare[0]}m for minutes", param, ctx
            )
        seconds = sum(float(n) * self.UNITS[u] for n, u in parts)
        if not math.isfinite(seconds):
            self.fail(f"{value!r} is too long; {self.EXAMPLES}", param, ctx)
        if seconds <= 0:
            self.fail(f"{value!r} must be longer than zero", param, ctx)
        return seconds

    @staticmethod
    def show(seconds: float) -> str:
        """Seconds as the help shows a default (and as this type reads back): 10m 00s."""
        from charrnn.cli.console import format_duration

        return format_duration(seconds)


HINTS = {  # what to do when the writer refuses a path the user gave with an option
    "no-space": "free some space or choose another path with {option}",
    "appeared": "another program wrote it meanwhile and it was left alone; choose another path with {option}",
    "replaced": "another program replaced it meanwhile and it was left alone; choose another path with {option}",
}


@contextmanager
def output_to(option: str):
    """Writing a file the user named with `option`: the writer's refusal (charrnn/files/), said with it."""
    from charrnn.errors import OutputError

    try:
        yield
    except OutputError as e:
        hint = HINTS.get(e.kind, "choose another path with {option}").format(option=option)
        raise click.ClickException(f"{one_line(e)}; {hint}") from None


@contextmanager
def checkpoint_given_by(option: str, purpose: str):
    """Reading a checkpoint named with `option` (--init-from, --judge; -c has errors.SAYS's advice):
    a missing, damaged or foreign file is said with the option that gave it and what it is for."""
    from charrnn.errors import CheckpointError, CheckpointMissing
    from charrnn.files import display

    try:
        yield
    except CheckpointMissing as e:
        raise click.UsageError(f"{option} {display(e.path)}: there is no checkpoint there {purpose}") from None
    except CheckpointError as e:
        raise click.ClickException(f"{one_line(e)}; give {option} a charrnn checkpoint {purpose}") from None


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file: by device and inode where both exist (a hard link, a
    symbolic link), else by resolved path (a file that neither run has made yet)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def refuse_same_files(inputs: list[tuple[str, Path | str | None]], outputs: list[tuple[str, str, Path | None]]) -> None:
    """Refuse now, before any work, an output of a command that names the same file as one of its
    inputs or as an output before it. `inputs`: (what it is, its path or None: not given);
    `outputs`: (the option that gave it, what it is, its path or None)."""
    from charrnn.files import display

    named = [(what, p) for what, p in inputs if p is not None and p != "-"]
    for flag, output, path in outputs:
        if path is None:
            continue
        for what, earlier in named:
            if same_file(path, earlier):
                also = "" if os.fspath(path) == os.fspath(earlier) else f" {display(earlier)}"
                raise click.UsageError(f"{flag} {display(path)} is {what}{also} itself; choose another file for {flag}")
        named.append((output, path))


def command_line(without: tuple[str, ...] = (), adding: tuple[str, ...] = ()) -> str:
    """The command the user typed, shell-quoted to be pasted back, less `without` and with `adding`.

    `charrnn train "my notes.txt" --force` with without=("--force",), adding=("--resume",) gives
    `charrnn train 'my notes.txt' --resume`.
    """
    ctx = click.get_current_context()
    args = [a for a in ctx.meta.get(ARGV, [ctx.info_name]) if a not in without]
    args += [a for a in adding if a not in args]
    return shlex.join([ctx.find_root().info_name, *args])


@contextmanager
def quiet_broken_pipe():
    """Writing the product to stdout: when the reader goes away (`charrnn sample | head`), stop
    quietly with exit 0; when stdout's encoding cannot carry the text, say how to fix it."""
    try:
        yield
    except BrokenPipeError:
        streams.reader_gone()
    except UnicodeEncodeError as e:
        raise click.ClickException(
            f"standard output ({e.encoding}) cannot encode {e.object[e.start : e.end]!r}; "
            "use a UTF-8 locale or set PYTHONIOENCODING=utf-8"
        ) from None
    except OSError as e:  # a full disk, a closed stdout: the product is lost, and that is an error
        streams.finish()  # drops stdout so the final flush cannot fail again
        raise click.ClickException(f"cannot write to standard output: {e.strerror or e}") from None
    streams.finish()


class HelpOnStdout:
    """A command whose --help (and --version) is written as a product is (quiet_broken_pipe): a
    full or closed stdout is one error line naming it, a reader that has gone ends it quietly.
    The help is written while the arguments are parsed, before the command runs."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        with quiet_broken_pipe():
            return super().parse_args(ctx, args)


class Command(HelpOnStdout, click.Command):
    """Every command's class (a group's: HelpOnStdout and click.Group)."""


def training_index(ckpt, corpus_path: Path | None):
    """The novelty index of the corpus the checkpoint was trained on (analysis/novelty.py)."""
    from charrnn.analysis import novelty
    from charrnn.errors import NotTheTrainingCorpus

    try:
        corpus = novelty.training_corpus(ckpt.record.corpus, corpus_path)
    except NotTheTrainingCorpus as e:
        hint = "; give --corpus the corpus it was trained on" if corpus_path else "; give its path with --corpus PATH"
        raise click.ClickException(f"{one_line(e)}{hint}") from None
    return novelty.CorpusIndex(corpus.ids, corpus.vocab.chars), corpus


def file_option(flag: str, metavar: str, help: str, name: str | None = None):
    """An option naming one file (never a directory) that the command reads or writes: --judge,
    --init-from, --log, --html. Existence is checked where the file is opened, with the command's
    own message."""
    decls = (flag, name) if name else (flag,)
    return click.option(*decls, type=click.Path(dir_okay=False, path_type=Path), metavar=metavar, help=help)


corpus_option = click.option(
    "--corpus",
    "corpus_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The training corpus, if not at the path the checkpoint records (checked by its SHA-256).",
)
