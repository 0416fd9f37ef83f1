"""Command-line options built from the config fields, so that each default, choice list, range
and help line is written once (in charrnn/config.py), and the options several commands share.

`FLAGS` is the one table from config field to flag: where a field is missing from it, its flag
is its name with dashes (`lr_decay` -> `--lr-decay`). The CLI's error messages use it too.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click
from click.core import ParameterSource

from charrnn.cli.common import DEFAULT_CHECKPOINT, Duration, Real, Whole
from charrnn.config import Bounds, ReadConfig

FLAGS = {
    "cell": "--model",
    "num_layers": "--layers",
    "temperature": "--temp",
    "show_all": "--all",
    "checkpoints": "--checkpoint",  # the views that compare models: -c repeated
}
SHORT = {"length": "-n", "checkpoints": "-c"}  # short aliases, for the options typed most
TYPES = {"max_time": Duration()}  # fields whose values are written in their own notation


def flag(field: str) -> str:
    """The command-line flag of a config field: `num_layers` -> `--layers`."""
    return FLAGS.get(field, "--" + field.replace("_", "-"))


class Encoding(click.ParamType):
    """A text encoding Python knows: the library's check, as a usage error."""

    name = "encoding"

    def convert(self, value, param, ctx):
        from charrnn.data.streams import check_decoding
        from charrnn.errors import DataError

        try:
            check_decoding(value)
        except DataError as e:
            self.fail(str(e), param, ctx)
        return value


TYPES["encoding"] = Encoding()


class Workers(click.ParamType):
    """A number of workers, or auto."""

    name = "N|auto"

    def convert(self, value, param, ctx):
        if isinstance(value, int) or str(value).strip().lower() == "auto":
            return value if isinstance(value, int) else "auto"
        try:
            n = int(value)
        except ValueError:
            self.fail(f"{value!r} is neither a number of workers nor auto", param, ctx)
        if n < 1:
            self.fail(f"{value!r} workers: give 1 or more, or auto", param, ctx)
        return n


TYPES["workers"] = Workers()


class ConfigOption(click.Option):
    """An option that stands for one config field; `config_field` is that field."""

    def __init__(self, *args, config_field: dataclasses.Field, **kwargs):
        super().__init__(*args, **kwargs)
        self.config_field = config_field

    def get_help_extra(self, ctx):
        extra = super().get_help_extra(ctx)
        show = getattr(self.type, "show", None)  # Duration shows 600.0 as 10m
        if "default" in extra and show is not None:
            extra["default"] = show(self.default)
        return extra


def param_type(f: dataclasses.Field) -> click.ParamType | None:
    """The click type of a field: its choices, or its number type within its bounds."""
    choices, bounds = f.metadata.get("choices"), f.metadata.get("bounds") or Bounds()
    if f.name in TYPES:
        return TYPES[f.name]
    if choices is not None:
        return click.Choice(choices)
    kind = str(f.type).split("|")[0].strip()
    if kind == "int":
        return Whole(bounds.min, bounds.max, min_open=bounds.min_open, max_open=bounds.max_open)
    if kind == "float":
        return Real(bounds.min, bounds.max, min_open=bounds.min_open, max_open=bounds.max_open)
    return None  # str, bool: click's own


def config_option(cls: type, name: str, **overrides):
    """The option of field `name` of the config dataclass `cls`; `overrides` for click's extras."""
    f = {f.name: f for f in dataclasses.fields(cls)}[name]
    decls = [*([SHORT[name]] if name in SHORT else []), flag(name), name]
    kwargs = dict(cls=ConfigOption, config_field=f, default=f.default, show_default=True, help=f.metadata["help"])
    if f.default is False:  # a switch
        kwargs["is_flag"] = True
    else:
        kwargs["type"] = param_type(f)
    return click.option(*decls, **{**kwargs, **overrides})


def config_options(*classes: type, omit: tuple[str, ...] = ()):
    """Every field of each config class but those in `omit`, as options in field order."""

    def decorate(command):
        for cls in reversed(classes):
            for f in reversed(dataclasses.fields(cls)):
                if f.name not in omit:
                    command = config_option(cls, f.name)(command)
        return command

    return decorate


def config_from(cls: type, options: dict):
    """The config of class `cls` whose fields take the command's options of the same names."""
    return cls(**{f.name: options[f.name] for f in dataclasses.fields(cls)})


def given(ctx: click.Context, names) -> dict:
    """The options of `names` that the user gave (on the command line or in the environment)."""
    defaults = (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP, None)
    return {n: ctx.params[n] for n in names if ctx.get_parameter_source(n) not in defaults}


class CheckpointPath(click.Path):
    """A checkpoint's path. From CHARRNN_CHECKPOINT it is one path, whole: click would split a
    variable of several paths at ':' (os.pathsep), and run-12:30.npz is one file."""

    def split_envvar_value(self, rv: str):
        return (rv,)


def checkpoint_option(help: str = "Checkpoint file to read.", multiple: bool = False, **kwargs):
    """-c/--checkpoint, shared by every command, with `help` saying what the command does with the
    file; `multiple` for the views that compare models (their parameter is then `checkpoints`)."""
    return click.option(
        "-c",
        "--checkpoint",
        "checkpoints" if multiple else "checkpoint",
        type=CheckpointPath(dir_okay=False, path_type=Path),
        multiple=multiple,
        default=[DEFAULT_CHECKPOINT] if multiple else DEFAULT_CHECKPOINT,
        show_default=True,
        envvar="CHARRNN_CHECKPOINT",
        help=help,
        **kwargs,
    )


def read_options(command):
    """--encoding and --decode-errors: how a command decodes the text it reads."""
    return config_options(ReadConfig)(command)
