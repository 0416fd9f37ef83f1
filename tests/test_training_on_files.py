"""`charrnn train` on what users have: folders and lists of files, fine-tuning from a model,
early stopping, schedules and a log that a notebook can follow, through the real command line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from charrnn import checkpoint
from charrnn.config import TrainConfig
from tests.cli_helpers import TEXT, assert_clean_error, checkpoint_meta, invoke, tiny, write


def make(path, content):
    path.parent.mkdir(parents=True, exist_ok=True)
    return write(path, content)


@pytest.fixture
def project(tmp_path):
    """A folder of text files (one in a subfolder), a binary file and an undecodable one."""
    d = tmp_path / "project"
    for i, line in enumerate(TEXT.splitlines(keepends=True)[:24]):
        make(d / ("sub" if i % 3 == 0 else "") / f"f{i:02}.txt", line * 3)
    make(d / "icon.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 4)
    make(d / "old.txt", "caf\xe9 au lait\n".encode("latin-1"))
    return d


def test_quiet_still_says_which_files_were_skipped(project, tmp_path):
    result = invoke(["train", project, "-c", tmp_path / "m.npz", *tiny(), "--sample-length", "0", "-q"])
    assert result.exit_code == 0, result.stderr
    said = result.stderr.splitlines()
    assert "Read 24 files" not in result.stderr and all(line.startswith("Warning: ") for line in said)
    assert [line for line in said if "skipped" in line] == [
        "Warning: skipped 1 binary file (project/icon.png), 1 undecodable file (project/old.txt); --encoding or "
        "--decode-errors replace reads undecodable ones"
    ]


def test_a_folder_is_read_as_documents_and_the_skipped_files_are_counted(project, tmp_path):
    result = invoke(["train", project, "-c", tmp_path / "m.npz", *tiny(), "--sample-length", "0"])
    assert result.exit_code == 0, result.stderr
    assert "Read 24 files" in result.stderr and "as 24 documents" in result.stderr
    assert "skipped 1 binary file (project/icon.png), 1 undecodable file (project/old.txt)" in result.stderr
    corpus = checkpoint_meta(tmp_path / "m.npz")["progress"]["corpus"]
    assert (corpus["files"], corpus["documents"]) == (24, 24)
    assert corpus["skipped"] == {"binary": 1, "undecodable": 1}
    listed = corpus["file_list"]
    assert [f["path"] for f in listed] == sorted(f["path"] for f in listed)
    assert "project/sub/f00.txt" in [f["path"] for f in listed]
    assert all(len(f["sha256"]) == 64 and f["bytes"] > 0 for f in listed)
    assert corpus["held_out"] > 0  # 24 documents: validation holds out whole ones
    facts = invoke(["inspect", "-c", tmp_path / "m.npz"]).stdout
    assert "24 documents" not in facts and "documents" in facts and "1 binary, 1 undecodable" in facts


def test_include_exclude_and_a_list_of_files(project, tmp_path):
    result = invoke(
        ["train", project, "--include", "*.txt", "--exclude", "sub/*", "-c", tmp_path / "a.npz", *tiny(), "-q"]
    )
    assert result.exit_code == 0, result.stderr
    corpus = checkpoint_meta(tmp_path / "a.npz")["progress"]["corpus"]
    assert corpus["files"] == 16 and all("/sub/" not in f["path"] for f in corpus["file_list"])
    one, two = project / "f01.txt", project / "f02.txt"
    result = invoke(["train", two, one, "-c", tmp_path / "b.npz", *tiny(batch_size=1, seq_len=4), "-q"])
    assert result.exit_code == 0, result.stderr
    assert [f["path"] for f in checkpoint_meta(tmp_path / "b.npz")["progress"]["corpus"]["file_list"]] == [
        one.as_posix(),
        two.as_posix(),
    ]


def test_an_empty_selection_is_a_clear_error(project, tmp_path):
    assert_clean_error(
        invoke(["train", project, "--include", "*.rs", "-c", tmp_path / "m.npz"]), 1, "no files matching"
    )
    assert_clean_error(
        invoke(["train", project / "icon.png", project / "old.txt", "-c", tmp_path / "m.npz"]),
        1,
        "none of the 2 files could be read",
    )
    assert_clean_error(invoke(["train", "-", project, "-c", tmp_path / "m.npz"]), 2, "standard input")
    assert not (tmp_path / "m.npz").exists()


def test_a_separator_cuts_standard_input_into_documents(tmp_path):
    text = "".join(f"entry {i}: {TEXT[i : i + 40]}\n%%\n" for i in range(30))
    result = invoke(
        ["train", "-", "--document-separator", "\n%%\n", "-c", tmp_path / "m.npz", *tiny(), "-q"], input=text
    )
    assert result.exit_code == 0, result.stderr
    corpus = checkpoint_meta(tmp_path / "m.npz")["progress"]["corpus"]
    assert corpus["documents"] == 30 and corpus["separator"] == "\n%%\n"
    assert "%" not in checkpoint.load(tmp_path / "m.npz").vocab  # the separators are gone, the boundary is there
    assert_clean_error(invoke(["train", "-", "--document-separator", "", "-c", tmp_path / "n.npz"], input=text), 2)


def test_fine_tuning_names_the_new_characters_and_starts_a_new_run(tmp_path):
    old = tmp_path / "old.npz"
    assert invoke(["train", write(tmp_path / "a.txt", TEXT), "-c", old, *tiny(max_steps=8), "-q"]).exit_code == 0
    new_text = TEXT.replace("quick", "QUICK").replace("dog", "Dög")
    result = invoke(
        ["train", write(tmp_path / "b.txt", new_text), "--init-from", old, "-c", tmp_path / "new.npz"]
        + tiny(max_steps=3, eval_every=3)
        + ["--sample-length", "0"]
    )
    assert result.exit_code == 0, result.stderr
    assert "Fine-tuning a model" in result.stderr
    assert "7 characters it never saw get new rows: 'C', 'D', 'I', 'K', 'Q', 'U', 'ö'" in result.stderr
    before, after = checkpoint.load(old), checkpoint.load(tmp_path / "new.npz")
    assert after.progress["step"] == 3 and len(after.progress["history"]) == 1  # a new run
    assert after.progress["init_from"]["steps"] == 8
    assert set(after.vocab.chars) == set(before.vocab.chars) | set("CDIKQUö")
    assert after.model == before.model


def test_fine_tuning_keeps_the_shape_and_is_not_resuming(tmp_path):
    old = tmp_path / "old.npz"
    corpus = write(tmp_path / "a.txt", TEXT)
    assert invoke(["train", corpus, "-c", old, *tiny(), "-q"]).exit_code == 0
    assert_clean_error(
        invoke(["train", corpus, "--init-from", old, "-c", tmp_path / "n.npz", *tiny(hidden_size=9)]),
        2,
        "keeps the model's shape",
        "--hidden-size (it is 8)",
    )
    assert_clean_error(invoke(["train", corpus, "--init-from", old, "-c", old, "--resume"]), 2, "choose one")
    assert_clean_error(
        invoke(["train", corpus, "--init-from", tmp_path / "none.npz", "-c", tmp_path / "n.npz"]), 2, "--init-from"
    )


def test_patience_stops_a_run_and_says_so(tmp_path):
    # validation on a tail written in another order than the training text stops improving at once
    text = "abcd" * 300 + "dcbadbca" * 20
    result = invoke(
        ["train", write(tmp_path / "t.txt", text), "-c", tmp_path / "m.npz"]
        + tiny(max_steps=2000, eval_every=5, val_fraction=0.12, lr=0.01)
        + ["--patience", "3", "--sample-length", "0"]
    )
    assert result.exit_code == 0, result.stderr
    assert "Stopped early at step" in result.stderr and "in the last 3 validations (--patience 3)" in result.stderr
    progress = checkpoint_meta(tmp_path / "m.npz")["progress"]
    assert progress["step"] < 2000 and sum(h["step"] > progress["best_step"] for h in progress["history"]) == 3


def test_the_log_appends_one_json_line_per_validation(tmp_path):
    corpus, log = write(tmp_path / "t.txt", TEXT), tmp_path / "run.jsonl"
    args = ["train", corpus, "-c", tmp_path / "m.npz", *tiny(max_steps=10, eval_every=5), "--log", log, "-q"]
    assert invoke(args).exit_code == 0
    assert invoke([*args, "--resume", *tiny(max_steps=15, eval_every=5)]).exit_code == 0
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["step"] for r in records] == [5, 10, 15]
    assert set(records[0]) == {"step", "elapsed", "train_bits", "val_bits", "lr", "chars_per_sec"}
    history = checkpoint_meta(tmp_path / "m.npz")["progress"]["history"]
    assert [r["val_bits"] for r in records] == pytest.approx([h["val_loss"] / np.log(2) for h in history])
    clash = invoke(["train", corpus, "-c", tmp_path / "x.npz", *tiny(), "--log", corpus])
    assert_clean_error(clash, 2, "--log", "is the corpus itself")
    assert corpus.read_text() == TEXT


def test_a_cosine_schedule_decays_over_the_time_limit_or_the_step_limit(tmp_path):
    corpus = write(tmp_path / "t.txt", TEXT)
    timed = tiny(eval_every=10**6)
    del timed[timed.index("--max-steps") : timed.index("--max-steps") + 2]  # only a time limit
    result = invoke(
        ["train", corpus, "-c", tmp_path / "t.npz", *timed, "--lr-schedule", "cosine", "--max-time", "0.5s"]
        + ["--log", tmp_path / "t.jsonl", "-q"]
    )
    assert result.exit_code == 0, result.stderr
    train = checkpoint_meta(tmp_path / "t.npz")["train"]
    last = json.loads((tmp_path / "t.jsonl").read_text().splitlines()[-1])
    assert last["lr"] == pytest.approx(train["lr"] * train["min_lr_ratio"])  # the time is up: the floor
    assert train["max_steps"] is None and last["step"] > 1
    result = invoke(
        ["train", corpus, "-c", tmp_path / "m.npz", *tiny(max_steps=10, eval_every=5)]
        + ["--lr-schedule", "cosine", "--warmup-steps", "2", "--log", tmp_path / "l.jsonl", "-q"]
    )
    assert result.exit_code == 0, result.stderr
    lrs = [json.loads(line)["lr"] for line in (tmp_path / "l.jsonl").read_text().splitlines()]
    lr, floor = TrainConfig().lr, TrainConfig().min_lr_ratio
    assert lrs == pytest.approx([lr * (floor + (1 - floor) * 0.5 * (1 + np.cos(np.pi * 3 / 8))), lr * floor])
