"""How `inspect`'s views read in a terminal: without colour (NO_COLOR, a pipe, a file) the
surprisal view still carries its numbers; in colour its legend shows the whole scale; the
neuron colours have enough contrast; at 80 columns nothing is cut or wrapped mid-figure; the
facts give only what applies to the cell; the page and the terminal count alike."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from charrnn.analysis import scoring
from charrnn.cli.render import neurons, score
from charrnn.web import text_page as pages

from .cli_helpers import ESCAPES
from .colours import from_css, from_hex
from .test_analysis import CODE, counting_lstm, counting_rnn, decaying_rnn, remembering_lstm
from .test_inspect_cli import HISTORY, inspect, save
from .test_pipeline import COLOUR, on_terminal

SURPRISE = "abab\nabQb\nabab\n"  # Q: about 44 bits; every other character log2(3) = 1.58 bits


@pytest.fixture
def q_model(tmp_path):
    m = counting_rnn(SURPRISE)  # a zero decoder: uniform but for the bias below
    m.params["decoder.bias"][m.vocab.chars.index("Q")] = -30.0
    (tmp_path / "q.txt").write_text(SURPRISE)
    return tmp_path / "q.txt", save(tmp_path / "q.npz", m)


def test_without_colour_each_line_gives_its_bits_and_marks_its_surprises(q_model):
    text, ckpt = q_model
    out = inspect("score", text, "-c", ckpt).stdout  # stdout is not a terminal: no colour
    assert not ESCAPES.search(out)
    lines = out.splitlines()
    assert lines[0] == "     1.58 | abab" and lines[3] == "     1.58 | abab"
    assert re.fullmatch(r" +(\d+\.\d\d) \| abQb", lines[1]) and float(lines[1].split("|")[0]) > 10
    assert lines[2].index("^") == lines[1].index("Q") and lines[2].count("^") == 1  # under the Q alone
    assert "- marks a character of 4 to 8 bits, ^ one of 8 bits or more" in out
    assert "colour:" not in out  # no colour legend without colour


def test_in_colour_the_legend_shows_every_colour_the_text_uses(q_model, in_colour):
    text, ckpt = q_model
    assert inspect("score", text, "-c", ckpt).exit_code == 0
    screen = in_colour()
    *body, legend = screen.rstrip("\n").split("\n")
    for band in ("< 2 bits", "< 4 bits", "< 6 bits", "< 8 bits", "< 10 bits", ">= 10 bits"):
        assert band in ESCAPES.sub("", legend)
    in_legend = set(COLOUR.findall(legend))
    assert len(in_legend) == len(score.SURPRISE_COLOURS) == 6
    used = set(COLOUR.findall("\n".join(body)))
    assert used and used <= in_legend  # here green (1.58 bits) and the reddest (Q)
    assert " | " not in ESCAPES.sub("", "\n".join(body))  # the plain view's gutter is for no colour


@pytest.mark.parametrize("no_color", [False, True])
def test_no_color_on_a_terminal_gives_the_plain_view(q_model, no_color):
    text, ckpt = q_model
    code, out = on_terminal(["inspect", "score", str(text), "-c", str(ckpt)], text.parent, no_color)
    assert code == 0, out
    assert bool(COLOUR.search(out)) is not no_color
    assert ("colour:" in out) is not no_color and ("under it, - marks" in out) is no_color
    assert bool(re.search(r"^ +\d+\.\d\d \| ", out, flags=re.M)) is no_color


# -- contrast -------------------------------------------------------------------------------------


def wcag_contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """WCAG 2.1's contrast ratio of two sRGB colours given as 0..1 channels."""

    def luminance(rgb):
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_every_neuron_colour_pair_in_the_terminal_has_a_contrast_of_at_least_4_5():
    pairs = {neurons.activation_style(v, 1.0) for v in np.linspace(-1.0, 1.0, 801)}
    assert len(pairs) > 100
    for style in pairs:
        fg, bg = re.fullmatch(r"(#[0-9a-f]{6}) on (#[0-9a-f]{6})", style).groups()
        assert wcag_contrast(from_hex(fg), from_hex(bg)) >= 4.5, style
    assert neurons.activation_style(-1.0, 1.0) != "black on #0000ff"  # the old unreadable pair


@pytest.mark.parametrize("neuron", [False, True])
def test_every_coloured_character_on_the_page_has_a_contrast_of_at_least_4_5(neuron):
    text = "ab(ab)\n" * 40
    m = counting_rnn(text)
    m.params["decoder.bias"][:] = np.linspace(-12, 0, len(m.vocab))  # surprisals from 0 to beyond 8 bits
    preds = scoring.predictions(m, text)
    colouring = pages.NeuronColouring("unit", np.sin(np.arange(len(text)) / 3.0)) if neuron else None
    page = pages.page(text, preds, m.vocab.chars, title="t", neuron=colouring)
    styles = re.findall(r'<span class="ch" data-i="\d+" style="background:([^;]+);color:([^"]+)"', page)
    assert len(styles) >= len(text) - 1
    for background, foreground in set(styles):
        assert wcag_contrast(from_css(background), from_css(foreground)) >= 4.5, (background, foreground)


# -- 80 columns -------------------------------------------------------------------------------------


