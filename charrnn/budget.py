"""What a command will cost, estimated before it is paid, and refused when no machine could pay it.

Every computation whose memory grows with a setting (the model's size, the streams drawn, the
characters kept, a window of steps) states its estimate through `require` before it allocates.
An estimate above this machine's physical memory can never succeed: it is refused at once with a
`ResourceError` carrying the facts (what, bytes needed, bytes the machine has, and the settings
that drove it with their values and defaults), from which the command line names the options the
user actually changed. Estimates are Python integers, so no setting can overflow them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from charrnn.config import ModelConfig, SampleConfig, ShowConfig, TrainConfig
from charrnn.errors import ResourceError
from charrnn.nn import cells
from charrnn.nn import model as network

FLOAT = 4  # bytes of a float32
# a text held for scoring: itself (up to 4 bytes a character), and its surprisal (8) when every one is kept
TEXT_BYTES_PER_CHAR = 16
# a sample kept until its batch ends: a list of one reference per character (8), then the joined text (4)
SAMPLE_BYTES_PER_CHAR = 12
# the sample a training run shows at its end: built whole as a sample kept, then copied by the console
CLOSING_SAMPLE_BYTES_PER_CHAR = SAMPLE_BYTES_PER_CHAR + 4
# a text scored whole (best-of's judge, compare): a known-character flag (1), the text read (4), float64 bits (2 x 8)
SCORED_BYTES_PER_CHAR = 21
# a text checked for novelty: its ids as a list and an int64 array (16), each position's match length and
# where (16), the cover count and its running sum (16), the copied flags (1), the long matches' positions (8)
NOVELTY_BYTES_PER_CHAR = 57
# a text read for its typos: the text (4), its ids twice (16), each character's log-probability and
# surprisal (16) with its five likeliest and theirs (80); where another character is likelier, the
# position, the characters tried there and their gains (up to 72)
TYPOS_BYTES_PER_CHAR = 188
# a text filled: it and the filled text (8), its characters listed (8), its ids (8), which are known (9)
FILL_BYTES_PER_CHAR = 33
FILL_BYTES_PER_GAP = 640  # each gap's choice, probability and next best, as Python objects


_planned_for: list[int] = []  # the limits of memory_planned_for, innermost last


@contextmanager
def memory_planned_for(n_bytes: int) -> Iterator[None]:
    """Within it, every estimate is held against n_bytes instead of this machine's memory: a
    caller sharing the machine plans for its share, and a test for a machine of any size."""
    _planned_for.append(n_bytes)
    try:
        yield
    finally:
        _planned_for.pop()


def memory_total() -> int:
    """This machine's physical memory in bytes (2**40 where the system cannot say), or the
    memory planned for within memory_planned_for."""
    if _planned_for:
        return _planned_for[-1]
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 1 << 40


def require(what: str, n_bytes: int, settings: dict[str, Any], defaults: dict[str, Any] | None = None) -> None:
    """Refuse now if `what` needs more memory than this machine has (n_bytes against memory_total).

    settings: the setting names (config field names) that drove the estimate, with their values;
    defaults: their default values, so that the message can name those the user changed.
    """
    total = memory_total()
    if n_bytes > total:
        raise ResourceError(what, n_bytes, total, settings, defaults or {})


def check_closing_sample(length: int) -> None:
    """Refuse, before training, a closing sample of `length` characters that could not be held whole."""
    require(f"a sample of {length:,} characters", CLOSING_SAMPLE_BYTES_PER_CHAR * length, {"sample_length": length})


def check_training(model_cfg: ModelConfig, train_cfg: TrainConfig, vocab: int) -> None:
    """Refuse a model and batch whose training step could not fit in this machine's memory."""
    need = training_bytes(model_cfg, train_cfg, vocab)
    settings = {"hidden_size": model_cfg.hidden_size, "num_layers": model_cfg.num_layers}
    settings.update(batch_size=train_cfg.batch_size, seq_len=train_cfg.seq_len)
    require("training this model", need, settings, _defaults(settings, ModelConfig(), TrainConfig()))


# how each way of sampling names the streams it draws at once (config fields), and says what it does
DRAWN_BY = {
    "num_samples": "drawing {n:,} samples of {length:,} characters at once",
    "documents": "drawing {n:,} documents of up to {length:,} characters at once",
    "best_of": "drawing the best of {n:,} samples of {length:,} characters",
    "beam": "a beam search of {n:,} hypotheses over {length:,} characters",
}


