""" "Internal error" means a bug: hostile option values and damaged checkpoint bytes, drawn by
hypothesis, give a result or one clean error (exit 1 or 2), never "internal error" or a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charrnn import checkpoint as ckpt_io
from charrnn.errors import CheckpointError
from tests.cli_helpers import TEXT, assert_clean_error, invoke, tiny, write

HOSTILE_NUMBERS = ["0", "-1", "1e308", "1e-300", "5e-324", str(10**30), "nan", "inf", "-inf", "", "x", "1_0", "0x10"]
TRAIN_OPTIONS = [
    "--hidden-size", "--layers", "--seq-len", "--batch-size", "--lr", "--dropout", "--momentum", "--lr-decay",
    "--lr-decay-every", "--grad-clip", "--val-fraction", "--eval-every", "--eval-chars", "--epochs", "--max-steps",
    "--max-time", "--seed",
]  # fmt: skip
SAMPLE_OPTIONS = ["-n", "--temp", "--top-k", "--top-p", "--seed", "--num-samples", "--beam", "--best-of"]


def clean(result) -> None:
    if result.exit_code != 0:
        assert_clean_error(result, result.exit_code, stdout_empty=False)
        assert result.exit_code in (1, 2)
    assert "internal error" not in result.stderr


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(option=st.sampled_from(TRAIN_OPTIONS), value=st.sampled_from(HOSTILE_NUMBERS))
def test_any_hostile_training_option_is_a_result_or_a_clean_error(corpus, tmp_path, option, value):
    result = invoke(["train", corpus, "-c", tmp_path / "m.npz", *tiny(), "--force", "-q", option, value])
    clean(result)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(option=st.sampled_from(SAMPLE_OPTIONS), value=st.sampled_from(HOSTILE_NUMBERS))
def test_any_hostile_sampling_option_is_a_result_or_a_clean_error(trained, option, value):
    length = [] if option == "-n" else ["-n", "5"]
    clean(invoke(["sample", "-c", trained, *length, option, value]))


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
        clean(invoke([*command, "-c", path]))


@pytest.mark.parametrize("name_length", [300, 5000])
def test_a_long_checkpoint_name_says_what_is_wrong(corpus, tmp_path, name_length):
    long = tmp_path / ("a" * name_length + ".npz")
    for command in (["train", corpus, *tiny()], ["sample"], ["inspect"]):
        line = assert_clean_error(invoke([*command, "-c", long]), 1)
        assert "internal error" not in line and "too long" in line.lower()
    assert write(tmp_path / "t.txt", TEXT)


LEAKING_COMMAND = """
import sys, warnings
import click
from charrnn import cli

@cli.cli.command()
def leak():
    warnings.warn("overflow encountered\\nin cast", RuntimeWarning)
    click.echo("done")

sys.argv = ["charrnn", "leak"]
cli.main()
"""


def test_a_library_warning_that_was_not_handled_is_one_line_never_pythons_source_lines(tmp_path):
    result = subprocess.run([sys.executable, "-c", LEAKING_COMMAND], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout == "done\n"
    assert result.stderr == ("Warning: overflow encountered in cast (RuntimeWarning in <string>); please report it\n")
