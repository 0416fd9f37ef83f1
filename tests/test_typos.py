"""inspect typos: the characters that look wrong given both sides, most suspect first, each with
what the model would put there."""

from __future__ import annotations

import json

import numpy as np
import pytest

from charrnn import checkpoint
from charrnn.analysis import scoring, typos
from charrnn.checkpoint import Checkpoint
from charrnn.config import TrainConfig
from charrnn.nn import model as network
from tests.cli_helpers import invoke, write
from tests.conftest import train_tiny

DAMAGED = "hello world\nhello wlrld\nhello world\nhellr world\n"  # l at 19, r at 40


@pytest.fixture(scope="module")
def both():
    return train_tiny("lstm", steps=150, bidirectional=True)


@pytest.fixture(scope="module")
def files(tmp_path_factory, both):
    d = tmp_path_factory.mktemp("typos")
    checkpoint.save(Checkpoint(both.cfg, TrainConfig(), both.vocab, both.params), d / "both.npz")
    left = train_tiny("lstm", steps=20)
    checkpoint.save(Checkpoint(left.cfg, TrainConfig(), left.vocab, left.params), d / "left.npz")
    write(d / "damaged.txt", DAMAGED)
    return d


def test_the_changed_letters_are_the_most_suspect_with_the_letters_they_replaced(both):
    found, _ = typos.suspects(both, DAMAGED, 2)
    assert [(s.position, s.char, s.suggestion) for s in sorted(found, key=lambda s: s.position)] == [
        (19, "l", "o"),
        (40, "r", "o"),
    ]


def stretch_bits(model, text: str, i: int) -> float:
    """-log2 of the product of p(x_j | all the rest) over the AROUND characters on each side of
    position i and itself (the stretch kept inside the text), from a reading of the whole text."""
    logp = scoring.read(model, text).score.surprisal_bits
    width = min(2 * typos.AROUND + 1, len(text))
    lo = min(max(i - typos.AROUND, 0), len(text) - width)
    return float(logp[lo : lo + width].sum())


def test_suspects_are_ranked_by_how_much_likelier_their_replacement_makes_the_text_around_them(both):
    found, _ = typos.suspects(both, DAMAGED, 10, far=0.0)
    gains = [s.gain_bits for s in found]
    assert gains == sorted(gains, reverse=True) and all(g >= 0 for g in gains)
    bits = scoring.read(both, DAMAGED).score.surprisal_bits  # given both sides: position i is text[i]
    for s in found:
        assert s.bits == pytest.approx(bits[s.position]) and s.char == DAMAGED[s.position] != s.suggestion
        replaced = DAMAGED[: s.position] + s.suggestion + DAMAGED[s.position + 1 :]
        assert s.suggestion_bits == pytest.approx(scoring.read(both, replaced).score.surprisal_bits[s.position])
        gain = stretch_bits(both, DAMAGED, s.position) - stretch_bits(both, replaced, s.position)
        assert s.gain_bits == pytest.approx(gain, rel=1e-4, abs=1e-4)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_the_gain_over_a_text_of_several_windows_is_that_of_a_reading_of_the_whole_text(cell):
    """The states at each stretch's ends are read a window at a time: over more than one window,
    for every cell, the gains are those of the whole text read with and without each replacement."""
    model = train_tiny(cell, steps=60, bidirectional=True)
    text = (DAMAGED * 8).replace("hello world", "hellw world", 3)  # 384 characters, past a window's 256
    found, _ = typos.suspects(model, text, 6, far=0.0)
    assert len(found) == 6 and max(s.position for s in found) > network.WINDOW
    for s in found:
        replaced = text[: s.position] + s.suggestion + text[s.position + 1 :]
        gain = stretch_bits(model, text, s.position) - stretch_bits(model, replaced, s.position)
        assert s.gain_bits == pytest.approx(gain, rel=1e-4, abs=1e-4)


def test_the_replacement_named_is_the_one_of_the_likeliest_that_makes_the_text_around_it_likeliest(both):
    found, _ = typos.suspects(both, DAMAGED, 10, far=0.0)
    top = scoring.read(both, DAMAGED, top=len(DAMAGED)).predictions.top_ids
    for s in found:
        tried = [c for c in (both.vocab.chars[j] for j in top[s.position, : typos.ALTERNATIVES]) if c != s.char]
        after = {
            c: stretch_bits(both, DAMAGED[: s.position] + c + DAMAGED[s.position + 1 :], s.position) for c in tried
        }
        assert s.suggestion == min(after, key=after.get)


def test_a_clean_text_has_no_suspect_far_more_likely(both):
    assert typos.suspects(both, "hello world\n" * 3, 10)[0] == []


def test_json_gives_the_suspects_most_suspect_first(files):
    result = invoke(["inspect", "typos", files / "damaged.txt", "-c", files / "both.npz", "--json"])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert list(out) == ["view", "checkpoint", "text", "chars", "far_bits", "suspects", "html"]
    first = out["suspects"][0]
    assert list(first) == ["position", "char", "suggestion", "bits", "suggestion_bits", "gain_bits"]
    assert {(s["position"], s["char"]) for s in out["suspects"][:2]} == {(19, "l"), (40, "r")}
    gains = [s["gain_bits"] for s in out["suspects"]]
    assert gains == sorted(gains, reverse=True) and all(g >= out["far_bits"] for g in gains)


def test_the_terminal_view_marks_the_suspects_in_the_text(files):
    result = invoke(["inspect", "typos", files / "damaged.txt", "-c", files / "both.npz", "--suspects", "2"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    wlrld = next(i for i, line in enumerate(lines) if line.endswith("| hello wlrld"))
    assert lines[wlrld + 1].index("^") == lines[wlrld].index("wlrld") + 1  # the mark stands under the suspect
    assert "2 suspects, most suspect first" in result.stdout


def test_in_colour_the_suspects_stand_out(files, in_colour):
    result = invoke(["inspect", "typos", files / "damaged.txt", "-c", files / "both.npz", "--suspects", "2"])
    assert result.exit_code == 0, result.stderr
    screen = in_colour()
    assert "\x1b[" in screen and "wlrld" not in screen.replace("\x1b", "")  # the l is drawn in its own style


def test_the_page_follows_the_other_views(files, tmp_path):
    page = tmp_path / "typos.html"
    result = invoke(["inspect", "typos", files / "damaged.txt", "-c", files / "both.npz", "--html", page, "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["html"] == str(page) and "wlrld" not in page.read_text()
    assert 'data-i="19"' in page.read_text()


def test_a_left_to_right_model_cannot_find_typos_said_in_one_line(files):
    result = invoke(["inspect", "typos", files / "damaged.txt", "-c", files / "left.npz"])
    assert result.exit_code == 1 and result.stdout == ""
    assert "reads only from the left, so it cannot find typos" in result.stderr and result.stderr.count("\n") == 1


def test_every_position_is_a_candidate_including_the_first(both):
    found, _ = typos.suspects(both, "dello world\nhello world\n", 1)
    assert [(s.position, s.suggestion) for s in found] == [(0, "h")]
    assert np.isfinite(found[0].bits)


def test_the_neighbours_a_slip_makes_look_wrong_are_not_named_beside_it(both):
    """Of suspects closer than SPACING, only the most suspect is named."""
    found, _ = typos.suspects(both, DAMAGED, 20, far=0.0)
    positions = sorted(s.position for s in found)
    assert all(b - a >= typos.SPACING for a, b in zip(positions, positions[1:]))
    assert {19, 40} <= set(positions)
