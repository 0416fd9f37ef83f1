"""A checkpoint's metadata: read within bounds, parsed strictly, and checked before it decides
which arrays are read and how large they may be.

The metadata is one JSON string (the `meta` member). It is refused if its member is larger than
META_MAX_CHARS, if it holds a number that is not finite (JSON has no NaN or Infinity; Python's
parser would accept them, and inspect's JSON would print them back as non-JSON), if a config
value has the wrong type or is out of its range, or if the training record is damaged or out of
sane bounds. A message quoting the file's contents quotes at most a few dozen characters of it.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

from charrnn import __version__
from charrnn.config import ModelConfig, TrainConfig, finite_number, from_dict
from charrnn.errors import CharRNNError
from charrnn.npz import Archive, ArchiveError
from charrnn.vocab import Vocab

FORMAT = "charrnn-checkpoint"
FORMAT_VERSION = 1
META_MAX_CHARS = 1 << 22  # 4 Mi characters: a real run's metadata is a few hundred kB at most
QUOTE_MAX = 40  # characters of the file's own text quoted in a message
MESSAGE_MAX = 160  # characters of a message about the metadata
COUNT_MAX = 2**53  # steps, seconds, characters: exact in a float, beyond any real run


class MetadataError(ValueError):
    """The metadata is missing, damaged, foreign or from a newer charrnn (a message fragment
    that follows the checkpoint's path)."""


@dataclasses.dataclass(frozen=True)
class Baselines:
    """What guessing, the characters' frequencies and the best n-gram model score on the
    validation text (analysis/baselines.py measures them), as the training record keeps them."""

    uniform: float  # bits/char of guessing: log2 V
    unigram: float  # bits/char of the add-one character frequencies
    ngram: float  # bits/char of the best Kneser-Ney order
    order: int  # that order (n characters: n - 1 of context)
    by_order: tuple[float, ...]  # bits/char of orders 1, 2, ..., analysis.baselines.MAX_ORDER
    train_chars: int  # training characters counted (the head of the training text)
    train_total: int  # the training text's length
    val_chars: int  # validation characters scored

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "by_order": list(self.by_order)}

    @classmethod
    def from_dict(cls, data: dict) -> Baselines:
        """Rebuild from to_dict(); a damaged record raises TypeError or ValueError."""
        if not isinstance(data, dict) or set(data) != {f.name for f in dataclasses.fields(cls)}:
            raise ValueError("the baselines record is not one")
        by_order = data["by_order"]
        numbers = [v for k, v in data.items() if k != "by_order"] + (by_order if isinstance(by_order, list) else [None])
        if not all(map(finite_number, numbers)):
            raise ValueError("the baselines record holds a value that is not a finite number")
        return cls(**{**data, "by_order": tuple(by_order)})


def quoted(value: Any) -> str:
    """A value from the file as a message may show it: repr, at most QUOTE_MAX characters."""
    text = repr(value)
    return text if len(text) <= QUOTE_MAX else text[: QUOTE_MAX - 1] + "…"


def parse(archive: Archive) -> dict[str, Any]:
    """The metadata member, bounded, as a JSON object of this format and a version we read."""
    if "meta" not in archive:
        raise MetadataError("is an .npz file but not a charrnn checkpoint (no metadata)")
    header = archive.header("meta")
    if header.dtype.hasobject:
        raise ArchiveError("meta holds pickled Python objects, which charrnn refuses to load (they could run code)")
    if header.dtype.kind != "U" or header.shape != ():
        raise MetadataError("is an .npz file but not a charrnn checkpoint (no metadata)")
    if header.dtype.itemsize > 4 * META_MAX_CHARS:
        raise MetadataError(f"has {header.dtype.itemsize // 4:,} characters of metadata, more than any checkpoint")
    raw = str(archive.read("meta", "U", ()).item())
    try:
        meta = json.loads(raw, parse_constant=_not_finite, parse_float=_finite)
    except MetadataError:
        raise
    except (json.JSONDecodeError, ValueError, RecursionError):
        raise MetadataError("has damaged metadata") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise MetadataError("is an .npz file but not a charrnn checkpoint")
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
        raise MetadataError(
            f"has checkpoint format {quoted(version)}, written by a newer charrnn "
            f"({quoted(meta.get('charrnn_version'))}); this charrnn {__version__} reads format {FORMAT_VERSION}: "
            "upgrade charrnn"
        )
    return meta


def _not_finite(name: str):
    raise MetadataError(f"has damaged metadata: a number that is {name}, which no checkpoint holds")


def _finite(text: str) -> float:
    x = float(text)
    if not math.isfinite(x):
        _not_finite("too large to be finite")
    return x


