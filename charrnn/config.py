"""Configuration: frozen dataclasses that are checked on creation and saved in every checkpoint.

`ModelConfig` fixes the network's shape, `TrainConfig` how it learns, `SampleConfig` how text is
drawn from it, `ReadConfig` how a text file is decoded, `ReachConfig` how far back the
gradient-reach analysis looks, `ShowConfig` how much of a text `inspect` shows and `ParallelConfig` how many processes train together. A checkpoint stores `to_dict()` of the first two.

Each field is declared once, with `setting(...)`: its default, its help line, and the values it
may take (`choices`, or a range `min`/`max`, open at `min_open`/`max_open`). That declaration is
the single source of the option: `__post_init__` checks every field against it (`check_fields`),
and the command line builds its options from it (charrnn/cli/options.py), so the two cannot
disagree. Adding an option is therefore:

1. add a field to the right dataclass here, e.g.
   `patience: int | None = setting(None, "Stop after this many validations without a new best.", min=1)`;
   a check that spans several fields goes explicitly in `__post_init__`, after
   `super().__post_init__()`;
2. in the command, add `config_option(TrainConfig, "patience")` to its decorators; the flag is
   the field's name with dashes unless `FLAGS` in charrnn/cli/options.py names another;
3. use the field where the library needs it. tests/test_options_from_config.py then checks that
   the option and the field agree; no default, choice or range is written a second time.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, TypeVar

from charrnn.errors import ConfigError

CELLS = ("rnn", "lstm", "gru")
OPTIMIZERS = ("adam", "rmsprop", "adagrad", "sgd")
NONLINEARITIES = ("tanh", "relu")
SCHEDULES = ("step", "cosine", "plateau")
DECODE_ERRORS = ("strict", "replace", "ignore")
OFFSETS = ("random", "fixed")


@dataclass(frozen=True)
class Bounds:
    """An interval of numbers, as click's IntRange/FloatRange take it: None is unbounded."""

    min: float | None = None
    max: float | None = None
    min_open: bool = False
    max_open: bool = False

    def __contains__(self, x: float) -> bool:
        if isinstance(x, float) and not math.isfinite(x):
            return False
        lo = self.min is None or (x > self.min if self.min_open else x >= self.min)
        hi = self.max is None or (x < self.max if self.max_open else x <= self.max)
        return lo and hi

    def __str__(self) -> str:
        """In words: "at least 1", "positive", "in [0, 1)"."""
        if self.max is None:
            if self.min == 0:
                return "positive" if self.min_open else "0 or more"
            return f"more than {self.min:g}" if self.min_open else f"at least {self.min:g}"
        if self.min is None:
            return f"less than {self.max:g}" if self.max_open else f"at most {self.max:g}"
        return f"in {'(' if self.min_open else '['}{self.min:g}, {self.max:g}{')' if self.max_open else ']'}"


def setting(
    default: Any,
    help: str,
    *,
    choices: tuple[str, ...] | None = None,
    min: float | None = None,
    max: float | None = None,
    min_open: bool = False,
    max_open: bool = False,
) -> Any:
    """A config field with its help and allowed values: the one place an option is described."""
    bounds = None if min is None and max is None else Bounds(min, max, min_open, max_open)
    return dataclasses.field(default=default, metadata={"help": help, "choices": choices, "bounds": bounds})


def optional(f: dataclasses.Field) -> bool:
    """Whether a field may be None (its annotation says `... | None`)."""
    return "None" in [t.strip() for t in str(f.type).split("|")]


def check_fields(cfg: Any) -> None:
    """Check every field of a config against its `setting` (the one table of allowed values)."""
    for f in dataclasses.fields(cfg):
        value, choices, bounds = getattr(cfg, f.name), f.metadata.get("choices"), f.metadata.get("bounds")
        if value is None:
            if not optional(f):
                raise ConfigError.invalid(f.name, value, "set")
        elif choices is not None and value not in choices:
            raise ConfigError.invalid(f.name, value, f"one of {', '.join(choices)}")
        elif bounds is not None and value not in bounds:
            raise ConfigError.invalid(f.name, value, str(bounds))


