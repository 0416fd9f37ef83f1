"""The library's one-value model: charrnn.load(path) and generate_text, as a library user calls them."""

from __future__ import annotations

import numpy as np
import pytest

import charrnn
from charrnn import checkpoint
from charrnn.checkpoint import Checkpoint
from charrnn.config import SampleConfig, TrainConfig
from charrnn.errors import CharRNNError, DataError
from tests.conftest import PATTERN


def saved(tmp_path, trained) -> str:
    path = tmp_path / "m.npz"
    checkpoint.save(Checkpoint(trained.cfg, TrainConfig(), trained.vocab, trained.params), path)
    return str(path)


def test_load_and_generate_text_write_what_the_model_learned(tmp_path, trained_lstm):
    model = charrnn.load(saved(tmp_path, trained_lstm))
    assert isinstance(model, charrnn.LanguageModel)
    assert model.vocab == trained_lstm.vocab and model.cfg == trained_lstm.cfg
    assert model.generate_text("hello ", length=17, argmax=True) == (PATTERN * 3)[6:23]


def test_generate_text_is_the_streamed_samples_joined(trained_lstm):
    streamed = "".join(c[0] for c in trained_lstm.generate(SampleConfig(length=50, temperature=1.5, seed=4), "h"))
    assert trained_lstm.generate_text("h", length=50, temperature=1.5, seed=4) == streamed
    assert trained_lstm.generate_text("h", length=50, temperature=1.5, seed=5) != streamed


def test_generate_text_refuses_what_the_config_refuses(trained_lstm):
    with pytest.raises(CharRNNError):
        trained_lstm.generate_text("h", length=5, temperature=-1.0)
    with pytest.raises(DataError, match="never saw"):
        trained_lstm.generate_text("Zürich", length=5)


def test_load_of_a_file_that_is_no_checkpoint_is_a_library_error(tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros(3))
    with pytest.raises(CharRNNError):
        charrnn.load(str(bad))
