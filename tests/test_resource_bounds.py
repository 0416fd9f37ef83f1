"""Every option's cost is bounded before it is paid: a value no machine could pay is refused at once,
in one line naming the option the user gave, and no accepted value hangs.

Memory is estimated before it is allocated (charrnn/budget.py) and compared with this machine's
physical memory; counts derived from options are computed exactly (no float overflow); a text is
read only up to the length that memory could hold.
"""

from __future__ import annotations

import math
import os
import subprocess

import pytest

from charrnn import budget
from charrnn.config import ModelConfig, TrainConfig
from charrnn.data import batching
from charrnn.data.corpus import read_text
from charrnn.errors import DataError, ResourceError
from charrnn.training.schedules import STEP_MAX, step_limit
from tests.cli_helpers import TEXT, assert_clean_error, invoke, run, script, tiny, write

FAST = 60  # seconds: far more than any refusal here takes, far less than a hang


# -- the library ----------------------------------------------------------------------------


def test_an_estimate_above_the_machines_memory_is_refused_with_its_facts():
    cfg = ModelConfig(hidden_size=10**17)
    with pytest.raises(ResourceError) as e:
        budget.check_training(cfg, TrainConfig(), 80)
    assert e.value.needed > budget.memory_total() == e.value.available
    assert e.value.settings["hidden_size"] == 10**17 and e.value.defaults["hidden_size"] == 256
    budget.check_training(ModelConfig(), TrainConfig(), 80)  # the defaults fit anywhere


def test_estimates_can_be_held_against_the_memory_a_caller_plans_for():
    machine = budget.memory_total()
    need = budget.training_bytes(ModelConfig(), TrainConfig(), 80)
    with budget.memory_planned_for(need - 1):
        with pytest.raises(ResourceError) as e:
            budget.check_training(ModelConfig(), TrainConfig(), 80)
        assert e.value.available == need - 1
        with budget.memory_planned_for(need):  # the innermost plan counts
            budget.check_training(ModelConfig(), TrainConfig(), 80)
        assert budget.memory_total() == need - 1
    assert budget.memory_total() == machine


def test_the_training_estimate_grows_with_every_size_and_is_closed_form():
    base = budget.training_bytes(ModelConfig(), TrainConfig(), 80)
    for bigger in (ModelConfig(hidden_size=512), ModelConfig(num_layers=3)):
        assert budget.training_bytes(bigger, TrainConfig(), 80) > base
    for bigger in (TrainConfig(batch_size=64), TrainConfig(seq_len=128)):
        assert budget.training_bytes(ModelConfig(), bigger, 80) > base
    assert budget.training_bytes(ModelConfig(num_layers=10**11), TrainConfig(), 80) > 10**15  # no loop per layer


def test_an_epoch_limit_is_multiplied_exactly():
    assert step_limit(TrainConfig(epochs=1e308), 100) == STEP_MAX
    assert step_limit(TrainConfig(epochs=2.5), 4) == 10
    assert step_limit(TrainConfig(epochs=1e308, max_steps=7), 100) == 7
    assert step_limit(TrainConfig(max_time=60.0), 100) is None


@pytest.mark.parametrize("fraction", [1e-300, 5e-324, 1e-5, 0.3, 1 - 1e-12])
def test_the_least_corpus_for_any_fraction_is_exact_and_quick(fraction):
    need = 17
    n = batching._least_length(need, fraction)

    def fits(m):
        share = math.floor(m * batching.Fraction(fraction))
        return m - share >= need and share >= 2

    assert fits(n) and not fits(n - 1)


def test_a_text_is_read_only_as_far_as_the_limit(tmp_path):
    zero = tmp_path / "zero"
    zero.symlink_to("/dev/zero")
    with pytest.raises(DataError, match="longer than 1,000 characters"):
        read_text(zero, max_chars=1000)
    assert read_text(write(tmp_path / "t.txt", "abc"), max_chars=3) == "abc"


# -- the command line -----------------------------------------------------------------------


def test_a_billion_samples_are_drawn_in_batches_that_fit_and_the_first_come_at_once(trained, tmp_path):
    out = tmp_path / "out.txt"
    command = [*script(), "sample", "-c", str(trained), "--num-samples", "1000000000", "-n", "10", "--separator", "|"]
    with open(out, "wb") as f:  # a reader that stops: head -c 100
        writer = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        subprocess.run(["head", "-c", "100"], stdin=writer.stdout, stdout=f, timeout=FAST, check=True)
        writer.stdout.close()
        assert writer.wait(FAST) == 0 and writer.stderr.read() == b""
    assert [len(s) for s in out.read_text().split("|")[:9]] == [10] * 9


@pytest.mark.parametrize("option, value", [("--hidden-size", "100000000000000000"), ("--layers", "100000000000")])
def test_a_model_no_machine_could_hold_is_refused_naming_its_option(corpus, tmp_path, option, value):
    args = ["train", corpus, "-c", tmp_path / "m.npz", "--seq-len", "8", "--batch-size", "2", option, value]
    line = assert_clean_error(run(args, timeout=FAST), 1, option, "memory")
    assert "internal error" not in line
    others = {"--hidden-size", "--layers", "--batch-size", "--seq-len", "--num-samples"} - {option}
    assert not [o for o in others if o in line.split(": lower")[1]], line
    assert not (tmp_path / "m.npz").exists()


def test_an_enormous_epoch_count_trains_until_another_limit(corpus, tmp_path):
    result = invoke(["train", corpus, "-c", tmp_path / "m.npz", *tiny(), "--epochs", "1e308", "-q"])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "m.npz").exists()


@pytest.mark.parametrize("fraction", ["1e-300", "5e-324"])
def test_a_tiny_validation_fraction_is_refused_at_once(corpus, tmp_path, fraction):
    result = run(["train", corpus, "-c", tmp_path / "m.npz", *tiny(), "--val-fraction", fraction], timeout=FAST)
    line = assert_clean_error(result, 1, "--val-fraction")
    assert len(line) < 400


def test_an_endless_text_is_refused_not_read_forever(trained, tmp_path):
    """A view that holds its text whole stops at what memory can hold; score reads it as it comes,
    and refuses /dev/zero's characters in its first block."""
    zero = tmp_path / "zero"
    zero.symlink_to("/dev/zero")
    for view, said in (("find-neurons", "longer than"), ("score", "never saw: '\\x00'")):
        assert_clean_error(run(["inspect", view, zero, "-c", trained], timeout=FAST), 1, said)
        with open(zero, "rb") as stdin:
            result = subprocess.run(
                [*script(), "inspect", view, "-", "-c", trained],
                stdin=stdin,
                capture_output=True,
                text=True,
                timeout=FAST,
            )
        assert_clean_error(result, 1, said)
    assert not [p for p in os.listdir(tmp_path) if p != "zero"]


def test_gradients_too_large_to_measure_name_span_and_positions(trained, tmp_path):
    text = write(tmp_path / "long.txt", TEXT * 8)
    args = ["inspect", "gradients", text, "-c", trained, "--span", "5000", "--positions", "5000"]
    line = assert_clean_error(run(args, timeout=FAST), 1, "--span", "--positions", "memory")
    assert "--hidden-size" not in line and "--num-samples" not in line


def test_a_closing_sample_too_long_to_hold_is_refused_before_training(corpus, tmp_path):
    result = invoke(["train", corpus, "-c", tmp_path / "m.npz", *tiny(), "--sample-length", str(10**14)])
    line = assert_clean_error(result, 1, "--sample-length", "memory")
    assert "Training a" not in result.stderr and not (tmp_path / "m.npz").exists(), line
