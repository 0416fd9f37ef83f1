"""Run many command lines as the console script would, each in a fork of one process.

`python forked_script.py CASES.json` reads a list of cases ({"argv": [...], "stdin": ...,
"stdout": ...}); the process imports charrnn once, then forks once per case: the child sets up
its standard streams, then runs the console script's entry point (charrnn.cli.main) and leaves
the interpreter as the script does (its exit status, the final flush of its streams). So a case
costs a fork, not an interpreter start and charrnn's imports: the tests of every command under
every stream condition stay cheap. Each case's exit code, stdout (when captured) and stderr are
written next to CASES.json as N.code, N.out and N.err.

Streams, by name: stdin "closed" (`<&-`) or a file to read; stdout "closed" (`>&-`), "gone" (a
pipe whose reader has left, as `| head -c 1` once head has its byte: every write fails with
EPIPE) or a file to write ("full" is a link to /dev/full inside the tests' tmp directory).
"""

import json
import os
import signal
import sys
from pathlib import Path


def streams(case: dict, err: Path, out: Path) -> None:
    """The child's descriptors 0, 1 and 2, as the case's shell redirections would leave them.
    Descriptors are closed last: a file opened after a close would take the closed one's number."""
    stdin, stdout = case.get("stdin"), case.get("stdout")
    targets = {2: os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)}
    if stdin != "closed" and stdin is not None:
        targets[0] = os.open(stdin, os.O_RDONLY)
    if stdout == "gone":
        read, targets[1] = os.pipe()
        os.close(read)
    elif stdout != "closed":
        targets[1] = os.open(stdout or out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    for fd, target in targets.items():
        os.dup2(target, fd)
        os.close(target)
    for fd, closed in ((0, stdin == "closed"), (1, stdout == "closed")):
        if closed:
            os.close(fd)


def run(cases_path: Path) -> None:
    import charrnn.cli  # once, before the forks

    cases = json.loads(cases_path.read_text())
    for i, case in enumerate(cases):
        where = cases_path.parent / str(i)
        pid = os.fork()
        if pid == 0:  # the child: from here on it is the console script
            signal.alarm(60)  # a case that hangs dies of SIGALRM (exit code -14) rather than stalling the suite
            streams(case, where.with_suffix(".err"), where.with_suffix(".out"))
            sys.argv = ["charrnn", *case["argv"]]
            charrnn.cli.main()
            sys.exit(0)  # as the script ends when main returns; SystemExit leaves the loop and the interpreter
        _, status = os.waitpid(pid, 0)
        where.with_suffix(".code").write_text(str(os.waitstatus_to_exitcode(status)))


if __name__ == "__main__":
    run(Path(sys.argv[1]))
