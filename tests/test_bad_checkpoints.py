"""Damaged, foreign and hostile checkpoints given to every command that reads one: one clean error
naming the file, the file left as it was, and never a line of a pickled payload run. Damage drawn
by hypothesis (bytes changed, a metadata value replaced or removed) gives a result or one clean
error (exit 1 or 2), never "internal error" or a traceback; weights and metadata numbers that are
not finite or out of bounds are refused, in the library and by the commands.

A checkpoint built to exhaust memory: tests/test_checkpoints_built_to_exhaust_memory.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charrnn import checkpoint as ckpt_io
from charrnn.errors import CheckpointError
from tests.cli_helpers import (
    TEXT,
    assert_clean_error,
    assert_result_or_clean_error,
    checkpoint_arrays,
    checkpoint_meta,
    invoke,
    tiny,
    write,
)
from tests.factories import (
    BAD_CHECKPOINTS,
    ERROR_LINE_MAX,
    make_bad_checkpoint,
    pickled_marker,
    save_checkpoint,
    with_metadata,
)
from tests.hostile import devices_intact

COMMANDS = {
    "sample": ["sample", "-n", "5"],
    "inspect": ["inspect"],
    "inspect --json": ["inspect", "--json"],
    "inspect score": ["inspect", "score", "-"],
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
    np.savez(path, evil=pickled_marker(marker))
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


def value_at(document, path):
    """The value at `path` (from json_paths) inside a JSON document."""
    for key in path:
        document = document[key]
    return document


def leaves(document) -> list[tuple]:
    """Every path to a number, string, null or boolean in a JSON document."""
    return [path for path in json_paths(document) if not isinstance(value_at(document, path), (dict, list))]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_metadata_is_refused_cleanly(trained, tmp_path, data):
    """Any one value of the metadata replaced (or removed): every command works or gives one clean error."""
    meta = checkpoint_meta(trained)
    where = data.draw(st.sampled_from(list(json_paths(meta))[1:]))
    parent = value_at(meta, where[:-1])
    if data.draw(st.booleans()) and isinstance(parent, dict):
        del parent[where[-1]]
    else:
        parent[where[-1]] = data.draw(JSON_VALUES)
    path = save_checkpoint(tmp_path / "model.npz", checkpoint_arrays(trained), meta)
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


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_damaged_checkpoint_bytes_are_refused_cleanly(trained, tmp_path, data):
    raw = bytearray(trained.read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    path = write(tmp_path / "damaged.npz", bytes(raw[: data.draw(st.integers(1, len(raw)))]))
    try:
        ckpt_io.load(path)
    except CheckpointError as e:
        assert "\n" not in str(e) and len(str(e)) < 400
    for command in (["inspect", "--json"], ["sample", "-n", "3", "--seed", "0"]):
        assert_result_or_clean_error(invoke([*command, "-c", path]))


@pytest.fixture
def damaged(trained, tmp_path):
    def make(change) -> Path:
        arrays, meta = checkpoint_arrays(trained), checkpoint_meta(trained)
        change(arrays, meta)
        return save_checkpoint(tmp_path / "m.npz", arrays, meta)

    return make


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("key", ["rnn.weight_hh_l0", "decoder.bias", "last.decoder.weight", "optim.m.decoder.bias"])
def test_weights_that_are_not_finite_are_refused(damaged, key, value):
    def poison(arrays, meta):
        arrays[key] = arrays[key].copy()
        arrays[key].flat[0] = value

    path = damaged(poison)
    with pytest.raises(CheckpointError, match=f"{key} holds NaN or infinite values"):
        ckpt_io.load(path)
    for command in (["sample", "-n", "5"], ["inspect", "--json"]):
        assert_clean_error(invoke([*command, "-c", path]), 1, key, "NaN or infinite")


@pytest.mark.parametrize("where", [("progress", "elapsed"), ("progress", "smooth_loss"), ("train", "lr")])
@pytest.mark.parametrize("literal", ["Infinity", "-Infinity", "NaN", "1e999"])
def test_metadata_numbers_that_are_not_finite_are_refused(damaged, where, literal):
    def poison(arrays, meta):
        meta[where[0]][where[1]] = "POISON"

    path = damaged(poison)
    path_text = path.read_bytes()
    np.savez(
        path, **checkpoint_arrays(path), meta=np.array(json.dumps(checkpoint_meta(path)).replace('"POISON"', literal))
    )
    assert path.read_bytes() != path_text
    with pytest.raises(CheckpointError, match="damaged metadata"):
        ckpt_io.load(path)
    result = invoke(["inspect", "--json", "-c", path])
    assert_clean_error(result, 1, "damaged metadata")
    assert "Infinity" not in result.stdout and "NaN" not in result.stdout


@pytest.mark.parametrize("field, value", [("step", 10**30), ("elapsed", -5), ("epoch", 1e300)])
def test_training_record_numbers_out_of_bounds_are_refused(damaged, field, value):
    path = damaged(lambda arrays, meta: meta["progress"].update({field: value}))
    with pytest.raises(CheckpointError, match=field):
        ckpt_io.load(path)
    assert_clean_error(invoke(["inspect", "-c", path]), 1, field)


def test_a_member_marked_encrypted_is_refused_in_one_line(trained, tmp_path):
    """zipfile raises RuntimeError for an encrypted member; the reader turns it into a refusal."""
    data = bytearray(Path(trained).read_bytes())
    at = data.find(b"PK\x01\x02")  # the first central-directory entry: its general-purpose flags at +8
    data[at + 8] |= 1
    path = tmp_path / "encrypted.npz"
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError) as e:
        ckpt_io.load(path)
    assert "\n" not in str(e.value) and len(str(e.value)) < ERROR_LINE_MAX


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


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_damaged_checkpoint_is_refused_cleanly_by_every_command(trained, place, monkeypatch, data):
    """A checkpoint whose metadata holds a hostile value where a good one was (its zip intact, so
    that the value reaches the parser), or whose bytes are damaged: every command that reads it
    gives a result or one clean error."""
    monkeypatch.chdir(place)
    meta = checkpoint_meta(trained)
    *parents, last = data.draw(st.sampled_from(leaves(meta)), "where in the metadata")
    value_at(meta, parents)[last] = data.draw(st.sampled_from(HOSTILE_JSON), "its value")
    save_checkpoint(place / "D.npz", checkpoint_arrays(trained), meta)
    if data.draw(st.booleans(), "its bytes damaged too"):
        raw = bytearray((place / "D.npz").read_bytes())
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] ^= data.draw(st.integers(1, 255))
        write(place / "D.npz", bytes(raw))
    command = data.draw(st.sampled_from(EVERY_COMMAND), "command")
    assert_result_or_clean_error(invoke([a.replace("D", "D.npz") if a == "D" else a for a in command]))
    devices_intact()


@pytest.mark.parametrize("where", [("step",), ("baselines", "uniform"), ("best_val_loss",)])
def test_a_whole_number_beyond_every_float_in_the_metadata_is_refused(trained, tmp_path, where):
    """10**400 is a JSON number that no float holds: the check that the record's numbers are
    finite refuses it instead of failing with an OverflowError (an internal error)."""
    with_metadata(
        trained, tmp_path / "huge.npz", lambda meta: value_at(meta["progress"], where[:-1]).update({where[-1]: 10**400})
    )
    for command in (["inspect"], ["sample", "-n", "3"]):
        assert_clean_error(invoke([*command, "-c", tmp_path / "huge.npz"]), 1, "huge.npz")


@pytest.mark.parametrize("field, value", [("encoding", -1), ("decode_errors", []), ("path", 7)])
def test_a_corpus_record_of_the_wrong_type_is_refused_as_damaged(trained, tmp_path, field, value):
    """The corpus record says how to read the corpus again (novelty re-reads it): an encoding
    that is no string reached codecs.lookup, a TypeError (an internal error)."""
    with_metadata(trained, tmp_path / "odd.npz", lambda meta: meta["progress"]["corpus"].update({field: value}))
    for command in (["inspect", "novelty", "-"], ["sample", "-n", "3", "--novelty"], ["inspect"]):
        assert_clean_error(invoke([*command, "-c", tmp_path / "odd.npz"], input=b"the quick"), 1, "odd.npz")
