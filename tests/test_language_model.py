"""The library's one-value model: charrnn.load(path) and generate_text, as a library user calls them."""

from __future__ import annotations

import ast

import numpy as np
import pytest

import charrnn
from charrnn import checkpoint
from charrnn.checkpoint import Checkpoint
from charrnn.config import SampleConfig, TrainConfig
from charrnn.errors import CharRNNError, DataError
from tests.conftest import PATTERN
from tests.test_layering import library_modules, source_of


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


def loose_model_parts(source: str) -> list[str]:
    """Public functions of `source` that take a model's parts loose: weights (Params) or a
    ModelConfig together with a Vocab, where one LanguageModel would do."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
            args = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            kinds = {ast.unparse(a.annotation) for a in args if a.annotation is not None}
            if "Vocab" in kinds and kinds & {"Params", "ModelConfig"}:
                found.append(node.name)
    return found


def test_outside_the_core_and_training_the_library_takes_one_model_not_its_parts():
    """nn/ and training/ work on the weights and the config as the maths does; everything above
    them (analysis, generation, the browser page) takes the one LanguageModel."""
    modules = [m for m in library_modules() if not m.startswith(("charrnn.nn.", "charrnn.training."))]
    offenders = {m: loose_model_parts(source_of(m).read_text()) for m in modules}
    assert {m: names for m, names in offenders.items() if names} == {}


def test_the_loose_parts_check_would_notice_a_function_taking_them():
    before = "def windows(params: Params, cfg: ModelConfig, vocab: Vocab, text: str): ...\n"
    assert loose_model_parts(before + "def _private(cfg: ModelConfig, vocab: Vocab): ...\n") == ["windows"]
    assert loose_model_parts("def windows(model: LanguageModel, text: str): ...\n") == []
