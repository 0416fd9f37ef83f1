"""Checkpoints: exact round trips, PyTorch's names and shapes, atomic writes, and refusing every
kind of bad file with a CheckpointError (never a traceback, never running code from the file)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from charrnn import checkpoint
from charrnn.analysis import scoring
from charrnn.checkpoint import Checkpoint
from charrnn.config import ModelConfig, TrainConfig
from charrnn.data.corpus import Corpus
from charrnn.errors import CheckpointError
from charrnn.language_model import LanguageModel
from charrnn.nn import model
from charrnn.training.trainer import Trainer
from charrnn.vocab import Vocab
from tests.conftest import tiny_model_config, tiny_train_config
from tests.factories import pickled_marker

TEXT = "The 🐍 said: «naïve\x00 café»\n" * 12


def trained_checkpoint(cell: str = "lstm", layers: int = 2) -> Checkpoint:
    corpus = Corpus.from_text(TEXT)
    mcfg = tiny_model_config(cell, hidden_size=8, num_layers=layers)
    trainer = Trainer(corpus, mcfg, tiny_train_config(max_steps=4, eval_every=2))
    for _ in trainer.run():
        pass
    return trainer.checkpoint()


@pytest.fixture(scope="module")
def ckpt() -> Checkpoint:
    return trained_checkpoint()


@pytest.fixture
def saved(tmp_path, ckpt):
    path = tmp_path / "model.npz"
    checkpoint.save(ckpt, path)
    return path


def rewrite(path, change):
    """Load the raw arrays of a checkpoint, let `change` edit the dict, and write them back."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    change(arrays)
    np.savez(path, **arrays)


def rewrite_meta(path, change):
    def edit(arrays):
        meta = json.loads(str(arrays["meta"]))
        change(meta)
        arrays["meta"] = np.array(json.dumps(meta))

    rewrite(path, edit)


# -- round trip ----------------------------------------------------------------------------------


def test_round_trip_is_bit_exact_and_predicts_the_same(saved, ckpt):
    loaded = checkpoint.load(saved)
    assert loaded.model == ckpt.model and loaded.train == ckpt.train
    assert loaded.vocab == ckpt.vocab
    assert loaded.params.keys() == ckpt.params.keys()
    for k, p in ckpt.params.items():
        assert loaded.params[k].dtype == np.float32
        np.testing.assert_array_equal(loaded.params[k], p)
    assert loaded.resume.keys() == ckpt.resume.keys()
    for k, a in ckpt.resume.items():
        np.testing.assert_array_equal(loaded.resume[k], a)
    assert loaded.progress == json.loads(json.dumps(ckpt.progress))
    text = TEXT[:100]
    before = scoring.log_probs(LanguageModel.of(ckpt), text)
    after = scoring.log_probs(LanguageModel.of(loaded), text)
    np.testing.assert_array_equal(after, before)


def test_a_checkpoint_saved_before_epoch_offsets_continues_with_the_streams_where_they_were(saved):
    """A field a config saved before it existed lacks means what that charrnn did: the streams
    started every epoch at the same place."""
    assert checkpoint.load(saved).train.epoch_offsets == "random"
    rewrite_meta(saved, lambda meta: meta["train"].pop("epoch_offsets"))
    assert checkpoint.load(saved).train.epoch_offsets == "fixed"
    old = Path(__file__).parent / "data" / "written_before_one_reader" / "file.npz"
    assert checkpoint.load(old).train.epoch_offsets == "fixed"


def test_a_checkpoint_saved_before_the_schedules_continues_with_step_decay(saved):
    """The default schedule is a cosine now; a run saved before there was a choice decayed by steps."""
    assert checkpoint.load(saved).train.lr_schedule == "cosine"
    rewrite_meta(saved, lambda meta: meta["train"].pop("lr_schedule"))
    assert checkpoint.load(saved).train.lr_schedule == "step"


