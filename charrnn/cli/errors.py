"""From the library's exceptions to the one line the user reads, and its exit code.

The library's exceptions state facts and carry them as attributes (charrnn/errors.py); what to
do about them names command-line flags, so it is said here and nowhere else, with the flags
taken from the one table (options.flag). Interrupts are in interrupts.py.
"""

from __future__ import annotations

from collections.abc import Callable

import click

from charrnn import errors
from charrnn.cli.common import ARGV
from charrnn.cli.options import SHORT, flag
from charrnn.errors import one_line


def _config(e: errors.ConfigError) -> str:
    if e.conflicting:
        return f"{e}: leave out {', '.join(map(flag, e.conflicting))}"
    if e.field is None:
        return str(e)
    if e.requirement is None:  # a setting that does not apply here
        return f"{e}: leave out {flag(e.field)}"
    return f"{flag(e.field)} must be {e.requirement}, not {e.value!r}"


def _resume(e: errors.ResumeMismatch) -> str:
    said = [f"{flag(k)} (it is {old})" for k, (old, _) in e.changes.items()]
    said += ["the vocabulary (the corpus's characters differ from the model's)"] if e.vocab else []
    return (
        f"--resume continues the checkpoint's run exactly; it cannot change {', '.join(said)}; "
        "use --force to train a new model"
    )


UNKNOWN_ADVICE = {  # by what the text is for
    "prime": "remove them or pass --skip-unknown",
    "text": "this view needs a text written in the model's own characters (remove them, or compare "
    "checkpoints with several -c, which skips them)",
    "corpus": "continue on a text written in the model's characters, or use --force to train a new model",
}


def _unknown(e: errors.UnknownCharacters) -> str:
    return f"{e}; {UNKNOWN_ADVICE[e.role]}" if e.role in UNKNOWN_ADVICE else str(e)


def _too_short(e: errors.TooShort) -> str:
    if "span" in e.needed_by:
        return f"{e}; use a longer text or a smaller {flag('span')}"
    window = f"{flag('batch_size')}/{flag('seq_len')}"
    advice = {
        "validation": f"raise {flag('val_fraction')} or use a longer text",
        "training": f"lower {flag('val_fraction')} or use smaller {window}",
    }.get(e.short_of, f"use a longer text or smaller {window}")
    return f"{e}; {advice}"


def _diverged(e: errors.TrainingDiverged) -> str:
    lower = " or ".join(f"{flag(k)} (now {v:g})" for k, v in e.settings.items())
    return f"{e}: lower {lower}"


def _spelled(field: str) -> str:
    """A setting's flag with its short alias, as the user may have typed it: -n/--length."""
    return "/".join([*([SHORT[field]] if field in SHORT else []), flag(field)])


def _resource(e: errors.ResourceError) -> str:
    """Naming, among the settings that drove the memory estimate, those the user gave above their
    defaults (else those given, else those changed, else all)."""
    ctx = click.get_current_context(silent=True)
    argv = ctx.meta.get(ARGV, []) if ctx is not None else []

    def given(flags: str) -> bool:
        return any(a == f or a.startswith(f + "=") for a in argv for f in flags.split("/"))

    settings = list(e.settings)
    given_ones = [k for k in settings if given(_spelled(k))]
    raised = [k for k in given_ones if k not in e.defaults or e.settings[k] > e.defaults[k]]
    named = raised or given_ones or [k for k in settings if e.settings[k] != e.defaults.get(k)] or settings
    if not named:  # it grows with the text alone
        return f"{e}: give a shorter text"
    if named == ["checkpoints"]:  # a count of repeats of -c
        return f"{e}: give fewer {_spelled('checkpoints')}"
    if named == ["show_all"]:  # a switch
        return f"{e}: leave out {flag('show_all')}, or give a shorter text"
    return f"{e}: lower {' or '.join(_spelled(k) for k in named)}"


def _nothing_to_read(e: errors.NothingToRead) -> str:
    advice = []
    if n := e.skipped.get(errors.SEPARATORS_ONLY):
        held = "holds" if n == 1 else "hold"
        advice.append(f"the {flag('document_separator')} is all the text {n:,} of them {held}")
    if "undecodable" in e.skipped:
        advice.append(f"pass {flag('encoding')} to name their encoding, or {flag('decode_errors')} replace")
    return "; ".join([str(e), *advice])


