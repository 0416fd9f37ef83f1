"""Issue 4, "Unbreakable", through the command line: bad input, faults and repeatability.

Every bad input must give a non-zero exit (2 for usage errors), one `Error:` line on stderr that
says what is wrong, no traceback, and leave an existing checkpoint byte for byte as it was.
Most cases run in-process with CliRunner; signals, kills and races run the real console script.
"""

from __future__ import annotations

import errno
import io
import json
import os
import random
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charrnn import checkpoint as ckpt_io
from charrnn.config import ModelConfig, TrainConfig
from charrnn.data import corpus as corpus_io
from charrnn.data.corpus import read_corpus
from charrnn.nn.model import init_params
from charrnn.training.trainer import Trainer
from tests.cli_helpers import (
    TEXT,
    assert_clean_error,
    assert_same_arrays,
    checkpoint_arrays,
    checkpoint_meta,
    invoke,
    script,
    tiny,
    write,
)

RESUMABLE = [*tiny(), "--layers", "2", "--dropout", "0.2"]  # two layers: the dropout stream must resume too


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("trained")
    corpus = write(d / "corpus.txt", TEXT)
    result = invoke(["train", corpus, "-c", d / "model.npz", *tiny(max_steps=10), "-q"])
    assert result.exit_code == 0, result.stderr
    return d / "model.npz"


class Victim:
    """A copy of a good checkpoint that a failing command must leave exactly as it was."""

    def __init__(self, source: Path, path: Path):
        path.write_bytes(source.read_bytes())
        self.path, self.bytes = path, path.read_bytes()

    def unchanged(self) -> bool:
        return self.path.read_bytes() == self.bytes


@pytest.fixture
def victim(trained, tmp_path) -> Victim:
    return Victim(trained, tmp_path / "model.npz")


@pytest.fixture
def corpus(tmp_path) -> Path:
    return write(tmp_path / "corpus.txt", TEXT)


def train_over(victim: Victim, corpus, *extra, input=None):
    """train with --force onto an existing checkpoint: a bad input must not cost the user it."""
    return invoke(["train", corpus, "-c", victim.path, *tiny(), "--force", *extra], input=input)


def vocab_of(ckpt: Path) -> list[str]:
    return checkpoint_meta(ckpt)["vocab"]


# -- bad corpora --------------------------------------------------------------------------------


def test_corpus_missing(victim, tmp_path):
    assert_clean_error(train_over(victim, tmp_path / "nope.txt"), 2, "nope.txt", "does not exist")
    assert victim.unchanged()


def test_corpus_is_a_directory(victim, tmp_path):
    assert_clean_error(train_over(victim, tmp_path), 2, "is a directory")
    assert victim.unchanged()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_corpus_unreadable(victim, corpus):
    corpus.chmod(0)
    try:
        assert_clean_error(train_over(victim, corpus), 2, "corpus.txt", "not readable")
    finally:
        corpus.chmod(0o644)
    assert victim.unchanged()


