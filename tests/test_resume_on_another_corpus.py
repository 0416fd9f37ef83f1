"""`train --resume` on a text other than the one the checkpoint was trained on (its SHA-256 differs,
whatever its characters or name) continues from the model's weights as fine-tuning, and says so:
the validation set is the new text's, so the best weights, their loss, the learning curve and the
baselines start afresh, and the checkpoint records what it was fine-tuned from. Every fact that
`inspect` then shows is true of the new run."""

from __future__ import annotations

import json

from charrnn import checkpoint as ckpt_io
from charrnn.training.resume import other_corpus
from tests.cli_helpers import TEXT, invoke, tiny, write


def test_resume_on_another_text_is_fine_tuning_and_says_so(victim, tmp_path):
    before = ckpt_io.load(victim.path)
    hard = write(tmp_path / "hard.txt", "".join(reversed(TEXT)))  # the same characters, another text
    result = invoke(["train", hard, "-c", victim.path, *tiny(max_steps=20, eval_every=5), "--resume"])
    assert result.exit_code == 0, result.stderr
    assert "hard.txt is not the text the checkpoint was trained on (corpus.txt)" in result.stderr
    after = ckpt_io.load(victim.path)
    p = after.progress
    assert p["corpus"]["name"] == "hard.txt" and p["corpus"]["sha256"] != before.progress["corpus"]["sha256"]
    assert p["init_from"] == {"corpus": before.progress["corpus"], "steps": before.progress["step"]}
    # the record is of the new text alone: every validation and the best weights are after the resume
    assert p["history"] and all(h["step"] > before.progress["step"] for h in p["history"])
    assert p["best_step"] > before.progress["step"]
    assert min(h["val_loss"] for h in p["history"]) == p["best_val_loss"]
    facts = json.loads(invoke(["inspect", "-c", victim.path, "--json"]).stdout)
    assert facts["corpus"]["name"] == "hard.txt" and facts["training"]["init_from"]["corpus"]["name"] == "corpus.txt"


def test_resume_on_its_own_corpus_continues_its_record(victim, tmp_path):
    before = ckpt_io.load(victim.path).progress
    same = write(tmp_path / "renamed.txt", TEXT)  # the same text under another name
    result = invoke(["train", same, "-c", victim.path, *tiny(max_steps=20), "--resume"])
    assert result.exit_code == 0, result.stderr
    assert "is not the text" not in result.stderr
    p = ckpt_io.load(victim.path).progress
    assert p["step"] == 20 and p["history"][: len(before["history"])] == before["history"]
    assert p.get("init_from") is None


def test_the_library_compares_the_recorded_hash(trained, tmp_path):
    from charrnn.data.corpus import read_corpus

    ckpt = ckpt_io.load(trained)
    assert other_corpus(ckpt, read_corpus(write(tmp_path / "a.txt", TEXT))) is None
    assert other_corpus(ckpt, read_corpus(write(tmp_path / "b.txt", TEXT + "the")))["name"] == "corpus.txt"
