"""The exceptions charrnn raises. The CLI turns each into one line on stderr and an exit code."""

from __future__ import annotations

from typing import Any

from charrnn.chars import list_chars


def one_line(e: Exception) -> str:
    """An exception's message on one line (a library's message may hold newlines)."""
    return " ".join(str(e).split())


class CharRNNError(Exception):
    """Base class: something the user can fix. The message states the facts, and the attributes
    of each subclass carry them, so that a front end (cli/errors.py) can add its own advice."""


class ConfigError(CharRNNError, ValueError):
    """An option value or combination of values that cannot work.

    `field`, `value` and `requirement` say which config field was refused, when one was; a
    `field` without a requirement is a setting that does not apply here and must be left out.
    `conflicting` names the fields that cannot be given together with the rest, to be left out.
    """

    def __init__(
        self,
        message: str,
        field: str | None = None,
        value: Any = None,
        requirement: str | None = None,
        conflicting: tuple[str, ...] = (),
    ):
        super().__init__(message)
        self.field, self.value, self.requirement = field, value, requirement
        self.conflicting = conflicting

    @classmethod
    def invalid(cls, field: str, value: Any, requirement: str) -> ConfigError:
        return cls(f"{field} must be {requirement}, not {value!r}", field, value, requirement)


class DataError(CharRNNError):
    """A corpus or text that cannot be read, decoded or used."""


class UnknownCharacters(DataError):
    """A text with characters that the model's vocabulary lacks: `chars`, sorted; `what` the text
    is, in words; `role` what it is for: "text" (to read), "prime" (to start from), "corpus" (to
    train on)."""

    def __init__(self, chars: list[str], what: str = "the text", role: str = "text"):
        super().__init__(f"{what} has characters the model never saw: {list_chars(chars)}")
        self.chars, self.what, self.role = chars, what, role


class TooShort(DataError):
    """A text shorter than a computation needs: it has `length` characters and needs `least`.

    `needed_by` names the config fields that set the need, with their values (batch_size,
    seq_len and val_fraction for training; span for the gradient reach); `short_of` says what is
    missing: "corpus" (too few characters in all), "training" or "validation" (a split too small).
    """

    def __init__(self, message: str, length: int, least: int, needed_by: dict, short_of: str = "corpus"):
        super().__init__(message)
        self.length, self.least, self.needed_by, self.short_of = length, least, needed_by, short_of


class GapError(DataError):
    """A text `fill` cannot fill: `kind` "known" (the gap character is one the model knows as a
    real character), "none" (the text has no gap), "long" (a run of `length` gaps at `position`,
    longer than `bound`)."""

    SAYS = {
        "known": "the gap character {gap!r} is a character the model knows, so a gap could not be told from it",
        "none": "the text has no gap ({gap!r}) to fill",
        "long": "the text has {length:,} gaps in a row at position {position:,}; a run of at most {bound:,} is filled",
    }

    def __init__(self, kind: str, gap: str, position: int = 0, length: int = 0, bound: int = 0):
        super().__init__(self.SAYS[kind].format(gap=gap, position=position, length=length, bound=bound))
        self.kind, self.gap, self.position, self.length, self.bound = kind, gap, position, length, bound


class TextTooLong(DataError):
    """A text longer than `max_chars`, the most this machine's memory can hold of a text read
    whole; `why`, if given, says why this one must be (a model of both sides)."""

    def __init__(self, max_chars: int, why: str = ""):
        because = f" ({why})" if why else ""
        super().__init__(
            f"the text is longer than {max_chars:,} characters, more than this machine's memory can hold "
            f"to read it whole{because}; give a shorter text"
        )
        self.max_chars, self.why = max_chars, why


class UndecodableText(DataError):
    """Bytes that are not valid in the text's encoding, at a byte offset."""

    def __init__(self, message: str, encoding: str, offset: int):
        super().__init__(message)
        self.encoding, self.offset = encoding, offset