def test_corpus_unreadable_even_for_root(victim, corpus, monkeypatch):
    """Root can read anything, so make the open itself fail as it does for others."""

    def refuse(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    monkeypatch.setattr(corpus_io, "open", refuse, raising=False)
    assert_clean_error(train_over(victim, corpus), 1, "cannot read the corpus", "Permission denied")
    assert victim.unchanged()


def test_corpus_empty(victim, tmp_path):
    assert_clean_error(train_over(victim, write(tmp_path / "e.txt", "")), 1, "e.txt is empty")
    assert_clean_error(train_over(victim, "-", input=""), 1, "<stdin> is empty")
    assert_clean_error(train_over(victim, write(tmp_path / "bom.txt", "\ufeff")), 1, "empty")
    assert victim.unchanged()


def test_corpus_shorter_than_a_window_says_the_minimum(victim, tmp_path):
    # one window of 2 x 8 and its target need 17 characters, and 5% validation must be >= 2: 40
    short = write(tmp_path / "short.txt", "a" * 39)
    assert_clean_error(train_over(victim, short), 1, "39 characters", "at least 40 characters", "--val-fraction")
    shorter = write(tmp_path / "shorter.txt", "a" * 10)
    assert_clean_error(train_over(victim, shorter), 1, "10 characters", "at least 40", "--batch-size/--seq-len")
    assert victim.unchanged()
    enough = write(tmp_path / "enough.txt", "ab" * 20)
    assert invoke(["train", enough, "-c", tmp_path / "ok.npz", *tiny(), "-q"]).exit_code == 0


INVALID = b"hello world\n" * 5 + b"\xff\xfe tail\n" + b"more text here\n" * 4  # bad byte at offset 60


def test_corpus_invalid_utf8_names_the_offset(victim, tmp_path):
    bad = write(tmp_path / "bad.txt", INVALID)
    assert_clean_error(train_over(victim, bad), 1, "not valid utf-8", "offset 60", "--encoding", "--decode-errors")
    assert victim.unchanged()


def test_corpus_invalid_utf8_offset_across_chunks(victim, tmp_path, monkeypatch):
    monkeypatch.setattr(corpus_io, "CHUNK_BYTES", 7)
    bad = write(tmp_path / "bad.txt", INVALID)
    assert_clean_error(train_over(victim, bad), 1, "offset 60")
    binary = write(tmp_path / "b.bin", bytes(np.random.default_rng(0).integers(0, 256, 2000, dtype=np.uint8)))
    assert_clean_error(train_over(victim, binary), 1, "not valid utf-8", "offset")
    assert victim.unchanged()


@pytest.mark.parametrize(
    "options, present, absent",
    [
        (["--decode-errors", "replace"], "\ufffd", "\xff"),
        (["--decode-errors", "ignore"], None, "\ufffd"),
        (["--encoding", "latin-1"], "\xff", "\ufffd"),
    ],
)
def test_corpus_invalid_utf8_can_be_read(tmp_path, options, present, absent):
    bad = write(tmp_path / "bad.txt", INVALID)
    ckpt = tmp_path / "m.npz"
    result = invoke(["train", bad, "-c", ckpt, *tiny(), "-q", *options])
    assert result.exit_code == 0, result.stderr
    vocab = vocab_of(ckpt)
    assert absent not in vocab and (present is None or present in vocab)


def test_unknown_or_non_text_encoding(victim, corpus):
    assert_clean_error(train_over(victim, corpus, "--encoding", "klingon"), 1, "unknown text encoding", "'klingon'")
    assert_clean_error(train_over(victim, corpus, "--encoding", "hex"), 1, "unknown text encoding", "'hex'")
    assert victim.unchanged()


def test_chinese_with_thousands_of_characters(tmp_path):
    rng = random.Random(0)
    chars = [chr(0x4E00 + i) for i in range(3000)]
    text = "".join(rng.choice(chars) + ("\n" if i % 40 == 39 else "") for i in range(3000))
    text = "".join(chars) + "\n" + text  # every one of the 3,000 occurs
    corpus = write(tmp_path / "zh.txt", text)
    ckpt = tmp_path / "zh.npz"
    result = invoke(["train", corpus, "-c", ckpt, *tiny(), "--sample-length", "20"])
    assert result.exit_code == 0, result.stderr
    facts = json.loads(invoke(["inspect", "-c", ckpt, "--json"]).stdout)
    assert facts["vocab"]["size"] == 3001 and facts["corpus"]["chars"] == len(text)
    sample = invoke(["sample", "-c", ckpt, "-n", "30", "--prime", "\u4e00\u4e01", "--seed", "0"])
    assert sample.exit_code == 0 and sample.stdout.startswith("\u4e00\u4e01") and len(sample.stdout) == 32
    assert set(sample.stdout) <= set(text)
    scored = json.loads(invoke(["inspect", "-c", ckpt, "--json", "--text", "-"], input=text[:50]).stdout)
    assert scored["score"]["chars"] == 49


def test_windows_line_endings_and_old_mac_ones_become_newlines(tmp_path):
    text = TEXT.replace("\n", "\r\n")
    corpus = write(tmp_path / "crlf.txt", text[:600] + TEXT[:100].replace("\n", "\r"))
    ckpt = tmp_path / "m.npz"
    assert invoke(["train", corpus, "-c", ckpt, *tiny(), "-q"]).exit_code == 0
    meta = checkpoint_meta(ckpt)
    assert "\r" not in meta["vocab"] and "\n" in meta["vocab"]
    assert meta["progress"]["corpus"]["chars"] == len(text[:600].replace("\r\n", "\n")) + 100


def test_byte_order_mark_is_not_text(tmp_path):
    ckpt = tmp_path / "m.npz"
    assert invoke(["train", "-", "-c", ckpt, *tiny(), "-q"], input=("\ufeff" + TEXT).encode("utf-8")).exit_code == 0
    assert "\ufeff" not in vocab_of(ckpt)
    utf16 = write(tmp_path / "u16.txt", TEXT.replace("\n", "\r\n").encode("utf-16"))  # BOM and CRLF
    assert invoke(["train", utf16, "-c", ckpt, *tiny(), "-q", "--force", "--encoding", "utf-16"]).exit_code == 0
    assert vocab_of(ckpt) == sorted(set(TEXT))


def test_no_room_for_the_corpus_copy_or_its_ids(victim, corpus, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    class Pipe(io.BytesIO):  # what standard input is in a shell pipeline: readable once
        def seekable(self):
            return False

    with monkeypatch.context() as m:
        m.setattr(corpus_io.tempfile, "TemporaryFile", full)  # a pipe is copied to a file first
        with pytest.raises(corpus_io.DataError, match="No space left on device.*TMPDIR"):
            read_corpus(Pipe(TEXT.encode()))
    with monkeypatch.context() as m:
        m.setattr(corpus_io.os, "posix_fallocate", full, raising=False)
        assert_clean_error(train_over(victim, corpus), 1, "corpus's ids", "No space left on device", "TMPDIR")
    assert victim.unchanged()


# -- files that must not be replaced ------------------------------------------------------------


def test_checkpoint_path_is_the_corpus(corpus):
    before = corpus.read_bytes()
    for flags in ([], ["--force"], ["--resume"]):
        assert_clean_error(invoke(["train", corpus, "-c", corpus, *tiny(), *flags]), 2, "is the corpus itself")
    assert corpus.read_bytes() == before


def test_force_replaces_only_checkpoints(corpus, tmp_path):
    notes = write(tmp_path / "notes.txt", "my precious notes\n")
    for flags in ([], ["--force"], ["--resume"]):
        result = invoke(["train", corpus, "-c", notes, *tiny(), *flags])
        assert_clean_error(result, 1, "not a charrnn checkpoint", "-c")
    assert notes.read_text() == "my precious notes\n"
    assert_clean_error(invoke(["train", corpus, "-c", os.devnull, *tiny(), "--force"]), 1, "not a regular file")
    empty = write(tmp_path / "empty.npz", b"")  # an empty file holds nothing to lose
    assert invoke(["train", corpus, "-c", empty, *tiny(), "--force", "-q"]).exit_code == 0


# -- bad option values --------------------------------------------------------------------------

BAD_TRAIN_OPTIONS = [
    ("--hidden-size", "0"),
    ("--hidden-size", "-1"),
    ("--layers", "0"),
    ("--seq-len", "0"),
    ("--batch-size", "-2"),
    ("--max-steps", "0"),
    ("--eval-every", "0"),
    ("--eval-chars", "1"),
    ("--epochs", "0"),
    ("--epochs", "-1"),
    ("--epochs", "nan"),
    ("--lr", "0"),
    ("--lr", "-0.1"),
    ("--lr", "nan"),
    ("--lr", "inf"),
    ("--dropout", "1"),
    ("--dropout", "nan"),
    ("--momentum", "-0.5"),
    ("--lr-decay", "0"),
    ("--grad-clip", "-1"),
    ("--val-fraction", "0"),
    ("--val-fraction", "1"),
    ("--val-fraction", "1.5"),
    ("--val-fraction", "nan"),
    ("--seed", "-1"),
    ("--seed", "x"),
    ("--hidden-size", "2.5"),
    ("--model", "transformer"),
    ("--optimizer", "lion"),
    ("--decode-errors", "maybe"),
    ("--max-time", "abc"),
    ("--max-time", "10x"),
    ("--max-time", "-5s"),
    ("--max-time", "0"),
    ("--max-time", "0s"),
    ("--max-time", ""),
    ("--max-time", "1e3"),
    ("--max-time", "5 minutes"),
    ("--max-time", "9" * 400),
]


@pytest.mark.parametrize("option, value", BAD_TRAIN_OPTIONS)
def test_bad_train_option(victim, corpus, option, value):
    line = assert_clean_error(train_over(victim, corpus, option, value), 2, option)
    assert "Invalid value" in line
    assert victim.unchanged()


BAD_SAMPLE_OPTIONS = [
    ("-n", "-1"),
    ("--temp", "0"),
    ("--temp", "-1"),
    ("--temp", "nan"),
    ("--temp", "inf"),
    ("--temp", "warm"),
    ("--top-p", "0"),
    ("--top-p", "1.01"),
    ("--top-p", "-0.5"),
    ("--top-p", "nan"),
    ("--top-k", "0"),
    ("--top-k", "-3"),
    ("--num-samples", "0"),
    ("--seed", "-1"),
]


@pytest.mark.parametrize("option, value", BAD_SAMPLE_OPTIONS)
def test_bad_sample_option(victim, option, value):
    assert_clean_error(invoke(["sample", "-c", victim.path, option, value]), 2, option.split("/")[0])
    assert victim.unchanged()


def test_validation_fraction_leaving_no_training_or_no_validation_text(victim, corpus):
    assert_clean_error(
        train_over(victim, corpus, "--val-fraction", "0.999"), 1, "characters for training", "lower --val-fraction"
    )
    assert_clean_error(
        train_over(victim, corpus, "--val-fraction", "0.001"), 1, "characters for validation", "raise --val-fraction"
    )
    assert victim.unchanged()


def test_prime_with_characters_outside_the_vocabulary(victim):
    line = assert_clean_error(
        invoke(["sample", "-c", victim.path, "--prime", "the \u2603 \u00e9"]), 1, "--skip-unknown"
    )
    assert repr("\u2603") in line and repr("\u00e9") in line
    result = invoke(
        ["sample", "-c", victim.path, "-n", "5", "--prime", "\u2603\u2603", "--skip-unknown", "--seed", "0"]
    )
    assert result.exit_code == 0 and len(result.stdout) == 5 and "Warning" in result.stderr
    assert victim.unchanged()


# -- bad checkpoints ----------------------------------------------------------------------------


class Marker:
    """Unpickling this creates a file: proof that a checkpoint ran code."""

    path = ""

    def __reduce__(self):
        return (open, (self.path, "w"))


def make_bad_checkpoint(kind: str, good: Path, path: Path) -> Path | None:
    """Write a broken checkpoint of the given kind at path; returns the marker for 'pickle'."""
    raw = good.read_bytes()
    arrays = {**checkpoint_arrays(good)}
    meta = checkpoint_meta(good)

    def save(arrays, meta):
        np.savez(path, **arrays, meta=np.array(json.dumps(meta)))

    if kind == "text":
        path.write_text("this is not a checkpoint\n")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind.startswith("truncated"):
        path.write_bytes(raw[: int(len(raw) * float(kind.split(":")[1]))])
    elif kind == "foreign npz":
        np.savez(path, x=np.arange(3), y=np.ones((2, 2)))
    elif kind == "foreign zip":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("meta", "{}")
            z.writestr("notes.txt", "hello")
    elif kind == "missing array":
        del arrays["decoder.weight"]
        save(arrays, meta)
    elif kind == "wrong shape":
        arrays["rnn.weight_hh_l0"] = arrays["rnn.weight_hh_l0"][:, :-1]
        save(arrays, meta)
    elif kind == "not floats":
        arrays["decoder.bias"] = np.array(["x"] * len(arrays["decoder.bias"]))
        save(arrays, meta)
    elif kind == "future version":
        save(arrays, {**meta, "format_version": 99, "charrnn_version": "9.0"})
    elif kind == "damaged meta":
        np.savez(path, **arrays, meta=np.array("{not json"))
    elif kind == "foreign meta":
        save(arrays, {**meta, "format": "something-else"})
    elif kind == "incomplete meta":
        del meta["model"]
        save(arrays, meta)
    elif kind == "pickle":
        marker = path.parent / "PWNED"
        Marker.path = str(marker)
        evil = np.empty(1, dtype=object)
        evil[0] = Marker()
        np.savez(path, **arrays, meta=np.array(json.dumps(meta)), **{"zz.evil": evil})
        bare = path.with_name("bare.npz")
        np.savez(bare, meta=evil)  # also when the pickled array is the metadata itself
        return marker
    else:
        raise AssertionError(kind)
    return None


BAD_CHECKPOINTS = {
    "text": "not an .npz",
    "empty": "not an .npz",
    "truncated:0.01": "truncated or damaged",
    "truncated:0.5": "truncated or damaged",
    "truncated:0.999": "truncated or damaged",
    "foreign npz": "not a charrnn checkpoint",
    "foreign zip": "not a charrnn checkpoint",
    "missing array": "missing weights: decoder.weight",
    "wrong shape": "rnn.weight_hh_l0 has shape",
    "not floats": "decoder.bias is not a floating-point array",
    "future version": "this charrnn 0.1.0 reads format 1",
    "damaged meta": "damaged metadata",
    "foreign meta": "not a charrnn checkpoint",
    "incomplete meta": "incomplete or invalid metadata",
    "pickle": "pickled Python objects",
}

COMMANDS = {
    "sample": ["sample", "-n", "5"],
    "inspect": ["inspect"],
    "inspect --json": ["inspect", "--json"],
    "inspect --text": ["inspect", "--text", "-"],
    "train --resume": ["train", "-", *tiny(max_steps=99), "--resume"],
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", BAD_CHECKPOINTS)
def test_bad_checkpoint(trained, tmp_path, kind, command):
    path = tmp_path / "model.npz"
    marker = make_bad_checkpoint(kind, trained, path)
    before = path.read_bytes()
    result = invoke([*COMMANDS[command], "-c", path], input=TEXT)
    line = assert_clean_error(result, 1, BAD_CHECKPOINTS[kind])
    assert str(path) in line
    assert path.read_bytes() == before
    if marker is not None:
        assert not marker.exists(), "unpickling ran code"
        assert_clean_error(invoke([*COMMANDS[command], "-c", path.with_name("bare.npz")], input=TEXT), 1, "pickled")
        assert not marker.exists(), "unpickling ran code"


def test_the_pickle_marker_works(tmp_path):
    """The pickle test is only meaningful if loading with pickle allowed does create the marker."""
    path = tmp_path / "model.npz"
    marker = tmp_path / "PWNED"
    Marker.path = str(marker)
    evil = np.empty(1, dtype=object)
    evil[0] = Marker()
    np.savez(path, evil=evil)
    with np.load(path, allow_pickle=True) as npz:
        npz["evil"]
    assert marker.exists()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats() | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=4,
)


def json_paths(value, path=()):
    """The path to every value inside a JSON document, the document itself first."""
    yield path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, inner in items:
        yield from json_paths(inner, (*path, key))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_metadata_is_refused_cleanly(trained, tmp_path, data):
    """Any one value of the metadata replaced (or removed): every command works or gives one clean error."""
    meta = checkpoint_meta(trained)
    where = data.draw(st.sampled_from(list(json_paths(meta))[1:]))
    parent = meta
    for key in where[:-1]:
        parent = parent[key]
    if data.draw(st.booleans()) and isinstance(parent, dict):
        del parent[where[-1]]
    else:
        parent[where[-1]] = data.draw(JSON_VALUES)
    path = tmp_path / "model.npz"
    np.savez(path, **checkpoint_arrays(trained), meta=np.array(json.dumps(meta)))
    for command in (
        ["inspect"],
        ["inspect", "--json"],
        ["sample", "-n", "3", "--seed", "0"],
        ["train", "-", *tiny(max_steps=11), "--resume", "-q"],
    ):
        result = invoke([*command, "-c", path], input=TEXT)
        if result.exit_code != 0:
            assert_clean_error(result, result.exit_code)
            assert result.exit_code in (1, 2)


def test_missing_checkpoint(tmp_path):
    for command in ("sample", "inspect", "inspect --json"):
        assert_clean_error(
            invoke([*COMMANDS[command], "-c", tmp_path / "none.npz"]), 1, "no checkpoint at", "charrnn train"
        )
    assert_clean_error(invoke(["sample", "-c", tmp_path]), 2, "is a directory")


def test_future_version_names_both_versions(trained, tmp_path):
    path = tmp_path / "model.npz"
    make_bad_checkpoint("future version", trained, path)
    line = assert_clean_error(invoke(["sample", "-c", path]), 1, "format 99", "reads format 1", "upgrade")
    assert "9.0" in line


# -- faults: signals ----------------------------------------------------------------------------


def stop_at_step(monkeypatch, step: int, signum: int, times: int = 1) -> None:
    """Send this process `signum` right after training step `step`, as a user at the keyboard would."""
    real = Trainer.train_step

    def train_step(self):
        event = real(self)
        if self.step == step:
            for _ in range(times):
                os.kill(os.getpid(), signum)
        return event

    monkeypatch.setattr(Trainer, "train_step", train_step)


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_saves_and_resume_equals_an_uninterrupted_run(corpus, tmp_path, monkeypatch, signum, code):
    interrupted, whole = tmp_path / "interrupted.npz", tmp_path / "whole.npz"
    with monkeypatch.context() as m:
        stop_at_step(m, 7, signum)
        result = invoke(["train", corpus, "-c", interrupted, *RESUMABLE, "--max-steps", "12"])
    assert result.exit_code == code
    assert "Traceback" not in result.stderr
    assert "Interrupted at step 7: saved" in result.stderr and "--resume" in result.stderr
    assert ckpt_io.load(interrupted).progress["step"] == 7
    resumed = invoke(["train", corpus, "-c", interrupted, *RESUMABLE, "--max-steps", "12", "--resume", "-q"])
    assert resumed.exit_code == 0, resumed.stderr
    assert invoke(["train", corpus, "-c", whole, *RESUMABLE, "--max-steps", "12", "-q"]).exit_code == 0
    assert_same_arrays(interrupted, whole)
    assert without_times(checkpoint_meta(interrupted)) == without_times(checkpoint_meta(whole))


def test_a_signal_before_the_first_validation_saves_validated_weights(corpus, tmp_path, monkeypatch):
    """The checkpoint's weights are always ones with a validation loss, even when stopped early."""
    path = tmp_path / "early.npz"
    with monkeypatch.context() as m:
        stop_at_step(m, 2, signal.SIGINT)
        result = invoke(["train", corpus, "-c", path, *RESUMABLE, "--max-steps", "12", "--eval-every", "10"])
    assert result.exit_code == 130, result.stderr
    progress = ckpt_io.load(path).progress
    assert progress["step"] == progress["best_step"] == 2
    assert [h["step"] for h in progress["history"]] == [2] and progress["best_val_loss"] is not None


def without_times(meta: dict) -> dict:
    """A checkpoint's metadata without its wall-clock times, which differ from run to run."""
    meta = json.loads(json.dumps(meta))
    meta["progress"].pop("elapsed")
    for h in meta["progress"]["history"]:
        h.pop("elapsed")
    return meta


def test_a_second_signal_gives_up_at_once_and_loses_nothing_saved(corpus, victim, monkeypatch):
    with monkeypatch.context() as m:
        stop_at_step(m, 13, signal.SIGINT, times=2)
        result = invoke(["train", corpus, "-c", victim.path, *tiny(max_steps=20), "--resume"])
    assert result.exit_code == 130
    assert "Interrupted." in result.stderr and "Traceback" not in result.stderr
    assert victim.unchanged()  # no validation had come since step 10


def signal_mid_write(monkeypatch, signum: int, times: int = 1) -> None:
    """Make np.savez deliver `signum` to this process half-way through its first checkpoint write."""
    real = np.savez
    calls = []

    def savez(file, **arrays):
        names = list(arrays)
        half = {k: arrays[k] for k in names[: len(names) // 2]}
        real(file, **half)  # part of the file is on disk
        if not calls:
            for _ in range(times):
                os.kill(os.getpid(), signum)
        calls.append(file)
        file.seek(0)
        file.truncate()
        real(file, **arrays)

    monkeypatch.setattr(np, "savez", savez)


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_during_the_checkpoint_write_finishes_the_write(corpus, victim, monkeypatch, signum, code):
    with monkeypatch.context() as m:
        signal_mid_write(m, signum)
        result = invoke(["train", corpus, "-c", victim.path, *tiny(max_steps=20), "--resume"])
    assert result.exit_code == code and "Traceback" not in result.stderr
    assert "Interrupted at step 15: saved" in result.stderr  # the write finished, then training stopped
    assert ckpt_io.load(victim.path).progress["step"] == 15
    assert not list(victim.path.parent.glob(".*.tmp"))


def test_a_second_signal_during_the_write_keeps_the_old_checkpoint(corpus, victim, monkeypatch):
    with monkeypatch.context() as m:
        signal_mid_write(m, signal.SIGINT, times=2)
        result = invoke(["train", corpus, "-c", victim.path, *tiny(max_steps=20), "--resume"])
    assert result.exit_code == 130 and "Interrupted." in result.stderr and "Traceback" not in result.stderr
    assert victim.unchanged()
    assert not list(victim.path.parent.glob(".*.tmp"))


@pytest.mark.parametrize("failure", [KeyboardInterrupt(), OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))])
def test_save_interrupted_half_way_keeps_the_old_file(trained, tmp_path, monkeypatch, failure):
    victim = Victim(trained, tmp_path / "model.npz")
    real = np.savez

    def savez(file, **arrays):
        real(file, **dict(list(arrays.items())[:3]))
        raise failure

    monkeypatch.setattr(np, "savez", savez)
    with pytest.raises(type(failure) if isinstance(failure, KeyboardInterrupt) else ckpt_io.CheckpointError):
        ckpt_io.save(ckpt_io.load(trained), victim.path)
    assert victim.unchanged()
    assert list(tmp_path.iterdir()) == [victim.path]  # no temporary file left behind


def test_ctrl_c_while_sampling(trained, monkeypatch):
    import charrnn.generation.sampling

    def interrupted(*args, **kwargs):
        yield ["a"]
        raise KeyboardInterrupt

    monkeypatch.setattr(charrnn.generation.sampling, "generate", interrupted)
    result = invoke(["sample", "-c", trained, "-n", "100"])
    assert result.exit_code == 130 and result.stdout == "a" and result.stderr == "Interrupted.\n"


def test_out_of_memory_is_one_line(corpus, victim, monkeypatch):
    import charrnn.nn.model

    def too_big(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(charrnn.nn.model, "init_params", too_big)
    assert_clean_error(train_over(victim, corpus), 1, "out of memory", "--hidden-size")
    assert victim.unchanged()


# -- faults: full disk, read-only places --------------------------------------------------------


def test_disk_full_while_saving(corpus, victim, monkeypatch):
    real = np.savez

    def savez(file, **arrays):
        real(file, **dict(list(arrays.items())[:2]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(np, "savez", savez)
    result = invoke(["train", corpus, "-c", victim.path, *tiny(max_steps=20), "--resume", "-q"])
    assert_clean_error(result, 1, "No space left on device", "unchanged", "-c")
    assert victim.unchanged()
    assert not list(victim.path.parent.glob(".*.tmp"))


def test_rename_refused_while_saving(corpus, victim, monkeypatch):
    def refuse(src, dst):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(os, "replace", refuse)
    result = invoke(["train", corpus, "-c", victim.path, *tiny(max_steps=20), "--resume", "-q"])
    assert_clean_error(result, 1, "Read-only file system", "unchanged")
    assert victim.unchanged()
    assert not list(victim.path.parent.glob(".*.tmp"))


@pytest.mark.parametrize("where", ["/proc/charrnn-test.npz", "FILE/model.npz", "MISSING/model.npz"])
def test_unwritable_place_fails_before_training(corpus, tmp_path, where):
    path = Path(where.replace("FILE", str(corpus)).replace("MISSING", str(tmp_path / "missing")))
    result = invoke(["train", corpus, "-c", path, *tiny()])
    assert_clean_error(result, 1, "cannot write the checkpoint", "-c")
    assert "Training a" not in result.stderr  # it said so before spending any time


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_read_only_directory(corpus, victim):
    victim.path.parent.chmod(0o555)
    try:
        assert_clean_error(
            invoke(["train", corpus, "-c", victim.path, *tiny(max_steps=20), "--resume"]), 1, "cannot write"
        )
    finally:
        victim.path.parent.chmod(0o755)
    assert victim.unchanged()


# -- faults: a loss that blows up ---------------------------------------------------------------


def test_absurd_learning_rate_stops_and_keeps_the_checkpoint(corpus, victim):
    result = invoke(["train", corpus, "-c", victim.path, *tiny(max_steps=40), "--resume", "--lr", "1e6"])
    line = assert_clean_error(result, 1, "--lr (now 1e+06)", f"{victim.path} is unchanged")
    assert "exploded" in line and "RuntimeWarning" not in result.stderr
    assert victim.unchanged()


def test_blown_up_weights_are_never_saved(corpus, tmp_path):
    path = tmp_path / "new.npz"
    result = invoke(["train", corpus, "-c", path, *tiny(eval_every=1), "--lr", "1e6"])
    assert_clean_error(result, 1, "no checkpoint was written", "--lr")
    assert not path.exists()


def test_nan_loss_stops_with_the_setting_to_change(corpus, tmp_path):
    path = tmp_path / "new.npz"
    result = invoke(["train", corpus, "-c", path, *tiny(eval_every=100), "--lr", "1e38"])
    line = assert_clean_error(result, 1, "NaN", "--lr")
    assert "RuntimeWarning" not in result.stderr and "Traceback" not in result.stderr
    assert not path.exists(), line


def test_good_checkpoint_survives_a_later_blow_up(corpus, tmp_path):
    """Saved at step 5 with a sane rate; resumed with an absurd one: step 5's weights stay."""
    path = tmp_path / "m.npz"
    invoke(["train", corpus, "-c", path, *tiny(), "-q"])
    before = path.read_bytes()
    result = invoke(["train", corpus, "-c", path, *tiny(max_steps=20), "--resume", "--lr", "1e38"])
    assert_clean_error(result, 1, "--lr")
    assert path.read_bytes() == before
    assert all(np.isfinite(a).all() for a in ckpt_io.load(path).params.values())


# -- repeatability ------------------------------------------------------------------------------


def test_same_seed_same_checkpoint_and_samples(corpus, tmp_path):
    a, b, c = tmp_path / "a.npz", tmp_path / "b.npz", tmp_path / "c.npz"
    for path, seed in ((a, 3), (b, 3), (c, 4)):
        assert invoke(["train", corpus, "-c", path, *RESUMABLE, "--seed", seed, "-q"]).exit_code == 0
    assert_same_arrays(a, b)
    assert without_times(checkpoint_meta(a)) == without_times(checkpoint_meta(b))
    assert checkpoint_arrays(a)["decoder.weight"].tobytes() != checkpoint_arrays(c)["decoder.weight"].tobytes()
    samples = [invoke(["sample", "-c", p, "-n", "300", "--seed", "9", "--num-samples", "2"]).stdout for p in (a, b)]
    assert samples[0] == samples[1] and len(samples[0]) > 600


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_tiny_temperature_is_argmax(trained):
    argmax = invoke(["sample", "-c", trained, "-n", "30", "--argmax"])
    cold = invoke(["sample", "-c", trained, "-n", "30", "--temp", "1e-310", "--seed", "0"])
    assert "RuntimeWarning" not in cold.stderr
    assert cold.stdout == argmax.stdout


# -- faults in real processes -------------------------------------------------------------------


def wait_for(condition, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"exited early ({proc.returncode}): {proc.stderr.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("timed out")
        time.sleep(0.005)


def popen(args: list) -> subprocess.Popen:
    return subprocess.Popen(
        [*script(), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as at a terminal
    )


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_real_signal_during_training(corpus, tmp_path, signum, code):
    interrupted, whole = tmp_path / "interrupted.npz", tmp_path / "whole.npz"
    proc = popen(["train", corpus, "-c", interrupted, *RESUMABLE, "--max-steps", "1000000"])
    wait_for(interrupted.exists, proc)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert out == "" and "Traceback" not in err
    assert "Interrupted at step" in err.splitlines()[-1]
    step = ckpt_io.load(interrupted).progress["step"]
    assert step >= 5
    target = ["--max-steps", str(step + 7)]
    resumed = invoke(["train", corpus, "-c", interrupted, *RESUMABLE, *target, "--resume", "-q"])
    assert resumed.exit_code == 0, resumed.stderr
    assert invoke(["train", corpus, "-c", whole, *RESUMABLE, *target, "-q"]).exit_code == 0
    assert_same_arrays(interrupted, whole)


def test_an_ignored_sigint_stays_ignored(corpus, tmp_path):
    """A background job of a script starts with SIGINT ignored; training must not take it over."""
    path = tmp_path / "model.npz"
    proc = subprocess.Popen(
        [*script(), "train", str(corpus), "-c", str(path), *tiny(max_steps=10**6)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    wait_for(path.exists, proc)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    assert proc.poll() is None  # still training
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "Interrupted at step" in err


def test_kill_during_checkpoint_writes_never_leaves_a_broken_file(corpus, tmp_path):
    """SIGKILL at moments spread over a run that saves big checkpoints at every step."""
    path = tmp_path / "model.npz"
    args = [
        "train",
        corpus,
        "-c",
        path,
        *tiny(hidden_size=48, max_steps=10**6, eval_every=1),
        "--layers",
        "2",
        "--force",
    ]
    for delay in (0.0, 0.004, 0.009, 0.017, 0.031):
        before = path.stat().st_ino if path.exists() else None
        proc = popen(args)
        wait_for(lambda before=before: path.exists() and path.stat().st_ino != before, proc)  # its first save is done
        time.sleep(delay)
        proc.kill()
        proc.communicate(timeout=30)
        loaded = ckpt_io.load(path)  # whole, whatever the moment of the kill
        assert loaded.progress["step"] >= 1
    # a kill cannot clean up: what it leaves is a hidden temporary file, never the checkpoint itself
    assert all(p == path or (p.name.startswith(".model.npz.") and p.suffix == ".tmp") for p in tmp_path.glob("*model*"))


def test_temporary_files_of_killed_writers_are_swept(corpus, tmp_path):
    path = tmp_path / "model.npz"
    old, fresh, other = (
        tmp_path / name for name in (".model.npz.dead1.tmp", ".model.npz.live1.tmp", ".notes.dead.tmp")
    )
    for f in (old, fresh, other):
        f.write_bytes(b"PK\x03\x04half")
    for f in (old, other):
        os.utime(f, (time.time() - 2 * ckpt_io.STALE_SECONDS,) * 2)
    assert invoke(["train", corpus, "-c", path, *tiny(), "-q"]).exit_code == 0
    assert not old.exists()  # a writer killed an hour ago
    assert fresh.exists() and other.exists()  # perhaps still being written; not ours


def test_two_runs_writing_one_checkpoint_leave_one_whole(corpus, tmp_path):
    alone = {"a": tmp_path / "a.npz", "b": tmp_path / "b.npz"}
    options = {
        "a": [*tiny(max_steps=40, eval_every=1), "--seed", "1"],
        "b": [*tiny(max_steps=40, eval_every=1, hidden_size=12), "--seed", "2"],
    }
    solo = [popen(["train", corpus, "-c", alone[k], *options[k], "-q"]) for k in "ab"]
    shared = tmp_path / "shared.npz"
    both = [popen(["train", corpus, "-c", shared, *options[k], "-q", "--force"]) for k in "ab"]
    for proc in solo + both:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0 and out == "" and err == "", err
    final = checkpoint_arrays(shared)
    ckpt_io.load(shared)
    matches = [k for k in "ab" if _equal_arrays(final, checkpoint_arrays(alone[k]))]
    assert len(matches) == 1, "the checkpoint mixes the two runs"
    assert checkpoint_meta(shared)["train"]["seed"] == {"a": 1, "b": 2}[matches[0]]


def _equal_arrays(x: dict, y: dict) -> bool:
    return x.keys() == y.keys() and all(x[k].shape == y[k].shape and x[k].tobytes() == y[k].tobytes() for k in x)


# -- properties ---------------------------------------------------------------------------------


def normalised(text: str) -> str:
    """What reading a corpus makes of a text: no leading BOM, \\r\\n and \\r become \\n."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=0, max_size=120), chunk=st.integers(1, 9))
def test_any_unicode_round_trips_through_vocabulary_encoding_and_checkpoint(tmp_path, monkeypatch, text, chunk):
    monkeypatch.setattr(corpus_io, "CHUNK_BYTES", chunk)  # multi-byte characters and \r\n split over chunks
    path = write(tmp_path / "corpus.txt", text)
    expected = normalised(text)
    if not expected:
        with pytest.raises(corpus_io.DataError, match="empty"):
            read_corpus(path)
        return
    corpus = read_corpus(path)
    assert corpus.vocab.chars == sorted(set(expected))
    assert corpus.vocab.decode(corpus.ids) == expected
    assert corpus.n_bytes == len(text.encode("utf-8"))
    cfg = ModelConfig(hidden_size=2, num_layers=1)
    params = init_params(cfg, len(corpus.vocab), np.random.default_rng(0))
    ckpt_path = tmp_path / "model.npz"
    ckpt_io.save(ckpt_io.Checkpoint(cfg, TrainConfig(), corpus.vocab, params), ckpt_path)
    loaded = ckpt_io.load(ckpt_path)
    assert loaded.vocab == corpus.vocab and loaded.vocab.decode(loaded.vocab.encode(expected)) == expected
    assert all(loaded.params[k].tobytes() == params[k].tobytes() for k in params)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=1, max_size=30).filter(lambda t: normalised(t)))
def test_any_unicode_corpus_trains_and_samples_through_the_cli(tmp_path, text):
    body = normalised(text) * (60 // len(normalised(text)) + 1)  # long enough for one window
    corpus = write(tmp_path / "corpus.txt", body)
    ckpt = tmp_path / "model.npz"
    result = invoke(["train", corpus, "-c", ckpt, *tiny(max_steps=1, eval_every=1, batch_size=1), "--force", "-q"])
    assert result.exit_code == 0, result.stderr
    assert vocab_of(ckpt) == sorted(set(body))
    prime = body[:3]
    sample = invoke(["sample", "-c", ckpt, "-n", "10", f"--prime={prime}", "--seed", "0"])
    assert sample.exit_code == 0 and sample.stdout[: len(prime)] == prime
    assert set(sample.stdout) <= set(body)


OPTION_VALUES = st.one_of(  # small integers (models stay tiny), any float, and junk
    st.integers(-3, 12).map(str),
    st.floats(width=32).map(repr),
    st.sampled_from(["", "x", "1e400", "-0", "0.0", "1/2", "nan", "-inf"]),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    options=st.dictionaries(
        st.sampled_from(
            [
                "--hidden-size",
                "--seq-len",
                "--batch-size",
                "--val-fraction",
                "--epochs",
                "--lr",
                "--dropout",
                "--eval-every",
                "--grad-clip",
                "--momentum",
                "--layers",
            ]
        ),
        OPTION_VALUES,
        max_size=4,
    ),
    max_time=st.one_of(st.none(), st.text(alphabet="0123456789.hms -x", max_size=6)),
)
def test_random_train_options_work_or_fail_cleanly(tmp_path, options, max_time):
    args = ["train", write(tmp_path / "c.txt", TEXT), "-c", tmp_path / "m.npz", *tiny(max_steps=2), "--force", "-q"]
    for option, value in options.items():
        args += [option, value]
    if max_time is not None:
        args += ["--max-time", max_time]
    result = invoke(args)
    if result.exit_code != 0:
        assert_clean_error(result, result.exit_code)
        assert result.exit_code in (1, 2)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    options=st.dictionaries(
        st.sampled_from(["--temp", "--top-k", "--top-p", "-n", "--seed", "--num-samples"]), OPTION_VALUES, max_size=4
    ),
    prime=st.text(max_size=5),
    flags=st.lists(st.sampled_from(["--argmax", "--no-prime-echo", "--skip-unknown"]), unique=True),
)
def test_random_sample_options_work_or_fail_cleanly(trained, options, prime, flags):
    args = ["sample", "-c", trained, "--prime", prime, *flags]
    for option, value in options.items():
        args += [option, value]
    result = invoke(args)
    if result.exit_code != 0:
        assert result.exit_code in (1, 2)
        assert_clean_error(result, result.exit_code)
    else:
        assert "Traceback" not in result.stderr