class Checked:
    """A config that checks its fields on creation; a check spanning fields extends __post_init__
    (calling super().__post_init__() first)."""

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class ModelConfig(Checked):
    cell: str = setting("lstm", "Cell type.", choices=CELLS)
    hidden_size: int = setting(256, "Units per layer.", min=1)
    num_layers: int = setting(2, "Stacked recurrent layers.", min=1)
    # as torch.nn.LSTM(dropout=...): between layers, while training only
    dropout: float = setting(0.1, "Dropout between layers, while training.", min=0, max=1, max_open=True)
    nonlinearity: str = setting("tanh", "Vanilla RNN activation.", choices=NONLINEARITIES)
    # a checkpoint from before this field reads as False: every model then read left to right
    bidirectional: bool = setting(
        False, "Read both sides of every character (fills gaps, finds typos; cannot write new text)."
    )

    def describe(self, parameters: int | None = None) -> str:
        """The model in one line, as every view names it: "LSTM, 2 x 256, 3,493,962 parameters"
        ("bidirectional LSTM, ..." for a model that reads both sides)."""
        kind = self.cell.upper() + (f" ({self.nonlinearity})" if self.cell == "rnn" else "")
        kind = f"bidirectional {kind}" if self.bidirectional else kind
        size = f"{kind}, {self.num_layers} x {self.hidden_size}"
        return size if parameters is None else f"{size}, {parameters:,} parameters"


@dataclass(frozen=True)
class TrainConfig(Checked):
    seq_len: int = setting(64, "BPTT window in characters.", min=1)
    batch_size: int = setting(32, "Parallel streams through the corpus.", min=1)
    optimizer: str = setting("adam", "Update rule: Adam, RMSProp, Adagrad, or SGD with momentum.", choices=OPTIMIZERS)
    # the cosine's peak: 6e-3 decaying to 6e-4 by the end of the run beat 3e-3 with step decay by
    # 0.10 bits/char and a constant 6e-3 by 0.04 at 2 x 256 (docs/training.md, the schedule)
    lr: float = setting(6e-3, "Learning rate at the start (the cosine's peak).", min=0, min_open=True)
    momentum: float = setting(0.9, "SGD momentum.", min=0, max=1, max_open=True)
    lr_decay: float = setting(
        0.9, "Step schedule only: multiply the learning rate by this...", min=0, max=1, min_open=True
    )
    lr_decay_every: int = setting(2000, "...every this many steps.", min=1)
    grad_clip: float = setting(5.0, "Global gradient norm cap, 0 for none.", min=0)
    val_fraction: float = setting(0.05, "Held-out tail of the corpus.", min=0, max=1, min_open=True, max_open=True)
    # unset, both follow from measured time so that validation costs at most 5 % of the run
    # (training/validation.py); a cadence set in steps validates 100,000 characters unless told
    eval_every: int | None = setting(
        None, "Steps between validations and saves (unset: by measured time, at most 5 % of the run).", min=1
    )
    eval_chars: int | None = setting(
        None, "Validation characters per evaluation, at most (unset: as many as fit the time).", min=2
    )
    epochs: float | None = setting(None, "Stop after this many passes over the corpus.", min=0, min_open=True)
    max_steps: int | None = setting(None, "Stop after this many steps in total.", min=1)
    max_time: float | None = setting(
        600.0, "Stop after this much training time, with its unit: 90s, 10m, 1h30m.", min=0, min_open=True
    )
    seed: int = setting(0, "Random seed: weights, dropout, the streams' offsets.", min=0)
    # the same windows every epoch overfit a text seen many times sooner (docs/training.md, per step)
    epoch_offsets: str = setting(
        "random",
        "Where the streams start each epoch: at a new random offset (drawn from the seed), or where they started.",
        choices=OFFSETS,
    )
    lr_schedule: str = setting(
        "cosine",
        "Learning-rate schedule: step decay, cosine decay over the run's steps or time, or reduce on plateau.",
        choices=SCHEDULES,
    )
    # no warm-up: in runs of 1,000 and 2,000 steps it cost bits/char (docs/training.md,
    # benchmarks/schedules.py)
    warmup_steps: int = setting(0, "Linear warm-up to the learning rate over this many steps, first.", min=0)
    min_lr_ratio: float = setting(0.1, "Cosine: end at the learning rate times this.", min=0, max=1)
    cosine_steps: int | None = setting(
        None, "Cosine: steps to decay over (unset: the step or epoch limit, else the time limit).", min=1
    )
    plateau_factor: float = setting(
        0.5, "Plateau: multiply the learning rate by this...", min=0, max=1, min_open=True, max_open=True
    )
    plateau_patience: int = setting(2, "...after this many validations without a better loss.", min=1)
    patience: int | None = setting(10, "Stop after this many validations without a better loss.", min=1)


