"""Shared fixtures: a tiny repetitive corpus, tiny configs and a tiny trained model.

Everything is small (H <= 16, texts of a few hundred characters) so that the whole suite stays fast
on a shared two-core machine, and everything random is seeded so that every run is the same.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from charrnn.config import ModelConfig, TrainConfig
from charrnn.data.corpus import Corpus
from charrnn.language_model import LanguageModel
from charrnn.training.trainer import Trainer
from tests.cli_helpers import TEXT, Victim, invoke, tiny, write
from tests.hostile import make_place

# Property tests draw the same examples on every run (a CI failure reproduces locally); the
# examples database is off so that one machine's past failures do not change what runs.
settings.register_profile("charrnn", derandomize=True, database=None)
settings.load_profile("charrnn")

# The command-line tests run NumPy's kernels (the reference), in this process and in every process
# they start: a process that trains with numba's spends about 4 s importing numba and loading its
# compiled kernels, which over the suite's hundreds of tiny runs tripled its time. numba's kernels
# are checked against NumPy's, and through the command line, by the tests that ask for them by name
# (tests/test_fused_kernels.py, the `kernels` fixture below). A value set by whoever runs pytest wins.
os.environ.setdefault("CHARRNN_KERNELS", "numpy")

PATTERN = "hello world\n"  # 'l' and 'o' are each followed by different characters: needs memory
TINY_TEXT = PATTERN * 40  # 480 characters

# every kind of cell and nonlinearity, for the tests that cover each
CELL_KINDS = [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]
CELLS = ["rnn", "lstm", "gru"]  # every kind of cell, for the tests where the nonlinearity does not matter


@pytest.fixture(params=["numpy", "numba"])
def kernels(request):
    """Each kind of element-wise kernels in turn, by name (nn/kernels.py); numba's skip where it is
    missing."""
    from charrnn.nn import kernels

    if request.param == "numba" and kernels.numba_error() is not None:
        pytest.skip(f"numba is not installed here (the fast extra): {kernels.numba_error()}")
    return request.param


def tiny_model_config(cell: str = "lstm", **overrides) -> ModelConfig:
    return ModelConfig(**{"cell": cell, "hidden_size": 16, "num_layers": 1, "dropout": 0.0, **overrides})


def tiny_train_config(**overrides) -> TrainConfig:
    defaults = dict(
        seq_len=16,
        batch_size=4,
        lr=1e-2,
        eval_every=1000,
        val_fraction=0.1,
        max_steps=20,
        max_time=None,  # wall-clock limits would make runs depend on the machine's load
        seed=0,
    )
    return TrainConfig(**{**defaults, **overrides})


def train_tiny(cell: str = "lstm", steps: int = 150, text: str = TINY_TEXT, **model_overrides) -> LanguageModel:
    """Train a one-layer H=16 model on `text` for `steps` Adam steps (a fraction of a second)."""
    corpus = Corpus.from_text(text)
    cfg = tiny_model_config(cell, **model_overrides)
    trainer = Trainer(corpus, cfg, tiny_train_config(max_steps=steps))
    for _ in trainer.run():
        pass
    return LanguageModel(trainer.params, cfg, corpus.vocab)


@pytest.fixture
def tiny_corpus() -> Corpus:
    return Corpus.from_text(TINY_TEXT)


@pytest.fixture(scope="session")
def trained_lstm() -> LanguageModel:
    """An LSTM that has learned PATTERN; shared read-only by the sampling and scoring tests."""
    return train_tiny("lstm")


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> Path:
    """A tiny checkpoint trained through the command line, shared read-only (copy it to change it)."""
    d = tmp_path_factory.mktemp("trained")
    corpus = write(d / "corpus.txt", TEXT)
    result = invoke(["train", corpus, "-c", d / "model.npz", *tiny(max_steps=10), "-q"])
    assert result.exit_code == 0, result.stderr
    return d / "model.npz"


@pytest.fixture
def victim(trained, tmp_path) -> Victim:
    return Victim(trained, tmp_path / "model.npz")


@pytest.fixture(scope="module")
def place(trained, tmp_path_factory) -> Path:
    """A folder of everything a command may be pointed at (tests/hostile.py), shared by the examples of a module."""
    return make_place(tmp_path_factory.mktemp("place"), trained)


@pytest.fixture
def corpus(tmp_path) -> Path:
    return write(tmp_path / "corpus.txt", TEXT)


@pytest.fixture
def in_colour(monkeypatch):
    """The views' stdout on an 80-column truecolour terminal: returns the function that reads it."""
    import io

    from rich.console import Console

    from charrnn.cli import console

    screen, real = io.StringIO(), console.console
    terminal = Console(
        file=screen, force_terminal=True, color_system="truecolor", width=80, markup=False, highlight=False
    )
    monkeypatch.setattr(console, "console", lambda stderr=False: real(stderr) if stderr else terminal)
    return screen.getvalue
