""" "Internal error" means a bug: train, sample and export, given a hostile value for any of their
arguments beyond the numbers tests/test_no_internal_errors.py draws (paths that are folders,
missing, links to devices, inputs, not UTF-8; odd encodings, globs, separators, schedules,
worker counts, prime texts and titles), give a result or one clean error (exit 1 or 2).

One or two arguments are hostile in each example, the rest good, so that each hostile value
reaches the work it could break. Each example runs in a fresh folder (tests/hostile.py), since
these commands write: a checkpoint, a log, a page; devices are reached only through links there.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli_helpers import tiny
from tests.hostile import (
    CHECKPOINTS,
    CORPORA,
    DECODE_ERRORS,
    ENCODINGS,
    NOT_UTF8,
    NUMBERS,
    PAGES,
    TEXTS,
    clean,
    devices_intact,
    invoke,
    make_place,
)

OUTPUTS = ["new.npz", "m.npz", "dir", "null", "full", "t.txt", "missing/new.npz", NOT_UTF8 + ".npz", "a" * 300]
TEXT_VALUES = ["", "é", "\n\n", "x" * 5000, NOT_UTF8, "the ", "-", "--json"]
GLOBS = ["*", "", "[", "**/*", "../*", "\\", "*.none", NOT_UTF8]
NAMES = ["", "x", "rnn", "gru", "LSTM", "sgd", "cosine", "plateau", "nope"]
DURATIONS = ["0s", "1e400s", "1h1h", "-1s", "1", "nan", "10 m", "0.0001s", "99999999h"]
WORKERS = ["1", "0", "-1", "auto", "x", "99999", "1e3", ""]

# each command: the arguments it is given, in order (flag, or None for a positional; the good
# value; the hostile values), the options it is not given but for a hostile value, and its flags
COMMANDS = {
    "train": (
        [
            (None, "corpus.txt", [*TEXTS, "-"]),
            ("-c", "new.npz", OUTPUTS),
            *((flag, value, NUMBERS) for flag, value in zip(tiny()[::2], tiny()[1::2])),
        ],
        {
            "--init-from": CHECKPOINTS, "--log": [*PAGES, "log.jsonl"], "--encoding": ENCODINGS,
            "--decode-errors": DECODE_ERRORS, "--include": GLOBS, "--exclude": GLOBS,
            "--document-separator": TEXT_VALUES, "--model": NAMES, "--nonlinearity": ["relu", "", "x"],
            "--optimizer": NAMES, "--lr-schedule": NAMES, "--max-time": DURATIONS, "--workers": WORKERS,
            **dict.fromkeys(["--warmup-steps", "--min-lr-ratio", "--cosine-steps", "--plateau-factor"], NUMBERS),
            **dict.fromkeys(["--plateau-patience", "--patience", "--sample-length"], NUMBERS),
        },
        ["--force", "--resume", "-q"],
    ),
    "sample": (
        [("-c", "m.npz", CHECKPOINTS), ("-n", "20", NUMBERS)],
        {
            **dict.fromkeys(["--prime", "--stop-at", "--separator"], TEXT_VALUES),
            **dict.fromkeys(["--num-samples", "--min-copy", "--documents", "--beam", "--best-of"], NUMBERS),
            "--judge": CHECKPOINTS, "--corpus": CORPORA,
        },
        ["--argmax", "--no-prime-echo", "--skip-unknown", "--novelty", "--json"],
    ),
    "export": (
        [("-c", "m.npz", CHECKPOINTS), (None, "new.html", PAGES)],
        dict.fromkeys(["--title", "--prime"], TEXT_VALUES),
        ["--float16"],
    ),
}  # fmt: skip


@st.composite
def hostile_arguments(draw, command: str) -> list[str]:
    given, options, flags = COMMANDS[command]
    slots = [*given, *((flag, None, values) for flag, values in options.items())]
    hostile = set(draw(st.lists(st.sampled_from(range(len(slots))), min_size=1, max_size=2, unique=True)))
    args = [command]
    for i, (flag, good, values) in enumerate(slots):
        value = draw(st.sampled_from(values)) if i in hostile else good
        if value is not None:
            args += [value] if flag is None else [flag, value]
    return [*args, *draw(st.lists(st.sampled_from(flags), unique=True))]


@pytest.mark.parametrize("command", list(COMMANDS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_hostile_value_of_train_sample_or_export_is_a_result_or_a_clean_error(
    trained, tmp_path, monkeypatch, command, data
):
    place = make_place(Path(tempfile.mkdtemp(dir=tmp_path)), trained)
    monkeypatch.chdir(place)
    args = data.draw(hostile_arguments(command), "arguments")
    clean(invoke(args, input=b"the quick brown fox\n" * 10))
    devices_intact()


@pytest.mark.parametrize("args", [["-c", NOT_UTF8 + ".npz"], ["-c", "m.npz", "--title", NOT_UTF8]])
def test_a_page_title_that_is_not_utf8_is_written_escaped(trained, tmp_path, monkeypatch, args):
    """A checkpoint's name (the default title) or a --title holding bytes that are not UTF-8 (a
    Linux name may): the page shows them as \\xNN, as every message does, and is UTF-8 throughout."""
    monkeypatch.chdir(make_place(tmp_path, trained))
    result = invoke(["export", *args, "page.html"])
    assert result.exit_code == 0, result.stderr
    assert "<title>" + ("charrnn: " if "--title" not in args else "") + "caf\\xe9" in (
        (tmp_path / "page.html").read_bytes().decode("utf-8")
    )


@pytest.mark.parametrize(
    "extra", [["--json"], ["--json", "--novelty"], ["--best-of", "2"], ["--beam", "2", "--json"], ["--beam", "2"]]
)
def test_an_empty_sample_has_no_score_rather_than_nan(trained, extra):
    """-n 0 draws nothing, and nothing has no bits per character: JSON null and no score on
    stderr, where 0/0 gave NaN (not JSON: an internal error) and "nan bits/char"."""
    import json

    result = invoke(["sample", "-c", trained, "-n", "0", *extra])
    assert result.exit_code == 0, result.stderr
    assert "nan" not in result.stderr
    if "--json" in extra:
        assert [s["bits_per_char"] for s in json.loads(result.stdout)["samples"]] == [None]
