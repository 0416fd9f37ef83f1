"""`charrnn inspect`'s analysis views from the command line: each view in the terminal and as
JSON, the page, and the usage errors. The checkpoints hold the hand-set models of
test_analysis, so the numbers the CLI prints are known."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from charrnn import checkpoint
from charrnn.cli import cli
from charrnn.config import TrainConfig
from charrnn.language_model import LanguageModel

from .cli_helpers import ESCAPES
from .test_analysis import CODE, counting_lstm, counting_rnn, decaying_rnn, remembering_lstm

HISTORY = [
    {"step": 100, "elapsed": 1.0, "train_loss": 2.0, "val_loss": 2.2},
    {"step": 200, "elapsed": 2.0, "train_loss": 1.5, "val_loss": 1.9},
]


def save(path: Path, model: LanguageModel) -> Path:
    params = {k: v.astype(np.float32) for k, v in model.params.items()}
    progress = {"step": 200, "history": HISTORY, "corpus": {"name": "hand-made"}, "best_val_loss": 1.9}
    checkpoint.save(checkpoint.Checkpoint(model.cfg, TrainConfig(), model.vocab, params, progress), path)
    return path


@pytest.fixture
def files(tmp_path):
    text = CODE * 6
    (tmp_path / "code.txt").write_text(text)
    (tmp_path / "other.txt").write_text("abcab\naab" * 5)
    counter = save(tmp_path / "counter.npz", counting_rnn(text))
    lstm = save(tmp_path / "lstm.npz", counting_lstm("abcab\naab"))
    return tmp_path, counter, lstm


def inspect(*args: str):
    result = CliRunner().invoke(cli, ["inspect", *map(str, args)])
    return result


def test_neuron_as_json_gives_the_unit_activation_after_each_character(files):
    tmp, counter, _ = files
    result = inspect("neurons", tmp / "code.txt", "--unit", "0:2", "-c", counter, "--json")
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


def test_neuron_in_the_terminal_colours_the_text(files, in_colour):
    tmp, counter, _ = files
    result = inspect("neurons", tmp / "code.txt", "--unit", "0:1", "-c", counter)
    assert result.exit_code == 0, result.output
    longest = max(len(line) for line in CODE.split("\n"))
    shown = ESCAPES.sub("", in_colour())
    assert shown.startswith(CODE) and ESCAPES.search(in_colour())
    assert f"layer 0, unit 1, hidden state: from +0.000 to +{longest}.000" in " ".join(shown.split())


def test_cell_state_of_an_lstm_unit(files):
    tmp, _, lstm = files
    result = inspect("neurons", tmp / "other.txt", "--unit", "0:0", "--cell-state", "-c", lstm, "--json")
    assert result.exit_code == 0, result.output
    values = json.loads(result.stdout)["neuron"]["values"]
    np.testing.assert_allclose(values, np.cumsum([c == "a" for c in "abcab\naab" * 5]) * np.tanh(0.5), rtol=1e-6)


def test_find_neurons_names_the_hand_set_units(files):
    tmp, counter, _ = files
    result = inspect("find-neurons", tmp / "code.txt", "-c", counter, "--json")
    assert result.exit_code == 0, result.output
    best = {p["property"]: p["units"][0] for p in json.loads(result.stdout)["properties"]}
    assert best["position in line"]["unit"] == 1 and best["position in line"]["r"] == pytest.approx(1)
    assert best["bracket depth"]["unit"] == 2 and best["whitespace"]["unit"] == 0
    table = inspect("find-neurons", tmp / "code.txt", "-c", counter).stdout
    assert "position in line" in table and "+1.00" in table and "neurons TEXT --unit 0:" in table


def test_gradients_compare_a_forgetting_rnn_with_a_remembering_lstm(tmp_path):
    text = "a" * 300 + "b"
    (tmp_path / "a.txt").write_text(text)
    from charrnn.vocab import Vocab

    vocab = Vocab(text)
    rnn = save(tmp_path / "rnn.npz", decaying_rnn(vocab, 0.5))
    lstm = save(tmp_path / "lstm.npz", remembering_lstm(vocab))
    args = ["gradients", tmp_path / "a.txt", "--span", "30", "--positions", "8", "-c", rnn, "-c", lstm]
    result = inspect(*args, "--json")
    assert result.exit_code == 0, result.output
    models = json.loads(result.stdout)["models"]
    assert [m["k_below_threshold"] for m in models] == [7, None]
    assert models[0]["relative"][3] == pytest.approx(0.125, rel=1e-3) and models[1]["model"] == "LSTM, 1 x 4"
    shown = inspect(*args).stdout
    assert "k at 1%" in shown and "> 29" in shown and "1e+00 |" in shown


def test_several_checkpoints_rank_a_text_and_report_skipped_characters(tmp_path):
    (tmp_path / "t.txt").write_text("abcab\ncab")
    small = save(tmp_path / "small.npz", counting_rnn("ab\n"))  # zero decoders: uniform over V
    large = save(tmp_path / "large.npz", counting_rnn("abc\n "))
    result = inspect("compare", tmp_path / "t.txt", "-c", large, "-c", small, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert [m["name"] for m in out["models"]] == [str(small), str(large)]
    assert out["models"][0]["skipped_chars"] == 2 and out["models"][0]["missing"] == ["c"]
    assert out["comparable_chars"] == 6
    shown = inspect("compare", tmp_path / "t.txt", "-c", large, "-c", small).stdout
    assert "never saw c: it read the text without those 2 characters" in " ".join(shown.split())
    assert "1.5850" in shown and "2.3219" in shown  # log2 3 and log2 5


def test_options_before_the_view_name_are_the_views(tmp_path):
    (tmp_path / "t.txt").write_text("abcab\ncab")
    small = save(tmp_path / "small.npz", counting_rnn("ab\n"))
    large = save(tmp_path / "large.npz", counting_rnn("abc\n "))
    result = inspect("-c", large, "--json", "compare", tmp_path / "t.txt", "-c", small)
    assert result.exit_code == 0, result.output
    assert {m["name"] for m in json.loads(result.stdout)["models"]} == {str(small), str(large)}


def test_several_checkpoints_before_the_view_name_are_all_the_views(tmp_path):
    (tmp_path / "t.txt").write_text("abcab\ncab")
    small = save(tmp_path / "small.npz", counting_rnn("ab\n"))
    large = save(tmp_path / "large.npz", counting_rnn("abc\n "))
    result = inspect("-c", large, "-c", small, "--json", "compare", tmp_path / "t.txt")
    assert result.exit_code == 0, result.output
    assert [m["name"] for m in json.loads(result.stdout)["models"]] == [str(small), str(large)]
    for args in ([], ["score", tmp_path / "t.txt"]):  # neither shows more than one checkpoint
        refused = inspect("-c", large, "-c", small, *args)
        assert refused.exit_code == 2 and "give -c once" in refused.output


def test_html_writes_a_self_contained_page(files):
    tmp, counter, _ = files
    page = tmp / "page.html"
    result = inspect("neurons", tmp / "code.txt", "-c", counter, "--html", page, "--unit", "0:2", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["html"] == str(page)
    content = page.read_text()
    assert content.count('class="ch"') == len(CODE * 6) and "<svg" in content and "layer 0, unit 2" in content
    assert "hand-made: 200 steps, best validation 2.741 bits/char" in content  # 1.9 nats
    alone = inspect("score", tmp / "code.txt", "-c", counter, "--html", page)
    assert alone.exit_code == 0 and f"wrote {page}" in alone.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["neurons", "--unit", "0:1"], "Missing argument 'TEXT'"),
        (["gradients"], "Missing argument 'TEXT'"),
        (["compare", "-c", "{counter}"], "Missing argument 'TEXT'"),
        (["neurons", "{text}", "--unit", "0:1", "--gradients"], "No such option '--gradients'"),
        (["neurons", "{text}", "--cell-state"], "Missing option '--unit'"),
        (["neurons", "{text}", "--unit", "x"], "'x' is not LAYER:UNIT; write it like 0:42"),
        (["neurons", "{text}", "--unit", "1:0"], "there is no layer 1: the model has layers 0 to 0"),
        (["neurons", "{text}", "--unit", "0:0", "--cell-state"], "only an LSTM has a cell state"),
        (["find-neurons", "{text}", "-c", "{counter}"], "this view reads one checkpoint: give -c once"),
        (["compare", "{text}"], "compare ranks several checkpoints: pass -c at least twice"),
    ],
)
def test_usage_errors_exit_2_and_say_what_to_do(files, args, message):
    tmp, counter, _ = files
    args = [a.format(counter=counter, text=tmp / "code.txt") for a in args]
    result = inspect("-c", counter, *args)  # -c before the view's name is the view's
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.stderr.split())


def test_a_text_with_unknown_characters_is_an_error_for_single_model_views(files):
    tmp, counter, _ = files
    (tmp / "new.txt").write_text("def Zq():\n")
    result = inspect("find-neurons", tmp / "new.txt", "-c", counter)
    assert result.exit_code == 1 and "never saw: 'Z', 'q'" in result.stderr


def test_too_short_a_text_for_the_span_is_an_error(files):
    tmp, counter, _ = files
    result = inspect("gradients", tmp / "code.txt", "-c", counter, "--span", "1000")
    assert result.exit_code == 1 and "smaller --span" in result.stderr


def rewrite_meta(path: Path, change) -> None:
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(str(arrays.pop("meta")))
    change(meta)
    np.savez(path, **arrays, meta=np.array(json.dumps(meta)))


def test_the_facts_give_the_files_own_format_and_writer_version(files):
    _, counter, _ = files
    rewrite_meta(counter, lambda meta: meta.update(charrnn_version="0.0.7"))
    facts = json.loads(inspect("-c", counter, "--json").stdout)
    assert facts["format_version"] == 1 and facts["writer_version"] == "0.0.7"
    assert "1, written by charrnn 0.0.7" in inspect("-c", counter).stdout
    rewrite_meta(counter, lambda meta: meta.pop("charrnn_version"))  # as files from before it was recorded
    assert json.loads(inspect("-c", counter, "--json").stdout)["writer_version"] is None
    assert "written by charrnn (version unknown)" in inspect("-c", counter).stdout


@pytest.mark.parametrize("view, extra", [("score", []), ("neurons", ["--unit", "0:2"])])
def test_a_view_has_one_json_schema_with_or_without_a_page(files, view, extra):
    tmp, counter, _ = files
    alone = json.loads(inspect(view, tmp / "code.txt", *extra, "-c", counter, "--json").stdout)
    paged = json.loads(
        inspect(view, tmp / "code.txt", *extra, "-c", counter, "--json", "--html", tmp / "p.html").stdout
    )
    assert alone["html"] is None and paged["html"] == str(tmp / "p.html")
    assert alone | {"html": None} == paged | {"html": None} and alone["view"] == view


@pytest.mark.parametrize("view, extra", [("score", []), ("neurons", ["--unit", "0:2"])])
def test_a_view_and_its_page_read_the_text_once(files, monkeypatch, view, extra):
    from charrnn.analysis import scoring

    tmp, counter, _ = files
    reads = []
    windows = scoring.windows
    monkeypatch.setattr(scoring, "windows", lambda *args: reads.append(1) or windows(*args))
    result = inspect(view, tmp / "code.txt", *extra, "-c", counter, "--html", tmp / "p.html")
    assert result.exit_code == 0, result.output
    assert len(reads) == 1


def test_the_facts_give_a_nonlinearity_only_for_a_vanilla_rnn(files):
    _, rnn, lstm = files
    assert json.loads(inspect("-c", rnn, "--json").stdout)["model"]["nonlinearity"] == "relu"
    assert "nonlinearity" not in json.loads(inspect("-c", lstm, "--json").stdout)["model"]
    assert "RNN (relu)" in inspect("-c", rnn).stdout and "LSTM, 1 x 1" in inspect("-c", lstm).stdout


def test_the_page_and_the_terminal_count_the_same_characters(files):
    tmp, counter, _ = files
    result = inspect("score", tmp / "code.txt", "-c", counter, "--html", tmp / "p.html")
    said = re.search(r"[\d,]+ characters scored of [\d,]+", result.stdout)[0]
    assert said == f"{len((tmp / 'code.txt').read_text()) - 1:,} characters scored of 258"
    assert said in (tmp / "p.html").read_text()