SAYS: dict[type, Callable] = {  # the most specific class of an exception that has an entry wins
    errors.ConfigError: _config,
    errors.ResumeMismatch: _resume,
    errors.ShapeKept: lambda e: (
        "--init-from keeps the model's shape; it cannot change "
        + ", ".join(f"{flag(k)} (it is {old})" for k, (old, _) in e.changes.items())
    ),
    errors.UnknownCharacters: _unknown,
    errors.TooShort: _too_short,
    errors.NothingToRead: _nothing_to_read,
    errors.NoFiles: lambda e: f"{e}; check {flag('include')} and {flag('exclude')}" if e.filtered else str(e),
    errors.TrainingDiverged: _diverged,
    errors.NoByteOrder: lambda e: f"{e}; name it with {flag('encoding')} {e.encoding}-le or {e.encoding}-be",
    errors.UndecodableText: lambda e: (
        f"{e}; pass {flag('encoding')} to name its encoding, or {flag('decode_errors')} replace (or ignore) "
        "to get past bad bytes"
    ),
    errors.CheckpointMissing: lambda e: f"{e}; train one with `charrnn train CORPUS` or pass -c PATH",
    errors.NotResumable: lambda e: f"{e}; use --force to start anew",
    errors.Unrepresentable: lambda e: f"{e}; export it without --float16 (in float32)",
    errors.ResourceError: _resource,
    errors.ReadsBothSides: lambda e: (
        f"{e}; `charrnn fill` and `charrnn inspect score` read a text with it, or train a model without "
        f"{flag('bidirectional')}"
    ),
    errors.GapError: lambda e: f"{e}; {GAP_ADVICE[e.kind]}",
    errors.ReadsOneSide: lambda e: f"{e}: that needs a model trained with {flag('bidirectional')}",
}

GAP_ADVICE = {  # GapError, by kind
    "known": f"choose another gap character with {flag('gap')}",
    "none": f"mark each missing character with {flag('gap')}'s character",
    "long": "split the run, or fill it in parts",
}

CAUTION_ADVICE = {  # Trainer.warnings(), by kind
    "few_windows": "try smaller values",
    "oversized": f"use a smaller {flag('hidden_size')} or fewer {flag('num_layers')}",
    "small_validation": f"raise {flag('val_fraction')} or use a longer corpus",
}


MEMORY_ADVICE = {  # by command (an inspect view by its name): what makes it need less memory
    "train": f"use a smaller {flag('hidden_size')} or fewer {flag('num_layers')}, or a smaller {flag('batch_size')} "
    f"or {flag('seq_len')}",
    "sample": f"use a smaller {_spelled('length')}, or fewer {flag('num_samples')}, {flag('beam')}, "
    f"{flag('best_of')} or {flag('documents')}",
    "score": f"give a shorter text, or a smaller {flag('show')} (or no {flag('show_all')})",
    "neurons": f"give a shorter text, or a smaller {flag('show')} (or no {flag('show_all')})",
    "find-neurons": "give a shorter text",
    "gradients": f"use a smaller {flag('span')} or fewer {flag('positions')}, or fewer checkpoints (-c)",
    "compare": "give a shorter text, or fewer checkpoints (-c)",
    "novelty": "give a shorter text, or a model trained on a smaller corpus",
}


def out_of_memory(command: str | None) -> str:
    """The line for a MemoryError in `command` (an inspect view by its name): the advice that
    applies to it, or none where nothing but the checkpoint's size could be the cause."""
    advice = MEMORY_ADVICE.get(command or "")
    return f"out of memory; {advice}" if advice else "out of memory: the checkpoint is too large for this machine"


def message(e: Exception) -> str:
    """The one line that says `e` to the user: its facts, and what to do, in flags."""
    for cls in type(e).__mro__:
        if cls in SAYS:
            return one_line(SAYS[cls](e))
    return one_line(e)


def caution(c) -> str:
    """A training caution (training.cautions.Caution) with what to do about it."""
    advice = CAUTION_ADVICE.get(c.kind)
    return f"{c}; {advice}" if advice else str(c)


def unknown_option(e: click.NoSuchOption) -> click.NoSuchOption:
    """An unknown option said in one wording whatever click is installed: click 8.4 quotes the
    option and its close matches, click 8.2 and 8.3 do not, and their plurals differ."""
    close = [repr(p) for p in sorted(e.possibilities or ())]
    e.message = f"No such option {e.option_name!r}."
    if close:
        choices = close[0] if len(close) == 1 else f"{', '.join(close[:-1])} or {close[-1]}"
        e.message += f" Did you mean {choices}?"
    e.possibilities = None  # said above
    return e


def as_click(e: errors.CharRNNError) -> click.ClickException:
    """A library error as click shows it: bad option values (ConfigError) are usage errors, exit 2."""
    if isinstance(e, errors.ConfigError):
        return click.UsageError(message(e))
    return click.ClickException(message(e))