def check_sampling(cfg: ModelConfig, vocab: int, sample_cfg: SampleConfig, num_samples: int = 1) -> None:
    """Refuse a sampling run whose streams and kept texts could not fit in this machine's memory:
    the streams are the beam's hypotheses, the best-of draws, the documents or the samples asked for."""
    setting = next((k for k in ("beam", "best_of", "documents") if getattr(sample_cfg, k)), "num_samples")
    n = num_samples if setting == "num_samples" else getattr(sample_cfg, setting)
    check_drawing(cfg, vocab, sample_cfg.length, n, setting)


def check_drawing(cfg: ModelConfig, vocab: int, length: int, streams: int, setting: str = "num_samples") -> None:
    """Refuse drawing `length` characters from `streams` streams at once, every text kept until the
    last ends; `setting` is the config field that asked for the streams (a key of DRAWN_BY)."""
    what = (
        "drawing a sample of {length:,} characters" if (setting, streams) == ("num_samples", 1) else DRAWN_BY[setting]
    )
    require(
        what.format(n=streams, length=length),
        drawing_bytes(cfg, vocab, length, streams, setting),
        {setting: streams, "length": length},
        {setting: 1, "length": SampleConfig.length},
    )


def drawing_bytes(cfg: ModelConfig, vocab: int, length: int, streams: int, setting: str = "num_samples") -> int:
    """The streams' states and draws, every text kept to the end, and one of them scored whole (as
    best-of, and a batch given as JSON, score each); a beam also keeps each step's parent and
    character per slot (16 bytes) and ranks K x V float64 candidates (with their order, 24 bytes each)."""
    need = stream_bytes(cfg, vocab, streams) + streams * (SAMPLE_BYTES_PER_CHAR * length + 256)
    need += SCORED_BYTES_PER_CHAR * length
    if setting == "beam":
        need += streams * (16 * length + 24 * vocab)
    return need


def streamed_bytes(cfg: ModelConfig, vocab: int, length: int, streams: int, kept_whole: bool) -> int:
    """Drawing `streams` samples at once, the first written out as it is drawn: the others are
    kept until it ends, and it too when `kept_whole` (to check each for novelty, which then costs
    NOVELTY_BYTES_PER_CHAR for one of them). Nothing grows with `length` for one sample not kept."""
    kept = streams - 1 + kept_whole
    novelty = NOVELTY_BYTES_PER_CHAR * length if kept_whole else 0
    return stream_bytes(cfg, vocab, streams) + streams * 256 + kept * SAMPLE_BYTES_PER_CHAR * length + novelty


# streamed samples drawn at once at most: a larger batch gains little from its matrix products, and its
# samples after the first wait for its end (a billion samples of 10 characters start printing at once)
STREAMED_BATCH_MAX = 1024


def streamed_batch(cfg: ModelConfig, vocab: int, length: int, samples: int, kept_whole: bool) -> int:
    """How many of `samples` streamed samples to draw at once: all of them (up to STREAMED_BATCH_MAX)
    when they fit in half this machine's memory, else as many as fit there (one after another at least). One that could
    not fit in all of it is refused (a ResourceError naming `length`, or one stream's own size)."""
    room, samples = memory_total() // 2, min(samples, STREAMED_BATCH_MAX)
    if streamed_bytes(cfg, vocab, length, samples, kept_whole) <= room:
        return samples
    if not kept_whole:
        check_streams(cfg, vocab, 1)
    require(
        f"keeping a sample of {length:,} characters",
        streamed_bytes(cfg, vocab, length, 1, kept_whole),
        {"length": length},
        {"length": SampleConfig.length},
    )
    lo, hi = 1, samples  # the largest batch that fits: streamed_bytes grows with the batch
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if streamed_bytes(cfg, vocab, length, mid, kept_whole) <= room else (lo, mid - 1)
    return lo


def check_streams(cfg: ModelConfig, vocab: int, streams: int) -> None:
    """Refuse drawing from more streams at once than this machine's memory could hold."""
    require(
        f"drawing {streams:,} samples at once",
        stream_bytes(cfg, vocab, streams),
        {"num_samples": streams},
        {"num_samples": 1},
    )


def check_kept(chars: int, kept: int, numbers: int, settings: dict[str, Any]) -> None:
    """Refuse keeping `numbers` float64 numbers for each of `kept` characters of a text of `chars`
    (held at up to 4 bytes a character) beyond this machine's memory; `settings` chose `kept`."""
    defaults = {"show_all": ShowConfig.show_all, "show": ShowConfig.show}
    require(
        f"keeping {'one number' if numbers == 1 else f'{numbers} numbers'} for each of {kept:,} characters",
        kept * 8 * numbers + 4 * chars,
        settings,
        defaults,
    )


