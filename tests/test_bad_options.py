"""Option values out of range or of the wrong kind: a usage error (exit 2) naming the option, and an
existing checkpoint left as it was. Also the values that only the corpus or the vocabulary can refuse,
and any hostile number, drawn by hypothesis, for any numeric option of train and sample: a result or
one clean error (exit 1 or 2), never "internal error" or a traceback. Hostile values of every other
argument (paths, encodings, texts): tests/test_arguments_of_every_command.py.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli_helpers import (
    assert_clean_error,
    assert_result_or_clean_error,
    invoke,
    tiny,
    train_over,
)
from tests.hostile import COUNTS, NUMBERS

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


@pytest.mark.parametrize(
    "args, line",
    [
        (["--bogus"], "Error: No such option '--bogus'."),
        (
            ["train", "--hidden-sise", "8", "x.txt"],
            "Error: No such option '--hidden-sise'. Did you mean '--hidden-size'?",
        ),
        (["sample", "-Z"], "Error: No such option '-Z'."),
        (["sample", "--top"], "Error: No such option '--top'. Did you mean '--temp', '--top-k' or '--top-p'?"),
        (["inspect", "score", "-", "--gradients"], "Error: No such option '--gradients'."),
    ],
)
def test_an_unknown_option_is_named_in_quotes_whatever_click_is_installed(args, line):
    assert assert_clean_error(invoke(args), 2) == line


@pytest.mark.parametrize(
    "args",
    [
        ["train", "c.txt", "--hidden-size", "1.5"],
        ["train", "c.txt", "--sample-length", "1e3"],
        ["sample", "--num-samples", "x"],
        ["inspect", "score", "-", "--show", "1e308"],
        ["inspect", "gradients", "-", "--span", "nan"],
        ["inspect", "novelty", "-", "--min-copy", ""],
        ["train", "c.txt", "--lr", "x"],
        ["train", "c.txt", "--plateau-factor", ""],
        ["sample", "--temp", "1/2"],
    ],
)
def test_a_value_that_is_no_number_is_said_to_be_none(args):
    expected = "is not a number" if args[-2] in ("--lr", "--plateau-factor", "--temp") else "is not a whole number"
    line = assert_clean_error(invoke(args), 2, repr(args[-1]), expected, args[-2])
    assert "range" not in line  # click's own wording, "is not a valid integer range", reads as if a range were asked


TRAIN_OPTIONS = [
    "--hidden-size", "--layers", "--seq-len", "--batch-size", "--lr", "--dropout", "--momentum", "--lr-decay",
    "--lr-decay-every", "--grad-clip", "--val-fraction", "--eval-every", "--eval-chars", "--epochs", "--max-steps",
    "--max-time", "--seed",
]  # fmt: skip
SAMPLE_OPTIONS = ["-n", "--temp", "--top-k", "--top-p", "--seed", "--num-samples", "--beam", "--best-of"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(option=st.sampled_from(TRAIN_OPTIONS), value=st.sampled_from(NUMBERS))
def test_any_hostile_training_option_is_a_result_or_a_clean_error(corpus, tmp_path, option, value):
    result = invoke(["train", corpus, "-c", tmp_path / "m.npz", *tiny(), "--force", "-q", option, value])
    assert_result_or_clean_error(result)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), option=st.sampled_from(SAMPLE_OPTIONS))
def test_any_hostile_sampling_option_is_a_result_or_a_clean_error(trained, data, option):
    value = data.draw(st.sampled_from(COUNTS if option in ("-n", "--num-samples") else NUMBERS), "value")
    length = [] if option == "-n" else ["-n", "5"]
    assert_result_or_clean_error(invoke(["sample", "-c", trained, *length, option, value]))
