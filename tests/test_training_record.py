"""A checkpoint's training record is parsed once, into frozen dataclasses (metadata.py), and
read through their fields: no module but metadata.py and checkpoint.py reads it by key (the
facts `inspect` prints are Checkpoint.to_dict(), its JSON)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from charrnn import checkpoint as ckpt_io
from charrnn.metadata import CorpusRecord, TrainingRecord, Validation, parse_record

PACKAGE = Path(__file__).resolve().parent.parent / "charrnn"
# the record's one reader (metadata.py) and the file that holds it (checkpoint.py)
READERS = {"metadata.py", "checkpoint.py"}


def test_a_trained_checkpoints_record_holds_what_its_metadata_says(trained):
    ckpt = ckpt_io.load(trained)
    record, stored = ckpt.record, ckpt.progress
    assert isinstance(record, TrainingRecord)
    assert (record.step, record.best_step, record.elapsed) == (stored["step"], stored["best_step"], stored["elapsed"])
    assert record.corpus.sha256 == stored["corpus"]["sha256"] and record.corpus.to_dict() == stored["corpus"]
    assert [h.to_dict() for h in record.history] == stored["history"] and record.history
    assert record.baselines.to_dict() == stored["baselines"]
    assert record.absent == frozenset()
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.step = 0


def test_an_older_record_parses_with_what_it_lacks_said():
    record = parse_record({"step": 7, "history": [{"step": 5, "elapsed": 1.0, "train_loss": 2.0, "val_loss": 2.5}]})
    assert record.history == (Validation(5, 1.0, 2.0, 2.5, None),)
    assert record.history[0].to_dict() == {"step": 5, "elapsed": 1.0, "train_loss": 2.0, "val_loss": 2.5}
    assert record.corpus == CorpusRecord.of({}) and record.corpus.name is None and record.corpus.documents == 1
    assert {"rng", "corpus", "baselines"} <= record.absent and "step" not in record.absent


def test_a_damaged_record_is_refused():
    with pytest.raises(ValueError, match="history"):
        parse_record({"history": [{"step": "five"}]})


def test_no_module_but_the_records_own_reads_it_by_key():
    read = re.compile(r"\.progress\b(?!\s*\()")  # a checkpoint's record as its file holds it, a dict
    assert read.search('step = ckpt.progress.get("step")') and not read.search("with view.progress(text) as bar:")
    found = [
        f"{path.relative_to(PACKAGE)}:{n}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name not in READERS
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if read.search(line) and "import" not in line
    ]
    assert found == []