def check_models(count: int, n_bytes: int) -> None:
    """Refuse holding `count` models at once (a view that compares them) in more than this machine's memory."""
    require(f"holding {count:,} models at once", n_bytes, {"checkpoints": count}, {"checkpoints": 1})


def check_ranking(chars: int, models: int) -> None:
    """Refuse scoring a text of `chars` characters under `models` models, each character's surprisal
    kept for every model (8 bytes each), beyond what scoring one text whole takes."""
    need = chars * (SCORED_BYTES_PER_CHAR + 8 * models)
    require(f"scoring {chars:,} characters under {models:,} models", need, {})


def stretch_bytes(cfg: ModelConfig, vocab: int, chars: int) -> int:
    """Reading stretches of `chars` characters in all at once in both directions: each with its
    logits in float32 and float64, and the gate rows, states and caches of every layer."""
    per_char = 16 * vocab + 2 * FLOAT * cfg.num_layers * (cells.get(cfg).gates + 6) * cfg.hidden_size
    return chars * per_char


def typos_bytes(cfg: ModelConfig, vocab: int, chars: int, stretch_chars: int) -> int:
    """Finding the typos of a text of `chars` characters: what is kept for each character, the
    backward stack's state at the end of each window read (nn/both_sides.read), and the stretches
    read at once to weigh replacements (`stretch_chars` characters)."""
    windows = -(-chars // network.WINDOW)
    state = FLOAT * cfg.num_layers * cells.get(cfg).states * cfg.hidden_size
    return chars * TYPOS_BYTES_PER_CHAR + windows * state + stretch_bytes(cfg, vocab, stretch_chars)


def check_typos(cfg: ModelConfig, vocab: int, chars: int, stretch_chars: int) -> None:
    """Refuse finding the typos of a text beyond this machine's memory (typos_bytes)."""
    need = typos_bytes(cfg, vocab, chars, stretch_chars)
    require(f"finding the typos of {chars:,} characters", need, {})


def fill_bytes(cfg: ModelConfig, vocab: int, chars: int, gaps: int, stretch_chars: int) -> int:
    """Filling a text of `chars` characters with `gaps` gaps, reading `stretch_chars` characters
    at most at once (a window of the text, or a run's fillings with the text around them): each
    run is read between two states, so what the model holds does not grow with the text."""
    reading = stretch_bytes(cfg, vocab, max(network.WINDOW, stretch_chars))
    return chars * FILL_BYTES_PER_CHAR + gaps * FILL_BYTES_PER_GAP + reading


def check_fill(cfg: ModelConfig, vocab: int, chars: int, gaps: int, stretch_chars: int) -> None:
    """Refuse filling a text beyond this machine's memory (fill_bytes)."""
    require(f"filling {chars:,} characters", fill_bytes(cfg, vocab, chars, gaps, stretch_chars), {})


def _defaults(settings: dict, *configs) -> dict:
    return {k: getattr(c, k) for c in configs for k in settings if hasattr(c, k)}


def model_bytes(cell_gates: int, hidden: int, layers: int, vocab: int) -> int:
    """The weights of a model: each layer's input and recurrent matrices and biases, the decoder."""
    g = cell_gates * hidden
    return FLOAT * (g * (vocab + hidden + 2) + (layers - 1) * g * (2 * hidden + 2) + vocab * (hidden + 1))


def training_bytes(model_cfg: ModelConfig, train_cfg: TrainConfig, vocab: int) -> int:
    """A training step: weights, latest and best copies, gradients, two optimizer slots, and the
    window's activations (every gate of every layer at every step of every stream, and the logits)."""
    cell_gates = cells.get(model_cfg).gates
    sides = 2 if model_cfg.bidirectional else 1  # a model of both sides has two stacks
    weights = sides * model_bytes(cell_gates, model_cfg.hidden_size, model_cfg.num_layers, vocab)
    steps = train_cfg.seq_len * train_cfg.batch_size
    per_step = sides * model_cfg.num_layers * (cell_gates + 3) * model_cfg.hidden_size + 3 * vocab
    activations = FLOAT * steps * per_step
    return 6 * weights + 2 * activations


def stream_bytes(cfg: ModelConfig, vocab: int, streams: int) -> int:
    """Drawing from `streams` streams at once: their states, gate rows, logits and draws."""
    cell_gates = cells.get(cfg).gates
    per_stream = cfg.num_layers * (cell_gates + 4) * cfg.hidden_size + 6 * vocab
    return model_bytes(cell_gates, cfg.hidden_size, cfg.num_layers, vocab) + 2 * FLOAT * streams * per_stream


def text_chars_max() -> int:
    """The longest text this machine can hold for scoring."""
    return memory_total() // TEXT_BYTES_PER_CHAR
