"""benchmarks/time_to_quality.py reads charrnn's --log as its curve, reads curves between validations,
and compares charrnn and the PyTorch loop on the same held-out characters (its pure parts only: no
timed run here)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from charrnn.config import ModelConfig, TrainConfig
from charrnn.data.corpus import Corpus
from charrnn.training.trainer import Trainer
from tests.cli_helpers import TEXT, invoke, tiny, write

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def ttq():
    spec = importlib.util.spec_from_file_location("time_to_quality", BENCHMARKS / "time_to_quality.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    for name in ("isolated", "reference"):  # what the script put on sys.path to import
        sys.modules.pop(name, None)
    sys.path.remove(str(BENCHMARKS))


def test_the_log_charrnn_writes_is_read_as_its_validation_curve(tmp_path, ttq):
    corpus, log = write(tmp_path / "t.txt", TEXT), tmp_path / "run.jsonl"
    args = ["train", corpus, "-c", tmp_path / "m.npz", *tiny(max_steps=10, eval_every=5), "--log", log, "-q"]
    assert invoke(args).exit_code == 0
    written = [json.loads(line) for line in log.read_text().splitlines()]
    curve = ttq.parse_log(log.read_text() + "\n")
    assert [p["step"] for p in curve] == [5, 10]
    assert [p["bits"] for p in curve] == [r["val_bits"] for r in written]
    assert [p["seconds"] for p in curve] == [r["elapsed"] for r in written]
    with pytest.raises(ValueError, match="line 2 of the log"):
        ttq.parse_log(log.read_text().splitlines()[0] + '\n{"step": 3}\n')


def test_a_curve_is_read_between_its_validations(ttq):
    curve = [{"step": 100, "seconds": 10.0, "bits": 3.0}, {"step": 300, "seconds": 40.0, "bits": 2.0}]
    assert ttq.value_at(curve, "step", 200) == pytest.approx(2.5)
    assert ttq.value_at(curve, "seconds", 20.0) == pytest.approx(3.0 - 1 / 3)
    assert ttq.value_at(curve, "step", 300) == 2.0
    assert ttq.value_at(curve, "step", 99) is None  # before the first validation
    assert ttq.value_at(curve, "step", 301) is None  # after the last
    assert ttq.value_at(curve[:1], "step", 100) == 3.0
    assert ttq.step_marks(4_327) == [1_000, 2_000, 3_000, 4_000]
    assert ttq.step_marks(430) == [100, 200, 300, 400]
    assert ttq.step_marks(9_000) == [2_000, 4_000, 6_000, 8_000]
    assert ttq.second_marks(300) == [60, 120, 180, 240, 300]


def test_the_tables_show_each_contenders_steps_and_best_bits(ttq):
    ours = [{"step": 1_000, "seconds": 100.0, "bits": 2.5}, {"step": 3_000, "seconds": 300.4, "bits": 2.2}]
    theirs = [{"step": 2_000, "seconds": 150.0, "bits": 2.3}, {"step": 4_000, "seconds": 300.1, "bits": 2.35}]
    rows = ttq.summary_table(
        [{"text": "t.txt", "seconds": 300.0, "charrnn": {"curve": ours}, "PyTorch": {"curve": theirs}}]
    )
    assert rows[-1] == "| t.txt | 300 s | 3,000 | 2.200 | 4,000 | 2.300 | -0.100 |"
    lines = ttq.curve_table({"charrnn": ours, "PyTorch": theirs}, 300.0)
    assert lines[0].split() == ["bits/char", "at", "step", "1,000", "2,000", "3,000", "4,000"]
    assert lines[1].split() == ["charrnn", "2.500", "2.350", "2.200", "-"]
    assert lines[2].split() == ["PyTorch", "-", "2.300", "2.325", "2.350"]
    assert lines[3].split()[3:] == ["60", "s", "120", "s", "180", "s", "240", "s", "300", "s"]
    assert lines[5].split()[:2] == ["PyTorch", "-"]  # nothing validated before 150 s


def test_charrnn_and_the_loop_are_checked_to_validate_the_same_characters(tmp_path, ttq, monkeypatch):
    path = write(tmp_path / "t.txt", TEXT * 4)  # 5,248 characters: a held-out tail of 524
    n, said = ttq.check_same_validation(path)
    assert n == 524
    assert "the same 524 of the held-out tail (from character 4,724)" in said
    monkeypatch.setattr(ttq, "loop_split", lambda n: n - int(n * 0.1) - 1)  # the loop one character off
    with pytest.raises(SystemExit, match="not the 524 from character 4,723"):
        ttq.check_same_validation(path)


@pytest.fixture
def torch():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model: threads only cost time on a shared machine
    yield torch
    torch.set_num_threads(threads)


def test_the_pytorch_loop_scores_the_held_out_text_as_charrnn_validates_it(ttq, torch):
    corpus = Corpus.from_text(TEXT * 4)
    cfg = ModelConfig(hidden_size=8, num_layers=2, dropout=0.0)
    trainer = Trainer(corpus, cfg, TrainConfig(batch_size=4, seq_len=8, val_fraction=0.1, eval_chars=300))
    rng = np.random.default_rng(3)
    for p in trainer.params.values():
        p += rng.normal(0, 0.3, p.shape).astype(p.dtype)  # far from uniform predictions
    loop = ttq.reference.TorchLoop("lstm", 8, 2, 4, 8, trainer.train_ids, len(corpus.vocab))
    loaded = loop.model.load_state_dict({k: torch.from_numpy(p) for k, p in trainer.params.items()}, strict=False)
    assert loaded.missing_keys == ["eye"] and not loaded.unexpected_keys  # every weight charrnn's
    assert len(trainer.val_ids) == 300  # --eval-chars of the tail, 299 targets: 4 streams of 74, 9 windows of 8
    theirs = loop.validation_bits(trainer.val_ids)
    assert theirs > 4.0  # random weights: worse than uniform over the text's 31 characters
    assert theirs == pytest.approx(trainer.evaluate() / np.log(2), rel=1e-5)
