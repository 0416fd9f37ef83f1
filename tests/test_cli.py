"""The command line through click's CliRunner: each command, its options, and each error of issue 3.

stdout must carry only the product (samples, tables, JSON); everything else goes to stderr.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from charrnn import __version__
from charrnn import checkpoint as ckpt_io
from charrnn import cli as cli_module
from charrnn.cli import sample as sample_cli
from charrnn.cli.common import Duration
from tests.cli_helpers import (
    NON_ASCII,
    TEXT,
    assert_clean_error,
    checkpoint_meta,
    commands,
    invoke,
    script,
    tiny,
    train,
    write,
)
from tests.conftest import CELLS


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny checkpoint shared read-only by this module's tests."""
    d = tmp_path_factory.mktemp("trained")
    corpus = write(d / "corpus.txt", TEXT)
    train(corpus, d / "model.npz", "--max-steps", "30", "--eval-every", "10")
    return d / "model.npz"


# -- help and version ---------------------------------------------------------------------------


def test_version():
    result = invoke(["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"charrnn, version {__version__}"


@pytest.mark.parametrize("command", [[], ["train"], ["sample"], ["inspect"]])
def test_help_has_a_description_and_examples(command):
    result = invoke([*command, "--help"])
    assert result.exit_code == 0 and result.stderr == ""
    text = result.stdout
    assert text.startswith("Usage: charrnn")
    if command:
        assert "Examples:" in text and f"charrnn {command[0]}" in text.split("Examples:")[1]
    else:
        for name in ("train", "sample", "inspect"):
            assert f"charrnn {name}" in text


def test_every_option_has_help():
    for command in cli_module.cli.commands.values():
        for param in command.params:
            if param.param_type_name == "option":
                assert param.help, f"{command.name} {param.opts} has no help"


def test_every_help_shows_defaults_and_ranges_in_one_format():
    """`[default: 300; x>=0]`, never `[default: 256]  [x>=1]` beside it."""
    for name, _ in commands():
        path = name.split()[1:]
        shown = " ".join(invoke([*path, "--help"]).stdout.split())
        assert not re.search(r"\]\s*\[(default|x|\d)", shown), (path, re.search(r".{40}\]\s*\[.{20}", shown))
        assert "[default: " in shown or not path, path


def test_each_command_says_what_it_does_with_the_checkpoint():
    helps = {name: invoke([name, "--help"]).stdout for name in ("train", "sample")}
    assert "to write" in helps["train"] and "--resume" in helps["train"].split("-c, --checkpoint")[1][:120]
    assert "to sample from" in helps["sample"]
    assert all("for train" not in text for text in helps.values())


def test_the_piped_train_example_of_the_help_runs_beside_an_existing_checkpoint(trained, tmp_path):
    """`cat *.py | charrnn train - ...` from --help, run where charrnn.npz exists (tiny options added)."""
    example = next(line.strip() for line in invoke(["train", "--help"]).stdout.splitlines() if "cat *.py" in line)
    shutil.copy(trained, tmp_path / "charrnn.npz")
    before = (tmp_path / "charrnn.npz").read_bytes()
    write(tmp_path / "a.py", TEXT)
    command = example.replace("charrnn", " ".join(script()), 1) + " " + " ".join(tiny())
    done = subprocess.run(["bash", "-c", f"set -o pipefail; {command}"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "charrnn.npz").read_bytes() == before and (tmp_path / "code.npz").exists()


def test_unknown_command_and_option_are_usage_errors():
    assert_clean_error(invoke(["fly"]), 2, "fly")
    assert_clean_error(invoke(["sample", "--colour"]), 2, "--colour")


# -- train --------------------------------------------------------------------------------------


def test_train_writes_the_default_checkpoint_in_the_current_directory(corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke(["train", corpus.name, *tiny(), "--sample-length", "20"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""  # training has no product on stdout
    assert (tmp_path / "charrnn.npz").is_file()
    assert "Training a model (LSTM, 1 x 8, " in result.stderr
    assert "Done: 5 steps" in result.stderr and "checkpoint: charrnn.npz" in result.stderr
    assert "bits/char" in result.stderr
    # sample and inspect read the same default checkpoint
    assert invoke(["sample", "-n", "10"]).exit_code == 0
    assert invoke(["inspect"]).exit_code == 0


def test_train_quiet_prints_no_message_but_still_every_warning(corpus, tmp_path):
    """As git and pip do: -q hides the progress and the messages, never a warning."""
    loud = invoke(["train", corpus, "-c", tmp_path / "loud.npz", *tiny()])
    result = invoke(["train", corpus, "-c", tmp_path / "m.npz", *tiny(), "-q"])
    assert result.exit_code == loud.exit_code == 0
    warnings = [line for line in loud.stderr.splitlines() if line.startswith("Warning: ")]
    assert warnings and len(warnings) < len(loud.stderr.splitlines())  # a tiny corpus: noisy validation
    assert result.stdout == "" and result.stderr.splitlines() == warnings


def test_train_reads_standard_input(tmp_path):
    result = invoke(["train", "-", "-c", tmp_path / "m.npz", *tiny(), "-q"], input=TEXT)
    assert result.exit_code == 0, result.stderr
    meta = checkpoint_meta(tmp_path / "m.npz")
    assert meta["progress"]["corpus"]["name"] == "<stdin>"
    assert meta["progress"]["corpus"]["chars"] == len(TEXT)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("optimizer", ["adam", "rmsprop", "adagrad", "sgd"])
def test_train_every_cell_and_optimizer(corpus, tmp_path, cell, optimizer):
    ckpt = tmp_path / "m.npz"
    invoke(
        ["train", corpus, "-c", ckpt, *tiny(max_steps=2, eval_every=2), "-q", "--model", cell, "--optimizer", optimizer]
    )
    loaded = ckpt_io.load(ckpt)
    assert loaded.model.cell == cell and loaded.train.optimizer == optimizer


def test_train_options_reach_the_checkpoint(corpus, tmp_path):
    ckpt = tmp_path / "m.npz"
    args = [
        "--model",
        "rnn",
        "--nonlinearity",
        "relu",
        "--hidden-size",
        "6",
        "--layers",
        "2",
        "--dropout",
        "0.2",
        "--seq-len",
        "7",
        "--batch-size",
        "3",
        "--lr",
        "0.01",
        "--momentum",
        "0.5",
        "--lr-decay",
        "0.5",
        "--lr-decay-every",
        "3",
        "--grad-clip",
        "1",
        "--val-fraction",
        "0.1",
        "--eval-every",
        "4",
        "--eval-chars",
        "50",
        "--max-steps",
        "4",
        "--max-time",
        "1h",
        "--seed",
        "7",
    ]
    result = invoke(["train", corpus, "-c", ckpt, "-q", *args])
    assert result.exit_code == 0, result.stderr
    meta = checkpoint_meta(ckpt)
    assert meta["model"] == {
        "cell": "rnn",
        "hidden_size": 6,
        "num_layers": 2,
        "dropout": 0.2,
        "nonlinearity": "relu",
        "bidirectional": False,
    }
    t = meta["train"]
    assert (t["seq_len"], t["batch_size"], t["lr"], t["momentum"], t["lr_decay"], t["lr_decay_every"]) == (
        7,
        3,
        0.01,
        0.5,
        0.5,
        3,
    )
    assert (t["grad_clip"], t["val_fraction"], t["eval_every"], t["eval_chars"]) == (1.0, 0.1, 4, 50)
    assert (t["max_steps"], t["max_time"], t["seed"]) == (4, 3600.0, 7)
    assert meta["progress"]["step"] == 4


def test_train_stops_after_epochs(corpus, tmp_path):
    ckpt = tmp_path / "m.npz"
    invoke(
        [
            "train",
            corpus,
            "-c",
            ckpt,
            *tiny(max_steps=10_000, eval_every=1000),
            "--batch-size",
            "8",
            "--seq-len",
            "16",
            "--epochs",
            "1",
            "-q",
        ]
    )
    meta = checkpoint_meta(ckpt)
    assert meta["progress"]["epoch"] == pytest.approx(1.0)  # (1,312 - 65 val - 1) // 8 // 16 = 9 windows


def test_train_stops_after_max_time(corpus, tmp_path):
    ckpt = tmp_path / "m.npz"
    invoke(["train", corpus, "-c", ckpt, *tiny(max_steps=10**9, eval_every=10**6), "--max-time", "0.3s", "-q"])
    progress = checkpoint_meta(ckpt)["progress"]
    assert 0.3 <= progress["elapsed"] < 30


def test_train_refuses_to_overwrite_without_resume_or_force(corpus, trained, tmp_path):
    ckpt = tmp_path / "m.npz"
    shutil.copy(trained, ckpt)
    before = ckpt.read_bytes()
    assert_clean_error(invoke(["train", corpus, "-c", ckpt, *tiny()]), 1, "already exists", "--resume", "--force")
    assert_clean_error(invoke(["train", corpus, "-c", ckpt, *tiny(), "--resume", "--force"]), 2, "--resume", "--force")
    assert ckpt.read_bytes() == before
    invoke(["train", corpus, "-c", ckpt, *tiny(), "--force", "-q"])
    assert checkpoint_meta(ckpt)["progress"]["step"] == 5  # a new model, not the 30-step one


def test_running_the_same_train_line_again_says_the_lines_that_continue_or_replace(corpus, trained, tmp_path):
    ckpt = tmp_path / "m.npz"
    shutil.copy(trained, ckpt)
    line = assert_clean_error(invoke(["train", corpus, "-c", ckpt, "--max-steps", "40"]), 1)
    typed = f"charrnn train {corpus} -c {ckpt} --max-steps 40"
    assert line == (
        f"Error: {ckpt} already exists; continue training it with `{typed} --resume`, "
        f"replace it with `{typed} --force`, or choose another file with -c"
    )


def test_train_resume_continues(corpus, trained, tmp_path):
    ckpt = tmp_path / "m.npz"
    shutil.copy(trained, ckpt)
    result = invoke(["train", corpus, "-c", ckpt, *tiny(max_steps=35), "--resume"])
    assert result.exit_code == 0, result.stderr
    assert "Resuming" in result.stderr
    assert checkpoint_meta(ckpt)["progress"]["step"] == 35


def test_train_resume_errors(corpus, trained, tmp_path):
    ckpt = tmp_path / "m.npz"
    assert_clean_error(invoke(["train", corpus, "-c", ckpt, *tiny(), "--resume"]), 1, "no checkpoint", str(ckpt))
    shutil.copy(trained, ckpt)
    before = ckpt.read_bytes()
    # the model's shape comes from the checkpoint
    assert_clean_error(
        invoke(["train", corpus, "-c", ckpt, *tiny(hidden_size=9, max_steps=40), "--resume"]),
        2,
        "--hidden-size (it is 8)",
        "--force",
    )
    # nor what decides the data windows, the validation set or the random stream
    for option, value, shown in [
        ("--seed", "7", "--seed (it is 0)"),
        ("--val-fraction", "0.3", "--val-fraction"),
        ("--seq-len", "4", "--seq-len (it is 8)"),
    ]:
        args = ["train", corpus, "-c", ckpt, *tiny(max_steps=40), option, value, "--resume"]
        assert_clean_error(invoke(args), 2, shown, "exactly", "--force")
    # already trained as far as asked
    assert_clean_error(
        invoke(["train", corpus, "-c", ckpt, *tiny(max_steps=30), "--resume"]), 1, "already trained", "--max-steps"
    )
    # a text with characters the model never saw
    other = write(tmp_path / "other.txt", TEXT + NON_ASCII)
    assert_clean_error(
        invoke(["train", other, "-c", ckpt, *tiny(max_steps=40), "--resume"]), 1, repr(NON_ASCII), "--force"
    )
    assert ckpt.read_bytes() == before


def test_train_resume_on_a_text_using_some_of_the_characters(trained, tmp_path):
    """Fine-tuning on a new text: its ids are mapped onto the model's vocabulary."""
    ckpt = tmp_path / "m.npz"
    shutil.copy(trained, ckpt)
    other = write(tmp_path / "other.txt", "the lazy dog.\n" * 60)
    result = invoke(["train", other, "-c", ckpt, *tiny(max_steps=35), "--resume", "-q"])
    assert result.exit_code == 0, result.stderr
    loaded = ckpt_io.load(ckpt)
    assert loaded.vocab.chars == sorted(set(TEXT))
    assert loaded.progress["corpus"]["name"] == "other.txt"


def test_checkpoint_from_the_environment(corpus, tmp_path):
    ckpt = tmp_path / "env.npz"
    result = invoke(["train", corpus, *tiny(), "-q"], env={"CHARRNN_CHECKPOINT": str(ckpt)})
    assert result.exit_code == 0 and ckpt.is_file()
    assert invoke(["inspect", "--json"], env={"CHARRNN_CHECKPOINT": str(ckpt)}).exit_code == 0


# -- sample -------------------------------------------------------------------------------------


def test_sample_writes_only_the_text(trained):
    result = invoke(["sample", "-c", trained, "-n", "200", "--seed", "1"])
    assert result.exit_code == 0
    assert result.stderr == ""
    assert len(result.stdout) == 200
    assert set(result.stdout) <= set(TEXT)


def test_sample_is_repeatable_with_a_seed(trained):
    a, b, c = (invoke(["sample", "-c", trained, "-n", "100", "--seed", str(s)]).stdout for s in (3, 3, 4))
    assert a == b and a != c


def test_sample_prime_echo(trained):
    echoed = invoke(["sample", "-c", trained, "-n", "30", "--seed", "1", "--prime", "the "]).stdout
    silent = invoke(["sample", "-c", trained, "-n", "30", "--seed", "1", "--prime", "the ", "--no-prime-echo"]).stdout
    assert echoed == "the " + silent and len(silent) == 30


def test_sample_argmax_ignores_the_seed_and_equals_top_k_1(trained):
    a = invoke(["sample", "-c", trained, "-n", "40", "--argmax", "--seed", "1"]).stdout
    b = invoke(["sample", "-c", trained, "-n", "40", "--argmax", "--seed", "2"]).stdout
    c = invoke(["sample", "-c", trained, "-n", "40", "--top-k", "1", "--seed", "3"]).stdout
    assert a == b == c


@pytest.mark.parametrize(
    "extra", [["--top-k", "3"], ["--top-p", "0.5"], ["--top-p", "1"], ["--temp", "0.1"], ["--temp", "5"]]
)
def test_sample_filters(trained, extra):
    result = invoke(["sample", "-c", trained, "-n", "50", "--seed", "0", *extra])
    assert result.exit_code == 0 and len(result.stdout) == 50 and result.stderr == ""


def test_sample_several_with_a_separator(trained):
    result = invoke(
        ["sample", "-c", trained, "-n", "20", "--seed", "0", "--num-samples", "3", "--separator", "|", "--prime", "a"]
    )
    parts = result.stdout.split("|")
    assert len(parts) == 3 and all(len(p) == 21 and p[0] == "a" for p in parts)


def test_samples_are_separated_by_a_line_of_dashes_by_default(trained):
    args = ["sample", "-c", trained, "-n", "60", "--seed", "0", "--num-samples", "3", "--stop-at", "\n\n"]
    shown = invoke(args).stdout
    samples = invoke([*args, "--separator", "|"]).stdout.split("|")  # the same samples, "|" is not in TEXT
    assert len(samples) == 3
    expected = "".join(s + ("" if s.endswith("\n") else "\n") + "-----\n" for s in samples[:-1]) + samples[-1]
    assert shown == expected
    assert shown.splitlines().count("-----") == 2


@pytest.mark.parametrize(
    "previous, separator, printed",
    [("ends mid-line", None, "\n-----\n"), ("a paragraph\n\n", None, "-----\n"), ("x\n", "\n\n", "\n\n")],
)
def test_the_default_separator_is_a_line_of_its_own(previous, separator, printed):
    assert sample_cli.between(previous, separator) == printed


def test_sample_stop_at(trained):
    result = invoke(["sample", "-c", trained, "-n", "2000", "--seed", "0", "--stop-at", "\n"])
    assert result.exit_code == 0
    assert result.stdout.endswith("\n") and result.stdout.count("\n") == 1


def test_sample_length_zero(trained):
    result = invoke(["sample", "-c", trained, "-n", "0"])
    assert result.exit_code == 0 and result.stdout == ""


def test_sample_prime_with_unknown_characters(trained):
    line = assert_clean_error(
        invoke(["sample", "-c", trained, "--prime", f"the {NON_ASCII}t\u00e0"]), 1, "--skip-unknown"
    )
    assert repr(NON_ASCII) in line and repr("\u00e0") in line
    result = invoke(
        ["sample", "-c", trained, "-n", "10", "--seed", "0", "--prime", f"the {NON_ASCII}", "--skip-unknown"]
    )
    assert result.exit_code == 0
    assert result.stdout.startswith("the ") and len(result.stdout) == 14
    assert "Warning" in result.stderr and repr(NON_ASCII) in result.stderr


# -- inspect ------------------------------------------------------------------------------------


def test_inspect_table(trained):
    result = invoke(["inspect", "-c", trained])
    assert result.exit_code == 0 and result.stderr == ""
    out = result.stdout
    for fact in (
        "LSTM, 1 x 8",
        "parameters",
        "vocabulary",
        "corpus.txt",
        "1,312",
        "sha256",
        "30 steps",
        "best validation",
        "learning curve",
    ):
        assert fact in out, fact
    assert "\\n" in out  # whitespace in the vocabulary is escaped
    assert "\x1b[" not in out  # no colour codes when stdout is not a terminal


def test_inspect_json(trained):
    result = invoke(["inspect", "-c", trained, "--json"])
    assert result.exit_code == 0 and result.stderr == ""
    facts = json.loads(result.stdout)
    assert facts["model"]["cell"] == "lstm" and facts["model"]["parameters"] > 0
    assert facts["vocab"]["chars"] == sorted(set(TEXT))
    assert facts["corpus"]["chars"] == len(TEXT) and len(facts["corpus"]["sha256"]) == 64
    assert facts["training"]["steps"] == 30
    assert [h["step"] for h in facts["history"]] == [10, 20, 30]
    assert facts["training"]["best_val_bits"] == min(h["val_bits"] for h in facts["history"])


def test_inspect_scores_a_text(trained, tmp_path):
    text = write(tmp_path / "t.txt", "the lazy dog.\n")
    result = invoke(["inspect", "score", text, "-c", trained])
    assert result.exit_code == 0 and result.stderr == ""
    assert "13 characters scored" in result.stdout and "bits/char" in result.stdout
    as_json = json.loads(invoke(["inspect", "score", "-", "-c", trained, "--json"], input="the lazy dog.\n").stdout)
    score = as_json["score"]
    assert score["chars"] == 13 and len(score["surprisal_bits"]) == 13
    assert score["bits_per_char"] == pytest.approx(np.mean(score["surprisal_bits"]))


def test_inspect_text_errors(trained, tmp_path):
    bad = write(tmp_path / "bad.txt", f"the {NON_ASCII}")
    assert_clean_error(invoke(["inspect", "score", bad, "-c", trained]), 1, repr(NON_ASCII))
    assert_clean_error(invoke(["inspect", "score", tmp_path / "none.txt", "-c", trained]), 2, "none.txt")
    undecodable = write(tmp_path / "u.txt", b"the \xff dog")
    assert_clean_error(invoke(["inspect", "score", undecodable, "-c", trained]), 1, "offset 4")
    result = invoke(["inspect", "score", undecodable, "-c", trained, "--decode-errors", "ignore", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["score"]["chars"] == 7


# -- the parameter types and the entry point ----------------------------------------------------


@pytest.mark.parametrize(
    "text, seconds", [("90s", 90), ("10m", 600), ("1h30m", 5400), ("1.5h", 5400), (" 2m 5s ", 125)]
)
def test_duration_parses(text, seconds):
    assert Duration().convert(text, None, None) == seconds


@pytest.mark.parametrize("value, number", [("10", "10"), ("1.5", "1.5"), ("1h30", "30"), (" 90 ", "90")])
def test_a_duration_without_its_unit_is_refused(corpus, tmp_path, value, number):
    """A bare number could mean seconds or minutes: the error says how to write either."""
    result = invoke(["train", corpus, "-c", tmp_path / "m.npz", *tiny(), "--max-time", value])
    line = assert_clean_error(result, 2, "--max-time", "no unit", f"{number}s for seconds", f"{number}m for minutes")
    assert not (tmp_path / "m.npz").exists(), line


def test_main_turns_a_bug_into_one_line(monkeypatch, capsys):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli_module.cli, "main", broken)
    monkeypatch.delenv("CHARRNN_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        cli_module.main()
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: internal error (RuntimeError: boom)") and err.count("\n") == 1
