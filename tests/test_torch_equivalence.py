"""charrnn computes what PyTorch computes: a checkpoint's arrays load by name into torch.nn.RNN/LSTM/GRU
plus nn.Linear (strict=True), and both give the same log-probabilities (and gradients) for a text."""

from __future__ import annotations

import numpy as np
import pytest

from charrnn import checkpoint
from charrnn.analysis import scoring
from charrnn.checkpoint import Checkpoint
from charrnn.config import ModelConfig, TrainConfig
from charrnn.language_model import LanguageModel
from charrnn.nn import model
from charrnn.nn.functional import cross_entropy
from charrnn.vocab import Vocab
from tests.conftest import CELL_KINDS

torch = pytest.importorskip("torch")
nn = torch.nn

TEXT = "It is a truth universally acknowledged, that a single man in possession of a good fortune, " * 4
H, LAYERS = 8, 2


class TorchCharModel(nn.Module):
    """The PyTorch model charrnn's names describe: `rnn` (RNN/LSTM/GRU) and a linear `decoder`."""

    def __init__(self, cfg: ModelConfig, vocab_size: int):
        super().__init__()
        kwargs = dict(input_size=vocab_size, hidden_size=cfg.hidden_size, num_layers=cfg.num_layers)
        if cfg.cell == "lstm":
            self.rnn = nn.LSTM(**kwargs)
        elif cfg.cell == "gru":
            self.rnn = nn.GRU(**kwargs)
        else:
            self.rnn = nn.RNN(nonlinearity=cfg.nonlinearity, **kwargs)
        self.decoder = nn.Linear(cfg.hidden_size, vocab_size)
        self.vocab_size = vocab_size

    def forward(self, ids):  # (T, B) ids -> (T, B, V) log-probabilities
        x = nn.functional.one_hot(ids, self.vocab_size).to(self.decoder.weight.dtype)
        out, _ = self.rnn(x)
        return torch.log_softmax(self.decoder(out), dim=-1)


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: threads only cost time on a shared machine
    yield
    torch.set_num_threads(threads)


def saved_random(path, cfg: ModelConfig, net: nn.Module, seed: int, dtype=np.float32):
    """Random charrnn weights (biases too, so their layout is checked), saved as a checkpoint at
    `path`: the checkpoint loaded back, the file's arrays as tensors, and `net` in `dtype`."""
    vocab = Vocab(TEXT)
    rng = np.random.default_rng(seed)
    params = model.init_params(cfg, len(vocab), rng)
    for p in params.values():
        p += rng.normal(0, 0.2, p.shape).astype(p.dtype)
    checkpoint.save(Checkpoint(cfg, TrainConfig(), vocab, params), path)
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: torch.from_numpy(npz[k].astype(dtype)) for k in npz.files if k != "meta"}
    return checkpoint.load(path), arrays, net.double() if dtype == np.float64 else net


def charrnn_and_torch(tmp_path, cell, act, dtype=np.float32):
    """A random checkpoint loaded from the file into the PyTorch model by name."""
    cfg = ModelConfig(cell=cell, nonlinearity=act, hidden_size=H, num_layers=LAYERS, dropout=0.0)
    loaded, state, net = saved_random(
        tmp_path / f"{cell}-{act}.npz", cfg, TorchCharModel(cfg, len(Vocab(TEXT))), 11, dtype
    )
    net.load_state_dict(state, strict=True)  # every name and shape matches, nothing left over
    return loaded, net


@pytest.mark.parametrize("cell,act", CELL_KINDS)
def test_log_probs_match_pytorch(tmp_path, cell, act):
    ckpt, net = charrnn_and_torch(tmp_path, cell, act)
    ours = scoring.log_probs(LanguageModel.of(ckpt), TEXT)  # crosses score windows
    ids = torch.from_numpy(ckpt.vocab.encode(TEXT).astype(np.int64))[:, None]  # (T, 1)
    with torch.no_grad():
        logp = net(ids[:-1])[:, 0]  # (T-1, V)
        theirs = logp.gather(1, ids[1:]).squeeze(1).double().numpy()
    assert len(TEXT) > model.WINDOW
    assert np.abs(ours).mean() > 1.0  # random weights: a real test, not two uniform predictions
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("cell,act", CELL_KINDS)
def test_gradients_match_pytorch(tmp_path, cell, act):
    """In float64, the mean cross-entropy of a (B, T) batch and its gradient for every named array."""
    ckpt, net = charrnn_and_torch(tmp_path, cell, act, dtype=np.float64)
    params = {k: p.astype(np.float64) for k, p in ckpt.params.items()}
    ids = ckpt.vocab.encode(TEXT[:41]).astype(np.intp)
    x = np.stack([ids[0:20], ids[20:40]])  # (B=2, T=20)
    y = np.stack([ids[1:21], ids[21:41]])
    loss, grads, _ = model.loss_and_grads(params, ckpt.model, x, y, model.zero_state(ckpt.model, 2, np.float64))

    logp = net(torch.from_numpy(x.T.astype(np.int64)))  # (T, B, V)
    targets = torch.from_numpy(y.T.reshape(-1).astype(np.int64))  # time-major, as the logits
    torch_loss = nn.functional.nll_loss(logp.reshape(-1, logp.shape[-1]), targets)
    torch_loss.backward()
    assert loss == pytest.approx(torch_loss.item(), rel=1e-10)
    torch_grads = dict(net.named_parameters())
    assert grads.keys() == torch_grads.keys()
    for name, g in grads.items():
        np.testing.assert_allclose(g, torch_grads[name].grad.numpy(), rtol=1e-7, atol=1e-10, err_msg=name)


def test_cross_entropy_matches_pytorch():
    rng = np.random.default_rng(5)
    logits = rng.normal(0, 3, (6, 9))
    targets = rng.integers(0, 9, 6)
    t_logits = torch.from_numpy(logits.copy()).requires_grad_()
    t_loss = nn.functional.cross_entropy(t_logits, torch.from_numpy(targets))
    t_loss.backward()
    loss, dlogits = cross_entropy(logits, targets)
    assert loss == pytest.approx(t_loss.item(), rel=1e-12)
    np.testing.assert_allclose(dlogits, t_logits.grad.numpy(), atol=1e-14)