def configs(meta: dict[str, Any], n_members: int) -> tuple[ModelConfig, TrainConfig, Vocab, TrainingRecord]:
    """The configs, vocabulary and training record, checked against what the file can hold:
    every layer needs four arrays, so a file cannot claim more layers than it has members."""
    try:
        model_cfg = from_dict(ModelConfig, _typed(ModelConfig, meta["model"]))
        train_cfg = from_dict(TrainConfig, _typed(TrainConfig, meta["train"]))
        vocab = _vocab(meta["vocab"])
        record = _progress(meta.get("progress", {}))
    except (KeyError, TypeError, ValueError, CharRNNError) as e:
        message = " ".join(str(e).split())
        message = message if len(message) <= MESSAGE_MAX else message[: MESSAGE_MAX - 1] + "…"
        raise MetadataError(f"has incomplete or invalid metadata: {message}") from None
    if 4 * model_cfg.num_layers + 2 > n_members:
        raise MetadataError(
            f"has damaged metadata: it claims {model_cfg.num_layers:,} layers, but holds only {n_members:,} arrays"
        )
    return model_cfg, train_cfg, vocab, record


ANNOTATION_TYPES = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,), "None": (type(None),)}


def _typed(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """Config values of their field's annotated type (a number for a float, an int for an int):
    a damaged or foreign file must not build a model of 8.5 units."""
    if not isinstance(data, dict):
        raise TypeError(f"{cls.__name__} is not a JSON object")
    annotations = {f.name: str(f.type) for f in dataclasses.fields(cls)}
    for key, value in data.items():
        names = [t.strip() for t in annotations.get(key, "").split("|")]
        if not all(n in ANNOTATION_TYPES for n in names):
            continue  # unknown fields are from_dict's to refuse
        want = tuple(t for n in names for t in ANNOTATION_TYPES[n])
        if (isinstance(value, bool) and bool not in want) or not isinstance(value, want):
            raise TypeError(f"{cls.__name__}.{key} is {value!r}")
    return data


def _vocab(chars: Any) -> Vocab:
    if not isinstance(chars, list) or not all(isinstance(c, str) and len(c) == 1 for c in chars):
        raise TypeError("the vocabulary is not a list of single characters")
    if len(set(chars)) != len(chars):
        raise ValueError("the vocabulary repeats characters")
    return Vocab(chars)


PROGRESS_NUMBERS = ("step", "epoch", "elapsed", "smooth_loss", "best_step", "eval_chars")
HISTORY_NUMBERS = ("step", "elapsed", "train_loss", "val_loss")


def _progress(progress: Any) -> TrainingRecord:
    """The training record, checked just enough that inspect and a resumed run can read it: every
    count, time and loss a number from 0 to COUNT_MAX."""

    def number(x: Any) -> bool:
        return finite_number(x) and 0 <= x <= COUNT_MAX

    if not isinstance(progress, dict):
        raise TypeError("the training record is not a JSON object")
    bad = [k for k in PROGRESS_NUMBERS if k in progress and not number(progress[k])]
    if progress.get("best_val_loss") is not None and not number(progress["best_val_loss"]):
        bad.append("best_val_loss")
    history = progress.get("history", [])
    if not isinstance(history, list) or not all(
        isinstance(h, dict) and all(number(h.get(k)) for k in HISTORY_NUMBERS) for h in history
    ):
        bad.append("history")
    corpus = progress.get("corpus", {})
    if not isinstance(corpus, dict) or not (
        all(number(corpus.get(k, 0)) for k in ("bytes", "chars"))
        and all(isinstance(corpus.get(k, ""), str) for k in ("name", "sha256", "encoding", "decode_errors"))
        and isinstance(corpus.get("path"), (str, type(None)))  # where to read it again (novelty), if known
    ):
        bad.append("corpus")
    if progress.get("baselines") is not None:
        try:
            Baselines.from_dict(progress["baselines"])
        except (TypeError, ValueError):
            bad.append("baselines")
    if not isinstance(progress.get("init_from"), (dict, type(None))):
        bad.append("init_from")
    if not isinstance(progress.get("lead_in"), (str, type(None))):
        bad.append("lead_in")
    boundary = corpus.get("boundary") if isinstance(corpus, dict) else None
    if boundary is not None and not (isinstance(boundary, str) and len(boundary) == 1):
        bad.append("corpus")
    if bad:
        raise ValueError(f"damaged training record: {', '.join(bad)}")
    return TrainingRecord.of(progress)


def parse_record(progress: dict[str, Any]) -> TrainingRecord:
    """The training record a checkpoint's metadata holds (`progress`), checked and typed; a damaged
    one raises ValueError or TypeError."""
    return _progress(progress)


def _text(record: dict[str, Any], key: str, default: str | None = None) -> str | None:
    value = record.get(key)
    return value if isinstance(value, str) else default


def _count(record: dict[str, Any], key: str, default: int | None = None) -> int | None:
    value = record.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


@dataclasses.dataclass(frozen=True)
class CorpusRecord:
    """What a checkpoint records of the corpus it was trained on (data/corpus.py's Corpus.meta();
    every field is in docs/json.md). The library acts on the fields named here, each None where
    the checkpoint did not record it; `stored` is the whole record as the file holds it."""

    stored: dict[str, Any]
    name: str | None
    bytes: int | None
    chars: int
    sha256: str | None
    encoding: str
    decode_errors: str
    path: str | None  # where one file read whole was read, absolute
    boundary: str | None  # the symbol that ends each document
    documents: int
    files: int | None  # of files read from folders or lists (a manifest), how many
    manifest: bool  # whether it was files read from folders or lists

    @classmethod
    def of(cls, record: Any) -> CorpusRecord:
        r = record if isinstance(record, dict) else {}
        return cls(
            stored=dict(r),
            name=_text(r, "name"),
            bytes=_count(r, "bytes"),
            chars=_count(r, "chars", 0),
            sha256=_text(r, "sha256"),
            encoding=_text(r, "encoding", "utf-8"),
            decode_errors=_text(r, "decode_errors", "strict"),
            path=_text(r, "path"),
            boundary=_text(r, "boundary"),
            documents=_count(r, "documents", 1),
            files=_count(r, "files"),
            manifest="manifest_sha256" in r,
        )

    def to_dict(self) -> dict[str, Any]:
        return dict(self.stored)


@dataclasses.dataclass(frozen=True)
class Validation:
    """One entry of the learning curve: the losses (nats per character) at a validation."""

    step: int
    elapsed: float
    train_loss: float
    val_loss: float
    lr: float | None  # the learning rate then; None in older checkpoints

    def to_dict(self) -> dict[str, Any]:
        """The entry as the trainer keeps it (an older checkpoint's, without a learning rate, as it was)."""
        entry = {"step": self.step, "elapsed": self.elapsed, "train_loss": self.train_loss, "val_loss": self.val_loss}
        return entry if self.lr is None else {**entry, "lr": self.lr}


@dataclasses.dataclass(frozen=True)
class FineTunedFrom:
    """The model a run was fine-tuned from: the corpus it was trained on, and its steps."""

    corpus: CorpusRecord
    steps: int | None

    def to_dict(self) -> dict[str, Any]:
        return {"corpus": self.corpus.to_dict(), "steps": self.steps}


@dataclasses.dataclass(frozen=True)
class TrainingRecord:
    """A checkpoint's record of its run (its metadata's `progress`), parsed once: the counters,
    the learning curve, the corpus, what continues the run exactly (`rng`, `schedule`: the state
    of the random generator and of the learning-rate schedule), the baselines, the model it was
    fine-tuned from and the text before the last document boundary (`lead_in`)."""

    step: int = 0
    epoch: float = 0.0
    elapsed: float = 0.0
    smooth_loss: float | None = None
    best_val_loss: float | None = None
    best_step: int = 0
    history: tuple[Validation, ...] = ()
    corpus: CorpusRecord = dataclasses.field(default_factory=lambda: CorpusRecord.of({}))
    rng: dict[str, Any] | None = None
    schedule: dict[str, Any] | None = None
    baselines: Baselines | None = None
    init_from: FineTunedFrom | None = None
    lead_in: str | None = None
    eval_chars: int | None = None  # the validation characters the run measured it could read
    absent: frozenset[str] = frozenset()  # the fields the record does not hold (an older or damaged file)

    @classmethod
    def of(cls, progress: dict[str, Any]) -> TrainingRecord:
        """The record of a `progress` that _progress has checked."""
        p, init = progress, progress.get("init_from")
        history = tuple(
            Validation(h["step"], h["elapsed"], h["train_loss"], h["val_loss"], h.get("lr"))
            for h in p.get("history", [])
        )
        return cls(
            step=int(p.get("step", 0)),
            epoch=float(p.get("epoch", 0.0)),
            elapsed=float(p.get("elapsed", 0.0)),
            smooth_loss=p.get("smooth_loss"),
            best_val_loss=p.get("best_val_loss"),
            best_step=int(p.get("best_step", 0)),
            history=history,
            corpus=CorpusRecord.of(p.get("corpus", {})),
            rng=p.get("rng"),
            schedule=p.get("schedule"),
            baselines=Baselines.from_dict(p["baselines"]) if p.get("baselines") is not None else None,
            init_from=None
            if init is None
            else FineTunedFrom(CorpusRecord.of(init.get("corpus")), _count(init, "steps")),
            lead_in=p.get("lead_in"),
            eval_chars=p.get("eval_chars"),
            absent=frozenset(f.name for f in dataclasses.fields(cls) if f.name not in p and f.name != "absent"),
        )
