"""Training that goes wrong by itself: a loss that blows up or turns NaN stops with the setting to
change and never saves the broken weights; running out of memory is one line.
"""

from __future__ import annotations

import numpy as np

from charrnn import checkpoint as ckpt_io
from tests.cli_helpers import (
    assert_clean_error,
    invoke,
    tiny,
    train_over,
)


def test_absurd_learning_rate_stops_and_keeps_the_checkpoint(corpus, victim):
    result = invoke(["train", corpus, "-c", victim.path, *tiny(max_steps=40), "--resume", "--lr", "1e6"])
    line = assert_clean_error(result, 1, "--lr (now 1e+06)", f"{victim.path} is unchanged")
    assert "exploded" in line and "RuntimeWarning" not in result.stderr
    assert victim.unchanged()


def test_blown_up_weights_are_never_saved(corpus, tmp_path):
    path = tmp_path / "new.npz"
    result = invoke(["train", corpus, "-c", path, *tiny(eval_every=1), "--lr", "1e6"])
    assert_clean_error(result, 1, "no checkpoint was written", "--lr")
    assert not path.exists()


def test_nan_loss_stops_with_the_setting_to_change(corpus, tmp_path):
    path = tmp_path / "new.npz"
    result = invoke(["train", corpus, "-c", path, *tiny(eval_every=100), "--lr", "1e38"])
    line = assert_clean_error(result, 1, "NaN", "--lr")
    assert "RuntimeWarning" not in result.stderr and "Traceback" not in result.stderr
    assert not path.exists(), line


def test_good_checkpoint_survives_a_later_blow_up(corpus, tmp_path):
    """Saved at step 5 with a sane rate; resumed with an absurd one: step 5's weights stay."""
    path = tmp_path / "m.npz"
    invoke(["train", corpus, "-c", path, *tiny(), "-q"])
    before = path.read_bytes()
    result = invoke(["train", corpus, "-c", path, *tiny(max_steps=20), "--resume", "--lr", "1e38"])
    assert_clean_error(result, 1, "--lr")
    assert path.read_bytes() == before
    assert all(np.isfinite(a).all() for a in ckpt_io.load(path).params.values())


def test_out_of_memory_is_one_line(corpus, victim, monkeypatch):
    import charrnn.nn.model

    def too_big(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(charrnn.nn.model, "init_params", too_big)
    assert_clean_error(train_over(victim, corpus), 1, "out of memory", "--hidden-size")
    assert victim.unchanged()
