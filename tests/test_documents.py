"""Documents and their boundaries: a model trained on many short documents writes whole ones."""

from __future__ import annotations

import dataclasses
import itertools
import re

import pytest
from threadpoolctl import threadpool_limits

from charrnn import checkpoint
from charrnn.cli.sample import SEPARATOR_LINE
from charrnn.config import ModelConfig, SampleConfig, TrainConfig
from charrnn.data.corpus import read_documents
from charrnn.data.sources import select
from charrnn.errors import DataError
from charrnn.generation.documents import documents
from charrnn.language_model import LanguageModel
from charrnn.training.trainer import Trainer
from tests.cli_helpers import TEXT, assert_clean_error, invoke, tiny, write

WORDS = ["apple", "berry", "cherry", "date", "elder", "fig", "grape", "honey", "kiwi"]
WORDS += ["lemon", "mango", "nut", "olive", "pear", "quince", "rice", "sage", "tea"]
WELL_FORMED = re.compile(f"({'|'.join(WORDS)}) and ({'|'.join(WORDS)})\\.\n")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """306 short distinct documents, one per file ("fig and tea.\\n"), and a GRU trained on them."""
    folder = tmp_path_factory.mktemp("docs")
    for i, (a, b) in enumerate(itertools.permutations(WORDS, 2)):
        (folder / f"{i:03}.txt").write_text(f"{a} and {b}.\n")
    corpus, _ = read_documents(select([folder]), val_fraction=0.1)
    cfg = TrainConfig(seq_len=32, batch_size=16, lr=5e-3, eval_every=100, max_steps=400, max_time=None, patience=None)
    cfg = dataclasses.replace(cfg, epoch_offsets="fixed")  # the model these samples were written against
    trainer = Trainer(corpus, ModelConfig(cell="gru", hidden_size=48, num_layers=1, dropout=0.0), cfg)
    with threadpool_limits(1):  # matrices this small only wait for a second thread on a loaded machine
        for _ in trainer.run():
            pass
    path = tmp_path_factory.mktemp("model") / "docs.npz"
    checkpoint.save(trainer.checkpoint(), path)
    return path


def test_whole_documents_are_held_out_for_validation(trained):
    ckpt = checkpoint.load(trained)
    corpus = ckpt.progress["corpus"]
    assert corpus["documents"] == 306 and corpus["files"] == 306
    assert 0 < corpus["held_out"] < corpus["chars"] * 0.2


def test_the_lead_in_is_the_end_of_a_training_document(trained):
    lead_in = checkpoint.load(trained).progress["lead_in"]
    assert lead_in.endswith(".\n") and len(lead_in) == 64


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_three_documents_are_three_well_formed_documents(trained, seed):
    ckpt = checkpoint.load(trained)
    B = ckpt.progress["corpus"]["boundary"]
    texts = [[], [], []]
    cfg = SampleConfig(length=100, temperature=0.3, seed=seed)
    steps = documents(LanguageModel.of(ckpt), B, cfg, 3, lead_in=ckpt.progress["lead_in"])
    for chars in steps:
        for text, ch in zip(texts, chars):
            if ch is not None:
                text.append(ch)
    docs = ["".join(t) for t in texts]
    assert all(WELL_FORMED.fullmatch(d) for d in docs), docs  # each ended, at its boundary, not printed


def test_a_model_of_one_text_has_no_documents_to_write(trained_lstm):
    with pytest.raises(DataError, match="without document boundaries"):
        next(documents(trained_lstm, None, SampleConfig(), 2))


def test_sample_documents_writes_whole_documents_separated_and_without_their_boundary(trained):
    result = invoke(["sample", "-c", trained, "--documents", "3", "--temp", "0.3", "--seed", "1", "-n", "100"])
    assert result.exit_code == 0, result.stderr
    docs = result.stdout.split(SEPARATOR_LINE + "\n")
    assert len(docs) == 3 and all(WELL_FORMED.fullmatch(d) for d in docs), docs
    B = checkpoint.load(trained).progress["corpus"]["boundary"]
    assert B not in result.stdout
    custom = invoke(["sample", "-c", trained, "--documents", "2", "--temp", "0.3", "--separator", "%%\n"])
    assert custom.stdout.count("%%\n") == 1 and all(WELL_FORMED.fullmatch(d) for d in custom.stdout.split("%%\n"))


def test_sample_documents_says_when_it_cannot(trained, tmp_path):
    cut = invoke(["sample", "-c", trained, "--documents", "2", "-n", "4", "--seed", "0"])
    assert cut.exit_code == 0 and "documents 1, 2 reached -n 4 characters" in cut.stderr
    assert_clean_error(invoke(["sample", "-c", trained, "--documents", "2", "--num-samples", "2"]), 2, "--num-samples")
    one_text = tmp_path / "one.npz"
    assert invoke(["train", write(tmp_path / "t.txt", TEXT), "-c", one_text, *tiny(), "-q"]).exit_code == 0
    assert_clean_error(invoke(["sample", "-c", one_text, "--documents", "2"]), 1, "without document boundaries")
    assert_clean_error(
        invoke(["sample", "-c", one_text, "--documents", "1000000000"]), 1, "without document boundaries"
    )
