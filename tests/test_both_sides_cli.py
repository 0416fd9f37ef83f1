"""A model that reads both sides, through the command line: trained, continued and fine-tuned,
described, scored character by character, and refused in one line by what only writes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from charrnn import checkpoint
from tests.cli_helpers import RESUMABLE, TEXT, invoke, tiny, write

REFUSED = "reads both sides and cannot write"


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    d = tmp_path_factory.mktemp("both")
    corpus = write(d / "corpus.txt", TEXT)
    result = invoke(["train", corpus, "-c", d / "both.npz", *tiny(max_steps=10), "--bidirectional"])
    assert result.exit_code == 0, result.stderr
    return d / "both.npz"


def test_the_left_to_right_baselines_are_named_so_and_no_gap_to_them_is_claimed(tmp_path):
    """The n-gram baseline reads only the left side: a model of both sides is not measured against it."""
    corpus = write(tmp_path / "corpus.txt", TEXT)
    result = invoke(["train", corpus, "-c", tmp_path / "both.npz", *tiny(), "--bidirectional"])
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    opening = next(line for line in lines if line.startswith("Baselines on the validation text"))
    assert "left-to-right n-gram" in opening and opening.endswith("none reads the right side, as this model does")
    done = next(line for line in lines if line.startswith("Done:"))
    assert "no baseline reads both sides (the left-to-right n-gram, order" in done
    assert "below" not in done and "above" not in done
    table = invoke(["inspect", "-c", tmp_path / "both.npz"]).stdout
    assert "no baseline reads both sides" in table and "below the best n-gram" not in table


def test_training_saves_a_model_of_both_sides_and_shows_no_sample(both, tmp_path):
    corpus = write(tmp_path / "corpus.txt", TEXT)
    for extra, sample in (([], True), (["--bidirectional"], False)):
        result = invoke(["train", corpus, "-c", tmp_path / f"m{sample}.npz", *tiny(), *extra])
        assert result.exit_code == 0 and ("A sample at temperature" in result.stderr) == sample
    ckpt = checkpoint.load(both)
    assert ckpt.model.bidirectional
    assert ckpt.params["decoder.weight"].shape == (len(ckpt.vocab), 16)
    assert "rnn.weight_hh_l0_reverse" in ckpt.params
    meta = json.loads(np.load(both)["meta"][()])
    assert meta["model"]["bidirectional"] is True


def test_a_checkpoint_saved_before_the_setting_reads_left_to_right(trained, tmp_path):
    """Older checkpoints have no `bidirectional` in their model config: they read as one-directional."""
    ckpt = checkpoint.load(trained)
    meta = ckpt.meta()
    del meta["model"]["bidirectional"]  # as a file written before the field existed
    ckpt.meta = lambda: meta
    checkpoint.save(ckpt, tmp_path / "old.npz")
    assert "bidirectional" not in json.loads(np.load(tmp_path / "old.npz")["meta"][()])["model"]
    assert checkpoint.load(tmp_path / "old.npz").model.bidirectional is False


def test_inspect_names_the_models_kind(both):
    result = invoke(["inspect", "-c", both])
    assert result.exit_code == 0, result.stderr
    assert "bidirectional LSTM, 1 x 8" in result.stdout
    facts = json.loads(invoke(["inspect", "-c", both, "--json"]).stdout)
    assert facts["model"]["bidirectional"] is True


def test_score_gives_every_characters_bits_given_both_sides(both, tmp_path):
    text = write(tmp_path / "t.txt", TEXT[:300])
    result = invoke(["inspect", "score", "-c", both, text, "--json", "--all"])
    assert result.exit_code == 0, result.stderr
    score = json.loads(result.stdout)["score"]
    assert score["chars"] == 300 and len(score["surprisal_bits"]) == 300  # the first character too
    assert score["total_bits"] == pytest.approx(sum(score["surprisal_bits"]))
    shown = invoke(["inspect", "score", "-c", both, text])
    assert "300 characters scored of 300" in shown.stdout


def test_score_writes_its_page_for_a_model_of_both_sides(both, tmp_path):
    text = write(tmp_path / "t.txt", TEXT[:100])
    result = invoke(["inspect", "score", "-c", both, text, "--html", tmp_path / "p.html"])
    assert result.exit_code == 0, result.stderr
    page = (tmp_path / "p.html").read_text()
    assert "not predicted" not in page  # its first character is predicted from the right


@pytest.mark.parametrize(
    "args",
    [
        ["sample"],
        ["sample", "--beam", "3"],
        ["export", "OUT"],
        ["inspect", "neurons", "TEXT", "--unit", "0:0"],
        ["inspect", "find-neurons", "TEXT"],
        ["inspect", "gradients", "TEXT"],
        ["inspect", "compare", "TEXT", "-c", "BOTH"],
    ],
)
def test_what_writes_or_reads_from_the_left_refuses_it_in_one_line(both, tmp_path, args):
    text = write(tmp_path / "t.txt", TEXT[:200])
    names = {"OUT": tmp_path / "page.html", "TEXT": text, "BOTH": both}
    result = invoke([names.get(a, a) for a in args] + ["-c", both])
    assert result.exit_code == 1
    assert REFUSED in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert result.stdout == "" and not (tmp_path / "page.html").exists()


def test_training_of_both_sides_resumes_exactly(tmp_path):
    corpus = write(tmp_path / "corpus.txt", TEXT)
    whole, part = tmp_path / "whole.npz", tmp_path / "part.npz"
    both = [*RESUMABLE, "--bidirectional", "--cosine-steps", "10"]  # one curve, whichever step the run stops at
    for path, steps in ((whole, 10), (part, 5)):
        assert invoke(["train", corpus, "-c", path, *both, "--max-steps", steps]).exit_code == 0
    result = invoke(["train", corpus, "-c", part, "--resume", "--max-steps", "10"])
    assert result.exit_code == 0, result.stderr
    a, b = checkpoint.load(whole), checkpoint.load(part)
    assert b.model.bidirectional
    for k in a.resume:
        np.testing.assert_array_equal(a.resume[k], b.resume[k], err_msg=k)


def test_resuming_cannot_turn_a_model_into_one_of_both_sides(tmp_path):
    corpus = write(tmp_path / "corpus.txt", TEXT)
    assert invoke(["train", corpus, "-c", tmp_path / "m.npz", *tiny()]).exit_code == 0
    result = invoke(["train", corpus, "-c", tmp_path / "m.npz", "--resume", "--bidirectional"])
    assert result.exit_code == 2 and "bidirectional" in result.stderr


def test_fine_tuning_keeps_both_sides_and_matches_new_characters(both, tmp_path):
    other = write(tmp_path / "other.txt", TEXT.upper() + "é" * 20)
    result = invoke(["train", other, "-c", tmp_path / "ft.npz", "--init-from", both, *tiny(max_steps=3)])
    assert result.exit_code == 0, result.stderr
    old, new = checkpoint.load(both), checkpoint.load(tmp_path / "ft.npz")
    assert new.model.bidirectional and len(new.vocab) > len(old.vocab)
    assert new.params["rnn.weight_ih_l0_reverse"].shape[1] == len(new.vocab)
