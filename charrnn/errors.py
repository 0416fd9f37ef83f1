"""The exceptions charrnn raises. The CLI turns each into one line on stderr and an exit code."""

from __future__ import annotations

from typing import Any


class CharRNNError(Exception):
    """Base class: something the user can fix; the message says what and how."""


class ConfigError(CharRNNError, ValueError):
    """An option value or combination of values that cannot work.

    `field`, `value` and `requirement` say which config field was refused, when one was.
    """

    def __init__(self, message: str, field: str | None = None, value: Any = None, requirement: str | None = None):
        super().__init__(message)
        self.field, self.value, self.requirement = field, value, requirement

    @classmethod
    def invalid(cls, field: str, value: Any, requirement: str) -> ConfigError:
        return cls(f"{field} must be {requirement}, not {value!r}", field, value, requirement)


class DataError(CharRNNError):
    """A corpus or text that cannot be read, decoded or used."""


class UndecodableText(DataError):
    """Bytes that are not valid in the text's encoding, at a byte offset."""

    def __init__(self, message: str, encoding: str, offset: int):
        super().__init__(message)
        self.encoding, self.offset = encoding, offset


class NotTheTrainingCorpus(DataError):
    """The training corpus a checkpoint records is not where it says, or a file is not that corpus."""


class CheckpointError(CharRNNError):
    """A checkpoint that is missing, damaged, foreign or from an incompatible version."""


class TrainingDiverged(CharRNNError):
    """The loss became NaN or far worse than guessing: the learning rate or clip is too high."""


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