def test_at_80_columns_the_facts_show_the_whole_sha256(tmp_path, in_colour):
    from charrnn import checkpoint
    from charrnn.config import TrainConfig

    params, cfg, vocab = counting_rnn("abc\n")
    sha = "0123456789abcdef" * 4
    progress = {"step": 200, "history": HISTORY, "best_val_loss": 1.9, "corpus": {"name": "c.txt", "sha256": sha}}
    path = tmp_path / "m.npz"
    checkpoint.save(checkpoint.Checkpoint(cfg, TrainConfig(), vocab, params, progress), path)
    assert inspect("-c", path).exit_code == 0
    shown = ESCAPES.sub("", in_colour())
    assert sha in shown and max(map(len, shown.splitlines())) <= 80


def test_at_80_columns_the_gradient_table_keeps_each_models_row_whole(tmp_path, in_colour):
    from charrnn.vocab import Vocab

    text = "a" * 300 + "b"
    (tmp_path / "a.txt").write_text(text)
    vocab = Vocab(text)
    rnn = save(tmp_path / "a_checkpoint_with_a_long_name_rnn.npz", decaying_rnn(vocab, 0.5))
    lstm = save(tmp_path / "a_checkpoint_with_a_long_name_lstm.npz", remembering_lstm(vocab))
    assert inspect("gradients", tmp_path / "a.txt", "-c", rnn, "-c", lstm).exit_code == 0
    lines = ESCAPES.sub("", in_colour()).splitlines()
    assert max(len(line) for line in lines if str(tmp_path) not in line) <= 80  # a path is as long as it is
    for model, far, path in (("* RNN (tanh), 1 x 4", "x 0.500", rnn), ("o LSTM, 1 x 4", "x 1.000", lstm)):
        figures = re.compile(r"(\d\.\de[+-]\d\d +){3}")
        assert any(model in line and figures.search(line) and far in line for line in lines), model  # one line
        assert f"{model[0]} {path}" in lines


# -- the renderers ----------------------------------------------------------------------------------


@pytest.fixture
def every_view(tmp_path):
    """Each view's command line, on a text and checkpoints whose training corpus is where it was."""
    from charrnn import checkpoint
    from charrnn.config import TrainConfig
    from charrnn.data.corpus import read_corpus

    text = tmp_path / "code.txt"
    text.write_text(CODE * 6)
    corpus = read_corpus(text).meta()
    paths = []
    for name, (params, cfg, vocab) in (("rnn", counting_rnn(CODE * 6)), ("lstm", counting_lstm(CODE * 6, "("))):
        progress = {"step": 200, "history": HISTORY, "corpus": corpus, "best_val_loss": 1.9}
        paths.append(tmp_path / f"{name}.npz")
        params = {k: v.astype(np.float32) for k, v in params.items()}
        checkpoint.save(checkpoint.Checkpoint(cfg, TrainConfig(), vocab, params, progress), paths[-1])
    a, b = paths
    return {
        "facts": ["-c", a],
        "score": ["score", text, "-c", a, "--show", 40],
        "neurons": ["neurons", text, "-c", a, "--unit", "0:2", "--show", 40],
        "find-neurons": ["find-neurons", text, "-c", a],
        "gradients": ["gradients", text, "-c", a, "-c", b, "--span", 8, "--positions", 4],
        "compare": ["compare", text, "-c", a, "-c", b],
        "novelty": ["novelty", text, "-c", b, "--min-copy", 5],
    }


@pytest.mark.parametrize("name", ["facts", "score", "neurons", "find-neurons", "gradients", "compare", "novelty"])
def test_a_view_is_drawn_on_the_console_it_is_given_and_leaves_its_result_as_it_was(
    every_view, name, monkeypatch, capsys
):
    """What the command prints is its renderer's drawing of its result on the console given, and
    drawing it again (elsewhere, from the result alone) writes nothing else and changes nothing."""
    import io

    from rich.console import Console

    from charrnn.cli.inspect import view

    shown, real_show = [], view.show
    monkeypatch.setattr(view, "show", lambda result, as_json, render, page=None: shown.append((result, render)))
    assert inspect(*every_view[name]).exit_code == 0
    monkeypatch.setattr(view, "show", real_show)
    (result, render), printed = shown[0], inspect(*every_view[name]).stdout
    before = json.dumps(result.to_dict(), default=np.ndarray.tolist)
    capsys.readouterr()
    screen = io.StringIO()
    render(result, Console(file=screen, width=80, markup=False, emoji=False, highlight=False, color_system=None))
    assert capsys.readouterr() == ("", "")  # nothing on the real stdout or stderr
    assert screen.getvalue() == printed and printed.strip()
    assert json.dumps(result.to_dict(), default=np.ndarray.tolist) == before


@pytest.mark.parametrize(
    "name, fields",
    [
        ("score", ["view", "checkpoint", "text", "score", "shown_chars", "passages", "html"]),
        ("neurons", ["view", "checkpoint", "text", "neuron", "score", "html"]),
        ("find-neurons", ["view", "checkpoint", "text", "chars", "properties", "constant_properties"]),
        ("novelty", ["view", "checkpoint", "text", "corpus", "novelty"]),
        ("compare", ["view", "text", "chars", "comparable_chars", "models"]),
        ("gradients", ["view", "text", "models"]),
    ],
)
def test_a_views_json_gives_its_fields_in_the_order_docs_json_md_lists_them(every_view, name, fields):
    result = inspect(*every_view[name], "--json")
    assert result.exit_code == 0, result.output
    assert list(json.loads(result.stdout)) == fields
