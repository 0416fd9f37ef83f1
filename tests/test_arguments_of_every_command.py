"""Any hostile value of any argument of any command gives a result or one clean error (exit 1 or
2), never a traceback, "internal error" or "please report": numbers at and beyond their ranges,
odd unit specs, encodings, globs, separators, schedules, worker counts, prime texts and titles,
paths that are folders, missing, links to devices, not UTF-8, empty or binary files, drawn by
hypothesis. One or two arguments are hostile in each example, the rest good, so that each hostile
value reaches the work it could break.

Everything the commands are pointed at lives in a tmp folder (tests/hostile.py): one shared by
the `inspect` views, a fresh one per example for train, sample and export, since they write (a
checkpoint, a log, a page). /dev/null and /dev/full are reached only through links there, and a
command that writes through them must leave the device a device. Hostile numbers for the numeric
options alone: tests/test_bad_options.py; damaged checkpoints: tests/test_bad_checkpoints.py.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli_helpers import TEXT, assert_clean_error, assert_result_or_clean_error, invoke, tiny, write
from tests.hostile import (
    CHECKPOINTS,
    CORPORA,
    COUNTS,
    DECODE_ERRORS,
    ENCODINGS,
    NOT_UTF8,
    NUMBERS,
    PAGES,
    TEXTS,
    UNITS,
    devices_intact,
    make_place,
)

# -- the inspect views, in one shared place ---------------------------------------------------------

READING = {"--encoding": ENCODINGS, "--decode-errors": DECODE_ERRORS}
SHOWN = {"--show": NUMBERS, "--html": PAGES}
VIEWS = {  # each view: its options with their hostile values, and its flags
    "score": ({**READING, **SHOWN}, ["--all", "--json"]),
    "neurons": ({**READING, **SHOWN, "--unit": UNITS}, ["--all", "--json", "--cell-state"]),
    "find-neurons": (READING, ["--json"]),
    "gradients": ({**READING, "--span": NUMBERS, "--positions": NUMBERS}, ["--json"]),
    "compare": (READING, ["--json"]),
    "novelty": ({**READING, "--min-copy": NUMBERS, "--corpus": CORPORA}, ["--json"]),
}
SEVERAL = {"gradients", "compare"}  # the views that read every -c given
GOOD = {"TEXT": "t.txt", "-c": "m.npz", "--unit": "0:1", "--span": "5", "--positions": "3"}  # what works


@st.composite
def view_arguments(draw, view: str) -> list[str]:
    """The view's arguments with one or two of them hostile (the text, the first -c, an option)
    and the rest good, so that each hostile value reaches the work it could break."""
    own, flags = VIEWS[view]
    slots = {"TEXT": TEXTS, "-c": CHECKPOINTS, **own}
    hostile = draw(st.lists(st.sampled_from(sorted(slots)), min_size=1, max_size=2, unique=True))
    value = {**GOOD, **{slot: draw(st.sampled_from(slots[slot])) for slot in hostile}}
    several = draw(st.integers(2, 3)) if view in SEVERAL else 1
    given_c = ["-c", value["-c"], *["-c", GOOD["-c"]] * (several - 1)]
    head, tail = (given_c[:2], given_c[2:]) if draw(st.booleans()) else ([], given_c)  # -c before the view
    options = [arg for flag in own if flag in value for arg in (flag, value[flag])]
    chosen = draw(st.lists(st.sampled_from(flags), unique=True))
    return ["inspect", *head, view, value["TEXT"], *tail, *options, *chosen]


@pytest.mark.parametrize("view", sorted(VIEWS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_hostile_value_of_an_inspect_view_is_a_result_or_a_clean_error(place, monkeypatch, view, data):
    monkeypatch.chdir(place)
    args = data.draw(view_arguments(view), "arguments")
    result = invoke(args, input=b"")
    assert_result_or_clean_error(result)
    devices_intact()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(checkpoint=st.sampled_from([*CHECKPOINTS, "full", "dir/", "./m.npz", "m.npz/x", "-", ""]), json=st.booleans())
def test_any_hostile_checkpoint_path_of_bare_inspect_is_a_result_or_a_clean_error(place, monkeypatch, checkpoint, json):
    monkeypatch.chdir(place)
    assert_result_or_clean_error(invoke(["inspect", "-c", checkpoint, *(["--json"] if json else [])]))
    devices_intact()


# -- train, sample and export, each example in a fresh place ---------------------------------------

OUTPUTS = ["new.npz", "m.npz", "dir", "null", "full", "t.txt", "missing/new.npz", NOT_UTF8 + ".npz", "a" * 300]
TEXT_VALUES = ["", "é", "\n\n", "x" * 5000, NOT_UTF8, "the ", "-", "--json"]
GLOBS = ["*", "", "[", "**/*", "../*", "\\", "*.none", NOT_UTF8]
NAMES = ["", "x", "rnn", "gru", "LSTM", "sgd", "cosine", "plateau", "nope"]
DURATIONS = ["0s", "1e400s", "1h1h", "-1s", "1", "nan", "10 m", "0.0001s", "99999999h"]
WORKERS = ["1", "0", "-1", "auto", "x", "99999", "1e3", ""]

# each command that writes: the arguments it is given, in order (flag, or None for a positional; the good
# value; the hostile values), the options it is not given but for a hostile value, and its flags
WRITING = {
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
        [("-c", "m.npz", CHECKPOINTS), ("-n", "20", COUNTS)],
        {
            **dict.fromkeys(["--prime", "--stop-at", "--separator"], TEXT_VALUES),
            "--num-samples": COUNTS,
            **dict.fromkeys(["--min-copy", "--documents", "--beam", "--best-of"], NUMBERS),
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
def command_arguments(draw, command: str) -> list[str]:
    given, options, flags = WRITING[command]
    slots = [*given, *((flag, None, values) for flag, values in options.items())]
    hostile = set(draw(st.lists(st.sampled_from(range(len(slots))), min_size=1, max_size=2, unique=True)))
    args = [command]
    for i, (flag, good, values) in enumerate(slots):
        value = draw(st.sampled_from(values)) if i in hostile else good
        if value is not None:
            args += [value] if flag is None else [flag, value]
    return [*args, *draw(st.lists(st.sampled_from(flags), unique=True))]


@pytest.mark.parametrize("command", list(WRITING))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_hostile_value_of_train_sample_or_export_is_a_result_or_a_clean_error(
    trained, tmp_path, monkeypatch, command, data
):
    place = make_place(Path(tempfile.mkdtemp(dir=tmp_path)), trained)
    monkeypatch.chdir(place)
    args = data.draw(command_arguments(command), "arguments")
    assert_result_or_clean_error(invoke(args, input=b"the quick brown fox\n" * 10))
    devices_intact()


@pytest.mark.parametrize("name_length", [300, 5000])
def test_a_long_checkpoint_name_says_what_is_wrong(corpus, tmp_path, name_length):
    long = tmp_path / ("a" * name_length + ".npz")
    for command in (["train", corpus, *tiny()], ["sample"], ["inspect"]):
        line = assert_clean_error(invoke([*command, "-c", long]), 1)
        assert "internal error" not in line and "too long" in line.lower()
    assert write(tmp_path / "t.txt", TEXT)
