"""Running out of memory is one line that says what makes the command that ran smaller: a sample
names sampling's options, a view its own, and none of them names train's model or batch sizes."""

from __future__ import annotations

import pytest

from tests.cli_helpers import TEXT, assert_clean_error, invoke, write

TRAINS = ("--hidden-size", "--layers", "--batch-size", "--seq-len")


def _no_memory(*args, **kwargs):
    raise MemoryError


@pytest.mark.parametrize(
    "module, name, command, says",
    [
        ("charrnn.generation.sampling", "warmed_up", ["sample", "-n", "20"], ["-n/--length", "--num-samples"]),
        ("charrnn.analysis.scoring", "read", ["inspect", "score", "TEXT"], ["shorter text", "--show", "--all"]),
        ("charrnn.analysis.scoring", "read", ["inspect", "neurons", "TEXT", "--unit", "0:1"], ["--show"]),
        ("charrnn.analysis.neurons", "activations", ["inspect", "find-neurons", "TEXT"], ["shorter text"]),
        ("charrnn.analysis.gradient_reach", "states_at", ["inspect", "gradients", "TEXT"], ["--span", "--positions"]),
        ("charrnn.analysis.scoring", "read", ["inspect", "compare", "TEXT", "-c", "MODEL"], ["fewer checkpoints"]),
        ("charrnn.checkpoint", "model_fields", ["inspect"], ["the checkpoint is too large"]),  # in its facts
    ],
)
def test_out_of_memory_names_what_applies_to_the_command_that_ran(
    trained, tmp_path, monkeypatch, module, name, command, says
):
    import importlib

    monkeypatch.setattr(importlib.import_module(module), name, _no_memory)
    text = write(tmp_path / "t.txt", TEXT)
    args = [str(text) if a == "TEXT" else str(trained) if a == "MODEL" else a for a in command]
    line = assert_clean_error(invoke([*args, "-c", trained]), 1, "out of memory", *says)
    assert not [f for f in TRAINS if f in line], line
