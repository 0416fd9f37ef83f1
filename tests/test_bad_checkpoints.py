"""Damaged, foreign and hostile checkpoints given to every command that reads one: one clean error
naming the file, the file left as it was, and never a line of a pickled payload run.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli_helpers import (
    TEXT,
    assert_clean_error,
    checkpoint_arrays,
    checkpoint_meta,
    invoke,
    tiny,
)
from tests.factories import BAD_CHECKPOINTS, make_bad_checkpoint, pickled_marker

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
