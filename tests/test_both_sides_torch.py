"""A model that reads both sides computes what PyTorch computes: a one-layer checkpoint loads by
name into torch.nn.LSTM/GRU/RNN(bidirectional=True) plus nn.Linear(2H, V) (strict=True), a deeper
one into two stacks, and they give the same log-probabilities and gradients."""

from __future__ import annotations

import numpy as np
import pytest

from charrnn.analysis import scoring
from charrnn.config import ModelConfig
from charrnn.language_model import LanguageModel
from charrnn.nn import both_sides, model
from charrnn.vocab import Vocab
from tests.conftest import CELL_KINDS
from tests.test_torch_equivalence import TEXT, saved_random

torch = pytest.importorskip("torch")
nn = torch.nn

H = 8


def recurrent(cfg: ModelConfig, V: int, layers: int, bidirectional: bool) -> nn.Module:
    kwargs = dict(input_size=V, hidden_size=cfg.hidden_size, num_layers=layers, bidirectional=bidirectional)
    if cfg.cell == "lstm":
        return nn.LSTM(**kwargs)
    if cfg.cell == "gru":
        return nn.GRU(**kwargs)
    return nn.RNN(nonlinearity=cfg.nonlinearity, **kwargs)


class TorchBothSides(nn.Module):
    """The network charrnn's names describe: one bidirectional layer (`rnn`) or, deeper, a
    forward stack `rnn` and a backward stack `back` read on the reversed text; `decoder` (V, 2H)
    predicts x_t from the forward state after x_{t-1} and the backward state after x_{t+1}."""

    def __init__(self, cfg: ModelConfig, V: int):
        super().__init__()
        self.one_layer, self.V = cfg.num_layers == 1, V
        self.rnn = recurrent(cfg, V, cfg.num_layers, bidirectional=self.one_layer)
        if not self.one_layer:
            self.back = recurrent(cfg, V, cfg.num_layers, bidirectional=False)
        self.decoder = nn.Linear(2 * cfg.hidden_size, V)

    def load(self, arrays: dict) -> None:
        if self.one_layer:
            self.load_state_dict(arrays, strict=True)  # PyTorch's own names and shapes, nothing left over
            return
        state = {
            k.replace("_reverse", "").replace("rnn.", "back.", 1) if "_reverse" in k else k: a
            for k, a in arrays.items()
        }
        self.load_state_dict(state, strict=True)

    def forward(self, ids):  # (N, B) ids -> (N, B, V) log-probabilities of every character
        x = nn.functional.one_hot(ids, self.V).to(self.decoder.weight.dtype)
        if self.one_layer:
            f, b = self.rnn(x)[0].chunk(2, dim=-1)
        else:
            f, b = self.rnn(x)[0], self.back(x.flip(0))[0].flip(0)
        zero = torch.zeros_like(f[:1])
        top = torch.cat([torch.cat([zero, f[:-1]]), torch.cat([b[1:], zero])], dim=-1)
        return torch.log_softmax(self.decoder(top), dim=-1)


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def charrnn_and_torch(tmp_path, cell, act, layers, dtype=np.float32):
    cfg = ModelConfig(cell=cell, nonlinearity=act, hidden_size=H, num_layers=layers, dropout=0.0, bidirectional=True)
    loaded, arrays, net = saved_random(tmp_path / "both.npz", cfg, TorchBothSides(cfg, len(Vocab(TEXT))), 12, dtype)
    net.load(arrays)
    return loaded, net


@pytest.mark.parametrize("cell,act", CELL_KINDS)
@pytest.mark.parametrize("layers", [1, 2])
def test_log_probs_of_every_character_match_pytorch(tmp_path, cell, act, layers):
    ckpt, net = charrnn_and_torch(tmp_path, cell, act, layers)
    ours = scoring.log_probs(LanguageModel.of(ckpt), TEXT)  # crosses windows in both directions
    ids = torch.from_numpy(ckpt.vocab.encode(TEXT).astype(np.int64))[:, None]
    with torch.no_grad():
        theirs = net(ids)[:, 0].gather(1, ids).squeeze(1).double().numpy()
    assert len(TEXT) > model.WINDOW and len(ours) == len(TEXT)
    assert np.abs(ours).mean() > 1.0
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("cell,act", CELL_KINDS)
@pytest.mark.parametrize("layers", [1, 2])
def test_window_gradients_match_pytorch(tmp_path, cell, act, layers):
    """In float64: a window of two streams from a zero state, its targets y predicted from x on
    the left and y on the right, and the gradient of every named array."""
    ckpt, net = charrnn_and_torch(tmp_path, cell, act, layers, dtype=np.float64)
    params = {k: p.astype(np.float64) for k, p in ckpt.params.items()}
    ids = ckpt.vocab.encode(TEXT[:42]).astype(np.intp)
    text = np.stack([ids[0:21], ids[21:42]])  # (B=2, T+1=21): x = text[:, :-1], y = text[:, 1:]
    loss, grads, _ = both_sides.loss_and_grads(
        params, ckpt.model, text[:, :-1], text[:, 1:], model.zero_state(ckpt.model, 2, np.float64)
    )
    logp = net(torch.from_numpy(text.T.astype(np.int64)))[1:]  # the first character is the window's x_0
    targets = torch.from_numpy(text[:, 1:].T.reshape(-1).astype(np.int64))
    torch_loss = nn.functional.nll_loss(logp.reshape(-1, logp.shape[-1]), targets)
    torch_loss.backward()
    assert loss == pytest.approx(torch_loss.item(), rel=1e-10)
    torch_grads = {n: p.grad.numpy() for n, p in net.named_parameters()}
    if layers > 1:
        torch_grads = {
            (n.replace("back.", "rnn.", 1) + "_reverse" if n.startswith("back.") else n): g
            for n, g in torch_grads.items()
        }
    assert grads.keys() == torch_grads.keys()
    for name, g in grads.items():
        np.testing.assert_allclose(g, torch_grads[name], rtol=1e-7, atol=1e-10, err_msg=name)