class NoByteOrder(UndecodableText):
    """UTF-16 or UTF-32 without a byte-order mark: which of its two byte orders is not known."""


class Unrepresentable(DataError):
    """A weight beyond the range of the type it was to be stored in: the largest in magnitude,
    `value`, of the tensor `name`, against `largest`, the type's (`dtype`) largest finite value."""

    def __init__(self, name: str, value: float, dtype: str, largest: float):
        super().__init__(f"the weight {value:.6g} in {name} is beyond {dtype}'s range (its largest is {largest:,g})")
        self.name, self.value, self.dtype, self.largest = name, value, dtype, largest


class NoFiles(DataError):
    """Folders with no file to read: `paths`, as given; `filtered`, whether include or exclude
    patterns left out what they hold."""

    def __init__(self, paths: list[str], filtered: bool):
        what = " matching the include and exclude patterns" if filtered else ""
        super().__init__(f"no files{what} in {', '.join(paths)}: nothing to train on")
        self.paths, self.filtered = paths, filtered


SEPARATORS_ONLY = "separator-only"  # the reason a file whose text is all separators is skipped: no document in it


class NothingToRead(DataError):
    """A selection of `files` files none of which holds text to learn from: `skipped`, how many of
    them were left out by each reason (data/sources.py's Skipped)."""

    def __init__(self, files: int, skipped: dict[str, int], encoding: str):
        said = ", ".join(f"{n:,} {reason}" for reason, n in skipped.items())
        super().__init__(f"none of the {files:,} files could be read as {encoding} text to learn from ({said})")
        self.files, self.skipped, self.encoding = files, skipped, encoding


class CorpusChanged(DataError):
    """A corpus file that changed while it was read (between the reader's two passes): `name`."""

    def __init__(self, name: str):
        super().__init__(f"the corpus file {name} changed while it was being read; train again once it is complete")
        self.name = name


class NotTheTrainingCorpus(DataError):
    """The training corpus a checkpoint records is not where it says, or a file is not that corpus."""


class NoRoom(DataError):
    """The temporary directory cannot hold what a corpus needs there, found before it is full.

    Facts: `what` (a copy of a stream, or the corpus's ids) would need `needed` bytes in
    `directory`, which has `left` bytes free; `read` bytes of the source were read (-1: not a
    stream being copied). The reason is `reason`, the system's own words when it gave some.
    """

    def __init__(self, what: str, directory: str, needed: int = -1, left: int = -1, read: int = -1, reason: str = ""):
        if read >= 0:
            said = (
                f"{what} does not end, or is too long to copy: {_size(read)} read into {directory}, which has "
                f"{_size(max(left, 0))} left (room is kept for its ids and to spare); set TMPDIR to a directory "
                "with more room, or give a finite corpus"
            )
        else:
            cause = reason or f"it needs {_size(needed)} and {_size(max(left, 0))} is free"
            said = (
                f"cannot keep {what} in {directory}: {cause}; free some space there or set TMPDIR to another directory"
            )
        super().__init__(said)
        self.what, self.directory, self.needed, self.left, self.read, self.reason = (
            what,
            directory,
            needed,
            left,
            read,
            reason,
        )


class WrongKindOfModel(CharRNNError):
    """A model asked to do what only the other kind can: `use` says what, in words."""

    SAYS = "{use}"

    def __init__(self, use: str):
        super().__init__(self.SAYS.format(use=use))
        self.use = use


class ReadsBothSides(WrongKindOfModel):
    """A model that reads both sides of each character (nn/both_sides.py) asked to write text, or
    to show its reading from the left."""

    SAYS = "the model reads both sides and cannot write, so it cannot {use}"


class ReadsOneSide(WrongKindOfModel):
    """A left-to-right model asked to do what needs a model that reads both sides."""

    SAYS = "the model reads only from the left, so it cannot {use}"


class CheckpointError(CharRNNError):
    """A checkpoint that is missing, damaged, foreign or from an incompatible version."""


