"""The MPI job's output relayed to ours as it comes: mpiexec's banners left out, and how a worker
died (a signal, an exit status, an MPI error) noted, so the launcher can say it in one line."""

from __future__ import annotations

import os
import re
import selectors
import signal
import sys

BANNER = re.compile(
    r"^(=+\s*$|=   |YOUR APPLICATION TERMINATED|This typically refers to a problem|Please see the FAQ page"
    r"|\[mpiexec@[^\]]*\] (Sending Ctrl-C|Press Ctrl-C again)|application called MPI_Abort)"
)
# MPICH's report of an MPI_Abort, or of a fatal error with its stack: "Abort(1) on node 0 ...",
# "MPIR_Wait(745)....: message"
MPI_REPORT = re.compile(r"^(Abort\(\d+\) on node \d+|[A-Za-z_]\w*\(\d+\)\.*:)")
KILLED = re.compile(r"EXIT STRING: .*\(signal (\d+)\)|EXIT CODE: (\d+)")


class _Relay:
    """One of the job's output streams copied to ours as it comes (the progress bar redraws with
    \\r), leaving out mpiexec's multi-line banners, and noting how a worker died when one says so."""

    def __init__(self, source, target):
        self.source, self.target = source, target
        self.pending, self.held_blank, self.death, self.aborted, self.lost = b"", False, None, False, None

    def _emit(self, data: bytes) -> None:
        out = getattr(self.target, "buffer", None)
        if out is None:  # a text stream without bytes under it (click's test runner)
            self.target.write(data.decode(errors="replace"))
        else:
            out.write(data)
        self.target.flush()

    def _line(self, raw: bytes) -> None:
        line = raw.decode(errors="replace")
        if m := KILLED.search(line):  # the signal's name says more than the exit code before it
            self.death = _how(m) if m.group(1) or self.death is None else self.death
        if MPI_REPORT.match(line):
            if "application called MPI_Abort" in line:  # charrnn's own: its rank said why
                self.aborted = True
            elif said := line.split(":", 1)[1].strip():  # the stack's last line says most
                self.lost = said
        if BANNER.match(line) or MPI_REPORT.match(line) or m:
            self.held_blank = False  # the blank line before a banner is part of it
            return
        if self.held_blank:
            self._emit(b"\n")
        self.held_blank = not raw.strip()
        if not self.held_blank:
            self._emit(raw + b"\n")

    def read(self) -> bool:
        """Relay what is there; False at the end of the stream."""
        chunk = os.read(self.source.fileno(), 1 << 16)
        self.pending += chunk
        *lines, self.pending = self.pending.split(b"\n")
        for raw in lines:
            self._line(raw)
        if b"\r" in self.pending:  # a redraw of the bar: show it now
            cut = self.pending.rindex(b"\r") + 1
            self._emit(self.pending[:cut])
            self.pending = self.pending[cut:]
        if not chunk:
            if self.held_blank:
                self._emit(b"\n")
            if self.pending:
                self._emit(self.pending)
        return bool(chunk)


def relay(proc) -> str | None:
    """Relay the job's stdout and stderr until both end; how a worker died, if one did (and did
    not end the job itself through MPI_Abort, after saying why)."""
    relays = [_Relay(proc.stdout, sys.stdout), _Relay(proc.stderr, sys.stderr)]
    with selectors.DefaultSelector() as sel:
        for r in relays:
            sel.register(r.source, selectors.EVENT_READ, r)
        while sel.get_map():
            for key, _ in sel.select():
                if not key.data.read():
                    sel.unregister(key.fileobj)
    if any(r.aborted for r in relays):
        return None
    lost = next((f"stopped answering (MPI: {r.lost})" for r in relays if r.lost), None)
    return next((r.death for r in relays if r.death), lost)


def _how(m: re.Match) -> str:
    if m.group(1):
        number = int(m.group(1))
        try:
            return f"was killed by {signal.Signals(number).name} (signal {number})"
        except ValueError:
            return f"was killed by signal {number}"
    return f"exited with status {m.group(2)}"
