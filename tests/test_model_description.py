"""The model is named in one format everywhere: train's announcement, inspect's table, the page,
the gradients view and the exported page all use ModelConfig.describe."""

from __future__ import annotations

from charrnn.config import ModelConfig


def test_the_one_line_description():
    assert ModelConfig().describe() == "LSTM, 2 x 256"
    assert ModelConfig(cell="rnn", nonlinearity="relu", num_layers=1, hidden_size=8).describe(1234) == (
        "RNN (relu), 1 x 8, 1,234 parameters"
    )
    assert ModelConfig(cell="gru").describe(3_493_962) == "GRU, 2 x 256, 3,493,962 parameters"
