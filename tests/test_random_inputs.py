"""Property-based tests: any Unicode text round-trips through reading, the vocabulary and a checkpoint,
and trains and samples; any mix of option values trains and samples or fails with one clean error.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charrnn import checkpoint as ckpt_io
from charrnn.config import ModelConfig, TrainConfig
from charrnn.data import corpus as corpus_io
from charrnn.data import streams
from charrnn.data.corpus import read_corpus
from charrnn.nn.model import init_params
from tests.cli_helpers import (
    TEXT,
    assert_clean_error,
    invoke,
    tiny,
    vocab_of,
    write,
)


def normalised(text: str) -> str:
    """What reading a corpus makes of a text: no leading BOM, \\r\\n and \\r become \\n."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=0, max_size=120), chunk=st.integers(1, 9))
def test_any_unicode_round_trips_through_vocabulary_encoding_and_checkpoint(tmp_path, monkeypatch, text, chunk):
    monkeypatch.setattr(streams, "CHUNK_BYTES", chunk)  # multi-byte characters and \r\n split over chunks
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
