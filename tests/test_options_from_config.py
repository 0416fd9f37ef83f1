"""Every command-line option that stands for a config field agrees with that field.

The config dataclasses (charrnn/config.py) hold each field's default, choices, range and help;
the commands' options are built from them. These tests walk every command (subcommands too) and
compare each option with its field, so an option written or edited by hand, with a default,
choice list or range of its own, is caught.
"""

from __future__ import annotations

import dataclasses

import click
import pytest

from charrnn.cli import cli
from charrnn.cli.options import ConfigOption, config_option, flag
from charrnn.config import ModelConfig, ReachConfig, ReadConfig, SampleConfig, ShowConfig, TrainConfig
from tests.cli_helpers import commands

CONFIGS = (ModelConfig, TrainConfig, SampleConfig, ReadConfig, ReachConfig, ShowConfig)
FIELD_NAMES = {f.name for cls in CONFIGS for f in dataclasses.fields(cls)}


def options():
    return [(path, p) for path, command in commands() for p in command.params if isinstance(p, click.Option)]


def disagreements(option: click.Option, f: dataclasses.Field) -> list[str]:
    """How an option differs from the config field it stands for (empty when they agree)."""
    found = []
    if option.default != f.default:
        found.append(f"default {option.default!r} != {f.default!r}")
    if option.help != f.metadata["help"]:
        found.append(f"help {option.help!r} != {f.metadata['help']!r}")
    if flag(f.name) not in option.opts:
        found.append(f"flag {option.opts} lacks {flag(f.name)}")
    choices = f.metadata["choices"]
    if tuple(getattr(option.type, "choices", ()) or ()) != tuple(choices or ()):
        found.append(f"choices {getattr(option.type, 'choices', None)} != {choices}")
    bounds = f.metadata["bounds"]
    if isinstance(option.type, click.types._NumberRangeBase):
        t = option.type
        if bounds is None or (t.min, t.max, t.min_open, t.max_open) != (
            bounds.min,
            bounds.max,
            bounds.min_open,
            bounds.max_open,
        ):
            found.append(f"range {t._describe_range()} != {bounds}")
    elif bounds is not None and not hasattr(option.type, "show"):  # Duration checks > 0 itself
        found.append(f"no range, but the field has {bounds}")
    if option.is_flag != (f.default is False):
        found.append("flag-ness differs")
    return found


def test_every_config_option_agrees_with_its_field():
    checked = 0
    for path, option in options():
        if isinstance(option, ConfigOption):
            assert disagreements(option, option.config_field) == [], f"{path} {option.opts}"
            checked += 1
    assert checked >= len(dataclasses.fields(ModelConfig)) + len(dataclasses.fields(TrainConfig))


def test_no_option_stands_for_a_field_by_hand():
    """An option named like a config field is built from it: none declares its own default."""
    hand_made = [
        (path, option.name)
        for path, option in options()
        if option.name in FIELD_NAMES and not isinstance(option, ConfigOption)
    ]
    assert hand_made == []


def test_every_config_field_is_an_option_of_some_command():
    shown = {id(option.config_field) for _, option in options() if isinstance(option, ConfigOption)}
    missing = [f"{cls.__name__}.{f.name}" for cls in CONFIGS for f in dataclasses.fields(cls) if id(f) not in shown]
    assert missing == []


def test_train_has_every_model_and_training_field():
    names = {p.name for p in cli.commands["train"].params if isinstance(p, ConfigOption)}
    assert {f.name for cls in (ModelConfig, TrainConfig, ReadConfig) for f in dataclasses.fields(cls)} <= names


def test_read_and_reach_options_reach_every_command_that_reads_text():
    for command in ("train", "inspect"):
        names = {p.name for _, c in commands(cli.commands[command]) for p in c.params}
        assert {"encoding", "decode_errors"} <= names, command
    names = {p.name for _, c in commands(cli.commands["inspect"]) for p in c.params}
    assert {"span", "positions"} <= names


def test_no_help_spells_a_default_by_hand():
    spelled = [(path, o.opts) for path, o in options() if "default:" in (o.help or "")]
    assert spelled == []


def drifted(**changes) -> click.Option:
    """The --hidden-size option as it would be if someone edited it by hand."""
    command = config_option(ModelConfig, "hidden_size", **changes)(click.Command("x", callback=lambda **k: None))
    return command.params[0]


@pytest.mark.parametrize(
    "changes,word",
    [
        ({"default": 128}, "default"),
        ({"type": click.IntRange(min=2)}, "range"),
        ({"type": click.Choice(["8", "16"])}, "choices"),
        ({"help": "Units per layer.  [default: 256]"}, "help"),
    ],
)
def test_the_comparison_notices_a_drifted_option(changes, word):
    """Control: the check above fails for an option whose default, range, choices or help drift."""
    field = {f.name: f for f in dataclasses.fields(ModelConfig)}["hidden_size"]
    assert disagreements(drifted(), field) == []
    found = disagreements(drifted(**changes), field)
    assert found and any(word in d for d in found)


def test_the_help_shows_the_configs_defaults_and_ranges():
    from tests.cli_helpers import invoke

    shown = " ".join(invoke(["train", "--help"]).stdout.split())
    assert "[default: 256; x>=1]" in shown  # --hidden-size
    assert "[default: 10m 00s]" in shown  # --max-time, in its own notation
    assert "[rnn|lstm|gru]" in shown and "lstm|gru|rnn" not in shown  # the config's choices, in its order
