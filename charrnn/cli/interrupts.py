"""Ctrl-C and SIGTERM, in one place: the exit codes the shell expects, the one line said on
stopping, and the deferral that lets training stop between steps and save first."""

from __future__ import annotations

import signal
import sys
from contextlib import contextmanager

import click

# 128 + the signal's number; SIGHUP is a closed terminal or ssh session, treated as Ctrl-C is
SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGHUP: 129, signal.SIGTERM: 143}


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP outside training, raised like Ctrl-C so that every `finally` runs (no
    temporary file is left behind) and the exit code is the signal's."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def stop_by_exception() -> None:
    """From start-up: SIGTERM and SIGHUP raise Stopped, as SIGINT raises KeyboardInterrupt (their
    default action would kill the process with its temporary files still there). A signal ignored
    when charrnn started (nohup) stays ignored."""

    def handler(signum, frame):
        raise Stopped(signum)

    for s in SIGNAL_EXIT:
        if s != signal.SIGINT and signal.getsignal(s) is not signal.SIG_IGN:
            signal.signal(s, handler)


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