def test_file_loads_without_pickle_and_holds_metadata(saved, ckpt):
    with np.load(saved, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    assert all(a.dtype != object for a in arrays.values())
    meta = json.loads(str(arrays["meta"]))
    assert meta["format"] == "charrnn-checkpoint" and meta["format_version"] == 1
    assert meta["vocab"] == ckpt.vocab.chars
    assert meta["model"]["cell"] == "lstm" and meta["model"]["hidden_size"] == 8
    assert meta["progress"]["step"] == 4


def torch_shapes(cell: str, L: int, H: int, V: int) -> dict[str, tuple[int, ...]]:
    """The state dict of torch.nn.{RNN,LSTM,GRU}(V, H, L) as `rnn` plus nn.Linear(H, V) as `decoder`."""
    G = {"rnn": 1, "gru": 3, "lstm": 4}[cell] * H
    shapes = {}
    for layer in range(L):
        shapes[f"rnn.weight_ih_l{layer}"] = (G, V if layer == 0 else H)
        shapes[f"rnn.weight_hh_l{layer}"] = (G, H)
        shapes[f"rnn.bias_ih_l{layer}"] = (G,)
        shapes[f"rnn.bias_hh_l{layer}"] = (G,)
    return {**shapes, "decoder.weight": (V, H), "decoder.bias": (V,)}


def test_lstm_arrays_have_pytorch_names_and_shapes(saved):
    V, H = len(set(TEXT)), 8
    expected = {
        "rnn.weight_ih_l0": (4 * H, V),
        "rnn.weight_hh_l0": (4 * H, H),
        "rnn.bias_ih_l0": (4 * H,),
        "rnn.bias_hh_l0": (4 * H,),
        "rnn.weight_ih_l1": (4 * H, H),
        "rnn.weight_hh_l1": (4 * H, H),
        "rnn.bias_ih_l1": (4 * H,),
        "rnn.bias_hh_l1": (4 * H,),
        "decoder.weight": (V, H),
        "decoder.bias": (V,),
    }
    assert torch_shapes("lstm", 2, H, V) == expected
    with np.load(saved, allow_pickle=False) as npz:
        weights = {k: npz[k].shape for k in npz.files if k.split(".")[0] in ("rnn", "decoder")}
        others = {k.split(".")[0] for k in npz.files} - {"rnn", "decoder"}
        last = {k.removeprefix("last."): npz[k].shape for k in npz.files if k.startswith("last.")}
    assert weights == expected
    assert last == expected
    assert others == {"meta", "last", "optim", "train"}


@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_rnn_and_gru_arrays_have_pytorch_names_and_shapes(tmp_path, cell):
    ck = trained_checkpoint(cell, layers=3)
    checkpoint.save(ck, tmp_path / "c.npz")
    with np.load(tmp_path / "c.npz", allow_pickle=False) as npz:
        weights = {k: npz[k].shape for k in npz.files if k.split(".")[0] in ("rnn", "decoder")}
    assert weights == torch_shapes(cell, 3, 8, len(set(TEXT)))


def test_saving_again_replaces_the_file(tmp_path, ckpt):
    path = tmp_path / "model.npz"
    checkpoint.save(ckpt, path)
    other = Checkpoint(ckpt.model, ckpt.train, ckpt.vocab, {k: p + 1 for k, p in ckpt.params.items()})
    checkpoint.save(other, path)
    loaded = checkpoint.load(path)
    np.testing.assert_array_equal(loaded.params["decoder.bias"], ckpt.params["decoder.bias"] + 1)
    assert loaded.resume == {}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


# -- atomic writes -----------------------------------------------------------------------------


def failing_savez(exc: BaseException):
    """np.savez that writes part of an archive, as a full disk or a signal would, then fails."""

    def savez(file, *args, **kwargs):
        file.write(b"PK\x03\x04 half of a zip")
        raise exc

    return savez


@pytest.mark.parametrize(
    "exc,expected",
    [
        (OSError(28, "No space left on device"), CheckpointError),
        (KeyboardInterrupt(), KeyboardInterrupt),
        (RuntimeError("boom"), RuntimeError),
    ],
)
def test_failed_save_leaves_the_previous_file_and_no_temporary_files(tmp_path, ckpt, monkeypatch, exc, expected):
    path = tmp_path / "model.npz"
    checkpoint.save(ckpt, path)
    before = path.read_bytes()
    monkeypatch.setattr(np, "savez", failing_savez(exc))
    newer = Checkpoint(ckpt.model, ckpt.train, ckpt.vocab, {k: p * 2 for k, p in ckpt.params.items()})
    with pytest.raises(expected) as e:
        checkpoint.save(newer, path)
    if expected is CheckpointError:
        assert "No space left on device" in str(e.value) and "unchanged" in str(e.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]
    monkeypatch.undo()
    np.testing.assert_array_equal(checkpoint.load(path).params["decoder.bias"], ckpt.params["decoder.bias"])


def test_failed_first_save_leaves_nothing(tmp_path, ckpt, monkeypatch):
    monkeypatch.setattr(np, "savez", failing_savez(OSError(28, "No space left on device")))
    with pytest.raises(CheckpointError):
        checkpoint.save(ckpt, tmp_path / "model.npz")
    assert list(tmp_path.iterdir()) == []


def test_save_into_a_missing_directory_is_a_checkpoint_error(tmp_path, ckpt):
    with pytest.raises(CheckpointError, match="cannot write"):
        checkpoint.save(ckpt, tmp_path / "no" / "such" / "dir" / "model.npz")


# -- refusing bad files --------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        checkpoint.load(tmp_path / "absent.npz")


def test_directory(tmp_path):
    with pytest.raises(CheckpointError, match="directory"):
        checkpoint.load(tmp_path)


@pytest.mark.parametrize("content", [b"", b"hello, I am a text file\n", b"\x93NUMPY\x01\x00 a .npy, not an .npz"])
def test_not_an_npz(tmp_path, content):
    path = tmp_path / "model.npz"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="not a charrnn checkpoint"):
        checkpoint.load(path)