class CheckpointMissing(CheckpointError):
    """No checkpoint at `path`."""

    def __init__(self, path):
        super().__init__(f"no checkpoint at {path}")
        self.path = path


class NotResumable(CheckpointError):
    """A checkpoint that lacks the training state needed to continue it: `missing` says which."""

    def __init__(self, missing: str):
        super().__init__(f"the checkpoint cannot be resumed (it lacks training state: {missing})")
        self.missing = missing


class ResumeMismatch(ConfigError):
    """Settings that resuming cannot change: `changes` maps each config field to (the checkpoint's
    value, the value asked for); `vocab` is True when the corpus's characters differ."""

    def __init__(self, changes: dict[str, tuple[Any, Any]], vocab: bool = False):
        said = [f"{k} (it is {old}, not {new})" for k, (old, new) in changes.items()]
        said += ["the vocabulary (the corpus's characters differ)"] if vocab else []
        super().__init__(f"resuming continues the checkpoint's run exactly; it cannot change {', '.join(said)}")
        self.changes, self.vocab = changes, vocab


class ShapeKept(ConfigError):
    """A fine-tuning run asked for another shape than its model's: `changes` maps each config
    field to (the model's value, the value asked for)."""

    def __init__(self, changes: dict[str, tuple[Any, Any]]):
        said = [f"{k} (it is {old}, not {new})" for k, (old, new) in changes.items()]
        super().__init__(f"fine-tuning keeps the model's shape; it cannot change {', '.join(said)}")
        self.changes = changes


class TrainingDiverged(CharRNNError):
    """The loss became NaN or far worse than guessing: the learning rate or clip is too high.

    `which` loss ("training" or "validation"), its value `loss` (nats/char, maybe NaN), the `step`,
    the `untrained` loss for comparison and the `settings` in force (lr, grad_clip).
    """

    def __init__(self, which: str, loss: float, step: int, untrained: float, settings: dict[str, float]):
        what = "became NaN" if loss != loss else f"exploded to {loss:.3g} nats/char"
        super().__init__(f"the {which} loss {what} at step {step} (an untrained model has {untrained:.2f})")
        self.which, self.loss, self.step, self.untrained, self.settings = which, loss, step, untrained, settings


class OutputError(CharRNNError):
    """A file that must not or cannot be written: `path` and `kind` say which and why.

    kind: input (a file the command reads), directory, not-regular, no-directory, permission,
    appeared (a new file's name was taken meanwhile), replaced (an updated file was replaced
    meanwhile), no-space, os.
    """

    def __init__(self, message: str, path, kind: str = "os"):
        super().__init__(message)
        self.path, self.kind = path, kind


class CheckpointWriteError(CheckpointError, OutputError):
    """An OutputError while saving a checkpoint."""


class ParallelError(CharRNNError):
    """Training on several workers cannot start: MPI or mpi4py is missing or failed."""


class KernelError(CharRNNError):
    """The kernels asked for (`asked`, the value of the environment variable that chooses them)
    cannot run: an unknown name, or numba's where numba cannot be imported."""

    def __init__(self, message: str, asked: str):
        super().__init__(message)
        self.asked = asked


class ResourceError(CharRNNError):
    """A command that would need more memory than this machine has, refused before allocating.

    Facts: `what` would need `needed` bytes of the `available`; `settings` (config field names
    with their values) drove the estimate, and `defaults` are their defaults.
    """

    def __init__(self, what: str, needed: int, available: int, settings: dict, defaults: dict):
        super().__init__(f"{what} would need {_size(needed)} of memory, and this machine has {_size(available)}")
        self.what, self.needed, self.available = what, needed, available
        self.settings, self.defaults = settings, defaults


def _size(n: int) -> str:
    for unit, scale in (("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}" if n < (1 << 40) * 10**6 else f"{float(n):.1e} bytes"
    return f"{n:,} bytes"
