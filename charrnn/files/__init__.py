"""Every file charrnn writes goes through this package: outputs never destroy inputs, and are whole.

The rules, for checkpoints, `inspect` pages, exports and logs alike:

1. **Inputs are never written over.** Whatever a command reads is declared with `reading(source)`
   (the corpus and text readers and the checkpoint reader do it), inside the `command()` scope that
   the command line opens for each command. A write whose target is one of them, compared by
   resolved path *and* by inode (so a hard link, a symbolic link or `/dev/stdin` redirected from the
   file are caught too), is refused with `OutputError`. A checkpoint that a resumed run continues is the
   one input a command may update: it is declared with `reading(path, updatable=True)`.
2. **Regular files are replaced atomically.** The new content goes to a temporary file beside the
   target (`.NAME.XXXX.tmp`, in the target's own directory so the rename stays on one file
   system), is fsynced, renamed over the target, and the directory is fsynced. A full disk, a
   crash or a signal at any moment leaves either the old file or the new one, whole, and never a
   temporary file (removed on every exception; one left by SIGKILL is swept by `check_target` an
   hour later). A new file gets the mode `0o666 & ~umask`; a replaced one keeps its mode.
3. **Nothing but a regular file is ever renamed over.** A symbolic link is followed to the file it
   names, which is replaced there: the link keeps pointing at the updated file. A directory is
   refused. A device or FIFO (an HTML page sent to /dev/stdout) is written in place, as a shell redirection
   would, when the caller allows it (`in_place=True`: pages, exports, logs); a checkpoint must be
   a file that can be read back, so there it is refused.
4. **No surprise replacement.** `write(..., expect=...)` says which file the caller means to
   replace: `ANY` (a page, a forced replacement), `NEW` (the first save of a new run: the target must still
   not exist, checked atomically by a hard link), or the `Identity` returned by the previous write
   or by `identity()` of the file read (later saves, a resumed run): a checkpoint that another run
   put there meanwhile is refused, not overwritten.
5. **Logs are appended, not replaced.** `appending(path)` opens an append-only log (JSON lines):
   rewriting a growing log atomically at every record would cost its whole size each time and
   lose what a concurrent `tail -f` holds, so a log is opened with O_APPEND and each record is one
   `write` of one whole line (`LogWriter.line`); rules 1 and 3 apply to it as to any output, and
   a record that cannot be written whole raises `OutputError`.

Text is encoded as UTF-8; a file name that is not UTF-8 (its undecodable bytes arrive as lone
surrogates) is written with those bytes escaped (`encodable`), never as an encoding error; a name
shown to the user has its control characters escaped too (`display`).

The jobs are split by module: `inputs` (what a command reads: rule 1), `writer` (the atomic writer:
rules 2 to 4), `log` (rule 5) and `names` (file names shown as text).

Errors are `OutputError`, carrying the path and the reason as facts; they never name an option,
which the command line, knowing which option gave the path, adds.
"""

from charrnn.files.inputs import Identity, command, identity, reading
from charrnn.files.log import LogWriter, appending
from charrnn.files.names import display, encodable
from charrnn.files.writer import ANY, NEW, STALE_SECONDS, Target, check_target, write, write_text

__all__ = [
    "ANY",
    "NEW",
    "STALE_SECONDS",
    "Identity",
    "LogWriter",
    "Target",
    "appending",
    "check_target",
    "command",
    "display",
    "encodable",
    "identity",
    "reading",
    "write",
    "write_text",
]