@pytest.mark.parametrize("keep", [0.9, 0.5, 0.1, 40])
def test_truncated_file(saved, keep):
    data = saved.read_bytes()
    saved.write_bytes(data[: int(len(data) * keep) if keep < 1 else keep])
    with pytest.raises(CheckpointError):
        checkpoint.load(saved)


def test_damaged_array_data(saved):
    """Bytes flipped inside an array: the zip's CRC check must catch it."""
    data = bytearray(saved.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    saved.write_bytes(bytes(data))
    with pytest.raises(CheckpointError):
        checkpoint.load(saved)


def test_npz_from_another_program(tmp_path):
    path = tmp_path / "weights.npz"
    np.savez(path, W=np.ones((3, 3)), b=np.zeros(3))
    with pytest.raises(CheckpointError, match="not a charrnn checkpoint"):
        checkpoint.load(path)


def test_npz_with_another_programs_metadata(tmp_path):
    path = tmp_path / "weights.npz"
    np.savez(path, meta=np.array(json.dumps({"format": "something-else", "format_version": 1})))
    with pytest.raises(CheckpointError, match="not a charrnn checkpoint"):
        checkpoint.load(path)


def test_damaged_metadata(saved):
    rewrite(saved, lambda a: a.update(meta=np.array("{not json")))
    with pytest.raises(CheckpointError, match="metadata"):
        checkpoint.load(saved)


def test_invalid_config_in_metadata(saved):
    rewrite_meta(saved, lambda m: m["model"].update(cell="transformer"))
    with pytest.raises(CheckpointError, match="transformer"):
        checkpoint.load(saved)


def test_missing_weights(saved):
    rewrite(saved, lambda a: (a.pop("rnn.weight_hh_l1"), a.pop("decoder.bias")))
    with pytest.raises(CheckpointError, match="missing") as e:
        checkpoint.load(saved)
    assert "rnn.weight_hh_l1" in str(e.value) and "decoder.bias" in str(e.value)


@pytest.mark.parametrize("key", ["rnn.weight_ih_l0", "decoder.weight", "last.rnn.weight_hh_l1"])
def test_wrong_shape(saved, key):
    rewrite(saved, lambda a: a.update({key: np.zeros((3, 2), np.float32)}))
    with pytest.raises(CheckpointError, match="shape") as e:
        checkpoint.load(saved)
    assert key in str(e.value)


def test_hidden_size_that_does_not_match_the_weights(saved):
    rewrite_meta(saved, lambda m: m["model"].update(hidden_size=9))
    with pytest.raises(CheckpointError, match="shape"):
        checkpoint.load(saved)


def test_future_format_version(saved):
    def future(meta):
        meta["format_version"] = 2
        meta["charrnn_version"] = "9.0.0"

    rewrite_meta(saved, future)
    with pytest.raises(CheckpointError) as e:
        checkpoint.load(saved)
    message = str(e.value)
    assert "format 2" in message and "9.0.0" in message
    assert "reads format 1" in message and "upgrade" in message


@pytest.mark.parametrize("where", ["meta", "extra array"])
def test_pickled_object_is_refused_and_never_unpickled(saved, tmp_path, where):
    marker = tmp_path / "pwned"
    evil = pickled_marker(marker)
    if where == "meta":
        rewrite(saved, lambda a: a.update(meta=evil))
    else:
        rewrite(saved, lambda a: a.update(evil=evil))
    with pytest.raises(CheckpointError, match="pickle"):
        checkpoint.load(saved)
    assert not marker.exists()
    # the payload is live: loading it the unsafe way does create the marker
    with np.load(saved, allow_pickle=True) as npz:
        npz["meta" if where == "meta" else "evil"]
    assert marker.exists()


def test_unknown_config_field_is_refused(saved):
    rewrite_meta(saved, lambda m: m["train"].update(warp_drive=True))
    with pytest.raises(CheckpointError, match="warp_drive"):
        checkpoint.load(saved)


def test_checkpoint_without_training_state_still_loads(tmp_path):
    """A checkpoint holding only weights (e.g. converted from PyTorch) is usable for sampling."""
    cfg = ModelConfig(cell="gru", hidden_size=4, num_layers=1)
    vocab = Vocab("abc")
    params = model.init_params(cfg, 3, np.random.default_rng(0))
    checkpoint.save(Checkpoint(cfg, TrainConfig(), vocab, params), tmp_path / "w.npz")
    loaded = checkpoint.load(tmp_path / "w.npz")
    assert loaded.resume == {} and loaded.vocab == vocab
    for k in params:
        np.testing.assert_array_equal(loaded.params[k], params[k])
