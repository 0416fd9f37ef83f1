"""Errors carry facts; the command line says what to do, in its own flags.

The library's exceptions hold the numbers and names (tests here read them back), and
charrnn/cli/errors.py turns each into the one line the user reads, with the flags from the one
table in cli/options.py.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from charrnn import errors
from charrnn.cli.errors import caution, message
from charrnn.cli.options import FLAGS, flag
from charrnn.training.trainer import Caution

from .cli_helpers import TEXT, assert_clean_error, invoke, tiny, write


def test_a_refused_field_is_said_with_its_flag():
    e = errors.ConfigError.invalid("num_layers", 0, "at least 1")
    assert (e.field, e.value, e.requirement) == ("num_layers", 0, "at least 1")
    assert str(e) == "num_layers must be at least 1, not 0"  # the library's words: the field
    assert message(e) == "--layers must be at least 1, not 0"  # the command line's: the flag


def test_every_renamed_field_has_its_own_flag():
    assert flag("cell") == "--model" and flag("num_layers") == "--layers" and flag("lr_decay") == "--lr-decay"
    assert len(set(FLAGS.values())) == len(FLAGS)


def test_a_resume_mismatch_carries_both_values_and_the_cli_names_the_flags():
    e = errors.ResumeMismatch({"hidden_size": (8, 16), "seq_len": (8, 4)})
    assert e.changes == {"hidden_size": (8, 16), "seq_len": (8, 4)}
    assert "hidden_size (it is 8, not 16)" in str(e) and "--" not in str(e)
    said = message(e)
    assert "--hidden-size (it is 8)" in said and "--seq-len (it is 8)" in said and "--force" in said


@pytest.mark.parametrize(
    "short_of,needed_by,advice",
    [
        ("validation", {"batch_size": 2, "seq_len": 8, "val_fraction": 0.05}, "raise --val-fraction"),
        ("training", {"batch_size": 2, "seq_len": 8, "val_fraction": 0.9}, "lower --val-fraction"),
        ("corpus", {"batch_size": 2, "seq_len": 8, "val_fraction": 0.05}, "smaller --batch-size/--seq-len"),
        ("corpus", {"span": 100}, "smaller --span"),
    ],
)
def test_too_short_says_which_setting_to_change(short_of, needed_by, advice):
    e = errors.TooShort("the text has 10 characters", 10, 40, needed_by, short_of)
    assert (e.length, e.least) == (10, 40)
    assert message(e).startswith("the text has 10 characters; ") and advice in message(e)


def test_unknown_characters_are_carried_and_the_advice_fits_the_texts_role():
    for role, advice in [("prime", "--skip-unknown"), ("text", "several -c"), ("corpus", "--force")]:
        e = errors.UnknownCharacters(["é", "ü"], "the prime text", role)
        assert e.chars == ["é", "ü"] and "never saw: 'é', 'ü'" in str(e)
        assert advice in message(e) and advice not in str(e)


def test_a_checkpoint_without_training_state_is_a_checkpoint_error():
    e = errors.NotResumable("'last.decoder.bias'")
    assert isinstance(e, errors.CheckpointError) and not isinstance(e, errors.DataError)
    assert "--force" in message(e)


def test_cautions_before_training_name_the_flags(tmp_path):
    said = caution(Caution("oversized", "the model has 9 parameters for 1 training character", ("hidden_size",)))
    assert said.endswith("use a smaller --hidden-size or fewer --layers")
    corpus = write(tmp_path / "corpus.txt", TEXT)
    result = invoke(["train", corpus, "-c", tmp_path / "m.npz", *tiny(), "--sample-length", "0"])
    assert result.exit_code == 0, result.stderr
    assert "will be noisy; raise --val-fraction or use a longer corpus" in " ".join(result.stderr.split())


def test_an_unknown_encoding_is_a_usage_error(tmp_path):
    corpus = write(tmp_path / "corpus.txt", TEXT)
    result = invoke(["train", corpus, "-c", tmp_path / "m.npz", *tiny(), "--encoding", "klingon"])
    assert result.exit_code == 2 and "unknown text encoding 'klingon'" in result.stderr


FILE_OPTIONS = [
    "-c",
    "--init-from",
    "--judge",
    "--log",
    "--html",
    "OUT.html",
    "--document-separator",
    "--encoding",
    "--corpus",
]


def _refusals(d, trained) -> dict:
    """A refusal of each file (or of what was read from it) given by an option: (arguments, exit
    code, the option the line must name)."""
    corpus = write(d / "corpus.txt", TEXT)
    write(d / "seps.txt", "---\n---\n")
    (d / "latin").mkdir()
    write(d / "latin" / "a.txt", "café\n".encode("latin-1"))
    new, missing, nodir = d / "new.npz", d / "missing.npz", d / "nodir" / "x"
    train = ["train", corpus, "-c", new, *tiny()]
    sample = ["sample", "-c", trained, "--best-of", "2", "-n", "5"]
    return {
        "--init-from missing": ([*train, "--init-from", missing], 2, "--init-from"),
        "--init-from not a checkpoint": ([*train, "--init-from", corpus], 1, "--init-from"),
        "--judge missing": ([*sample, "--judge", missing], 2, "--judge"),
        "--judge not a checkpoint": ([*sample, "--judge", corpus], 1, "--judge"),
        "-c missing": (["sample", "-c", missing], 1, "-c"),
        "-c in no directory": (["train", corpus, "-c", nodir, *tiny()], 1, "-c"),
        "--log in no directory": ([*train, "--log", nodir], 1, "--log"),
        "--html in no directory": (["inspect", "-c", trained, "score", corpus, "--html", nodir], 1, "--html"),
        "export's page in no directory": (["export", "-c", trained, nodir], 1, "OUT.html"),
        "a separator that is the whole text": (
            ["train", d / "seps.txt", "-c", new, "--document-separator", "---\n", *tiny()],
            1,
            "--document-separator",
        ),
        "files of another encoding": (["train", d / "latin", "-c", new, *tiny()], 1, "--encoding"),
        "a folder with no file the patterns match": (
            ["train", d / "latin", "-c", new, "--include", "*.py"],
            1,
            "--include",
        ),
        "--corpus not the training corpus": (
            ["inspect", "-c", trained, "novelty", corpus, "--corpus", d / "seps.txt"],
            1,
            "--corpus",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "--init-from missing",
        "--init-from not a checkpoint",
        "--judge missing",
        "--judge not a checkpoint",
        "-c missing",
        "-c in no directory",
        "--log in no directory",
        "--html in no directory",
        "export's page in no directory",
        "a separator that is the whole text",
        "files of another encoding",
        "a folder with no file the patterns match",
        "--corpus not the training corpus",
    ],
)
def test_a_refusal_names_the_option_that_gave_what_it_refuses_and_no_other(tmp_path, trained, case):
    import re

    args, code, named = _refusals(tmp_path, trained)[case]
    line = assert_clean_error(invoke(args), code, named)
    others = [f for f in FILE_OPTIONS if f != named and re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", line)]
    assert not others, line
    assert "empty" not in line and "unreadable" not in line, line


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