# novelty measures a copied span up to this many characters (analysis/novelty.py says why), so
# a span counts as copied from at most this length on
MAX_COPY_SPAN = 10_000


@dataclass(frozen=True)
class SampleConfig(Checked):
    length: int = setting(1000, "Characters to generate.", min=0)
    temperature: float = setting(1.0, "Temperature: lower is safer, higher is wilder.", min=0, min_open=True)
    top_k: int | None = setting(None, "Draw only from the k most likely characters.", min=1)
    top_p: float | None = setting(
        None, "Draw only from the smallest set reaching probability p.", min=0, max=1, min_open=True
    )
    argmax: bool = setting(False, "Always take the most likely character.")
    seed: int | None = setting(None, "Random seed, for repeatable samples.", min=0)  # None: fresh entropy
    beam: int | None = setting(
        None, "Beam search with K hypotheses: the most probable text rather than a draw (printed when done).", min=1
    )
    best_of: int | None = setting(
        None,
        "Draw N samples as one batch and print the best of them (as many as asked for) by bits per character.",
        min=1,
    )
    # novelty: spans of the sample found verbatim in the training corpus count as copied from
    # this length on; about four English words, which text that copies nothing rarely reaches
    # (1 % of README prose against the Shakespeare corpus, against 20 % at 10 characters)
    min_copy: int = setting(
        20, "With novelty: count a span as copied from this many characters on.", min=1, max=MAX_COPY_SPAN
    )
    documents: int | None = setting(
        None, "Write N whole documents, each from a document's start to its end (-n characters at most).", min=1
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.beam is not None:  # a search, not a draw: nothing here shapes a distribution to draw from
            drawn = [
                n
                for n, v in [
                    ("temperature", self.temperature != 1.0),
                    ("top_k", self.top_k),
                    ("top_p", self.top_p),
                    ("argmax", self.argmax),
                    ("best_of", self.best_of),
                ]
                if v
            ]
            if drawn:
                raise ConfigError(
                    "beam search takes the model's own probabilities and draws nothing", conflicting=tuple(drawn)
                )
        if self.best_of and self.argmax:
            raise ConfigError("best-of compares draws; argmax draws the same text every time", conflicting=("argmax",))
        if self.documents and (self.beam or self.best_of):
            searched = tuple(n for n in ("beam", "best_of") if getattr(self, n))
            raise ConfigError("whole documents are drawn one by one to their end", conflicting=searched)


@dataclass(frozen=True)
class ReadConfig(Checked):
    """How the bytes of a text become characters."""

    encoding: str = setting("utf-8", "Text encoding of the file read.")
    decode_errors: str = setting("strict", "What to do with undecodable bytes.", choices=DECODE_ERRORS)


MIN_STREAMS = 8  # auto gives each worker at least this many streams (see benchmarks/scaling.py)


@dataclass(frozen=True)
class ParallelConfig(Checked):
    """How many processes train one model together (data parallelism over MPI). Not saved: a run
    continues exactly on any number of workers."""

    workers: int | str = setting(
        "auto",
        "Worker processes on this machine, as one MPI job: a number, or auto (one per core, each with at least "
        f"{MIN_STREAMS} streams; 1 without the mpi extra). Under mpiexec, leave it out.",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.workers != "auto" and not (isinstance(self.workers, int) and self.workers >= 1):
            raise ConfigError.invalid("workers", self.workers, "a number of at least 1, or auto")


@dataclass(frozen=True)
class SourceConfig(Checked):
    """Which files of the folders given are read, and where a text's documents end (data/sources.py)."""

    include: tuple[str, ...] = setting(
        (), "Read only files whose name or path matches this glob, e.g. '*.py' (repeatable)."
    )
    exclude: tuple[str, ...] = setting((), "Leave out files whose name or path matches this glob (repeatable).")
    document_separator: str | None = setting(
        None, "End a document wherever this text stands in a file (it is dropped)."
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.document_separator == "":
            raise ConfigError.invalid("document_separator", "", "a text of at least one character")


@dataclass(frozen=True)
class FillConfig(Checked):
    """How `fill` finds the missing characters of a text (generation/fill.py)."""

    gap: str = setting("_", "The character that stands for one missing character.")
    beam: int = setting(8, "Fillings kept while a run of gaps is searched.", min=1, max=1000)

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.gap) != 1:
            raise ConfigError.invalid("gap", self.gap, "one character")


@dataclass(frozen=True)
class TyposConfig(Checked):
    """Which characters `inspect typos` names (analysis/typos.py)."""

    suspects: int = setting(20, "Suspects named, most suspect first.", min=1)
    # 3 bits: with the replacement, the text around it at least 8 times as likely as with what stands there
    far: float = setting(
        3.0, "A suspect's replacement makes the text around it at least this many bits likelier.", min=0
    )


@dataclass(frozen=True)
class ReachConfig(Checked):
    """The gradient-reach measurement: K steps back, averaged over N positions of the text."""

    span: int = setting(100, "Gradient reach: steps back to measure.", min=1)
    positions: int = setting(64, "Gradient reach: positions of the text averaged over.", min=1)


@dataclass(frozen=True)
class ShowConfig(Checked):
    """How much of a text the score and neuron views show; their totals always cover all of it."""

    show: int = setting(
        1000, "Characters shown, and given one by one in the JSON; the totals cover the whole text.", min=2
    )
    show_all: bool = setting(
        False, "Show every character, and give each one in the JSON (for a long text, a lot of output)."
    )


C = TypeVar("C", ModelConfig, TrainConfig, SampleConfig, ReadConfig, ReachConfig, ParallelConfig)


def finite_number(x: Any) -> bool:
    """A number read from a saved record: an int or float (JSON's true is not one), and finite."""
    if not isinstance(x, (int, float)) or isinstance(x, bool):
        return False
    try:
        return math.isfinite(x)
    except OverflowError:  # an int beyond every float (10**400): no number a record holds
        return False


def to_dict(cfg: Any) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


# what a field added since checkpoints were first written means when a saved config lacks it:
# the behaviour of the charrnn that wrote it, so that an old run continues as it was
BEFORE_THE_FIELD = {"TrainConfig": {"epoch_offsets": "fixed", "lr_schedule": "step"}}


def from_dict(cls: type[C], data: dict[str, Any]) -> C:
    """Rebuild a saved config, rejecting unknown keys so a foreign or future checkpoint is noticed."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"unknown {cls.__name__} fields: {', '.join(unknown)}")
    return cls(**{**BEFORE_THE_FIELD.get(cls.__name__, {}), **data})
