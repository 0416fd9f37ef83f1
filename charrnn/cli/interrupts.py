"""Ctrl-C and SIGTERM, in one place: the exit codes the shell expects, the one line said on
stopping, and the deferral that lets training stop between steps and save first."""

from __future__ import annotations

import signal
import sys
from contextlib import contextmanager

import click

SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + the signal's number


def interrupted(signum: int = signal.SIGINT, said: str | None = "Interrupted.") -> None:
    """Stop on a signal the shell's way: `said` on stderr (None: already said), then exit 130 or 143."""
    if said is not None:
        click.echo(said, err=True)
    sys.exit(SIGNAL_EXIT[signum])


@contextmanager
def deferred_signals():
    """SIGINT and SIGTERM only set a flag (the signals `caught`), so training stops between steps
    and saves first; a second signal raises KeyboardInterrupt: the user insists.

    A signal ignored when charrnn started (SIGINT in a script's background job) stays ignored.
    """
    caught: list[int] = []

    def handler(signum, frame):
        if caught:
            raise KeyboardInterrupt
        caught.append(signum)

    old = {s: signal.signal(s, handler) for s in SIGNAL_EXIT if signal.getsignal(s) is not signal.SIG_IGN}
    try:
        yield caught
    finally:
        for s, h in old.items():
            signal.signal(s, h)
