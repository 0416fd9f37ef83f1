"""The same seed gives the same checkpoint and the same samples; a vanishing temperature is argmax."""

from __future__ import annotations

import pytest

from tests.cli_helpers import (
    RESUMABLE,
    assert_same_arrays,
    checkpoint_arrays,
    checkpoint_meta,
    invoke,
    without_times,
)


def test_same_seed_same_checkpoint_and_samples(corpus, tmp_path):
    a, b, c = tmp_path / "a.npz", tmp_path / "b.npz", tmp_path / "c.npz"
    for path, seed in ((a, 3), (b, 3), (c, 4)):
        assert invoke(["train", corpus, "-c", path, *RESUMABLE, "--seed", seed, "-q"]).exit_code == 0
    assert_same_arrays(a, b)
    assert without_times(checkpoint_meta(a)) == without_times(checkpoint_meta(b))
    assert checkpoint_arrays(a)["decoder.weight"].tobytes() != checkpoint_arrays(c)["decoder.weight"].tobytes()
    samples = [invoke(["sample", "-c", p, "-n", "300", "--seed", "9", "--num-samples", "2"]).stdout for p in (a, b)]
    assert samples[0] == samples[1] and len(samples[0]) > 600


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_tiny_temperature_is_argmax(trained):
    argmax = invoke(["sample", "-c", trained, "-n", "30", "--argmax"])
    cold = invoke(["sample", "-c", trained, "-n", "30", "--temp", "1e-310", "--seed", "0"])
    assert "RuntimeWarning" not in cold.stderr
    assert cold.stdout == argmax.stdout
