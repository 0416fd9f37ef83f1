"""The `charrnn` command line: train, sample and inspect.

A thin layer over the library that owns what the user sees: stdout carries only the product
(samples, tables, JSON), stderr everything else; library errors become one `Error: ...` line
and exit code 1, usage errors exit 2, and no traceback reaches the user. One module per command;
common.py holds what they share.

What click needs to parse a command line (the modules that `import charrnn.cli` loads: the
commands' declarations and what they share) imports NumPy and the library only inside the
bodies of the commands that use them, so that `--help` and a usage error start fast and a worker
under mpiexec can share out the cores before NumPy starts its BLAS. Every other module here
(render/, progress.py, errors.py and train's job, configs, reading, run, messages, ranks
and fine_tuning) is loaded only by a command's body and imports at the top, with real types.
tests/test_startup.py checks both.
"""

from __future__ import annotations

import os
import signal
import sys

import click

from charrnn import __version__
from charrnn.cli import export, fill, inspect, sample, streams, train
from charrnn.cli.common import ARGV, VIEW, HelpOnStdout
from charrnn.cli.interrupts import interrupted, stop_by_exception
from charrnn.cli.train import workers


class Group(HelpOnStdout, click.Group):
    """Turns library errors into click errors, so they print as one line without a traceback, and
    keeps the arguments as typed, for messages that give a command line to run next."""

    def parse_args(self, ctx, args):
        from charrnn.cli.errors import unknown_option

        ctx.meta[ARGV] = list(args)
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as e:  # an option before the command's name
            raise escaped(unknown_option(e)) from None
        except click.ClickException as e:
            raise escaped(e) from None

    def invoke(self, ctx):
        from charrnn import files
        from charrnn.cli.errors import as_click, out_of_memory, unknown_option
        from charrnn.errors import CharRNNError

        try:
            with files.command():  # what it reads, its writes may not replace (state: files/inputs.py)
                return super().invoke(ctx)
        except click.NoSuchOption as e:  # a command's (or a view's) options are parsed here
            raise escaped(unknown_option(e)) from None
        except click.ClickException as e:
            raise escaped(e) from None
        except CharRNNError as e:  # bad option values (ConfigError) exit 2, the others 1
            raise escaped(as_click(e)) from None
        except MemoryError:  # the command that ran: an inspect view names itself (view.View)
            raise click.ClickException(out_of_memory(ctx.meta.get(VIEW, ctx.invoked_subcommand))) from None
        except KeyboardInterrupt as e:  # click would say "Aborted!" and exit 1; the shell convention is 130
            interrupted(getattr(e, "signum", signal.SIGINT))
        except OSError as e:  # the system refused (a name too long, a full disk): the user's condition
            raise escaped(click.ClickException(streams.os_message(e))) from None


def escaped(e: click.ClickException) -> click.ClickException:
    """A click error whose message (click's own included: a Path that does not exist) is one line
    with its names escaped (console.line): every error the user reads passes through here."""
    from charrnn.cli.console import line

    e.message = line(e.message)
    if getattr(e, "ui_filename", None):  # click.FileError names its file apart from its message
        e.ui_filename = line(e.ui_filename)
    return e


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="charrnn")
def cli():
    """Character-level RNN, LSTM and GRU text generators, written in NumPy.

    \b
    charrnn train corpus.txt          learn a text, into charrnn.npz
    charrnn sample --temp 0.8         write new text in its style
    charrnn inspect                   what a checkpoint holds
    charrnn export page.html          a web page that writes with it
    charrnn fill damaged.txt          fill its gaps (_), best with a --bidirectional model
    """


for command in (train.train, sample.sample, fill.fill, inspect.inspect, export.export):
    cli.add_command(command)


def main() -> None:
    """Console-script entry point: no traceback ever reaches the user."""
    workers.share_cores()  # a worker started by mpiexec takes its share of the cores, before NumPy starts its BLAS
    from charrnn.cli import console

    streams.guard()
    stop_by_exception()
    console.library_warnings_in_one_line()
    try:
        cli.main(prog_name="charrnn")
    except KeyboardInterrupt as e:  # before or after a command runs (Group.invoke sees those during one)
        interrupted(getattr(e, "signum", signal.SIGINT))
    except OSError as e:  # the system refused (a full disk, a closed stream): not a bug
        streams.report(e)
        sys.exit(1)
    except Exception as e:  # a bug: say so in one line; CHARRNN_DEBUG=1 shows the traceback
        if os.environ.get("CHARRNN_DEBUG"):
            raise
        from charrnn.cli.console import error_line

        error_line(
            f"Error: internal error ({type(e).__name__}: {e}); please report it, with CHARRNN_DEBUG=1 for details"
        )
        sys.exit(1)
