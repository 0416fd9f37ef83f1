"""The exceptions charrnn raises. The CLI turns each into one line on stderr and an exit code."""


class CharRNNError(Exception):
    """Base class: something the user can fix; the message says what and how."""


class ConfigError(CharRNNError, ValueError):
    """An option value or combination of values that cannot work."""


class DataError(CharRNNError):
    """A corpus or text that cannot be read, decoded or used."""


class CheckpointError(CharRNNError):
    """A checkpoint that is missing, damaged, foreign or from an incompatible version."""


class TrainingDiverged(CharRNNError):
    """The loss became NaN or far worse than guessing: the learning rate or clip is too high."""
