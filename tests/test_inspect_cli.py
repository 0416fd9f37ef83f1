"""`charrnn inspect`'s analysis views from the command line: each view in the terminal and as
JSON, the page, and the usage errors. The checkpoints hold the hand-set models of
test_analysis, so the numbers the CLI prints are known."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from charrnn import checkpoint
from charrnn.cli import cli
from charrnn.config import TrainConfig

from .test_analysis import CODE, counting_lstm, counting_rnn, decaying_rnn, remembering_lstm

HISTORY = [
    {"step": 100, "elapsed": 1.0, "train_loss": 2.0, "val_loss": 2.2},
    {"step": 200, "elapsed": 2.0, "train_loss": 1.5, "val_loss": 1.9},
]


def save(path: Path, params, cfg, vocab) -> Path:
    params = {k: v.astype(np.float32) for k, v in params.items()}
    progress = {"step": 200, "history": HISTORY, "corpus": {"name": "hand-made"}, "best_val_loss": 1.9}
    checkpoint.save(checkpoint.Checkpoint(cfg, TrainConfig(), vocab, params, progress), path)
    return path


@pytest.fixture
def files(tmp_path):
    text = CODE * 6
    (tmp_path / "code.txt").write_text(text)
    (tmp_path / "other.txt").write_text("abcab\naab" * 5)
    counter = save(tmp_path / "counter.npz", *counting_rnn(text))
    lstm = save(tmp_path / "lstm.npz", *counting_lstm("abcab\naab"))
    return tmp_path, counter, lstm


def inspect(*args: str):
    result = CliRunner().invoke(cli, ["inspect", *map(str, args)])
    return result


def test_neuron_as_json_gives_the_unit_activation_after_each_character(files):
    tmp, counter, _ = files
    result = inspect("-c", counter, "--text", tmp / "code.txt", "--neuron", "0:2", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    depth = np.cumsum([{"(": 1, "[": 1, ")": -1, "]": -1}.get(c, 0) for c in CODE * 6])
    assert out["neuron"]["values"] == depth.tolist()
    assert out["neuron"] | {"values": None} == {
        "layer": 0,
        "unit": 2,
        "state": "h",
        "label": "layer 0, unit 2, hidden state",
        "values": None,
    }
    assert out["score"]["bits_per_char"] == pytest.approx(math.log2(len(set(CODE)))) and out["text"] == str(
        tmp / "code.txt"
    )


def test_neuron_in_the_terminal_colours_the_text(files):
    tmp, counter, _ = files
    result = inspect("-c", counter, "--text", tmp / "code.txt", "--neuron", "0:1")
    assert result.exit_code == 0, result.output
    longest = max(len(line) for line in CODE.split("\n"))
    assert result.stdout.startswith(CODE)
    assert f"layer 0, unit 1, hidden state: from +0.000 to +{longest}.000" in " ".join(result.stdout.split())


def test_cell_state_of_an_lstm_unit(files):
    tmp, _, lstm = files
    result = inspect("-c", lstm, "--text", tmp / "other.txt", "--neuron", "0:0", "--cell-state", "--json")
    assert result.exit_code == 0, result.output
    values = json.loads(result.stdout)["neuron"]["values"]
    np.testing.assert_allclose(values, np.cumsum([c == "a" for c in "abcab\naab" * 5]) * np.tanh(0.5), rtol=1e-6)


def test_find_neurons_names_the_hand_set_units(files):
    tmp, counter, _ = files
    result = inspect("-c", counter, "--text", tmp / "code.txt", "--find-neurons", "--json")
    assert result.exit_code == 0, result.output
    best = {p["property"]: p["units"][0] for p in json.loads(result.stdout)["properties"]}
    assert best["position in line"]["unit"] == 1 and best["position in line"]["r"] == pytest.approx(1)
    assert best["bracket depth"]["unit"] == 2 and best["whitespace"]["unit"] == 0
    table = inspect("-c", counter, "--text", tmp / "code.txt", "--find-neurons").stdout
    assert "position in line" in table and "+1.00" in table and "--neuron 0:" in table


def test_gradients_compare_a_forgetting_rnn_with_a_remembering_lstm(tmp_path):
    text = "a" * 300 + "b"
    (tmp_path / "a.txt").write_text(text)
    from charrnn.vocab import Vocab

    vocab = Vocab(text)
    rnn = save(tmp_path / "rnn.npz", *decaying_rnn(vocab, 0.5), vocab)
    lstm = save(tmp_path / "lstm.npz", *remembering_lstm(vocab), vocab)
    args = ["--text", tmp_path / "a.txt", "--gradients", "--span", "30", "--positions", "8", "-c", rnn, "-c", lstm]
    result = inspect(*args, "--json")
    assert result.exit_code == 0, result.output
    models = json.loads(result.stdout)["models"]
    assert [m["k_below_threshold"] for m in models] == [7, None]
    assert models[0]["relative"][3] == pytest.approx(0.125, rel=1e-3) and models[1]["model"] == "LSTM 1x4"
    shown = inspect(*args).stdout
    assert "k at 1%" in shown and "> 29" in shown and "1e+00 |" in shown


def test_several_checkpoints_rank_a_text_and_report_skipped_characters(tmp_path):
    (tmp_path / "t.txt").write_text("abcab\ncab")
    small = save(tmp_path / "small.npz", *counting_rnn("ab\n"))  # zero decoders: uniform over V
    large = save(tmp_path / "large.npz", *counting_rnn("abc\n "))
    result = inspect("--text", tmp_path / "t.txt", "-c", large, "-c", small, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert [m["name"] for m in out["models"]] == [str(small), str(large)]
    assert out["models"][0]["skipped_chars"] == 2 and out["models"][0]["missing"] == ["c"]
    assert out["comparable_chars"] == 6
    shown = inspect("--text", tmp_path / "t.txt", "-c", large, "-c", small).stdout
    assert "never saw c: it read the text without those 2 characters" in " ".join(shown.split())
    assert "1.5850" in shown and "2.3219" in shown  # log2 3 and log2 5


def test_html_writes_a_self_contained_page(files):
    tmp, counter, _ = files
    page = tmp / "page.html"
    result = inspect("-c", counter, "--text", tmp / "code.txt", "--html", page, "--neuron", "0:2", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["html"] == str(page)
    content = page.read_text()
    assert content.count('class="ch"') == len(CODE * 6) and "<svg" in content and "layer 0, unit 2" in content
    assert "hand-made: 200 steps, best validation 2.741 bits/char" in content  # 1.9 nats
    alone = inspect("-c", counter, "--text", tmp / "code.txt", "--html", page)
    assert alone.exit_code == 0 and f"wrote {page}" in alone.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--neuron", "0:1"], "--neuron needs a text: pass --text FILE"),
        (["--gradients"], "--gradients needs a text"),
        (["-c", "{counter}", "-c", "{counter}"], "comparing several -c needs a text"),
        (["--text", "{text}", "--neuron", "0:1", "--gradients"], "--neuron and --gradients are separate views"),
        (["--text", "{text}", "--cell-state"], "--cell-state chooses what --neuron shows"),
        (["--text", "{text}", "--neuron", "x"], "'x' is not LAYER:UNIT; write it like 0:42"),
        (["--text", "{text}", "--neuron", "1:0"], "there is no layer 1: the model has layers 0 to 0"),
        (["--text", "{text}", "--neuron", "0:0", "--cell-state"], "only an LSTM has a cell state"),
        (["--text", "{text}", "-c", "{counter}", "--find-neurons"], "look inside one model; pass one -c"),
    ],
)
def test_usage_errors_exit_2_and_say_what_to_do(files, args, message):
    tmp, counter, _ = files
    args = [a.format(counter=counter, text=tmp / "code.txt") for a in args]
    result = inspect("-c", counter, *args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.stderr.split())


def test_a_text_with_unknown_characters_is_an_error_for_single_model_views(files):
    tmp, counter, _ = files
    (tmp / "new.txt").write_text("def Zq():\n")
    result = inspect("-c", counter, "--text", tmp / "new.txt", "--find-neurons")
    assert result.exit_code == 1 and "never saw: 'Z', 'q'" in result.stderr


def test_too_short_a_text_for_the_span_is_an_error(files):
    tmp, counter, _ = files
    result = inspect("-c", counter, "--text", tmp / "code.txt", "--gradients", "--span", "1000")
    assert result.exit_code == 1 and "smaller --span" in result.stderr
