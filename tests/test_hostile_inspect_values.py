""" "Internal error" means a bug: every `inspect` view, given hostile values for each of its options
(numbers at and beyond their ranges, odd unit specs and encodings, paths that are directories,
missing, links to devices, not UTF-8, empty or binary files), drawn by hypothesis, gives a result
or one clean error (exit 1 or 2), never a traceback, "internal error" or "please report".

Everything the views are pointed at lives in one tmp directory (tests/hostile.py); /dev/null and
/dev/full only through links inside it, and a view that writes through them must leave the
device a device. Also: a checkpoint with a hostile value anywhere in its metadata, read by every
command that reads one.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli_helpers import assert_clean_error, write
from tests.hostile import (
    CHECKPOINTS,
    CORPORA,
    DECODE_ERRORS,
    ENCODINGS,
    NUMBERS,
    PAGES,
    TEXTS,
    UNITS,
    clean,
    devices_intact,
    invoke,
    make_place,
)


@pytest.fixture(scope="module")
def place(trained, tmp_path_factory) -> Path:
    """A folder of everything a view may be pointed at (shared by the examples: nothing in it may change)."""
    return make_place(tmp_path_factory.mktemp("place"), trained)


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
def hostile_arguments(draw, view: str) -> list[str]:
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
    args = data.draw(hostile_arguments(view), "arguments")
    result = invoke(args, input=b"")
    clean(result)
    devices_intact()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(checkpoint=st.sampled_from([*CHECKPOINTS, "full", "dir/", "./m.npz", "m.npz/x", "-", ""]), json=st.booleans())
def test_any_hostile_checkpoint_path_of_bare_inspect_is_a_result_or_a_clean_error(place, monkeypatch, checkpoint, json):
    monkeypatch.chdir(place)
    clean(invoke(["inspect", "-c", checkpoint, *(["--json"] if json else [])]))
    devices_intact()


HOSTILE_JSON = [-1, 0, 2**63, 10**400, 1e308, -1e308, "x", "", None, [], {}, True, [1] * 100]
EVERY_COMMAND = [  # each command that reads a checkpoint (at D), in the place
    ["inspect", "-c", "D"],
    ["inspect", "--json", "-c", "D"],
    *([*arguments, "-c", "D"] for arguments in (command.split() for command in [
        "inspect score t.txt", "inspect neurons t.txt --unit 0:1", "inspect find-neurons t.txt",
        "inspect gradients t.txt --span 5 --positions 3", "inspect novelty t.txt",
    ])),
    ["inspect", "compare", "t.txt", "-c", "m.npz", "-c", "D"],
    ["sample", "-n", "3", "--seed", "0", "-c", "D"],
    ["sample", "-n", "3", "--beam", "2", "-c", "D"],
    ["export", "-c", "D", "page.html"],
    ["train", "corpus.txt", "--resume", "-q", "--max-steps", "30", "-c", "D"],
    ["train", "corpus.txt", "--init-from", "D", "-q", "--max-steps", "2", "--force", "-c", "tuned.npz"],
]  # fmt: skip


def leaves(value, path=()):
    """Every path to a number, string, null or boolean in a JSON value."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in leaves(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in leaves(v, (*path, i))]
    return [path]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_damaged_checkpoint_is_refused_cleanly_by_every_command(trained, place, monkeypatch, data):
    """A checkpoint whose metadata holds a hostile value where a good one was (its zip intact, so
    that the value reaches the parser), or whose bytes are damaged: every command that reads it
    gives a result or one clean error."""
    monkeypatch.chdir(place)
    with np.load(trained, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(str(arrays["meta"]))
    *parents, last = data.draw(st.sampled_from(leaves(meta)), "where in the metadata")
    parent = meta
    for key in parents:
        parent = parent[key]
    parent[last] = data.draw(st.sampled_from(HOSTILE_JSON), "its value")
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(place / "D.npz", **arrays)
    if data.draw(st.booleans(), "its bytes damaged too"):
        raw = bytearray((place / "D.npz").read_bytes())
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] ^= data.draw(st.integers(1, 255))
        write(place / "D.npz", bytes(raw))
    command = data.draw(st.sampled_from(EVERY_COMMAND), "command")
    clean(invoke([a.replace("D", "D.npz") if a == "D" else a for a in command]))
    devices_intact()


@pytest.mark.parametrize("where", [("step",), ("baselines", "uniform"), ("best_val_loss",)])
def test_a_whole_number_beyond_every_float_in_the_metadata_is_refused(trained, tmp_path, where):
    """10**400 is a JSON number that no float holds: the check that the record's numbers are
    finite refuses it instead of failing with an OverflowError (an internal error)."""
    with np.load(trained, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(str(arrays["meta"]))
    record = meta["progress"]
    for key in where[:-1]:
        record = record[key]
    record[where[-1]] = 10**400
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "huge.npz", **arrays)
    for command in (["inspect"], ["sample", "-n", "3"]):
        assert_clean_error(invoke([*command, "-c", tmp_path / "huge.npz"]), 1, "huge.npz")


@pytest.mark.parametrize("field, value", [("encoding", -1), ("decode_errors", []), ("path", 7)])
def test_a_corpus_record_of_the_wrong_type_is_refused_as_damaged(trained, tmp_path, field, value):
    """The corpus record says how to read the corpus again (novelty re-reads it): an encoding
    that is no string reached codecs.lookup, a TypeError (an internal error)."""
    with np.load(trained, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(str(arrays["meta"]))
    meta["progress"]["corpus"][field] = value
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "odd.npz", **arrays)
    for command in (["inspect", "novelty", "-"], ["sample", "-n", "3", "--novelty"], ["inspect"]):
        assert_clean_error(invoke([*command, "-c", tmp_path / "odd.npz"], input=b"the quick"), 1, "odd.npz")
